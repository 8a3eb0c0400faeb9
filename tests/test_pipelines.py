"""course_utils.pipelines: the slow dataset, sample checks, the throughput harness on a fake clock,
and the schedule simulator against the steady-state formula."""
import multiprocessing
import pickle

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from course_utils import pipelines  # noqa: E402
from course_utils.pipelines import (BatchedView, PipelineSchedule, SlowImageDataset, Throughput,  # noqa: E402
                                    batch_length, check_same_samples, draw_schedule, epoch_samples,
                                    pipeline_throughput, predicted_batches_per_s, python_work,
                                    simulate_pipeline)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def small_images(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 4, 5), dtype=np.uint8), rng.integers(0, 10, size=n)


# --- python_work ----------------------------------------------------------------------------------

def test_python_work_does_the_stated_number_of_iterations():
    # i & 7 cycles through 0..7, which sum to 28: 1000 iterations hold 125 full cycles.
    assert python_work(0) == 0
    assert python_work(1) == 125 * 28
    assert python_work(3) == 3 * 125 * 28


def test_python_work_rejects_bad_units():
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="units must be an integer >= 0"):
            python_work(bad)


# --- SlowImageDataset and BatchedView ------------------------------------------------------------

def test_items_decode_to_the_stored_images_scaled_to_unit_range():
    images, labels = small_images()
    dataset = SlowImageDataset(images, labels)
    assert len(dataset) == 10 and dataset.image_shape == (4, 5)
    for i in range(10):
        x, y = dataset[i]
        assert x.dtype == np.float32 and x.shape == (4, 5)
        np.testing.assert_array_equal(x, images[i].astype(np.float32) / np.float32(255))
        assert y == labels[i] and isinstance(y, np.int64)
    np.testing.assert_array_equal(dataset[-1][0], dataset[9][0])
    np.testing.assert_array_equal(dataset[np.int64(3)][0], dataset[3][0])


def test_blobs_are_compressed_copies():
    images = np.zeros((3, 28, 28), dtype=np.uint8)  # blank images compress very well
    dataset = SlowImageDataset(images, np.zeros(3, dtype=np.int64))
    assert all(len(blob) < images[0].nbytes / 10 for blob in dataset.blobs)


def test_read_batch_stacks_items_and_sleeps_once_per_request(monkeypatch):
    sleeps = []
    monkeypatch.setattr(pipelines.time, "sleep", sleeps.append)
    images, labels = small_images()
    dataset = SlowImageDataset(images, labels, latency_s=0.25)
    X, y = dataset.read_batch([4, 1, 7])
    assert sleeps == [0.25]
    assert X.shape == (3, 4, 5) and y.tolist() == labels[[4, 1, 7]].tolist()
    for row, i in zip(X, [4, 1, 7]):
        np.testing.assert_array_equal(row, dataset.decode(i))
    dataset[0]
    dataset[1]
    assert sleeps == [0.25] * 3  # one more per single-item read
    X_view, y_view = BatchedView(dataset)[[4, 1, 7]]
    np.testing.assert_array_equal(X_view, X)
    assert len(BatchedView(dataset)) == 10 and sleeps == [0.25] * 4


def test_no_latency_means_no_sleep_and_work_goes_to_python_work(monkeypatch):
    sleeps, work = [], []
    monkeypatch.setattr(pipelines.time, "sleep", sleeps.append)
    monkeypatch.setattr(pipelines, "python_work", work.append)
    images, labels = small_images()
    dataset = SlowImageDataset(images, labels, work=7)
    dataset[2]
    dataset.read_batch([0, 1])
    assert sleeps == [] and work == [7, 7, 7]  # once per decoded item


def test_dataset_survives_pickling_for_worker_processes():
    images, labels = small_images()
    dataset = SlowImageDataset(images, labels, latency_s=0.001, work=2)
    copy = pickle.loads(pickle.dumps(dataset))
    assert (copy.latency_s, copy.work, len(copy)) == (0.001, 2, 10)
    np.testing.assert_array_equal(copy.decode(5), dataset.decode(5))


