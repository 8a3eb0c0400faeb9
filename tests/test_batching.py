"""course_utils.batching: memory from shapes, batch-size sweeps on a fake clock, the latency model."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from course_utils.batching import (BatchSweep, activation_bytes, batch_size_for_fraction,  # noqa: E402
                                   fit_latency_model, plot_sweeps, sweep_batch_sizes)
from course_utils.bench import Timing  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def model_forward(clock, t0, c):
    """A forward pass that takes exactly t0 + c * B fake seconds on a batch of B samples."""
    def forward(batch):
        clock.now += t0 + c * len(batch)
    return forward


# --- activation_bytes --------------------------------------------------------------------------

def test_activation_bytes_of_an_mnist_mlp_by_hand():
    # 32 samples, float32: all activations 32 * (784 + 256 + 256 + 10) * 4 bytes;
    # the largest consecutive pair is input + first hidden layer, 32 * (784 + 256) * 4 bytes.
    assert activation_bytes(32, (784, 256, 256, 10)) == 32 * 1306 * 4 == 167_168
    assert activation_bytes(32, (784, 256, 256, 10), keep="peak") == 32 * 1040 * 4 == 133_120
    assert activation_bytes(1, [3, 5], dtype=np.float64) == 64
    assert activation_bytes(2, [10, 1000, 10], dtype=np.float16, keep="peak") == 2 * 1010 * 2


@given(batch=st.integers(1, 10_000), widths=st.lists(st.integers(1, 5000), min_size=2, max_size=8),
       keep=st.sampled_from(["all", "peak"]))
def test_activation_bytes_is_linear_in_batch_and_itemsize(batch, widths, keep):
    one = activation_bytes(1, widths, keep=keep)
    assert activation_bytes(batch, widths, keep=keep) == batch * one
    assert activation_bytes(batch, widths, dtype=np.float64, keep=keep) == 2 * activation_bytes(batch, widths, keep=keep)
    assert activation_bytes(batch, widths, keep="peak") <= activation_bytes(batch, widths, keep="all")


def test_activation_bytes_rejects_bad_input():
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        activation_bytes(0, (784, 10))
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 2.5"):
        activation_bytes(2.5, (784, 10))
    with pytest.raises(ValueError, match="at least two widths"):
        activation_bytes(8, (784,))
    with pytest.raises(ValueError, match="at least two widths"):
        activation_bytes(8, "784")
    with pytest.raises(ValueError, match="every layer width must be a positive integer, got -1"):
        activation_bytes(8, (784, -1))
    with pytest.raises(ValueError, match="keep must be one of"):
        activation_bytes(8, (784, 10), keep="some")
    with pytest.raises(TypeError, match="dtype must be a NumPy dtype"):
        activation_bytes(8, (784, 10), dtype="not a dtype")


# --- BatchSweep and sweep_batch_sizes ------------------------------------------------------------

def test_batch_sweep_latency_throughput_and_table():
    sweep = BatchSweep(batch_sizes=(1, 10), timings=(Timing(times=(0.5, 0.5), number=1),
                                                     Timing(times=(1.0, 1.0, 3.0), number=1)))
    np.testing.assert_allclose(sweep.latency, [0.5, 1.0])
    np.testing.assert_allclose(sweep.throughput, [2.0, 10.0])
    table = str(sweep).splitlines()
    assert len(table) == 3 and "samples/s" in table[0]
    assert table[2].split()[:3] == ["10", "1", "s"]
    with pytest.raises(ValueError, match="batch_sizes has 1 entries but timings has 2"):
        BatchSweep(batch_sizes=(1,), timings=sweep.timings)


def test_sweep_measures_the_cost_model_exactly_on_a_fake_clock(clock):
    t0, c = 2e-3, 1e-5
    sweep = sweep_batch_sizes(model_forward(clock, t0, c), np.zeros((64, 3)), [1, 8, 64], repeat=3)
    assert sweep.batch_sizes == (1, 8, 64)
    np.testing.assert_allclose(sweep.latency, [t0 + c * b for b in (1, 8, 64)], rtol=1e-9)
    np.testing.assert_allclose(sweep.throughput, [b / (t0 + c * b) for b in (1, 8, 64)], rtol=1e-9)
    assert all(t.runs == 3 for t in sweep.timings)


def test_sweep_prepares_each_batch_outside_the_timed_region(clock):
    seen = []

    def prepare(batch):
        clock.now += 100.0  # a slow conversion: must not show up in the latencies
        return list(batch)

    def forward(batch):
        seen.append(type(batch))
        clock.now += 1e-3

    sweep = sweep_batch_sizes(forward, np.arange(10), [2, 5], prepare=prepare, repeat=2, min_run_time=1e-4)
    np.testing.assert_allclose(sweep.latency, [1e-3, 1e-3], rtol=1e-9)
    assert set(seen) == {list}


def test_sweep_passes_the_first_b_samples(clock):
    received = []

    def forward(batch):
        received.append(batch.copy())
        clock.now += 1.0

    sweep_batch_sizes(forward, np.arange(20).reshape(10, 2), [1, 4], warmup=0, repeat=1)
    assert {len(b) for b in received} == {1, 4}
    np.testing.assert_array_equal(received[-1], np.arange(8).reshape(4, 2))


def test_sweep_rejects_bad_input():
    X = np.zeros((8, 2))
    with pytest.raises(TypeError, match="forward must be a callable"):
        sweep_batch_sizes("model", X, [1, 2])
    with pytest.raises(TypeError, match="prepare must be None or a callable"):
        sweep_batch_sizes(len, X, [1, 2], prepare="torch")
    with pytest.raises(ValueError, match="at least max\\(batch_sizes\\) = 16 samples, got 8 samples"):
        sweep_batch_sizes(len, X, [1, 16])
    with pytest.raises(ValueError, match="strictly increasing, got \\[4, 2\\]"):
        sweep_batch_sizes(len, X, [4, 2])
    with pytest.raises(ValueError, match="non-empty sequence"):
        sweep_batch_sizes(len, X, [])
    with pytest.raises(ValueError, match="every batch size must be a positive integer, got 0"):
        sweep_batch_sizes(len, X, [0, 1])
    with pytest.raises(ValueError, match="got a scalar"):
        sweep_batch_sizes(len, np.float64(1.0), [1])


# --- fit_latency_model and batch_size_for_fraction ---------------------------------------------

@settings(max_examples=50)
@given(t0=st.floats(1e-7, 1e-1), c=st.floats(1e-9, 1e-3),
       sizes=st.lists(st.integers(1, 100_000), min_size=2, max_size=12, unique=True))
def test_fit_recovers_an_exact_cost_model(t0, c, sizes):
    sizes = sorted(sizes)
    fit_t0, fit_c = fit_latency_model(sizes, [t0 + c * b for b in sizes])
    assert fit_c == pytest.approx(c, rel=1e-6)
    # t0 is determined only as well as the smallest batch reveals it next to c * B
    assert fit_t0 == pytest.approx(t0, rel=1e-6, abs=1e-9 * c * sizes[-1])


def test_fit_weighs_every_batch_size_alike():
    # 10 % too slow at the largest batch only: an unweighted fit would drag t0 far off;
    # the relative fit keeps t0 close to the small-batch latencies.
    sizes = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
    times = 1e-3 + 1e-6 * sizes
    times[-1] *= 1.10
    t0, c = fit_latency_model(sizes, times)
    assert t0 == pytest.approx(1e-3, rel=0.02)


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        fit_latency_model([1, 2, 4], [1.0, 2.0])
    with pytest.raises(ValueError, match="two different batch sizes"):
        fit_latency_model([8, 8], [1.0, 1.1])
    with pytest.raises(ValueError, match="latencies must be positive and finite"):
        fit_latency_model([1, 2], [1.0, 0.0])
    with pytest.raises(ValueError, match="latencies must be positive and finite"):
        fit_latency_model([1, 2], [1.0, np.nan])
    with pytest.raises(ValueError, match="batch sizes must be positive"):
        fit_latency_model([-1, 2], [1.0, 2.0])


@given(t0=st.floats(1e-7, 1e-1), c=st.floats(1e-9, 1e-3), fraction=st.floats(0.01, 0.99))
def test_batch_size_for_fraction_reaches_that_fraction_of_the_plateau(t0, c, fraction):
    b = batch_size_for_fraction(t0, c, fraction)
    plateau = 1 / c
    assert b / (t0 + c * b) == pytest.approx(fraction * plateau, rel=1e-9)
    # a larger fraction always needs a larger batch
    assert batch_size_for_fraction(t0, c, min(0.995, fraction + 0.005)) > b


def test_ninety_percent_needs_nine_times_t0_over_c():
    assert batch_size_for_fraction(1e-3, 1e-5, 0.9) == pytest.approx(900.0)
    assert batch_size_for_fraction(0.0, 1e-5, 0.9) == 0.0  # no fixed cost: any batch is at the plateau


def test_batch_size_for_fraction_rejects_bad_input():
    for fraction in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=f"fraction must lie strictly between 0 and 1, got {fraction}"):
            batch_size_for_fraction(1e-3, 1e-5, fraction)
    with pytest.raises(ValueError, match="t0 must be a finite number of seconds >= 0, got -1"):
        batch_size_for_fraction(-1.0, 1e-5)
    with pytest.raises(ValueError, match="c must be a positive"):
        batch_size_for_fraction(1e-3, 0.0)


# --- plot_sweeps -------------------------------------------------------------------------------

def _sweep(t0, c, sizes=(1, 4, 16)):
    return BatchSweep(batch_sizes=sizes, timings=tuple(Timing(times=(t0 + c * b,), number=1) for b in sizes))


def test_plot_sweeps_draws_throughput_and_latency_on_log_axes():
    left, right = plot_sweeps({"numpy": _sweep(1e-3, 1e-5), "torch": _sweep(2e-3, 5e-6)}, title="MLP")
    assert [line.get_label() for line in left.get_lines()] == ["numpy", "torch"]
    np.testing.assert_allclose(left.get_lines()[1].get_ydata(), _sweep(2e-3, 5e-6).throughput)
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), _sweep(1e-3, 1e-5).latency * 1e3)
    assert all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in (left, right))
    assert left.get_legend() is not None and "samples/s" in left.get_ylabel() and "ms" in right.get_ylabel()
    assert left.figure._suptitle.get_text() == "MLP"


def test_plot_sweeps_draws_into_given_axes_and_rejects_bad_input():
    fig, axes = plt.subplots(1, 2)
    assert plot_sweeps({"numpy": _sweep(1e-3, 1e-5)}, axes=axes) == tuple(axes)
    assert axes[0].get_legend() is None  # one line needs no legend
    with pytest.raises(ValueError, match="sweeps is empty"):
        plot_sweeps({})
    with pytest.raises(TypeError, match="not so for \\['numpy'\\]"):
        plot_sweeps({"numpy": [1, 2, 3]})
