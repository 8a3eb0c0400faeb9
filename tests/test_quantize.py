"""course_utils.quantize: int8 affine quantization, equal to torch.quantize_per_tensor / per_channel."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.quantize import affine_qparams, dequantize, fake_quantize, qparams, quantize


def torch_int8(x, scale, zero_point, axis=None):
    with warnings.catch_warnings():  # torch 2.13 deprecates quantized tensors (the integers are still right)
        warnings.simplefilter("ignore")
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        if axis is None:
            q = torch.quantize_per_tensor(t, float(scale), int(zero_point), torch.qint8)
        else:
            q = torch.quantize_per_channel(t, torch.from_numpy(np.asarray(scale, np.float64)),
                                           torch.from_numpy(np.asarray(zero_point, np.int64)), axis, torch.qint8)
        return q.int_repr().numpy().astype(np.int64)


def test_qparams_of_a_known_range():
    scale, zero_point = affine_qparams(-1.0, 3.0)
    assert scale == pytest.approx(4.0 / 255)
    assert zero_point == -128 + round(1.0 / (4.0 / 255))  # -128 + 64 = -64
    assert dequantize(quantize(np.array([0.0]), scale, zero_point), scale, zero_point)[0] == 0.0


def test_range_is_stretched_to_contain_zero():
    scale, zero_point = affine_qparams(2.0, 5.1)  # becomes [0, 5.1]
    assert scale == pytest.approx(5.1 / 255) and zero_point == -128
    scale, zero_point = affine_qparams(-6.0, -1.0)  # becomes [-6, 0]
    assert zero_point == 127


def test_all_zero_range_gets_a_usable_scale():
    scale, zero_point = qparams(np.zeros(4))
    assert scale == 1.0 and np.all(quantize(np.zeros(4), scale, zero_point) == zero_point)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), spread=st.floats(1e-3, 1e3), shift=st.floats(-2.0, 2.0))
def test_rounding_error_is_at_most_half_a_step_and_integers_equal_torch(seed, spread, shift):
    x = ((np.random.default_rng(seed).standard_normal(200) + shift) * spread).astype(np.float32)
    scale, zero_point = qparams(x)
    q = quantize(x, scale, zero_point)
    assert q.min() >= -128 and q.max() <= 127
    error = np.abs(x - dequantize(q, scale, zero_point))
    # half a step, plus the float32 round-off of x / scale (at most ~128 * 2^-23 of a step)
    assert error.max() <= scale / 2 * (1 + 1e-4), f"error {error.max()} exceeds half a step {scale / 2}"
    np.testing.assert_array_equal(q, torch_int8(x, scale, zero_point))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), axis=st.sampled_from([0, 1, -1]))
def test_per_channel_equals_torch_and_bounds_each_channel(seed, axis):
    g = np.random.default_rng(seed)
    w = (g.standard_normal((6, 9)) * g.uniform(0.01, 5.0, size=(6, 1))).astype(np.float32)
    scale, zero_point = qparams(w, axis=axis)
    assert scale.shape == (w.shape[axis],)
    q = quantize(w, scale, zero_point, axis=axis)
    np.testing.assert_array_equal(q, torch_int8(w, scale, zero_point, axis=axis % 2))
    step = scale.reshape((-1, 1) if axis % 2 == 0 else (1, -1))
    assert np.all(np.abs(w - dequantize(q, scale, zero_point, axis=axis)) <= step / 2 * (1 + 1e-4))


@pytest.mark.parametrize("x, scale, zero_point", [
    # values whose x * (1 / scale), rounded to float32, is exactly k + 0.5 although the exact product is not:
    # only a fused multiply-add with the zero point (as PyTorch's per-tensor kernel does) rounds them right
    (float.fromhex("-0x1.ebc144p-4"), float.fromhex("0x1.c19ac1c1c1c1cp-8"), 20),
    (float.fromhex("0x1.d29f62p-2"), float.fromhex("0x1.0d0b2eaeaeaebp-7"), -34),
])
def test_per_tensor_near_ties_round_like_torch(x, scale, zero_point):
    values = np.full(16, x, dtype=np.float32)  # 16 copies: PyTorch's vectorized path handles them
    np.testing.assert_array_equal(quantize(values, scale, zero_point), torch_int8(values, scale, zero_point))


def test_per_channel_error_is_smaller_when_rows_differ_in_size():
    g = np.random.default_rng(0)
    w = g.standard_normal((8, 100)) * np.logspace(-2, 0, 8)[:, None]
    per_tensor = np.abs(w - fake_quantize(w)).mean()
    per_channel = np.abs(w - fake_quantize(w, axis=0)).mean()
    assert per_channel < per_tensor / 2


def test_values_outside_the_range_are_clamped():
    scale, zero_point = affine_qparams(-1.0, 1.0)
    q = quantize(np.array([-10.0, 10.0]), scale, zero_point)
    assert list(q) == [-128, 127]


@pytest.mark.parametrize("call, error, match", [
    (lambda: affine_qparams(1.0, -1.0), ValueError, "x_min must be <= x_max"),
    (lambda: affine_qparams(0.0, 1.0, qmin=5, qmax=5), ValueError, "qmin must be smaller"),
    (lambda: affine_qparams(0.0, 1.0, qmin=0.5), TypeError, "qmin"),
    (lambda: qparams(np.array([1, 2])), TypeError, "floating"),
    (lambda: qparams(np.array([1.0, np.nan])), ValueError, "finite"),
    (lambda: qparams(np.ones((2, 2)), axis=2), ValueError, "axis"),
    (lambda: quantize(np.ones(3), 0.0, 0), ValueError, "scale must be > 0"),
    (lambda: quantize(np.ones((2, 3)), np.ones(3), np.zeros(3, np.int64), axis=0), ValueError, "per-channel"),
    (lambda: quantize(np.ones(3), np.ones(3), np.zeros(3, np.int64)), ValueError, "per-tensor"),
    (lambda: dequantize(np.ones(3), 1.0, 0), TypeError, "integer"),
])
def test_bad_input_raises(call, error, match):
    with pytest.raises(error, match=match):
        call()
