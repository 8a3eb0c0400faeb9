"""Int8 affine quantization from scratch: scale, zero point, quantize and dequantize.

A float x is stored as an integer q in [qmin, qmax] (for int8: [-128, 127]) with

    q = clamp(round(x / scale) + zero_point, qmin, qmax)        (quantize)
    x_hat = scale * (q - zero_point)                              (dequantize)

`scale` is the float step between neighbouring integers and `zero_point` is the integer that
stands for the float 0 (so 0, ReLU's output and zero padding, is stored exactly). The range
[x_min, x_max] to cover is stretched to contain 0, then

    scale = (x_max - x_min) / (qmax - qmin),   zero_point = qmin - round(x_min / scale).

Inside that range, rounding to the nearest step loses at most half a step:
|x - x_hat| <= scale / 2 (plus the float32 round-off of x / scale, below 1e-4 of a step).
Per tensor, one (scale, zero_point) serves the whole array; per channel, each slice along
`axis` (each output unit's row of a weight matrix) gets its own, so a row of small weights is
not quantized with the coarse step that the largest row needs.

The integers equal torch.quantize_per_tensor / torch.quantize_per_channel(...).int_repr():
like PyTorch, x / scale + zero_point is computed in float32 as x * (1 / scale) + zero_point and
rounded half to even (adding the zero point before rounding moves which values are ties). PyTorch's
per-tensor kernel fuses the multiply and the add (one rounding to float32), its per-channel kernel
rounds twice. `quantize` does the same, so its integers agree with PyTorch's x86 CPU kernels
bit for bit, near-ties included (tests/test_quantize.py checks it).
"""
from __future__ import annotations

import numpy as np

INT8_RANGE = (-128, 127)


def _check_int_range(qmin, qmax) -> tuple[int, int]:
    for label, value in (("qmin", qmin), ("qmax", qmax)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{label} must be an integer, got {value!r} of type {type(value).__name__}")
    if not qmin < qmax:
        raise ValueError(f"qmin must be smaller than qmax (int8: -128 and 127), got qmin={qmin}, qmax={qmax}")
    return int(qmin), int(qmax)


def _check_float_array(name: str, x) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite: quantization has no integer for nan or inf")
    return x


def _check_axis(axis, ndim: int) -> int | None:
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"axis must be None (per tensor) or an integer in [{-ndim}, {ndim - 1}] "
                         f"for an array of {ndim} dimensions, got {axis!r}")
    return int(axis) % ndim