def test_dataset_rejects_bad_input():
    images, labels = small_images()
    with pytest.raises(ValueError, match=r"uint8 array of shape \(N, H, W\), got float64"):
        SlowImageDataset(images.astype(float), labels)
    with pytest.raises(ValueError, match=r"got uint8 of shape \(10, 20\)"):
        SlowImageDataset(images.reshape(10, 20), labels)
    with pytest.raises(ValueError, match=r"labels must be integers of shape \(10,\)"):
        SlowImageDataset(images, labels[:9])
    with pytest.raises(ValueError, match="labels must be integers"):
        SlowImageDataset(images, labels.astype(float))
    with pytest.raises(ValueError, match="latency_s must be a finite number of seconds >= 0, got -0.1"):
        SlowImageDataset(images, labels, latency_s=-0.1)
    with pytest.raises(TypeError, match="latency_s must be a number of seconds, got str"):
        SlowImageDataset(images, labels, latency_s="1ms")
    with pytest.raises(ValueError, match="work must be an integer >= 0, got -2"):
        SlowImageDataset(images, labels, work=-2)
    dataset = SlowImageDataset(images, labels)
    with pytest.raises(IndexError, match="index 10 is out of range for a dataset of 10 items"):
        dataset[10]
    with pytest.raises(IndexError, match="index -11 is out of range"):
        dataset[-11]
    with pytest.raises(TypeError, match="index must be an integer, got list"):
        dataset[[1, 2]]
    with pytest.raises(ValueError, match="indices must be a non-empty sequence"):
        dataset.read_batch([])
    with pytest.raises(IndexError, match="index 99"):
        dataset.read_batch([1, 99])
    with pytest.raises(TypeError, match="dataset must be a SlowImageDataset, got list"):
        BatchedView([1, 2, 3])


# --- batch_length, epoch_samples, check_same_samples ---------------------------------------------

def batches_of(X, y, size):
    return [(X[s:s + size], y[s:s + size]) for s in range(0, len(X), size)]


def test_batch_length_and_epoch_samples():
    X, y = np.arange(24.0).reshape(6, 2, 2), np.arange(6)
    assert batch_length((X, y)) == 6 and batch_length([X[:2], y[:2]]) == 2 and batch_length(X[:5]) == 5
    X_all, y_all = epoch_samples(batches_of(X, y, 4))
    np.testing.assert_array_equal(X_all, X)
    np.testing.assert_array_equal(y_all, y)
    with pytest.raises(TypeError, match="cannot count the samples"):
        batch_length((3, 4))
    with pytest.raises(ValueError, match="the epoch has no batches"):
        epoch_samples([])
    with pytest.raises(ValueError, match=r"every batch must be a pair \(x, y\)"):
        epoch_samples([X])


def test_epoch_samples_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    X_all, y_all = epoch_samples([(torch.ones(2, 3), torch.tensor([1, 2]))])
    assert isinstance(X_all, np.ndarray) and X_all.shape == (2, 3) and y_all.tolist() == [1, 2]


def test_check_same_samples_ordered_ignores_batch_boundaries_but_not_order():
    X, y = np.random.default_rng(1).random((10, 3)), np.arange(10) % 4
    assert check_same_samples("rebatched", batches_of(X, y, 3), batches_of(X, y, 4)) == 10
    swapped = np.r_[1, 0, 2:10]
    with pytest.raises(AssertionError, match=r"swapped: 2 of 10 samples differ; the first at position 0"):
        check_same_samples("swapped", batches_of(X[swapped], y[swapped], 5), batches_of(X, y, 5))
    changed = X.copy()
    changed[7, 1] += 1e-12  # bit-for-bit comparison: the smallest change is caught
    with pytest.raises(AssertionError, match="1 of 10 samples differ; the first at position 7"):
        check_same_samples("changed", batches_of(changed, y, 5), batches_of(X, y, 5))
    with pytest.raises(AssertionError, match="got 9 samples .* expected 10"):
        check_same_samples("short", batches_of(X[:9], y[:9], 5), batches_of(X, y, 5))


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30), size=st.integers(1, 8))
def test_check_same_samples_unordered_accepts_every_permutation_and_rejects_a_repeat(seed, n, size):
    rng = np.random.default_rng(seed)
    X, y = rng.random((n, 2)), rng.integers(0, 3, n)
    order = rng.permutation(n)
    assert check_same_samples("shuffled", batches_of(X[order], y[order], size), batches_of(X, y, size),
                              ordered=False) == n
    repeated = order.copy()
    repeated[0] = order[1]  # one item twice, another never
    with pytest.raises(AssertionError, match=f"1 of {n} expected samples are missing"):
        check_same_samples("repeat", batches_of(X[repeated], y[repeated], size), batches_of(X, y, size),
                           ordered=False)


