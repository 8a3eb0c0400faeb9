"""An exponential moving average (EMA) of a model's weights, in NumPy.

    ema = EMA(decay=0.99)                  # start="copy", the convention of torch and Keras
    for step in ...:
        optimizer.step()
        ema.update({name: p.detach().numpy() for name, p in model.named_parameters()})
    ema.averaged                           # name -> the averaged weights, to evaluate or to ship

After each optimizer step t = 1, 2, ... the average moves a fraction 1 - beta towards the weights:

    avg_t = beta * avg_(t-1) + (1 - beta) * theta_t,        beta = decay in [0, 1).

The average is a weighted sum of all the weights seen so far, theta_k weighing (1 - beta) beta^(t-k):
old weights fade with a half-life of ln(1/2) / ln(beta) steps (69 steps for beta = 0.99). What
avg_0 is matters at the start, and the two conventions differ there:

- start="copy": avg_1 = theta_1, the first update copies the weights. This is what
  torch.optim.swa_utils.AveragedModel with get_ema_multi_avg_fn(decay) and Keras' optimizers with
  use_ema=True (ema_momentum=decay) do. theta_1 keeps the weight beta^(t-1), more than the others.
- start="zero": avg_0 = 0, and `averaged` returns the bias-corrected avg_t / (1 - beta^t), as Adam
  does for its moments: without the correction the average would be pulled towards 0 for the first
  few half-lives. The weights (1 - beta) beta^(t-k) / (1 - beta^t) then sum to 1 at every t.

Both give every recent step the same relative weight; they differ only in how much of the
earliest weights remains, which fades as beta^t.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

STARTS = ("copy", "zero")


def _check_decay(decay) -> float:
    if isinstance(decay, bool) or not isinstance(decay, (int, float, np.integer, np.floating)):
        raise TypeError(f"decay must be a number in [0, 1), got {type(decay).__name__}")
    if not 0 <= decay < 1:
        raise ValueError(f"decay must lie in [0, 1) (0.99 and 0.999 are common), got {decay!r}")
    return float(decay)


def half_life(decay: float) -> float:
    """Steps after which a weight's share of the average has halved: ln(1/2) / ln(decay).

    decay in (0, 1); decay = 0 keeps no memory (half-life 0).
    """
    decay = _check_decay(decay)
    return 0.0 if decay == 0 else math.log(0.5) / math.log(decay)


def ema_weights(decay: float, steps: int, *, start: str = "copy") -> np.ndarray:
    """The weight of each theta_k, k = 1..steps, in the average after `steps` updates; shape (steps,).

    copy: (1 - beta) beta^(t-k) for k >= 2 and beta^(t-1) for k = 1. zero (bias-corrected):
    (1 - beta) beta^(t-k) / (1 - beta^t). Both sum to 1.
    """
    decay = _check_decay(decay)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if start not in STARTS:
        raise ValueError(f"start must be one of {STARTS}, got {start!r}")
    ages = np.arange(steps - 1, -1, -1, dtype=np.float64)  # t - k for k = 1..t
    weights = (1 - decay) * decay**ages
    if start == "copy":
        weights[0] = decay ** (steps - 1)
    else:
        weights /= 1 - decay**steps
    return weights


class EMA:
    """Exponential moving average of named arrays (a model's weights), updated after each step.

    decay: beta in [0, 1). start: "copy" (the first update copies the weights, as torch's
    AveragedModel and Keras do) or "zero" (start from zeros, correct the bias when read).
    update(params) takes name -> array (NumPy arrays, or anything np.asarray turns into one, such
    as CPU torch tensors detached from the graph); the average keeps its own float64 copies.
    """

    def __init__(self, decay: float, *, start: str = "copy") -> None:
        self.decay = _check_decay(decay)
        if start not in STARTS:
            raise ValueError(f"start must be one of {STARTS}, got {start!r}")
        self.start = start
        self.steps = 0
        self._average: dict[str, np.ndarray] = {}

    def update(self, params: Mapping[str, np.ndarray]) -> None:
        """avg <- decay * avg + (1 - decay) * params, for every name (the first call sets the names)."""
        if not isinstance(params, Mapping) or not params:
            raise TypeError(f"params must be a non-empty mapping name -> array, got {type(params).__name__}")
        arrays = {name: np.asarray(value, dtype=np.float64) for name, value in params.items()}
        if self.steps == 0:
            self._average = {name: (a.copy() if self.start == "copy" else np.zeros_like(a))
                             for name, a in arrays.items()}
            if self.start == "copy":
                self.steps = 1
                return
        if arrays.keys() != self._average.keys():
            raise ValueError(f"params must have the names of the first update {sorted(self._average)}, "
                             f"got {sorted(arrays)}")
        for name, a in arrays.items():
            if a.shape != self._average[name].shape:
                raise ValueError(f"params[{name!r}] has shape {a.shape}, expected {self._average[name].shape}")
            self._average[name] *= self.decay
            self._average[name] += (1 - self.decay) * a
        self.steps += 1

    @property
    def averaged(self) -> dict[str, np.ndarray]:
        """name -> the averaged array (a copy; bias-corrected when start="zero")."""
        if self.steps == 0:
            raise RuntimeError("the EMA has no value yet: call update(params) after an optimizer step first")
        correction = 1 - self.decay**self.steps if self.start == "zero" else 1.0
        return {name: a / correction for name, a in self._average.items()}
