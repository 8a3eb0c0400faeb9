"""course_utils.search: grid and random search trials, k-fold splits and their check, leak checks."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.search import (check_folds, grid_configs, kfold_indices, log_uniform, random_configs,
                                 shared_samples)


# --- grid search ------------------------------------------------------------------------------

def test_grid_is_every_combination_once():
    values = {"lr": [1e-3, 1e-2, 1e-1], "wd": [0.0, 1e-4], "batch": [32, 64]}
    trials = grid_configs(values)
    assert len(trials) == 3 * 2 * 2
    as_tuples = [(t["lr"], t["wd"], t["batch"]) for t in trials]
    assert len(set(as_tuples)) == len(as_tuples)
    assert set(as_tuples) == set(itertools.product(*values.values()))
    assert all(list(t) == ["lr", "wd", "batch"] for t in trials)


def test_grid_order_last_name_fastest():
    trials = grid_configs({"a": [1, 2], "b": ["x", "y"]})
    assert trials == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]


def test_grid_tries_few_distinct_values_per_name():
    trials = grid_configs({"lr": [1, 2, 3], "wd": [4, 5, 6]})
    assert len(trials) == 9
    assert len({t["lr"] for t in trials}) == 3 and len({t["wd"] for t in trials}) == 3


@pytest.mark.parametrize("bad", [{}, {"lr": []}, {"lr": "abc"}, {"lr": 0.1}, [("lr", [1])]])
def test_grid_rejects_bad_values(bad):
    with pytest.raises((ValueError, TypeError)):
        grid_configs(bad)


def test_grid_rejects_bad_names():
    with pytest.raises(TypeError, match="names"):
        grid_configs({3: [1, 2]})


# --- random search ----------------------------------------------------------------------------

def test_log_uniform_stays_in_range_and_is_uniform_in_log():
    x = log_uniform(np.random.default_rng(0), 1e-4, 1e-1, size=20_000)
    assert x.shape == (20_000,)
    assert x.min() >= 1e-4 and x.max() <= 1e-1
    # Each of the three decades should get about a third of the draws (binomial sd ~ 0.0033).
    decades = np.floor(np.log10(x)).astype(int)
    shares = np.bincount(decades + 4, minlength=3)[:3] / len(x)
    np.testing.assert_allclose(shares, 1 / 3, atol=0.02)
    # The median of a log-uniform draw is the geometric mean of the bounds.
    assert math.isclose(np.median(x), math.sqrt(1e-4 * 1e-1), rel_tol=0.05)


def test_log_uniform_scalar_and_reproducible():
    a = log_uniform(np.random.default_rng(3), 0.5, 2.0)
    b = log_uniform(np.random.default_rng(3), 0.5, 2.0)
    assert isinstance(a, float) and a == b and 0.5 <= a <= 2.0


@pytest.mark.parametrize("low, high, match", [(0.0, 1.0, "low"), (-1.0, 1.0, "low"), (1.0, 1.0, "smaller"),
                                              (2.0, 1.0, "smaller"), (1.0, math.inf, "high")])
def test_log_uniform_rejects_bad_bounds(low, high, match):
    with pytest.raises(ValueError, match=match):
        log_uniform(np.random.default_rng(0), low, high)


def test_log_uniform_rejects_bad_types():
    with pytest.raises(TypeError, match="rng"):
        log_uniform(np.random.RandomState(0), 1.0, 2.0)
    with pytest.raises(TypeError, match="low"):
        log_uniform(np.random.default_rng(0), "1", 2.0)
    with pytest.raises(ValueError, match="size"):
        log_uniform(np.random.default_rng(0), 1.0, 2.0, size=0)


def test_random_configs_draw_distinct_values_for_every_name():
    trials = random_configs({"lr": (1e-4, 1e-1), "wd": (1e-6, 1e-2)}, 9, np.random.default_rng(0))
    assert len(trials) == 9
    assert all(list(t) == ["lr", "wd"] for t in trials)
    assert all(isinstance(v, float) for t in trials for v in t.values())
    assert len({t["lr"] for t in trials}) == 9 and len({t["wd"] for t in trials}) == 9
    assert all(1e-4 <= t["lr"] <= 1e-1 and 1e-6 <= t["wd"] <= 1e-2 for t in trials)


def test_random_configs_are_reproducible_and_follow_the_rng():
    ranges = {"lr": (1e-4, 1e-1), "dropout": (0.0, 0.5)}
    a = random_configs(ranges, 5, np.random.default_rng(7), log={"lr"})
    b = random_configs(ranges, 5, np.random.default_rng(7), log={"lr"})
    c = random_configs(ranges, 5, np.random.default_rng(8), log={"lr"})
    assert a == b and a != c


def test_random_configs_linear_and_log_scales():
    rng = np.random.default_rng(1)
    trials = random_configs({"p": (0.0, 1.0)}, 4000, rng, log=False)
    p = np.array([t["p"] for t in trials])
    assert 0.0 <= p.min() and p.max() <= 1.0
    assert abs(p.mean() - 0.5) < 0.02  # uniform on [0, 1]: mean 0.5, sd of the mean ~0.0046
    trials = random_configs({"lr": (1e-4, 1.0)}, 4000, rng)
    lr = np.array([t["lr"] for t in trials])
    assert abs(np.mean(lr < 1e-2) - 0.5) < 0.03  # log-uniform: half the draws below the geometric middle


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(ranges={}, n=3), ValueError, "non-empty"),
    (dict(ranges={"lr": (1e-3, 1e-1)}, n=0), ValueError, "n must"),
    (dict(ranges={"lr": (1e-3, 1e-1)}, n=2.5), ValueError, "n must"),
    (dict(ranges={"lr": (1e-3,)}, n=3), ValueError, "pair"),
    (dict(ranges={"lr": (0.0, 1e-1)}, n=3), ValueError, "low"),
    (dict(ranges={"p": (1.0, 0.0)}, n=3, log=False), ValueError, "low < high"),
    (dict(ranges={"lr": (1e-3, 1e-1)}, n=3, log={"momentum"}), ValueError, "momentum"),
    (dict(ranges={"lr": (1e-3, 1e-1)}, n=3, log="lr"), TypeError, "log"),
])
def test_random_configs_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        random_configs(rng=np.random.default_rng(0), **kwargs)


def test_random_configs_needs_a_generator():
    with pytest.raises(TypeError, match="rng"):
        random_configs({"lr": (1e-3, 1e-1)}, 3, 0)


# --- k-fold -----------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 200), data=st.data(), shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_kfold_partitions_the_samples(n, data, shuffle, seed):
    k = data.draw(st.integers(2, n))
    folds = kfold_indices(n, k, np.random.default_rng(seed) if shuffle else None)
    assert len(folds) == k
    check_folds(folds, n)
    sizes = [len(val) for _, val in folds]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == n
    for train, val in folds:
        assert train.dtype == np.int64 and val.dtype == np.int64
        assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)


def test_kfold_without_rng_is_contiguous_like_sklearn():
    folds = kfold_indices(10, 3)
    assert [val.tolist() for _, val in folds] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert folds[1][0].tolist() == [0, 1, 2, 3, 7, 8, 9]


def test_kfold_with_rng_shuffles_reproducibly():
    a = kfold_indices(100, 5, np.random.default_rng(0))
    b = kfold_indices(100, 5, np.random.default_rng(0))
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    assert not np.array_equal(a[0][1], np.arange(20))


@pytest.mark.parametrize("n, k, match", [(1, 2, "n must"), (10, 1, "k must"), (5, 6, "at most n"),
                                         (10, 2.0, "k must"), (True, 2, "n must")])
def test_kfold_rejects_bad_input(n, k, match):
    with pytest.raises(ValueError, match=match):
        kfold_indices(n, k)


def test_kfold_rejects_bad_rng():
    with pytest.raises(TypeError, match="rng"):
        kfold_indices(10, 2, rng=42)


# --- check_folds catches each mistake --------------------------------------------------------

def _folds(*vals, n):
    return [(np.setdiff1d(np.arange(n), v), np.asarray(v)) for v in vals]


def test_check_folds_accepts_a_partition():
    check_folds(_folds([0, 2], [1, 3], [4], n=5), 5)


@pytest.mark.parametrize("folds, match", [
    (_folds([0, 1, 2, 3, 4], n=5), "at least 2 folds"),
    (_folds([0, 1, 2], [2, 3, 4], n=5), "more than one fold"),
    (_folds([0, 1], [2, 3], n=5), "never validated"),
    (_folds([0, 1], [], n=5), "empty validation"),
    ([(np.array([2, 3, 4]), np.array([0, 1])), (np.array([0, 1, 2, 3]), np.array([2, 3, 4]))], "both train and val"),
    ([(np.array([3, 4]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3, 4]))], "not all 5"),
    ([(np.array([2, 3, 4]), np.array([0, 0, 1])), (np.array([0, 1]), np.array([2, 3, 4]))], "repeats"),
    ([(np.array([2, 3, 4]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3, 5]))], "0..4"),
    ([(np.array([2.0, 3.0, 4.0]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3, 4]))], "integers"),
    ([(np.array([2, 3, 4]),), (np.array([0, 1]), np.array([2, 3, 4]))], "pair"),
])
def test_check_folds_says_what_is_wrong(folds, match):
    with pytest.raises(AssertionError, match=match):
        check_folds(folds, 5)


def test_check_folds_rejects_bad_arguments():
    with pytest.raises(TypeError, match="folds"):
        check_folds("folds", 5)
    with pytest.raises(ValueError, match="n must"):
        check_folds(_folds([0], [1], n=2), 0)


# --- leak check -------------------------------------------------------------------------------

def test_shared_samples_finds_copies_wherever_they_are():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, size=(50, 4, 4), dtype=np.uint8)
    b = rng.integers(0, 256, size=(30, 4, 4), dtype=np.uint8)
    assert shared_samples(a, b).size == 0
    b[7], b[20] = a[12], a[3]
    found = shared_samples(a, b)
    assert found.dtype == np.int64 and found.tolist() == [3, 12]


def test_shared_samples_misses_a_one_pixel_change():
    a = np.zeros((2, 3, 3), dtype=np.float32)
    a[1, 0, 0] = 1.0
    b = a[1:].copy()
    b[0, 2, 2] = 1e-7
    assert shared_samples(a, b).size == 0
    assert shared_samples(a, a[1:]).tolist() == [1]


def test_shared_samples_handles_non_contiguous_views():
    a = np.arange(24, dtype=np.int64).reshape(4, 6)
    assert shared_samples(a[:, ::2], a[2:, ::2]).tolist() == [2, 3]


@pytest.mark.parametrize("a, b", [(np.zeros((2, 3)), np.zeros((2, 4))),
                                  (np.zeros((2, 3), dtype=np.float32), np.zeros((2, 3), dtype=np.float64)),
                                  (np.float32(1.0), np.zeros((2,)))])
def test_shared_samples_rejects_mismatched_samples(a, b):
    with pytest.raises(ValueError):
        shared_samples(a, b)
