"""Gradient checking: compare a gradient derived by hand with one measured by finite differences.

    err = check_gradient(lambda w: loss(w), w, dloss_dw)   # raises AssertionError when wrong

The numerical gradient of a scalar function f at x is measured one coordinate at a time with
central differences,

    df/dx_i  ~=  (f(x + h e_i) - f(x - h e_i)) / (2 h),

whose error shrinks like h^2 (plus round-off of about eps * |f| / h). In float64 with the default
h = 1e-5 a correct analytic gradient agrees to a relative error of about 1e-7 or better; a
wrong one (a lost factor, a flipped sign, a missing term) is off by 1e-2 or more. Checks are
meant for float64: in float32 round-off alone gives errors near 1e-2.

Near a kink (ReLU at 0, max, abs) the two probes can straddle it and the check fails although
the analytic gradient is right; choose inputs a few h away from kinks.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from course_utils.checks import rel_error

ScalarFunction = Callable[[np.ndarray], float]


def _check_x(x) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a NumPy array (it is probed in place), got {type(x).__name__}; "
                        "convert it first, e.g. x = np.asarray(x, dtype=np.float64)")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must have a floating dtype (float64 for accurate checks), got {x.dtype}")
    if not x.flags.writeable:
        raise ValueError("x must be writeable: numerical_gradient shifts its entries in place and restores them")
    return x


def _check_h(h) -> float:
    if isinstance(h, bool) or not isinstance(h, (int, float, np.floating)) or not np.isfinite(h) or h <= 0:
        raise ValueError(f"h must be a positive finite step, e.g. 1e-5, got {h!r}")
    return float(h)


def _scalar(value, where: str) -> float:
    array = np.asarray(value.detach() if hasattr(value, "detach") else value)
    if array.size != 1:
        raise ValueError(f"f must return a scalar, but f(x) returned shape {array.shape} {where}; "
                         "reduce it first, e.g. with .sum() or .mean()")
    return float(array.reshape(()))


def numerical_gradient(f: ScalarFunction, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The gradient of a scalar function f at x by central differences.

    f: called as f(x), returns a scalar (a Python or NumPy number, or a size-1 array).
    x: floating array of any shape, shifted in place by +h and -h one entry at a time, so a
        function that reads x through a closure (a layer's weights) sees the shift too. Every
        entry is restored to its exact original value after its probe, even if f raises.
    h: the step of the finite difference.
    Returns an array of x's shape and dtype: grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h).
    Costs 2 * x.size calls of f.
    """
    if not callable(f):
        raise TypeError(f"f must be a callable f(x) -> scalar, got {type(f).__name__}")
    x = _check_x(x)
    h = _check_h(h)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + h
            f_plus = _scalar(f(x), f"at x + h e_{index}")
            x[index] = original - h
            f_minus = _scalar(f(x), f"at x - h e_{index}")
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def check_gradient(f: ScalarFunction, x: np.ndarray, analytic_grad, *, rtol: float = 1e-6, atol: float = 0.0,
                   h: float = 1e-5, name: str = "gradient", hint: str | None = None) -> float:
    """Assert that `analytic_grad` is the gradient of f at x; return the max relative error.

    f, x, h: as in `numerical_gradient` (x is left unchanged).
    analytic_grad: array of x's shape, the gradient to check.
    rtol: largest allowed relative error, measured as in CS231n by
        checks.rel_error = max_i |a_i - n_i| / max(|a_i| + |n_i|, 1e-8),
        with a the analytic and n the numerical gradient. A correct float64 gradient gives
        about 1e-7 or less; the default 1e-6 leaves room for round-off.
    atol: absolute slack for entries near zero (default 0: none). A central difference carries
        round-off of about eps * |f| / h (around 1e-10 for |f| ~ 1 in float64), so an entry of
        1e-6 can be off by 1e-4 relatively although the gradient is right; atol=1e-9 forgives
        that. Entry i passes when |a_i - n_i| <= atol + rtol * max(|a_i| + |n_i|, 1e-8).
    Raises AssertionError naming the check, the error, the worst entry, the ratio a_i / n_i
    there (-1 is a sign error, 2 or 0.5 a factor of two) and `hint`.
    """
    if not isinstance(name, str) or not name:
        raise TypeError("name must be a non-empty string saying which gradient is checked")
    for label, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not value >= 0:
            raise ValueError(f"{label} must be a number >= 0, got {value!r}")
    x = _check_x(x)
    analytic = np.asarray(analytic_grad.detach() if hasattr(analytic_grad, "detach") else analytic_grad)
    if analytic.shape != x.shape:
        raise ValueError(f"analytic_grad must have the shape of x, {x.shape}, got {analytic.shape}")
    numerical = numerical_gradient(f, x, h)
    error = rel_error(analytic, numerical)
    a, n = analytic.astype(np.float64), numerical.astype(np.float64)
    scale = np.maximum(1e-8, np.abs(a) + np.abs(n))
    excess = np.abs(a - n) - (atol + rtol * scale)
    if not np.any(excess > 0):
        return error
    index = np.unravel_index(np.argmax(excess), x.shape)
    where = str(tuple(int(i) for i in index))
    ratio = f"; analytic / numerical = {a[index] / n[index]:.3g} there" if n[index] != 0 else ""
    tolerance = f"rtol={rtol:.0e}" + (f", atol={atol:.0e}" if atol else "")
    suffix = f" {hint}" if hint else ""
    raise AssertionError(
        f"{name}: max relative error {error:.1e} > {tolerance} "
        f"({int((excess > 0).sum())} of {x.size} entries off; worst at index {where}: "
        f"analytic {a[index]:.6g} vs numerical {n[index]:.6g}{ratio}).{suffix}")
