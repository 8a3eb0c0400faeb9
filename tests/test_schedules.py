"""course_utils.schedules: the five schedules equal torch's and Keras' schedulers; clipping equals theirs."""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra.numpy import array_shapes  # noqa: E402

from course_utils.checks import check_close  # noqa: E402
from course_utils.schedules import (clip_by_global_norm, clip_by_value, cosine_decay, exponential_decay,  # noqa: E402
                                    global_norm, linear_warmup, polynomial_decay, step_decay)

STEPS = 60
lr_st = st.floats(1e-4, 1.0)
total_st = st.integers(1, 40)


def torch_lrs(make_scheduler, base_lr: float, steps: int = STEPS) -> np.ndarray:
    """The learning rate torch uses at t = 0..steps-1, one scheduler.step() after each optimizer step."""
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(lrs)


def keras_lrs(schedule, steps: int = STEPS) -> np.ndarray:
    """A Keras schedule at optimizer iterations 0..steps-1 (float64: the arguments are np.float64)."""
    return np.array([float(schedule(t)) for t in range(steps)])


def close(label, ours, theirs, base_lr):
    check_close(label, ours, theirs, rtol=1e-9, atol=1e-12 * base_lr)


T = np.arange(STEPS)


# --- against torch.optim.lr_scheduler ----------------------------------------------------

@settings(deadline=None, max_examples=30)
@given(base_lr=lr_st, drop_every=st.integers(1, 20), factor=st.floats(0.05, 1.0))
def test_step_decay_equals_torch_steplr_and_keras_staircase(base_lr, drop_every, factor):
    ours = step_decay(T, base_lr=base_lr, drop_every=drop_every, factor=factor)
    close("step_decay vs StepLR", ours,
          torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=drop_every, gamma=factor), base_lr), base_lr)
    keras_schedule = keras.optimizers.schedules.ExponentialDecay(
        np.float64(base_lr), decay_steps=drop_every, decay_rate=np.float64(factor), staircase=True)
    close("step_decay vs Keras ExponentialDecay(staircase=True)", ours, keras_lrs(keras_schedule), base_lr)


@settings(deadline=None, max_examples=30)
@given(base_lr=lr_st, rate=st.floats(0.5, 1.0), decay_steps=st.integers(1, 20))
def test_exponential_decay_equals_torch_and_keras(base_lr, rate, decay_steps):
    ours = exponential_decay(T, base_lr=base_lr, rate=rate, decay_steps=decay_steps)
    keras_schedule = keras.optimizers.schedules.ExponentialDecay(
        np.float64(base_lr), decay_steps=decay_steps, decay_rate=np.float64(rate))
    close("exponential_decay vs Keras ExponentialDecay", ours, keras_lrs(keras_schedule), base_lr)
    per_step = exponential_decay(T, base_lr=base_lr, rate=rate)  # torch decays once per scheduler.step()
    close("exponential_decay vs ExponentialLR", per_step,
          torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=rate), base_lr), base_lr)


@settings(deadline=None, max_examples=30)
@given(base_lr=lr_st, total=total_st, power=st.floats(0.25, 4.0), end_fraction=st.floats(0.0, 0.5))
def test_polynomial_decay_equals_torch_and_keras(base_lr, total, power, end_fraction):
    to_zero = polynomial_decay(T, base_lr=base_lr, total_steps=total, power=power)
    close("polynomial_decay vs PolynomialLR", to_zero,
          torch_lrs(lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=total, power=power), base_lr),
          base_lr)
    end_lr = end_fraction * base_lr
    ours = polynomial_decay(T, base_lr=base_lr, total_steps=total, power=power, end_lr=end_lr)
    keras_schedule = keras.optimizers.schedules.PolynomialDecay(
        np.float64(base_lr), decay_steps=total, end_learning_rate=np.float64(end_lr), power=np.float64(power))
    close("polynomial_decay vs Keras PolynomialDecay", ours, keras_lrs(keras_schedule), base_lr)