def test_check_same_samples_unordered_tells_labels_apart():
    X, y = np.zeros((3, 2)), np.array([0, 1, 2])
    with pytest.raises(AssertionError, match="missing"):
        check_same_samples("labels", [(X, np.array([0, 1, 1]))], [(X, y)], ordered=False)


# --- pipeline_throughput on a fake clock ---------------------------------------------------------

class TimedLoader:
    """Re-iterable: each batch of 8 samples costs load_s fake seconds; counts epochs."""

    def __init__(self, clock, batches, load_s):
        self.clock, self.batches, self.load_s, self.epochs = clock, batches, load_s, 0

    def __iter__(self):
        self.epochs += 1
        for _ in range(self.batches):
            self.clock.now += self.load_s
            yield np.zeros((8, 2)), np.zeros(8)


def test_throughput_of_a_loader_alone_and_with_a_step(clock):
    loader = TimedLoader(clock, batches=5, load_s=0.1)
    alone = pipeline_throughput(loader, warmup=1, repeat=3)
    assert isinstance(alone, Throughput) and alone.samples == 40
    assert alone.timing.times == pytest.approx((0.5, 0.5, 0.5))
    assert alone.samples_per_s == pytest.approx(80.0)
    assert loader.epochs == 4  # one warm-up epoch, three timed

    def step(batch):
        clock.now += 0.3
    both = pipeline_throughput(loader, step=step, warmup=0, repeat=2)
    assert both.timing.median == pytest.approx(5 * 0.4) and both.samples_per_s == pytest.approx(20.0)
    assert "20 samples/s (40 samples per epoch in 2 s" in str(both)


def test_throughput_accepts_a_callable_that_makes_each_epoch(clock):
    def epoch():
        for _ in range(3):
            clock.now += 0.01
            yield np.zeros((4, 1)), np.zeros(4)
    result = pipeline_throughput(epoch, warmup=0, repeat=1)
    assert result.samples == 12 and result.samples_per_s == pytest.approx(400.0)
    custom = pipeline_throughput(epoch, warmup=0, repeat=1, count=lambda batch: 1)
    assert custom.samples == 3


def test_throughput_rejects_bad_loaders_and_uneven_epochs():
    with pytest.raises(TypeError, match="loader is an iterator"):
        pipeline_throughput(iter([(np.zeros(2), np.zeros(2))]))
    with pytest.raises(TypeError, match="loader must be iterable or a callable"):
        pipeline_throughput(42)
    with pytest.raises(TypeError, match="step must be None or a callable"):
        pipeline_throughput([(np.zeros(2), np.zeros(2))], step="train")
    sizes = iter([3, 4, 4, 4])
    with pytest.raises(ValueError, match=r"same, non-zero number of samples; got \[3, 4, 4, 4\]"):
        pipeline_throughput(lambda: [(np.zeros(next(sizes)), None)], warmup=1, repeat=3)
    with pytest.raises(ValueError, match="non-zero"):
        pipeline_throughput([], warmup=0, repeat=1)


# --- the schedule simulator ----------------------------------------------------------------------

def test_no_workers_load_then_train_in_turn():
    s = simulate_pipeline(0.03, 0.01, workers=0, steps=4)
    np.testing.assert_allclose(s.load_start, [0.0, 0.04, 0.08, 0.12])
    np.testing.assert_allclose(s.step_end, [0.04, 0.08, 0.12, 0.16])
    assert (s.worker == -1).all()
    assert s.total_s == pytest.approx(0.16) and s.waiting_s == pytest.approx(0.12)
    assert s.starved_fraction == pytest.approx(0.75)
    assert s.steady_idle_fraction() == pytest.approx(0.75)  # 30 ms of every 40 ms spent loading


