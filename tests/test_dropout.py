"""course_utils.nn.Dropout: gradient-checked, the identity in eval mode, right in expectation and
variance, equal to torch.nn.Dropout and keras.layers.Dropout given the same mask, reproducible."""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra.numpy import array_shapes  # noqa: E402

from course_utils.checks import check_close  # noqa: E402
from course_utils.gradcheck import check_gradient  # noqa: E402
from course_utils.nn import Dropout, Linear, ReLU, Sequential, softmax_cross_entropy  # noqa: E402

seeds = st.integers(0, 2**32 - 1)
drop_probabilities = st.floats(0.0, 0.95)
shapes = array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=6)
# How many standard errors a sample statistic may stray from its expectation. For a Gaussian,
# |z| > 5 has probability 5.7e-7, so even the largest of a few thousand per-element z-scores
# stays below 5 unless the layer is wrong; the seeds below make every run the same anyway.
Z_MAX = 5.0


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def nonzero_normal(g: np.random.Generator, shape, dtype=np.float64) -> np.ndarray:
    """Standard normal entries kept at least 0.1 away from 0, so that y != 0 reveals the mask."""
    x = g.standard_normal(shape)
    return np.where(np.abs(x) < 0.1, np.copysign(0.1, x) + x, x).astype(dtype)


def moment_z_scores(draws: np.ndarray, x: np.ndarray, p: float) -> tuple[float, float]:
    """Largest |z| of the per-element sample mean and mean squared deviation of dropout draws.

    draws: (M, *x.shape), M independent draws of dropout(x) with drop probability p.
    Theory, with q = 1 - p and z = y / x - 1 (z = p/q with probability q, -1 with probability p):
        E[y] = x,                 Var[y] = x^2 p/q                    -> SE of the mean over M draws
        E[(y - x)^2] = x^2 p/q,   Var[(y - x)^2] = x^4 p (1 - 2p)^2 / q^3  -> SE of the mean square.
    At p = 0.5 every (y - x)^2 equals x^2 exactly, so that SE is 0: a float round-off slack is added.
    """
    m, q = draws.shape[0], 1.0 - p
    y, x = draws.astype(np.float64), x.astype(np.float64)
    slack = 1e-5 * x**2 if draws.dtype == np.float32 else 1e-12 * x**2
    mean_se = np.abs(x) * np.sqrt(p / q / m)
    msd_se = x**2 * abs(1 - 2 * p) * np.sqrt(p / q**3 / m)
    mean_z = np.abs(y.mean(axis=0) - x) / mean_se
    msd_z = np.maximum(np.abs(((y - x) ** 2).mean(axis=0) - x**2 * p / q) - slack, 0) / np.maximum(msd_se, 1e-300)
    return float(mean_z.max()), float(msd_z.max())


def kept_fraction_z(kept: np.ndarray, p: float) -> float:
    """|z| of the fraction of kept entries against 1 - p (binomial SE sqrt(p q / n))."""
    n = kept.size
    return abs(kept.mean() - (1 - p)) / np.sqrt(p * (1 - p) / n)


# ---------------------------------------------------------------- gradient check (float64)

@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9])
@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4, 2)])
def test_backward_matches_numerical_gradient_with_a_fixed_mask(p, shape):
    g = rng(1)
    drop = Dropout(p, g)
    x, upstream = g.standard_normal(shape), g.standard_normal(shape)
    drop.forward(x, training=True)
    mask = drop.mask.copy()
    dx = drop.backward(upstream)

    def loss(x_probe):  # L = sum(y * upstream) with the mask held fixed, so L is a smooth function of x
        return (drop.forward(x_probe, training=True, mask=mask) * upstream).sum()

    check_gradient(loss, x, dx, name=f"Dropout(p={p}) dL/dx", hint="dL/dx = dout * mask / (1 - p)")
    assert np.all(dx[~mask] == 0), "dropped entries must get no gradient"