@settings(deadline=None, max_examples=30)
@given(base_lr=lr_st, total=total_st, min_fraction=st.floats(0.0, 0.5))
def test_cosine_decay_equals_torch_and_keras(base_lr, total, min_fraction):
    min_lr = min_fraction * base_lr
    ours = cosine_decay(T, base_lr=base_lr, total_steps=total, min_lr=min_lr)
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=min_lr), base_lr)
    # torch climbs back up after T_max (a periodic cosine); compare up to T_max only
    close("cosine_decay vs CosineAnnealingLR", ours[:total + 1], theirs[:total + 1], base_lr)
    keras_schedule = keras.optimizers.schedules.CosineDecay(np.float64(base_lr), decay_steps=total,
                                                            alpha=np.float64(min_fraction))
    close("cosine_decay vs Keras CosineDecay", ours, keras_lrs(keras_schedule), base_lr)


@settings(deadline=None, max_examples=30)
@given(base_lr=lr_st, warmup=total_st, start_factor=st.floats(0.01, 1.0))
def test_linear_warmup_equals_torch_linearlr_and_keras_warmup(base_lr, warmup, start_factor):
    ours = linear_warmup(T, base_lr=base_lr, warmup_steps=warmup, start_factor=start_factor)
    close("linear_warmup vs LinearLR", ours,
          torch_lrs(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=start_factor, end_factor=1.0,
                                                                total_iters=warmup), base_lr), base_lr)
    keras_schedule = keras.optimizers.schedules.CosineDecay(
        np.float64(start_factor * base_lr), decay_steps=1000, warmup_target=np.float64(base_lr), warmup_steps=warmup)
    # Keras' warm-up phase covers t <= warmup_steps (at t = W it starts the cosine at its top, base_lr)
    close("linear_warmup vs Keras CosineDecay warm-up", ours[:warmup + 1], keras_lrs(keras_schedule, warmup + 1),
          base_lr)


# --- properties --------------------------------------------------------------------------