def test_two_workers_by_hand():
    # load 3, step 1, two workers, prefetch 1. Batches 0 and 1 load at once (0-3); batch k >= 2 is
    # requested when step k - 2 starts: batch 2 at 3 (loads 3-6), batch 3 at 4 (loads 4-7), batch 4
    # at 6 (loads 6-9). Steps run 3-4, 4-5, 6-7, 7-8, 9-10: the step waits 3 s, then 1 s twice.
    s = simulate_pipeline(3.0, 1.0, workers=2, steps=5, prefetch=1)
    assert s.worker.tolist() == [0, 1, 0, 1, 0]
    np.testing.assert_allclose(s.load_start, [0, 0, 3, 4, 6])
    np.testing.assert_allclose(s.load_end, [3, 3, 6, 7, 9])
    np.testing.assert_allclose(s.step_start, [3, 4, 6, 7, 9])
    assert s.waiting_s == pytest.approx(3 + 1 + 1) and s.total_s == pytest.approx(10.0)


def test_prefetch_limits_how_far_workers_run_ahead():
    # A fast loader and a slow step: with prefetch 1 and one worker, batch k is requested only when
    # step k - 1 starts, so no more than one batch is requested and not yet taken at any time.
    s = simulate_pipeline(0.1, 1.0, workers=1, steps=6, prefetch=1)
    np.testing.assert_allclose(s.load_start[1:], s.step_start[:-1])
    deep = simulate_pipeline(0.1, 1.0, workers=1, steps=6, prefetch=3)
    np.testing.assert_allclose(deep.load_start[:3], [0.0, 0.1, 0.2])
    assert deep.waiting_s == pytest.approx(0.1) == s.waiting_s  # only the very first batch is waited for


@settings(max_examples=80, deadline=None)
@given(load=st.floats(1e-3, 1.0), step=st.floats(1e-3, 1.0), workers=st.integers(0, 6),
       prefetch=st.integers(1, 4))
def test_simulated_steady_rate_matches_the_formula(load, step, workers, prefetch):
    s = simulate_pipeline(load, step, workers=workers, steps=240, prefetch=prefetch)
    assert s.steady_batches_per_s() == pytest.approx(predicted_batches_per_s(load, step, workers), rel=1e-6)
    # invariants: steps in order without overlap, each after its batch; no worker overlaps itself
    assert (s.step_start >= s.load_end - 1e-12).all()
    assert (s.step_start[1:] >= s.step_end[:-1] - 1e-12).all()
    for w in range(workers):
        mine = s.worker == w
        assert (s.load_start[mine][1:] >= s.load_end[mine][:-1] - 1e-12).all()
    if workers:  # at most prefetch * workers batches requested and not yet taken
        in_flight = prefetch * workers
        assert (s.load_start[in_flight:] >= s.step_start[:-in_flight] - 1e-12).all()
    assert 0.0 <= s.starved_fraction < 1.0
    fed = predicted_batches_per_s(load, step, workers) * step >= 1 - 1e-9
    assert s.steady_idle_fraction() == pytest.approx(0.0 if fed else 1 - s.steady_batches_per_s() * step, abs=1e-9)


@given(load=st.floats(1e-3, 1.0), step=st.floats(1e-3, 1.0))
def test_more_workers_never_slow_the_run(load, step):
    totals = [simulate_pipeline(load, step, workers=w, steps=40).total_s for w in range(5)]
    assert all(b <= a + 1e-9 for a, b in zip(totals, totals[1:]))


def test_predicted_rate_by_hand():
    assert predicted_batches_per_s(0.03, 0.01, 0) == pytest.approx(25.0)   # 1 / (30 ms + 10 ms)
    assert predicted_batches_per_s(0.03, 0.01, 2) == pytest.approx(200 / 3)  # loader-bound: 2 / 30 ms
    assert predicted_batches_per_s(0.03, 0.01, 3) == pytest.approx(100.0)   # step-bound: 1 / 10 ms
    assert predicted_batches_per_s(0.03, 0.01, 9) == pytest.approx(100.0)