@settings(max_examples=40, deadline=None)
@given(shape=shapes, p=drop_probabilities, seed=seeds)
def test_backward_is_the_adjoint_of_forward(shape, p, seed):
    """Dropout is a linear map x -> D x (D diagonal), so <D x, g> = <x, D^T g> for every x and g."""
    g = rng(seed)
    drop = Dropout(p, g)
    x, upstream = g.standard_normal(shape), g.standard_normal(shape)
    forward_side = float((drop.forward(x, training=True) * upstream).sum())
    backward_side = float((x * drop.backward(upstream)).sum())
    assert forward_side == pytest.approx(backward_side, rel=1e-12, abs=1e-12)


def test_input_grad_false_returns_none():
    drop = Dropout(0.3, rng(2))
    drop.forward(np.ones((3, 4)), training=True)
    assert drop.backward(np.ones((3, 4)), input_grad=False) is None


# ---------------------------------------------------------------- eval mode and p = 0

@settings(max_examples=30, deadline=None)
@given(shape=shapes, p=drop_probabilities, seed=seeds, dtype=st.sampled_from([np.float32, np.float64]))
def test_eval_mode_is_the_identity_and_draws_nothing(shape, p, seed, dtype):
    g = rng(seed)
    x = g.standard_normal(shape).astype(dtype)
    drop = Dropout(p, rng(seed + 1))
    state_before = drop.rng.bit_generator.state
    y = drop.forward(x, training=False)
    assert y is x, "eval mode returns its input unchanged (no copy)"
    assert drop.rng.bit_generator.state == state_before, "eval mode must not consume random numbers"
    assert drop.mask is None, "eval mode keeps nothing for backward"
    with pytest.raises(RuntimeError, match="training=True"):
        drop.backward(np.ones(shape, dtype=dtype))


def test_p_zero_passes_everything_through_in_training_too():
    drop = Dropout(0.0, rng(3))
    x = rng(4).standard_normal((5, 6))
    state_before = drop.rng.bit_generator.state
    assert np.array_equal(drop.forward(x, training=True), x)
    assert drop.mask.all()
    assert drop.rng.bit_generator.state == state_before
    assert np.array_equal(drop.backward(x), x)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    drop = Dropout(0.4, rng(5))
    x = rng(6).standard_normal((8, 3)).astype(dtype)
    y = drop.forward(x, training=True)
    assert y.dtype == dtype and drop.backward(np.ones_like(x)).dtype == dtype
    kept = drop.mask
    check_close("kept entries scaled by 1/(1 - p)", y[kept], x[kept] / dtype(0.6), rtol=2 * np.finfo(dtype).eps)
    assert np.all(y[~kept] == 0)


# ---------------------------------------------------------------- statistics: expectation, variance, keep rate

@pytest.mark.parametrize("p", [0.1, 0.2, 0.5, 0.8])
def test_expectation_and_variance_match_theory(p):
    """Over M = 4000 seeded draws, each entry's mean is x and its mean squared deviation x^2 p/(1-p),
    to within Z_MAX standard errors; the kept fraction is 1 - p to within Z_MAX binomial SEs."""
    g = rng(7)
    x = nonzero_normal(g, (60,))
    drop = Dropout(p, g)
    draws = drop.forward(np.broadcast_to(x, (4000, 60)), training=True)
    mean_z, msd_z = moment_z_scores(draws, x, p)
    assert mean_z < Z_MAX, f"a per-entry mean is {mean_z:.1f} standard errors from x: is the 1/(1 - p) scale right?"
    assert msd_z < Z_MAX, f"a per-entry variance is {msd_z:.1f} standard errors from x^2 p/(1-p)"
    z = kept_fraction_z(drop.mask, p)
    assert z < Z_MAX, (f"kept fraction {drop.mask.mean():.4f} is {z:.1f} SEs from 1 - p = {1 - p}: "
                       "is p the DROP probability?")


