"""Knowledge distillation: the Hinton loss with temperature T, and its gradient, in NumPy.

A large teacher's logits v and a small student's logits z (both (N, C)) are softened by a
temperature T > 0:

    q = softmax(v / T)   (the teacher's soft targets),   p_T = softmax(z / T).

The student is trained on a mix of a soft term and the usual hard-label cross-entropy:

    loss = alpha * T^2 * KL(q || p_T) + (1 - alpha) * CE(softmax(z), y),
    KL(q || p_T) = (1/N) sum_i sum_c q_ic (log q_ic - log p_T,ic),

alpha in [0, 1] being the weight of the soft term. Its gradient with respect to z is

    dloss/dz = alpha * T * (p_T - q) / N + (1 - alpha) * (softmax(z) - onehot(y)) / N.

Without the T^2 factor, the soft term's gradient would be (p_T - q) / (T N), which shrinks like
1 / T^2 for large T (then p_T - q ~ (z - v) / (C T) after centering); T^2 keeps its scale
independent of T, so alpha keeps its meaning when T changes (Hinton, Vinyals and Dean, 2015).
The soft targets are probability targets, like label smoothing's (course_utils.nn, notebook 08),
but they come from a teacher and differ from example to example.
"""
from __future__ import annotations

import numpy as np

from course_utils.nn import log_softmax, softmax, softmax_cross_entropy


def _check_temperature(temperature) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
        raise TypeError(f"temperature must be a positive number, "
                        f"got {temperature!r} of type {type(temperature).__name__}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError("temperature must be a positive finite number (1 = plain softmax, larger = softer), "
                         f"got {temperature!r}")
    return float(temperature)


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"alpha must be a number in [0, 1], got {alpha!r} of type {type(alpha).__name__}")
    if not 0.0 <= alpha <= 1.0:  # NaN fails this too
        raise ValueError(f"alpha (the weight of the soft term) must lie in [0, 1], got {alpha!r}")
    return float(alpha)


def soft_targets(teacher_logits: np.ndarray, temperature: float) -> np.ndarray:
    """The teacher's soft targets q = softmax(v / T), row by row; teacher_logits v: (N, C) -> (N, C)."""
    temperature = _check_temperature(temperature)
    return softmax(np.asarray(teacher_logits) / temperature)


def soft_loss(student_logits: np.ndarray, teacher_logits: np.ndarray, temperature: float
              ) -> tuple[float, np.ndarray]:
    """The soft term T^2 * KL(softmax(v / T) || softmax(z / T)), mean over the batch, and its gradient.

    student_logits z, teacher_logits v: (N, C) floating. Returns (loss, dloss/dz of shape (N, C)),
    with dloss/dz = T * (softmax(z / T) - softmax(v / T)) / N.
    KL = CE(q, p_T) - H(q): the cross-entropy against probability targets minus the targets' entropy,
    which does not depend on z, so the gradient is that of the cross-entropy, times 1/T (chain rule
    through z / T), times T^2.
    """
    temperature = _check_temperature(temperature)
    z, v = np.asarray(student_logits), np.asarray(teacher_logits)
    if z.shape != v.shape:
        raise ValueError("student_logits and teacher_logits must have the same shape (N, C), "
                         f"got {z.shape} and {v.shape}")
    q = soft_targets(v, temperature).astype(z.dtype, copy=False)
    cross_entropy, dscaled = softmax_cross_entropy(z / temperature, q)
    entropy = -(q * log_softmax(v / temperature)).sum(axis=1).mean()
    loss = temperature**2 * (cross_entropy - entropy)
    return float(loss), (temperature * dscaled).astype(z.dtype, copy=False)


def distillation_loss(student_logits: np.ndarray, teacher_logits: np.ndarray, y: np.ndarray, *,
                      temperature: float, alpha: float) -> tuple[float, np.ndarray]:
    """Hinton's loss alpha * T^2 * KL(q || p_T) + (1 - alpha) * CE(softmax(z), y), and its gradient.

    student_logits z: (N, C) floating; teacher_logits v: (N, C), treated as constants (no gradient
    flows into the teacher); y: (N,) integer labels in 0..C-1.
    temperature T > 0; alpha in [0, 1], the weight of the soft term (alpha = 0: plain cross-entropy,
    alpha = 1: soft targets only).
    Returns (loss as a Python float, dloss/dz of shape (N, C)):
        dloss/dz = alpha * T * (softmax(z / T) - softmax(v / T)) / N + (1 - alpha) * (softmax(z) - onehot(y)) / N.
    Equals alpha * T**2 * F.kl_div(F.log_softmax(z / T, 1), F.softmax(v / T, 1), reduction="batchmean")
    + (1 - alpha) * F.cross_entropy(z, y) in PyTorch.
    """
    alpha = _check_alpha(alpha)
    soft, dsoft = soft_loss(student_logits, teacher_logits, temperature)
    hard, dhard = softmax_cross_entropy(np.asarray(student_logits), y)
    return alpha * soft + (1 - alpha) * hard, alpha * dsoft + (1 - alpha) * dhard