def affine_qparams(x_min, x_max, *, qmin: int = INT8_RANGE[0], qmax: int = INT8_RANGE[1]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Scale and zero point that map [x_min, x_max] (stretched to contain 0) onto [qmin, qmax].

    x_min, x_max: numbers, or arrays of the same shape (C,) for per-channel parameters.
        Each range is first widened to [min(x_min, 0), max(x_max, 0)] so that 0 is exact.
    Returns (scale, zero_point): float64 and int64 arrays of x_min's shape (0-d for numbers), with
        scale = (hi - lo) / (qmax - qmin) and zero_point = clip(qmin - round(lo / scale), qmin, qmax).
    A range of width 0 (all zeros) gets scale 1, so that quantize never divides by zero.
    Raises ValueError when x_min > x_max, TypeError/ValueError for a bad qmin/qmax.
    """
    qmin, qmax = _check_int_range(qmin, qmax)
    lo = _check_float_array("x_min", np.asarray(x_min, dtype=np.float64))
    hi = _check_float_array("x_max", np.asarray(x_max, dtype=np.float64))
    if lo.shape != hi.shape:
        raise ValueError(f"x_min and x_max must have the same shape, got {lo.shape} and {hi.shape}")
    if np.any(lo > hi):
        raise ValueError(f"x_min must be <= x_max, got x_min={x_min!r}, x_max={x_max!r}")
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    scale = (hi - lo) / (qmax - qmin)
    scale = np.where(scale > 0, scale, 1.0)
    zero_point = np.clip(qmin - np.rint(lo / scale), qmin, qmax).astype(np.int64)
    return scale, zero_point


def qparams(x, *, axis: int | None = None, qmin: int = INT8_RANGE[0], qmax: int = INT8_RANGE[1]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Scale and zero point from the observed range of x: per tensor (axis=None) or per channel.

    x: floating array. axis: None for one (scale, zero_point) for all of x; an integer for one
    pair per slice along that axis (axis=0 of a Linear weight (out, in): one per output unit).
    Returns (scale, zero_point) as `affine_qparams` does: 0-d arrays, or arrays of shape (x.shape[axis],).
    """
    x = _check_float_array("x", x)
    axis = _check_axis(axis, x.ndim)
    if x.size == 0:
        raise ValueError("x is empty: there is no range to quantize")
    if axis is None:
        return affine_qparams(x.min(), x.max(), qmin=qmin, qmax=qmax)
    others = tuple(a for a in range(x.ndim) if a != axis)
    return affine_qparams(x.min(axis=others), x.max(axis=others), qmin=qmin, qmax=qmax)


def _broadcast(params: np.ndarray, ndim: int, axis: int | None) -> np.ndarray:
    """Reshape per-channel parameters (C,) so they broadcast along `axis` of an ndim array."""
    if axis is None:
        if params.ndim != 0 and params.size != 1:
            raise ValueError("per-tensor quantization (axis=None) needs one scale and zero point, "
                             f"got shape {params.shape}")
        return params.reshape(())
    if params.ndim != 1:
        raise ValueError(f"per-channel quantization needs scale and zero_point of shape (C,), got shape {params.shape}")
    shape = [1] * ndim
    shape[axis] = params.shape[0]
    return params.reshape(shape)


def quantize(x, scale, zero_point, *, axis: int | None = None, qmin: int = INT8_RANGE[0],
             qmax: int = INT8_RANGE[1]) -> np.ndarray:
    """q = clip(round(x / scale) + zero_point, qmin, qmax) as int64, element by element.

    x: floating array. scale, zero_point: numbers (axis=None) or arrays (C,) with C = x.shape[axis].
    x / scale + zero_point is computed as PyTorch does, in float32 as x * (1 / scale) + zero_point,
    then rounded half to even,
    so the integers equal torch.quantize_per_tensor/per_channel(...).int_repr().
    """
    qmin, qmax = _check_int_range(qmin, qmax)
    x = _check_float_array("x", x)
    axis = _check_axis(axis, x.ndim)
    scale = _broadcast(np.asarray(scale, dtype=np.float64), x.ndim, axis)
    zero_point = _broadcast(np.asarray(zero_point), x.ndim, axis)
    if np.any(scale <= 0):
        raise ValueError(f"scale must be > 0, got {scale.min()}")
    if axis is not None and scale.shape[axis] != x.shape[axis]:
        raise ValueError(f"per-channel scale has {scale.shape[axis]} entries "
                         f"but x has {x.shape[axis]} along axis {axis}")
    inv_scale = np.float32(1.0) / scale.astype(np.float32)
    if axis is None:  # PyTorch's vectorized kernel: one fused multiply-add, rounded once to float32
        # (the product of two float32 numbers plus a small integer is exact in float64)
        exact = x.astype(np.float32).astype(np.float64) * inv_scale.astype(np.float64) + zero_point
        shifted = exact.astype(np.float32)
    else:  # PyTorch's per-channel kernel: the product is rounded to float32, then the sum
        shifted = x.astype(np.float32) * inv_scale + zero_point.astype(np.float32)
    q = np.rint(shifted)
    return np.clip(q, qmin, qmax).astype(np.int64)


def dequantize(q, scale, zero_point, *, axis: int | None = None) -> np.ndarray:
    """x_hat = scale * (q - zero_point) as float64; q: integer array, parameters as in `quantize`."""
    q = np.asarray(q)
    if not np.issubdtype(q.dtype, np.integer):
        raise TypeError(f"q must be an integer array (the output of quantize), got dtype {q.dtype}")
    axis = _check_axis(axis, q.ndim)
    scale = _broadcast(np.asarray(scale, dtype=np.float64), q.ndim, axis)
    zero_point = _broadcast(np.asarray(zero_point), q.ndim, axis)
    return scale * (q.astype(np.int64) - zero_point)


def fake_quantize(x, *, axis: int | None = None, qmin: int = INT8_RANGE[0], qmax: int = INT8_RANGE[1]
                  ) -> np.ndarray:
    """dequantize(quantize(x)) with parameters from x's own range: x as int8 storage would give it back."""
    scale, zero_point = qparams(x, axis=axis, qmin=qmin, qmax=qmax)
    q = quantize(x, scale, zero_point, axis=axis, qmin=qmin, qmax=qmax)
    return dequantize(q, scale, zero_point, axis=axis)