def test_the_statistical_checks_catch_the_usual_mistakes():
    """The tolerance is tight enough to notice a missing scale and a keep/drop mix-up."""
    g = rng(8)
    x, p = nonzero_normal(g, (60,)), 0.2
    kept = g.random((4000, 60)) >= p
    unscaled = np.where(kept, x, 0.0)                        # forgot the 1/(1 - p)
    assert moment_z_scores(unscaled, x, p)[0] > Z_MAX
    swapped = np.where(g.random((4000, 60)) >= 1 - p, x / (1 - p), 0.0)  # p used as the keep probability
    assert moment_z_scores(swapped, x, p)[0] > Z_MAX
    assert kept_fraction_z(swapped != 0, p) > Z_MAX


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_torch_and_keras_dropout_match_the_same_moments(p):
    x = nonzero_normal(rng(9), (50,), np.float32)
    batch = np.broadcast_to(x, (4000, 50)).copy()
    torch.manual_seed(0)
    torch_draws = torch.nn.Dropout(p).train()(torch.from_numpy(batch)).numpy()
    keras_draws = np.asarray(keras.layers.Dropout(p, seed=0)(batch, training=True))
    ours = Dropout(p, rng(10)).forward(batch, training=True)
    for name, draws in (("ours", ours), ("torch", torch_draws), ("keras", keras_draws)):
        mean_z, msd_z = moment_z_scores(draws, x, p)
        assert mean_z < Z_MAX and msd_z < Z_MAX, f"{name}: mean z {mean_z:.1f}, variance z {msd_z:.1f}"
        assert kept_fraction_z(draws != 0, p) < Z_MAX, f"{name}: kept fraction {np.mean(draws != 0):.4f}"


# ---------------------------------------------------------------- equal to torch and Keras

@settings(max_examples=25, deadline=None)
@given(shape=shapes, p=st.floats(0.05, 0.9), seed=st.integers(0, 2**31 - 1),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_equal_to_torch_given_the_same_mask(shape, p, seed, dtype):
    """torch draws the mask; with that mask our forward and backward equal torch's output and x.grad."""
    g = rng(seed)
    x, upstream = nonzero_normal(g, shape, dtype), g.standard_normal(shape).astype(dtype)
    torch.manual_seed(seed)
    x_t = torch.tensor(x, requires_grad=True)
    y_t = torch.nn.Dropout(p).train()(x_t)
    (y_t * torch.from_numpy(upstream)).sum().backward()
    mask = y_t.detach().numpy() != 0
    drop = Dropout(p, rng(0))
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    check_close("Dropout forward vs torch", drop.forward(x, training=True, mask=mask), y_t, rtol=rtol)
    check_close("Dropout backward vs torch", drop.backward(upstream), x_t.grad, rtol=rtol)


@settings(max_examples=15, deadline=None)
@given(shape=shapes, p=st.floats(0.05, 0.9), seed=st.integers(0, 2**31 - 1))
def test_equal_to_keras_given_the_same_mask(shape, p, seed):
    x = nonzero_normal(rng(seed), shape, np.float32)
    theirs = np.asarray(keras.layers.Dropout(p, seed=seed)(x, training=True))
    mask = theirs != 0
    check_close("Dropout forward vs keras", Dropout(p, rng(0)).forward(x, training=True, mask=mask), theirs, rtol=1e-6)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.9])
def test_eval_mode_equals_torch_and_keras_exactly(p):
    x = rng(11).standard_normal((6, 5)).astype(np.float32)
    ours = Dropout(p, rng(12)).forward(x, training=False)
    assert np.array_equal(ours, torch.nn.Dropout(p).eval()(torch.from_numpy(x)).numpy())
    assert np.array_equal(ours, np.asarray(keras.layers.Dropout(p, seed=1)(x, training=False)))


# ---------------------------------------------------------------- reproducibility

def test_masks_are_reproducible_from_the_rng():
    x = np.ones((20, 30))
    a, b, c = Dropout(0.5, rng(13)), Dropout(0.5, rng(13)), Dropout(0.5, rng(14))
    for _ in range(3):
        ya, yb, yc = (d.forward(x, training=True) for d in (a, b, c))
        assert np.array_equal(ya, yb), "the same seed must give the same masks, call after call"
        assert not np.array_equal(ya, yc), "another seed must give other masks"
    first = a.forward(x, training=True)
    assert not np.array_equal(first, a.forward(x, training=True)), "each call draws a fresh mask"
    a.rng = rng(13)
    b.rng = rng(13)
    assert np.array_equal(a.forward(x, training=True), b.forward(x, training=True))


def test_the_mask_comes_from_the_given_rng_and_no_global_state():
    x = np.ones((10, 10))
    np.random.seed(0)
    y1 = Dropout(0.5, rng(15)).forward(x, training=True)
    np.random.seed(1)
    y2 = Dropout(0.5, rng(15)).forward(x, training=True)
    assert np.array_equal(y1, y2)


