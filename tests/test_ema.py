"""course_utils.ema: the EMA of weights against its closed form, torch's AveragedModel, and bad input."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from course_utils.ema import EMA, ema_weights, half_life

decays = st.floats(0.0, 0.999, allow_nan=False)


def random_history(steps, shape=(3, 2), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


@pytest.mark.parametrize("start", ["copy", "zero"])
@settings(deadline=None, max_examples=40)
@given(decay=decays, steps=st.integers(1, 40))
def test_average_is_the_weighted_sum_given_by_ema_weights(start, decay, steps):
    history = random_history(steps)
    ema = EMA(decay, start=start)
    for theta in history:
        ema.update({"w": theta})
    expected = np.tensordot(ema_weights(decay, steps, start=start), np.stack(history), axes=1)
    np.testing.assert_allclose(ema.averaged["w"], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("start", ["copy", "zero"])
@settings(deadline=None, max_examples=40)
@given(decay=decays, steps=st.integers(1, 200))
def test_ema_weights_are_positive_and_sum_to_one(start, decay, steps):
    weights = ema_weights(decay, steps, start=start)
    assert weights.shape == (steps,)
    assert np.all(weights >= 0)
    assert weights.sum() == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("start", ["copy", "zero"])
def test_a_constant_is_its_own_average(start):
    ema = EMA(0.9, start=start)
    for _ in range(5):
        ema.update({"w": np.full(4, 3.5)})
    np.testing.assert_allclose(ema.averaged["w"], 3.5, rtol=1e-12)


def test_the_copy_convention_copies_the_first_weights():
    ema = EMA(0.99)
    ema.update({"a": np.arange(3.0), "b": np.ones((2, 2))})
    np.testing.assert_array_equal(ema.averaged["a"], np.arange(3.0))
    ema.update({"a": np.zeros(3), "b": np.zeros((2, 2))})
    np.testing.assert_allclose(ema.averaged["a"], 0.99 * np.arange(3.0))


def test_the_zero_convention_with_bias_correction_after_one_step_is_the_weights():
    ema = EMA(0.9, start="zero")
    ema.update({"w": np.array([2.0, -1.0])})
    np.testing.assert_allclose(ema.averaged["w"], [2.0, -1.0], rtol=1e-12)


def test_averaged_returns_a_copy():
    ema = EMA(0.5)
    ema.update({"w": np.ones(2)})
    ema.averaged["w"][:] = 100
    np.testing.assert_array_equal(ema.averaged["w"], np.ones(2))


def test_matches_torch_averaged_model():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3, dtype=torch.float64)
    averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.8))
    ours = EMA(0.8)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(12):
        optimizer.zero_grad()
        model(torch.randn(5, 4, dtype=torch.float64)).pow(2).mean().backward()
        optimizer.step()
        averaged.update_parameters(model)
        ours.update({name: p.detach() for name, p in model.named_parameters()})
    for name, p in averaged.module.named_parameters():
        np.testing.assert_allclose(ours.averaged[name], p.detach().numpy(), rtol=1e-12, atol=1e-14)


@settings(deadline=None, max_examples=50)
@given(st.floats(0.01, 0.9999))
def test_half_life_halves_the_weight(decay):
    assert decay ** half_life(decay) == pytest.approx(0.5, rel=1e-9)


def test_half_life_of_common_decays():
    assert half_life(0.99) == pytest.approx(math.log(2) / -math.log(0.99))
    assert round(half_life(0.99)) == 69 and round(half_life(0.999)) == 693
    assert half_life(0) == 0


@pytest.mark.parametrize("decay, error, match", [(1.0, ValueError, "decay must lie in"),
                                                 (-0.1, ValueError, "decay must lie in"),
                                                 (float("nan"), ValueError, "decay must lie in"),
                                                 ("0.9", TypeError, "decay must be a number"),
                                                 (True, TypeError, "decay must be a number")])
def test_bad_decay(decay, error, match):
    with pytest.raises(error, match=match):
        EMA(decay)
    with pytest.raises(error, match=match):
        half_life(decay)


def test_bad_arguments():
    with pytest.raises(ValueError, match="start must be one of"):
        EMA(0.9, start="ones")
    with pytest.raises(ValueError, match="start must be one of"):
        ema_weights(0.9, 3, start="ones")
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        ema_weights(0.9, 0)
    ema = EMA(0.9)
    with pytest.raises(RuntimeError, match="no value yet"):
        ema.averaged
    with pytest.raises(TypeError, match="params must be a non-empty mapping"):
        ema.update({})
    with pytest.raises(TypeError, match="params must be a non-empty mapping"):
        ema.update([np.ones(2)])
    ema.update({"w": np.ones(2)})
    with pytest.raises(ValueError, match="names of the first update"):
        ema.update({"v": np.ones(2)})
    with pytest.raises(ValueError, match=r"params\['w'\] has shape \(3,\), expected \(2,\)"):
        ema.update({"w": np.ones(3)})
