"""Learning-rate schedules as plain functions of the step, and gradient clipping.

Each schedule maps a step t = 0, 1, 2, ... to a learning rate; nothing is hidden in an object:

    lr_t = cosine_decay(t, base_lr=0.1, total_steps=100)
    opt.lr = lr_t                      # course_utils.optim optimizers take a new lr at any time

`step` may be a number or an array of numbers (e.g. np.arange(100) to plot a schedule); the
result is a float or an ndarray of the same shape.

What "a step" is differs between the frameworks, and the formulas here are written so that
both conventions are easy to match:

- torch.optim.lr_scheduler counts calls of scheduler.step(), usually once per *epoch*;
  its t is `scheduler.last_epoch`.
- keras.optimizers.schedules count *optimizer iterations* (`optimizer.iterations`), one per
  mini-batch.

The function is the same; only the unit of t differs. Each docstring names the torch and
Keras schedule that gives the same numbers, and the arguments that make them agree.

Clipping works on a dict of gradients (name -> array), the form course_utils.optim uses:
`clip_by_value` clips each entry into [-limit, limit]; `clip_by_global_norm` rescales all
gradients together so that their joint L2 norm is at most max_norm.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

__all__ = ["step_decay", "exponential_decay", "polynomial_decay", "cosine_decay", "linear_warmup",
           "clip_by_value", "clip_by_global_norm", "global_norm"]


# --- argument checks ---------------------------------------------------------------------

def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _number(name: str, value, *, low: float | None = None, low_open: bool = False,
            high: float | None = None, high_open: bool = False) -> float:
    """value as a float, or an error naming the argument, the value and the allowed range."""
    if not _is_number(value):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    allowed = (("(" if low_open else "[") + (f"{low:g}" if low is not None else "-inf") + ", "
               + (f"{high:g}" if high is not None else "inf") + (")" if high_open or high is None else "]"))
    too_low = low is not None and (value < low or (low_open and value == low))
    too_high = high is not None and (value > high or (high_open and value == high))
    if math.isnan(value) or too_low or too_high:
        raise ValueError(f"{name} must lie in {allowed}, got {value!r}")
    return value


def _count(name: str, value, *, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _steps(step) -> tuple[np.ndarray, bool]:
    """step as a float64 array (shape (1,) for a scalar) and whether it was a scalar; steps are numbers >= 0."""
    scalar = np.ndim(step) == 0
    if scalar and not _is_number(step):
        raise TypeError(f"step must be a number >= 0 or an array of them, got {step!r} of type {type(step).__name__}")
    t = np.asarray(step)
    if t.dtype == bool or not (np.issubdtype(t.dtype, np.integer) or np.issubdtype(t.dtype, np.floating)):
        raise TypeError(f"step must hold numbers, got an array of dtype {t.dtype}")
    t = t.astype(np.float64)
    if np.isnan(t).any() or (t < 0).any():
        bad = float(t[np.isnan(t) | (t < 0)].flat[0])
        raise ValueError(f"step must be >= 0 (the first step is 0), got {bad!r}")
    # a scalar goes through the same vectorized code as arrays, so both give the same last bit
    return (np.atleast_1d(t), True) if scalar else (t, False)


def _result(values: np.ndarray, scalar: bool) -> float | np.ndarray:
    return float(values[0]) if scalar else values


# --- the five schedules ------------------------------------------------------------------

def step_decay(step, *, base_lr: float, drop_every: int, factor: float) -> float | np.ndarray:
    """Multiply the rate by `factor` every `drop_every` steps: a staircase.

        lr_t = base_lr * factor ** floor(t / drop_every)

    torch:  StepLR(opt, step_size=drop_every, gamma=factor), t = scheduler.last_epoch.
    Keras:  ExponentialDecay(base_lr, decay_steps=drop_every, decay_rate=factor, staircase=True).
    """
    t, scalar = _steps(step)
    base_lr = _number("base_lr", base_lr, low=0)
    drop_every = _count("drop_every", drop_every)
    factor = _number("factor", factor, low=0, low_open=True)
    return _result(base_lr * factor ** np.floor(t / drop_every), scalar)


def exponential_decay(step, *, base_lr: float, rate: float, decay_steps: int = 1) -> float | np.ndarray:
    """Shrink the rate smoothly by `rate` every `decay_steps` steps.

        lr_t = base_lr * rate ** (t / decay_steps)

    torch:  ExponentialLR(opt, gamma=rate) with decay_steps=1 (torch multiplies once per call).
    Keras:  ExponentialDecay(base_lr, decay_steps, decay_rate=rate, staircase=False).
    """
    t, scalar = _steps(step)
    base_lr = _number("base_lr", base_lr, low=0)
    rate = _number("rate", rate, low=0, low_open=True)
    decay_steps = _count("decay_steps", decay_steps)
    return _result(base_lr * rate ** (t / decay_steps), scalar)


def polynomial_decay(step, *, base_lr: float, total_steps: int, power: float = 1.0,
                     end_lr: float = 0.0) -> float | np.ndarray:
    """Go from base_lr to end_lr along (1 - t/T) ** power in T = total_steps steps, then stay.

        lr_t = (base_lr - end_lr) * (1 - min(t, T) / T) ** power + end_lr

    power=1 is a straight line. torch: PolynomialLR(opt, total_iters=T, power=power) always ends
    at 0, so it agrees with end_lr=0 only. Keras: PolynomialDecay(base_lr, decay_steps=T,
    end_learning_rate=end_lr, power=power), whose end_learning_rate defaults to 1e-4, not 0.
    """
    t, scalar = _steps(step)
    base_lr = _number("base_lr", base_lr, low=0)
    total_steps = _count("total_steps", total_steps)
    power = _number("power", power, low=0, low_open=True)
    end_lr = _number("end_lr", end_lr, low=0)
    remaining = 1.0 - np.minimum(t, total_steps) / total_steps
    return _result((base_lr - end_lr) * remaining ** power + end_lr, scalar)


def cosine_decay(step, *, base_lr: float, total_steps: int, min_lr: float = 0.0) -> float | np.ndarray:
    """Half a cosine from base_lr down to min_lr in T = total_steps steps, then stay at min_lr.

        lr_t = min_lr + (base_lr - min_lr) * (1 + cos(pi * min(t, T) / T)) / 2

    torch:  CosineAnnealingLR(opt, T_max=T, eta_min=min_lr) for t <= T (after T torch climbs
            back up along the cosine; this function, like Keras, stays at min_lr).
    Keras:  CosineDecay(base_lr, decay_steps=T, alpha=min_lr / base_lr): Keras gives the floor
            as a fraction alpha of the initial rate.
    """
    t, scalar = _steps(step)
    base_lr = _number("base_lr", base_lr, low=0)
    total_steps = _count("total_steps", total_steps)
    min_lr = _number("min_lr", min_lr, low=0, high=base_lr)
    done = np.minimum(t, total_steps) / total_steps
    return _result(min_lr + (base_lr - min_lr) * 0.5 * (1.0 + np.cos(np.pi * done)), scalar)


def linear_warmup(step, *, base_lr: float, warmup_steps: int, start_factor: float = 0.0) -> float | np.ndarray:
    """Ramp the rate linearly from start_factor * base_lr up to base_lr in W = warmup_steps steps.

        lr_t = base_lr * (start_factor + (1 - start_factor) * min(t, W) / W)

    Adam-type optimizers are often started this way, while their moment estimates are still
    noisy. Multiply by another schedule to decay afterwards.
    torch:  LinearLR(opt, start_factor, end_factor=1.0, total_iters=W) (torch needs
            start_factor > 0).
    Keras:  the warm-up phase of CosineDecay(start_factor * base_lr, decay_steps,
            warmup_target=base_lr, warmup_steps=W), for t <= W.
    """
    t, scalar = _steps(step)
    base_lr = _number("base_lr", base_lr, low=0)
    warmup_steps = _count("warmup_steps", warmup_steps)
    start_factor = _number("start_factor", start_factor, low=0, high=1)
    ramp = np.minimum(t, warmup_steps) / warmup_steps
    return _result(base_lr * (start_factor + (1.0 - start_factor) * ramp), scalar)


# --- gradient clipping -------------------------------------------------------------------

def _check_grads(grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not isinstance(grads, Mapping):
        raise TypeError(f"grads must be a dict mapping names to arrays, got {type(grads).__name__}")
    if not grads:
        raise ValueError("grads is empty: pass a dict mapping names to gradient arrays")
    checked = {}
    for name, g in grads.items():
        g = np.asarray(g)
        if not np.issubdtype(g.dtype, np.floating):
            raise TypeError(f"grads[{name!r}] must be a floating-point array, got dtype {g.dtype}")
        if not np.isfinite(g).all():
            raise ValueError(f"grads[{name!r}] holds NaN or infinite values; clipping cannot repair "
                             "those: find where the loss or its gradient overflows")
        checked[name] = g
    return checked


def clip_by_value(grads: Mapping[str, np.ndarray], limit: float) -> dict[str, np.ndarray]:
    """Clip every gradient entry into [-limit, limit]; return a new dict (grads is not changed).

    grads: name -> array of any shape. Each entry is clipped on its own, so the direction of
    the gradient changes when some entries are clipped and others are not.
    torch: clip_grad_value_(params, clip_value=limit). Keras: optimizer argument clipvalue=limit.
    """
    grads = _check_grads(grads)
    limit = _number("limit", limit, low=0, low_open=True)
    return {name: np.clip(g, -limit, limit) for name, g in grads.items()}


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """The L2 norm of all gradients taken together: sqrt(sum over names of ||g||^2), in float64."""
    grads = _check_grads(grads)
    return float(math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))


def clip_by_global_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    """Rescale all gradients together so that their global L2 norm is at most max_norm.

        n = sqrt(sum_k ||g_k||^2);   g_k <- g_k * max_norm / n   if n > max_norm, else unchanged

    The direction of the full gradient is kept; only its length is capped.
    Returns (clipped, n): a new dict of arrays of the same shapes and dtypes, and the norm
    *before* clipping (log it: a norm that keeps hitting the cap says the learning rate is high).
    torch:  clip_grad_norm_(params, max_norm) returns the same n but divides by n + 1e-6, so its
            clipped gradients are smaller by a relative 1e-6 / n.
    Keras:  global_clipnorm=max_norm uses this formula. Keras' clipnorm=c is different: it clips
            each variable's gradient by its *own* norm, which is clip_by_global_norm({k: g_k}, c)
            applied to every k separately.
    """
    grads = _check_grads(grads)
    max_norm = _number("max_norm", max_norm, low=0, low_open=True)
    norm = global_norm(grads)
    if norm <= max_norm:
        return {name: g.copy() for name, g in grads.items()}, norm
    scale = max_norm / norm
    return {name: (g * scale).astype(g.dtype, copy=False) for name, g in grads.items()}, norm
