"""Hyper-parameter search and cross-validation: grid search, random search, k-fold splits.

    grid_configs({"lr": [1e-3, 1e-2, 1e-1], "weight_decay": [1e-5, 1e-3, 1e-1]})  # 9 dicts
    random_configs({"lr": (1e-3, 1e-1), "weight_decay": (1e-5, 1e-1)}, 9, rng)    # 9 dicts
    folds = kfold_indices(1000, 5, rng)          # 5 pairs (train_idx, val_idx)
    check_folds(folds, 1000)                     # raises unless the folds partition 0..999
    shared_samples(X_val, X_test)                # indices of X_val rows that also occur in X_test

Grid search tries every combination of a few values per hyper-parameter: with g values for
each of d hyper-parameters it costs g**d trials, and it tries only g distinct values of each one.
Random search draws each hyper-parameter independently for every trial, so n trials try n
distinct values of every hyper-parameter. When only some hyper-parameters matter (often the
learning rate), random search explores the ones that matter more finely for the same budget
(Bergstra and Bengio, "Random search for hyper-parameter optimization", JMLR 2012).
Scale-like hyper-parameters (learning rate, weight decay) are drawn log-uniformly:
log x ~ Uniform(log low, log high), so each factor of 10 gets the same share of the trials.

k-fold cross-validation splits n samples into k folds of sizes differing by at most one; fold
i serves once as the validation set while the other k - 1 folds train. Every sample is
validated exactly once, so the k validation scores average over the whole data set.
"""
from __future__ import annotations

import itertools
import math
from typing import Collection, Mapping, Sequence

import numpy as np

__all__ = ["grid_configs", "log_uniform", "random_configs", "kfold_indices", "check_folds",
           "shared_samples"]


def _check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, e.g. np.random.default_rng(0), "
                        f"got {type(rng).__name__}")


def _check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_names(mapping, argument: str) -> None:
    if not isinstance(mapping, Mapping) or not mapping:
        raise ValueError(f"{argument} must be a non-empty mapping of hyper-parameter name -> values, "
                         f"got {mapping!r}")
    for name in mapping:
        if not isinstance(name, str) or not name:
            raise TypeError(f"hyper-parameter names in {argument} must be non-empty strings, got {name!r}")


def grid_configs(values: Mapping[str, Sequence]) -> list[dict]:
    """Every combination of the given values: the trials of a grid search.

    values: name -> the values to try for it, e.g. {"lr": [1e-3, 1e-2], "wd": [0.0, 1e-4]}.
    Returns a list of prod(len(v)) dicts name -> value, in itertools.product order (the last
    name varies fastest). With g values for each of d names that is g**d trials, which try only
    g distinct values of each name.
    """
    _check_names(values, "values")
    for name, options in values.items():
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence) or len(options) == 0:
            raise ValueError(f"values[{name!r}] must be a non-empty sequence of values to try, got {options!r}")
    names = list(values)
    return [dict(zip(names, combination)) for combination in itertools.product(*values.values())]


def log_uniform(rng: np.random.Generator, low: float, high: float, size: int | None = None):
    """Draws x with log x ~ Uniform(log low, log high): each factor of 10 is equally likely.

    low, high: 0 < low < high. size: None for one float, or a count for an array of shape (size,).
    """
    _check_rng(rng)
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"log-uniform draws need a finite {name} > 0, got {value!r}")
    if not low < high:
        raise ValueError(f"low must be smaller than high, got low={low!r}, high={high!r}")
    if size is not None:
        size = _check_count("size", size, 1)
    return np.exp(rng.uniform(math.log(low), math.log(high), size=size))


def random_configs(ranges: Mapping[str, tuple[float, float]], n: int, rng: np.random.Generator, *,
                   log: bool | Collection[str] = True) -> list[dict]:
    """n trials of a random search: each hyper-parameter drawn independently for every trial.

    ranges: name -> (low, high), the interval to draw from.
    log: True draws every name log-uniformly (for scales such as learning rates; needs low > 0),
        False draws every name uniformly, a collection of names draws just those log-uniformly.
    Returns a list of n dicts name -> float. Draws go name by name (all n values of the first name,
    then of the second...), so a given rng state always yields the same trials.
    """
    _check_names(ranges, "ranges")
    n = _check_count("n", n, 1)
    _check_rng(rng)
    if isinstance(log, bool):
        log_names = set(ranges) if log else set()
    elif isinstance(log, Collection) and not isinstance(log, (str, bytes)):
        log_names = set(log)
        unknown = sorted(log_names - set(ranges))
        if unknown:
            raise ValueError(f"log names {unknown} are not among the ranges {list(ranges)}")
    else:
        raise TypeError(f"log must be True, False or a collection of names, got {log!r}")
    columns = {}
    for name, bounds in ranges.items():
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
            raise ValueError(f"ranges[{name!r}] must be a pair (low, high), got {bounds!r}")
        low, high = bounds
        if name in log_names:
            columns[name] = log_uniform(rng, low, high, size=n)
        else:
            if not (np.isfinite(low) and np.isfinite(high) and low < high):
                raise ValueError(f"ranges[{name!r}] needs finite low < high, got {bounds!r}")
            columns[name] = rng.uniform(low, high, size=n)
    return [{name: float(columns[name][i]) for name in ranges} for i in range(n)]