# ---------------------------------------------------------------- inside Sequential

def make_mlp(p: float, seed: int = 0) -> Sequential:
    g = rng(seed)
    return Sequential(Linear(6, 16, g), ReLU(), Dropout(p, rng(seed + 100)), Linear(16, 3, g))


def test_sequential_passes_the_training_flag_to_dropout():
    model, x = make_mlp(0.5), rng(16).standard_normal((8, 6))
    drop = model[2]
    plain = Sequential(model[0], model[1], model[3])  # the same Linear layers, without dropout
    assert np.array_equal(model.forward(x, training=False), plain.forward(x, training=False))
    assert drop.mask is None
    y1, y2 = model.forward(x, training=True), model.forward(x, training=True)
    assert drop.mask is not None and drop.mask.shape == (8, 16)
    assert not np.array_equal(y1, y2), "training=True must reach Dropout and draw a new mask each time"
    assert set(model.params) == {"0.W", "0.b", "3.W", "3.b"}, "Dropout has no parameters"


def test_sequential_with_dropout_is_gradient_checked_with_a_fixed_mask():
    model = make_mlp(0.4, seed=17)
    drop = model[2]
    x, y = rng(18).standard_normal((10, 6)), rng(19).integers(0, 3, 10)

    def loss(_):  # a fresh generator with the same seed each call: the same mask every time
        drop.rng = rng(20)
        return softmax_cross_entropy(model.forward(x, training=True), y)[0]

    drop.rng = rng(20)
    _, dlogits = softmax_cross_entropy(model.forward(x, training=True), y)
    dx = model.backward(dlogits)
    assert 0 < drop.mask.mean() < 1, "the check needs some units dropped and some kept"
    grads = {name: value.copy() for name, value in model.grads.items()}
    for name, value in model.params.items():
        check_gradient(loss, value, grads[name], name=f"dL/d{name} through Dropout")
    check_gradient(loss, x, dx, name="dL/dx through Dropout")
    model.forward(x, training=True)
    assert model.backward(dlogits, input_grad=False) is None


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, float("nan"), float("inf")])
def test_p_outside_zero_one_raises_value_error_naming_it(p):
    with pytest.raises(ValueError, match=r"\[0, 1\).*" + repr(p).replace(".", r"\.")):
        Dropout(p, rng())


@pytest.mark.parametrize("p", [True, "0.5", None, [0.5]])
def test_p_that_is_not_a_number_raises_type_error(p):
    with pytest.raises(TypeError, match="p must be a number"):
        Dropout(p, rng())


@pytest.mark.parametrize("bad_rng", [0, np.random.RandomState(0), None])
def test_rng_must_be_a_generator(bad_rng):
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        Dropout(0.5, bad_rng)


def test_bad_forward_and_backward_inputs_raise_clear_errors():
    drop = Dropout(0.5, rng())
    x = np.ones((3, 4))
    with pytest.raises(TypeError, match="floating-point x"):
        drop.forward(np.ones((3, 4), dtype=np.int64), training=True)
    with pytest.raises(TypeError, match="training must be True or False"):
        drop.forward(x, training=1)
    with pytest.raises(ValueError, match=r"x's shape \(3, 4\), got \(4, 3\)"):
        drop.forward(x, training=True, mask=np.ones((4, 3), dtype=bool))
    with pytest.raises(TypeError, match="boolean keep-mask"):
        drop.forward(x, training=True, mask=np.ones((3, 4)))
    with pytest.raises(ValueError, match="only in training mode"):
        drop.forward(x, training=False, mask=np.ones((3, 4), dtype=bool))
    with pytest.raises(RuntimeError, match="training=True"):
        Dropout(0.5, rng()).backward(x)
    drop.forward(x, training=True)
    with pytest.raises(ValueError, match=r"output's shape \(3, 4\), got \(2, 4\)"):
        drop.backward(np.ones((2, 4)))
    with pytest.raises(TypeError, match="floating-point dout"):
        drop.backward(np.ones((3, 4), dtype=np.int64))


def test_repr_names_the_drop_probability():
    assert repr(Dropout(0.25, rng())) == "Dropout(p=0.25)"