SCHEDULES = {
    "step_decay": lambda t: step_decay(t, base_lr=0.1, drop_every=7, factor=0.5),
    "exponential_decay": lambda t: exponential_decay(t, base_lr=0.1, rate=0.9, decay_steps=3),
    "polynomial_decay": lambda t: polynomial_decay(t, base_lr=0.1, total_steps=30, power=2.0, end_lr=0.01),
    "cosine_decay": lambda t: cosine_decay(t, base_lr=0.1, total_steps=30, min_lr=0.001),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_decays_start_at_base_lr_and_never_increase(name):
    lrs = SCHEDULES[name](np.arange(100))
    assert lrs[0] == pytest.approx(0.1, rel=1e-15)
    assert np.all(np.diff(lrs) <= 1e-15), f"{name} increased somewhere"
    assert lrs.shape == (100,) and lrs.dtype == np.float64


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_scalar_and_array_steps_agree(name):
    lrs = SCHEDULES[name](np.arange(40))
    scalars = [SCHEDULES[name](t) for t in range(40)]
    assert all(isinstance(s, float) for s in scalars)
    np.testing.assert_array_equal(lrs, scalars)
    assert SCHEDULES[name](np.arange(6).reshape(2, 3)).shape == (2, 3)


def test_polynomial_and_cosine_reach_their_floor_and_stay():
    assert polynomial_decay(30, base_lr=0.1, total_steps=30, end_lr=0.01) == pytest.approx(0.01)
    assert polynomial_decay(500, base_lr=0.1, total_steps=30, end_lr=0.01) == pytest.approx(0.01)
    assert cosine_decay(30, base_lr=0.1, total_steps=30, min_lr=0.001) == pytest.approx(0.001)
    assert cosine_decay(15, base_lr=0.1, total_steps=30) == pytest.approx(0.05)  # halfway: half the rate
    assert cosine_decay(90, base_lr=0.1, total_steps=30, min_lr=0.001) == pytest.approx(0.001)


def test_linear_warmup_ramps_up_then_holds():
    lrs = linear_warmup(np.arange(20), base_lr=0.4, warmup_steps=8)
    np.testing.assert_allclose(lrs[:9], 0.4 * np.arange(9) / 8, rtol=1e-15)
    assert np.all(lrs[8:] == 0.4)


# --- clipping ----------------------------------------------------------------------------

grads_st = st.builds(
    lambda seed, shapes, scale: {f"g{i}": scale * np.random.default_rng(seed).standard_normal(s)
                                 for i, s in enumerate(shapes)},
    st.integers(0, 2**32 - 1), st.lists(array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
                                        min_size=1, max_size=4),
    st.sampled_from([1e-3, 1.0, 1e3]))


def torch_grads(grads):
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for p, g in zip(params, grads.values()):
        p.grad = torch.tensor(g, dtype=torch.float64)
    return params


def keras_clipped(grads, **clip):
    """What a Keras optimizer applies after clipping: SGD with lr 1 from zero variables moves by -g."""
    variables = [keras.Variable(np.zeros(g.shape), dtype="float64") for g in grads.values()]
    keras.optimizers.SGD(learning_rate=1.0, **clip).apply(list(grads.values()), variables)
    return {name: -v.numpy() for name, v in zip(grads, variables)}


@settings(deadline=None, max_examples=40)
@given(grads=grads_st, limit=st.floats(1e-3, 10.0))
def test_clip_by_value_equals_torch(grads, limit):
    params = torch_grads(grads)
    torch.nn.utils.clip_grad_value_(params, clip_value=limit)
    ours = clip_by_value(grads, limit)
    for (name, g), p in zip(ours.items(), params):
        check_close(f"clip_by_value vs clip_grad_value_, {name}", g, p.grad.numpy(), rtol=0)
        assert np.abs(g).max() <= limit


@settings(deadline=None, max_examples=40)
@given(grads=grads_st, max_norm=st.floats(0.5, 50.0))
def test_clip_by_global_norm_equals_torch(grads, max_norm):
    """torch divides by norm + 1e-6: its clipped gradients are smaller by a relative 1e-6 / norm <= 2e-6."""
    params = torch_grads(grads)
    torch_norm = torch.nn.utils.clip_grad_norm_(params, max_norm=max_norm)
    ours, norm = clip_by_global_norm(grads, max_norm)
    check_close("total norm vs clip_grad_norm_", norm, torch_norm.item(), rtol=1e-12)
    for (name, g), p in zip(ours.items(), params):
        check_close(f"clip_by_global_norm vs clip_grad_norm_, {name}", g, p.grad.numpy(), rtol=2e-6 / max_norm)


@settings(deadline=None, max_examples=10)
@given(grads=grads_st, limit=st.sampled_from([0.25, 1.0, 3.0]))
def test_clipping_equals_keras_clipvalue_global_clipnorm_and_per_variable_clipnorm(grads, limit):
    for name, g in keras_clipped(grads, clipvalue=limit).items():
        check_close(f"clip_by_value vs Keras clipvalue, {name}", clip_by_value(grads, limit)[name], g, rtol=1e-12)
    clipped, _ = clip_by_global_norm(grads, limit)
    for name, g in keras_clipped(grads, global_clipnorm=limit).items():
        check_close(f"clip_by_global_norm vs Keras global_clipnorm, {name}", clipped[name], g, rtol=1e-12)
    for name, g in keras_clipped(grads, clipnorm=limit).items():  # clipnorm: each variable by its own norm
        check_close(f"per-variable clip_by_global_norm vs Keras clipnorm, {name}",
                    clip_by_global_norm({name: grads[name]}, limit)[0][name], g, rtol=1e-12)


@settings(deadline=None, max_examples=60)
@given(grads=grads_st, max_norm=st.floats(1e-3, 1e3))
def test_global_norm_clipping_caps_the_norm_and_keeps_the_direction(grads, max_norm):
    before = {k: v.copy() for k, v in grads.items()}
    clipped, norm = clip_by_global_norm(grads, max_norm)
    assert norm == pytest.approx(np.sqrt(sum((g**2).sum() for g in grads.values())), rel=1e-12)
    assert global_norm(clipped) <= max_norm * (1 + 1e-12)
    scale = min(1.0, max_norm / norm)
    for k in grads:
        np.testing.assert_allclose(clipped[k], scale * grads[k], rtol=1e-12)
        np.testing.assert_array_equal(grads[k], before[k])  # the input is not modified
        assert clipped[k] is not grads[k]


@settings(deadline=None, max_examples=60)
@given(grads=grads_st, limit=st.floats(1e-3, 1e3))
def test_clip_by_value_is_idempotent_and_leaves_small_entries(grads, limit):
    once = clip_by_value(grads, limit)
    twice = clip_by_value(once, limit)
    for k in grads:
        np.testing.assert_array_equal(once[k], twice[k])
        small = np.abs(grads[k]) <= limit
        np.testing.assert_array_equal(once[k][small], grads[k][small])


def test_clipping_keeps_the_dtype():
    grads = {"W": np.full((2, 2), 10.0, dtype=np.float32)}
    assert clip_by_global_norm(grads, 1.0)[0]["W"].dtype == np.float32
    assert clip_by_value(grads, 1.0)["W"].dtype == np.float32


# --- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("call,error,match", [
    (lambda: step_decay(-1, base_lr=0.1, drop_every=5, factor=0.5), ValueError, "step must be >= 0"),
    (lambda: step_decay(np.array([0, 1, -2]), base_lr=0.1, drop_every=5, factor=0.5), ValueError, "got -2.0"),
    (lambda: step_decay(3, base_lr=-0.1, drop_every=5, factor=0.5), ValueError, r"base_lr must lie in \[0, inf\)"),
    (lambda: step_decay(3, base_lr=0.1, drop_every=0, factor=0.5), ValueError, "drop_every must be an integer >= 1"),
    (lambda: step_decay(3, base_lr=0.1, drop_every=2.5, factor=0.5), ValueError, "drop_every"),
    (lambda: step_decay(3, base_lr=0.1, drop_every=5, factor=0.0), ValueError, r"factor must lie in \(0, inf\)"),
    (lambda: exponential_decay(3, base_lr=0.1, rate=-0.5), ValueError, "rate"),
    (lambda: polynomial_decay(3, base_lr=0.1, total_steps=0), ValueError, "total_steps"),
    (lambda: polynomial_decay(3, base_lr=0.1, total_steps=10, power=0.0), ValueError, "power"),
    (lambda: polynomial_decay(3, base_lr=0.1, total_steps=10, end_lr=-1.0), ValueError, "end_lr"),
    (lambda: cosine_decay(3, base_lr=0.1, total_steps=10, min_lr=0.2), ValueError, r"min_lr must lie in \[0, 0.1\]"),
    (lambda: linear_warmup(3, base_lr=0.1, warmup_steps=10, start_factor=1.5), ValueError, "start_factor"),
    (lambda: cosine_decay(float("nan"), base_lr=0.1, total_steps=10), ValueError, "step"),
    (lambda: cosine_decay("3", base_lr=0.1, total_steps=10), TypeError, "step must be a number"),
    (lambda: cosine_decay(True, base_lr=0.1, total_steps=10), TypeError, "step must be a number"),
    (lambda: cosine_decay(3, base_lr="0.1", total_steps=10), TypeError, "base_lr must be a number"),
    (lambda: clip_by_value({"w": np.ones(2)}, 0.0), ValueError, "limit must lie in"),
    (lambda: clip_by_global_norm({"w": np.ones(2)}, -1.0), ValueError, "max_norm must lie in"),
    (lambda: clip_by_global_norm({"w": np.array([1.0, np.nan])}, 1.0), ValueError, r"grads\['w'\] holds NaN"),
    (lambda: clip_by_global_norm({}, 1.0), ValueError, "grads is empty"),
    (lambda: clip_by_value([np.ones(2)], 1.0), TypeError, "grads must be a dict"),
    (lambda: clip_by_value({"w": np.ones(2, dtype=int)}, 1.0), TypeError, "floating-point"),
])
def test_bad_input_raises_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
