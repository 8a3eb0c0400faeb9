"""Checks that raise: notebooks and exercises call these instead of printing and eyeballing.

    check_close("Adam after 100 steps", ours, theirs, rtol=1e-6, hint="Did you apply bias correction?")

passes silently (returning the max relative error) or raises AssertionError saying how far
off the result is, where, and what to look at.
"""
from __future__ import annotations

import numpy as np


def to_numpy(x) -> np.ndarray:
    """An ndarray from a NumPy array, a Python number or list, a torch tensor or a TensorFlow tensor."""
    if hasattr(x, "detach"):  # torch.Tensor (possibly requiring grad, possibly on a GPU)
        x = x.detach().cpu().numpy()
    elif hasattr(x, "numpy") and not isinstance(x, np.ndarray):  # tf.Tensor, tf.Variable
        x = x.numpy()
    return np.asarray(x)


def rel_error(a, b, *, floor: float = 1e-8) -> float:
    """Largest elementwise relative error, max |a - b| / max(|a| + |b|, floor) (as in CS231n).

    a, b: arrays of the same shape (or broadcastable). Around 1e-7 or less means two float64
    computations agree; a correct analytic gradient against a numerical one gives about 1e-7
    to 1e-9. The floor keeps entries where both values are ~0 from dividing by zero.
    """
    a, b = to_numpy(a).astype(np.float64), to_numpy(b).astype(np.float64)
    if a.size == 0 and b.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))))


def _fmt_index(index: tuple[int, ...]) -> str:
    return str(tuple(int(i) for i in index)) if index else "()"


def check_close(name: str, got, expected, *, rtol: float = 1e-6, atol: float = 0.0,
                hint: str | None = None) -> float:
    """Assert that `got` equals `expected` to a stated tolerance; return the max relative error.

    got, expected: arrays (or numbers, tensors) of the same shape; no broadcasting.
    Passes when every element satisfies |got - expected| <= atol + rtol * |expected|
    (numpy.isclose's rule). Otherwise raises AssertionError naming the check, the max
    relative error against rtol, the worst element and `hint`.
    """
    if not isinstance(name, str) or not name:
        raise TypeError("name must be a non-empty string describing what is checked")
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    g, e = to_numpy(got), to_numpy(expected)
    suffix = f" {hint}" if hint else ""
    if g.shape != e.shape:
        raise AssertionError(f"{name}: shape {g.shape} does not match the expected shape {e.shape}.{suffix}")
    g64, e64 = g.astype(np.float64), e.astype(np.float64)
    # Non-finite values must match exactly (nan with nan, inf with the same inf).
    matched = (np.isnan(g64) & np.isnan(e64)) | (np.isinf(e64) & (g64 == e64))
    unmatched = (~np.isfinite(g64) | ~np.isfinite(e64)) & ~matched
    if unmatched.any():
        index = np.unravel_index(np.argmax(unmatched), g.shape)
        raise AssertionError(f"{name}: got {g64[index]} at index {_fmt_index(index)} where {e64[index]:.6g} "
                             f"was expected ({int(unmatched.sum())} non-finite mismatches).{suffix}")
    finite = np.isfinite(e64)  # from here on, got is finite wherever expected is
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where(finite, np.abs(g64 - e64), 0.0)
        relative = np.where(diff == 0, 0.0, diff / np.abs(e64))
    max_rel = float(relative.max()) if relative.size else 0.0
    allowed = atol + rtol * np.abs(np.where(finite, e64, 0.0))
    bad = diff > allowed
    if not bad.any():
        return max_rel
    index = np.unravel_index(np.argmax(np.where(bad, diff - allowed, -np.inf)), g.shape)
    tolerance = f"rtol={rtol:.0e}" + (f", atol={atol:.0e}" if atol else "")
    raise AssertionError(
        f"{name}: max relative error {max_rel:.1e} > {tolerance} "
        f"({int(bad.sum())} of {g.size} values off; worst at index {_fmt_index(index)}: "
        f"{g64[index]:.6g} vs {e64[index]:.6g}).{suffix}")


def check_between(name: str, value, low: float, high: float, *, hint: str | None = None) -> float:
    """Assert that a measured figure lies in [low, high]; return it as a float.

    For results that depend on the machine (an accuracy after training, a loss after 100 steps):
    the exact figure goes in a cell marked `# NBVAL_IGNORE_OUTPUT`, and this check carries the
    claim on every machine. Size [low, high] from the seed-to-seed spread, not from one run.
    NaN and infinities fail: a range check that passes on NaN would hide a diverged run.
    """
    if not isinstance(name, str) or not name:
        raise TypeError("name must be a non-empty string describing what is checked")
    bounds = np.asarray([low, high], dtype=np.float64)
    if not np.isfinite(bounds).all() or low > high:
        raise ValueError(f"low and high must be finite with low <= high, got low={low!r}, high={high!r}")
    v = to_numpy(value)
    if v.size != 1:
        raise ValueError(f"{name}: check_between takes one number, got an array of shape {v.shape}")
    v = float(v.reshape(()))
    suffix = f" {hint}" if hint else ""
    if not np.isfinite(v):
        raise AssertionError(f"{name}: got {v}, which is not a finite number.{suffix}")
    if not low <= v <= high:
        raise AssertionError(f"{name}: {v:.6g} is outside the expected range [{low:.6g}, {high:.6g}].{suffix}")
    return v