def test_simulator_rejects_bad_input():
    with pytest.raises(ValueError, match="load_s must be a finite number of seconds > 0, got 0.0"):
        simulate_pipeline(0, 0.01, workers=1, steps=3)
    with pytest.raises(ValueError, match="step_s must be a finite number of seconds > 0, got inf"):
        simulate_pipeline(0.01, float("inf"), workers=1, steps=3)
    with pytest.raises(ValueError, match="workers must be an integer >= 0, got -1"):
        simulate_pipeline(0.01, 0.01, workers=-1, steps=3)
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        simulate_pipeline(0.01, 0.01, workers=1, steps=0)
    with pytest.raises(ValueError, match="prefetch must be a positive integer, got 0"):
        simulate_pipeline(0.01, 0.01, workers=1, steps=3, prefetch=0)
    with pytest.raises(ValueError, match="workers must be an integer >= 0, got 1.5"):
        predicted_batches_per_s(0.01, 0.01, 1.5)
    with pytest.raises(ValueError, match="need at least 6 steps .* with 3 workers, got 5"):
        simulate_pipeline(0.01, 0.01, workers=3, steps=5).steady_batches_per_s()


def test_draw_schedule_draws_one_bar_per_load_and_step():
    s = simulate_pipeline(0.03, 0.01, workers=2, steps=5)
    ax = draw_schedule(s, plt.figure().add_subplot(), title="two workers")
    bars = sum(len(c.get_paths()) for c in ax.collections)
    assert bars == 5 + 5 + int(np.sum(s.step_start - np.r_[0.0, s.step_end[:-1]] > 1e-12))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["worker 1", "worker 2", "training step"]
    assert ax.get_title() == "two workers" and ax.get_xlabel() == "time (ms)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loading a batch", "training step",
                                                                    "step waits for data"]
    assert draw_schedule(s, plt.figure().add_subplot(), legend=False).get_legend() is None
    no_workers = draw_schedule(simulate_pipeline(0.03, 0.01, workers=0, steps=3), plt.figure().add_subplot(),
                               unit="s")
    assert [t.get_text() for t in no_workers.get_yticklabels()] == ["training loop"]
    with pytest.raises(ValueError, match="unit must be 's' or 'ms'"):
        draw_schedule(s, plt.figure().add_subplot(), unit="h")
    with pytest.raises(TypeError, match="schedule must be a PipelineSchedule"):
        draw_schedule("schedule", plt.figure().add_subplot())
    assert isinstance(s, PipelineSchedule)


# --- with torch's DataLoader, in worker processes started by spawn --------------------------------

def test_dataloader_workers_started_by_spawn_import_the_dataset_and_end():
    """Spawn (the default on Windows and macOS) pickles the dataset into fresh interpreters that
    import course_utils.pipelines: this is why the dataset lives in a module."""
    torch = pytest.importorskip("torch")
    from torch.utils.data import BatchSampler, DataLoader, SequentialSampler

    images, labels = small_images(n=12)
    dataset = SlowImageDataset(images, labels, work=1)
    expected = [(np.stack([dataset[i][0] for i in range(s, s + 4)]), labels[s:s + 4]) for s in range(0, 12, 4)]
    per_item = DataLoader(dataset, batch_size=4, num_workers=2, multiprocessing_context="spawn", timeout=120)
    batched = DataLoader(BatchedView(dataset), batch_size=None, num_workers=2, multiprocessing_context="spawn",
                         sampler=BatchSampler(SequentialSampler(dataset), 4, drop_last=False), timeout=120)
    for loader in (per_item, batched):
        batches = list(loader)
        assert all(isinstance(x, torch.Tensor) for x, _ in batches)
        check_same_samples("DataLoader with spawned workers", batches, expected)
    del per_item, batched, loader
    assert multiprocessing.active_children() == []
