"""Classification metrics: accuracy, and how well a model's confidence matches its accuracy.

    probs = softmax(model.forward(X_test, training=False))     # (N, C), rows sum to 1
    accuracy(probs, y_test)                                     # fraction of correct argmax
    expected_calibration_error(probs, y_test)                   # 0: confidence = accuracy
    curve = reliability_curve(probs, y_test)                    # what a reliability diagram draws

A model is *calibrated* when, among the predictions it makes with confidence about 0.8, about
80% are right. The confidence of a prediction is its largest class probability,
conf_i = max_c p_ic, and the prediction is pred_i = argmax_c p_ic.

Expected calibration error (ECE), with M equal-width bins of confidence: sample i falls into bin
m = 1..M when conf_i lies in ((m - 1) / M, m / M] (a confidence of exactly 0 goes to the first
bin). For the samples B_m of bin m,
    acc(B_m)  = (1 / |B_m|) sum_{i in B_m} [pred_i == y_i],
    conf(B_m) = (1 / |B_m|) sum_{i in B_m} conf_i,
    ECE       = sum_m (|B_m| / N) |acc(B_m) - conf(B_m)|,
the gap between accuracy and confidence in each bin, weighted by the share of samples in the bin
(empty bins weigh nothing). This is the usual definition (Naeini et al. 2015, Guo et al. 2017,
"On calibration of modern neural networks"); some libraries weigh bins equally or use bins
holding equal numbers of samples, which gives other numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROBS_ATOL = 1e-4  # rows of probabilities must sum to 1 within this (room for float32 round-off)


def _check_scores(scores, name: str) -> np.ndarray:
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[0] == 0 or scores.shape[1] == 0:
        raise ValueError(f"{name} must have shape (N, C) with N, C >= 1, got {scores.shape}")
    if not np.issubdtype(scores.dtype, np.floating):
        raise TypeError(f"{name} must be floating point, got {scores.dtype}")
    if not np.all(np.isfinite(scores)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(scores))[0])
        raise ValueError(f"{name} must be finite, got {scores[bad]} at index {bad}")
    return scores


def _check_labels(y, scores: np.ndarray, name: str) -> np.ndarray:
    y = np.asarray(y)
    n, c = scores.shape
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"labels y must have shape ({n},) to match {name} {scores.shape}, got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"labels y must be integers 0..{c - 1}, got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= c:
        raise ValueError(f"labels y must lie in 0..{c - 1} for {c} classes, got values from {y.min()} to {y.max()}")
    return y


def _check_probs(probs) -> np.ndarray:
    probs = _check_scores(probs, "probs")
    if probs.min() < 0 or probs.max() > 1:
        value = probs.min() if probs.min() < 0 else probs.max()
        raise ValueError(f"probs must lie in [0, 1], got {value:.6g}; pass softmax(logits), not the logits")
    sums = probs.sum(axis=1, dtype=np.float64)
    off = np.abs(sums - 1.0)
    if off.max() > PROBS_ATOL:
        row = int(np.argmax(off))
        raise ValueError(f"each row of probs must sum to 1 (within {PROBS_ATOL:g}), but row {row} sums to "
                         f"{sums[row]:.6g}; pass softmax(logits), not the logits")
    return probs


def _check_n_bins(n_bins) -> int:
    if isinstance(n_bins, (bool, np.bool_)) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, e.g. 15, got {n_bins!r}")
    return int(n_bins)


def accuracy(probs_or_logits: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose highest-scoring class is the label.

    probs_or_logits: (N, C) class scores; probabilities and logits give the same answer, since
        softmax keeps the order within a row. Ties go to the lowest class index (np.argmax).
    y: (N,) integer labels in 0..C-1.
    Returns a Python float in [0, 1].
    """
    scores = _check_scores(probs_or_logits, "probs_or_logits")
    y = _check_labels(y, scores, "probs_or_logits")
    return float(np.mean(scores.argmax(axis=1) == y))


@dataclass(frozen=True)
class ReliabilityCurve:
    """Accuracy against confidence in M equal-width confidence bins (see the module docstring).

    edges: (M + 1,) bin edges 0, 1/M, ..., 1; bin m holds confidences in (edges[m], edges[m + 1]].
    centers: (M,) bin midpoints.
    accuracy: (M,) fraction of correct predictions in each bin (NaN for an empty bin).
    confidence: (M,) mean confidence max_c p_ic in each bin (NaN for an empty bin).
    counts: (M,) number of samples in each bin; they sum to N.
    """

    edges: np.ndarray
    centers: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray
    counts: np.ndarray

    @property
    def ece(self) -> float:
        """sum_m (|B_m| / N) |acc(B_m) - conf(B_m)| over the non-empty bins."""
        filled = self.counts > 0
        weights = self.counts[filled] / self.counts.sum()
        return float(np.sum(weights * np.abs(self.accuracy[filled] - self.confidence[filled])))


def reliability_curve(probs: np.ndarray, y: np.ndarray, n_bins: int = 15) -> ReliabilityCurve:
    """Bin the predictions by confidence; per bin, the accuracy, the mean confidence and the count.

    probs: (N, C) class probabilities, each row summing to 1 (e.g. softmax of the logits).
    y: (N,) integer labels in 0..C-1.
    n_bins: M, the number of equal-width bins on [0, 1].
    Returns a ReliabilityCurve with arrays of shape (M,) (edges: (M + 1,)); a reliability diagram
    draws `accuracy` against the bins, next to the diagonal accuracy = confidence.
    """
    probs = _check_probs(probs)
    y = _check_labels(y, probs, "probs")
    n_bins = _check_n_bins(n_bins)
    confidence = probs.max(axis=1).astype(np.float64)
    correct = (probs.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # searchsorted(side="left") - 1 puts a confidence equal to an edge into the bin that edge closes.
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty bins: 0 / 0 = NaN, on purpose
        bin_accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / counts
        bin_confidence = np.bincount(bins, weights=confidence, minlength=n_bins) / counts
    return ReliabilityCurve(edges=edges, centers=(edges[:-1] + edges[1:]) / 2, accuracy=bin_accuracy,
                            confidence=bin_confidence, counts=counts)


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """ECE = sum_m (|B_m| / N) |acc(B_m) - conf(B_m)| over M equal-width confidence bins.

    probs: (N, C) class probabilities, rows summing to 1. y: (N,) integer labels in 0..C-1.
    n_bins: M (15 is the common choice since Guo et al. 2017; ECE depends on it, so compare
    models with the same M). Returns a Python float in [0, 1]; 0 means that in every bin the
    accuracy equals the mean confidence.
    """
    return reliability_curve(probs, y, n_bins).ece