def kfold_indices(n: int, k: int, rng: np.random.Generator | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (train_idx, val_idx) pairs for k-fold cross-validation of n samples.

    n: number of samples; k: number of folds, 2 <= k <= n. The samples are shuffled with `rng`
    first (None keeps the order 0..n-1). The first n % k folds hold n // k + 1 samples, the others
    n // k (as scikit-learn's KFold does). Fold i's val_idx has shape (n_i,), its train_idx the
    other n - n_i indices, both sorted and of dtype int64.
    """
    n = _check_count("n", n, 2)
    k = _check_count("k", k, 2)
    if k > n:
        raise ValueError(f"k must be at most n (every fold needs a sample), got k={k} for n={n}")
    order = np.arange(n, dtype=np.int64)
    if rng is not None:
        _check_rng(rng)
        order = rng.permutation(order)
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    folds = []
    for i in range(k):
        val = np.sort(order[bounds[i]:bounds[i + 1]])
        train = np.sort(np.concatenate([order[:bounds[i]], order[bounds[i + 1]:]]))
        folds.append((train, val))
    return folds


def check_folds(folds: Sequence[tuple], n: int) -> None:
    """Raise AssertionError, saying what is wrong, unless `folds` are proper k-fold splits of 0..n-1.

    folds: a sequence of (train_idx, val_idx) pairs. Proper means: at least two folds; every index
    an integer in 0..n-1 without repeats; within a fold, train and validation are disjoint and
    together hold all n indices; across folds, the validation sets are disjoint and cover 0..n-1
    (every sample validated exactly once).
    """
    n = _check_count("n", n, 1)
    if isinstance(folds, (str, bytes)) or not isinstance(folds, Sequence):
        raise TypeError(f"folds must be a sequence of (train_idx, val_idx) pairs, got {type(folds).__name__}")
    assert len(folds) >= 2, f"k-fold needs at least 2 folds, got {len(folds)}"
    seen = np.zeros(n, dtype=np.int64)
    for i, fold in enumerate(folds):
        assert len(fold) == 2, f"fold {i} must be a pair (train_idx, val_idx), got {len(fold)} items"
        parts = {}
        for name, idx in zip(("train", "val"), fold):
            idx = np.asarray(idx)
            assert idx.ndim == 1 and (idx.size == 0 or np.issubdtype(idx.dtype, np.integer)), \
                f"fold {i}: {name} indices must be a 1-D array of integers, got shape {idx.shape}, dtype {idx.dtype}"
            assert idx.size == 0 or (idx.min() >= 0 and idx.max() < n), \
                f"fold {i}: {name} indices must lie in 0..{n - 1}, got values from {idx.min()} to {idx.max()}"
            assert len(np.unique(idx)) == len(idx), f"fold {i}: {name} indices contain repeats"
            parts[name] = idx
        assert parts["val"].size > 0, f"fold {i} has an empty validation set"
        both = np.intersect1d(parts["train"], parts["val"])
        assert both.size == 0, f"fold {i}: {both.size} indices are in both train and val, e.g. {both[:5].tolist()}"
        assert parts["train"].size + parts["val"].size == n, \
            f"fold {i}: train and val hold {parts['train'].size + parts['val'].size} indices together, not all {n}"
        seen[parts["val"]] += 1
    twice = np.flatnonzero(seen > 1)
    assert twice.size == 0, f"{twice.size} samples are validated in more than one fold, e.g. {twice[:5].tolist()}"
    never = np.flatnonzero(seen == 0)
    assert never.size == 0, f"{never.size} samples are never validated, e.g. {never[:5].tolist()}"


def shared_samples(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Indices i of the samples a[i] that occur, byte for byte, among the samples of b.

    a: (N, ...) and b: (M, ...) with the same sample shape and dtype. A leak check: a validation set
    cut from the training data must share no sample with the test set. Compares exact contents
    (shape, dtype and bytes), so a copy of a test image is found wherever it sits, while an image
    that differs in a single pixel is not. Returns a sorted int64 array of indices into a.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"a and b need a first (sample) axis, got shapes {a.shape} and {b.shape}")
    if a.shape[1:] != b.shape[1:] or a.dtype != b.dtype:
        raise ValueError(f"a and b must hold samples of the same shape and dtype, got {a.shape[1:]} {a.dtype} "
                         f"and {b.shape[1:]} {b.dtype}")
    in_b = {np.ascontiguousarray(sample).tobytes() for sample in b}
    hits = [i for i, sample in enumerate(a) if np.ascontiguousarray(sample).tobytes() in in_b]
    return np.asarray(hits, dtype=np.int64)
