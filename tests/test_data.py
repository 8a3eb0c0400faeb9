"""course_utils.data: MNIST loading against the facts in data/README.md, splits and mini-batches."""
import gzip
import hashlib
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import data
from course_utils.data import DataIntegrityError, load_mnist, minibatches, read_idx, train_val_split

# Facts published with MNIST and repeated in data/README.md.
TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/mnist that a test may damage; COURSE_DATA_DIR points at it."""
    target = tmp_path / "mnist"
    shutil.copytree(data.mnist_dir(), target)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(data, "_cache", {})
    return target


def test_train_split_matches_published_facts():
    X, y = load_mnist("train")
    assert X.shape == (60000, 28, 28) and X.dtype == np.float32
    assert y.shape == (60000,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == TRAIN_LABEL_COUNTS
    assert y[:5].tolist() == [5, 0, 4, 1, 9]
    assert 0.0 == X.min() and X.max() == 1.0
    assert round(float(X.mean()), 4) == 0.1307
    assert round(float(X.std()), 4) == 0.3081


def test_test_split_matches_published_facts():
    X, y = load_mnist("test", flatten=True)
    assert X.shape == (10000, 784)
    assert y[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(y, minlength=10).sum() == 10000


def test_shipped_files_match_the_published_checksums():
    for name, digest in data.MNIST_SHA256.items():
        raw = gzip.decompress((data.mnist_dir() / f"{name}.gz").read_bytes())
        assert hashlib.sha256(raw).hexdigest() == digest


def test_raw_pixels_and_dtypes():
    X, _ = load_mnist("test", normalize=False, dtype=np.uint8)
    assert X.dtype == np.uint8 and X.max() == 255
    X64, _ = load_mnist("test", dtype=np.float64)
    assert X64.dtype == np.float64
    np.testing.assert_allclose(X64 * 255, X.astype(np.float64), atol=1e-9)


def test_returned_arrays_are_fresh_copies():
    X1, y1 = load_mnist("test")
    X1[:] = -1
    y1[:] = -1
    X2, y2 = load_mnist("test")
    assert X2.min() == 0.0 and y2.min() == 0


def test_unknown_split_names_the_choices():
    with pytest.raises(ValueError, match=r"'train' or 'test', got 'val'.*train_val_split"):
        load_mnist("val")


def test_normalize_needs_a_float_dtype():
    with pytest.raises(ValueError, match="floating dtype"):
        load_mnist("test", dtype=np.uint8)


def test_missing_file_says_how_to_restore_it(data_copy):
    (data_copy / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"t10k-labels-idx1-ubyte\.gz.*git checkout"):
        load_mnist("test")


def test_corrupted_file_is_caught_by_its_checksum(data_copy):
    path = data_copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[100] = (raw[100] + 1) % 10  # one label changed: still a valid IDX file
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataIntegrityError, match="checksum mismatch"):
        load_mnist("test")


def test_truncated_gzip_is_reported_as_corrupt(data_copy):
    path = data_copy / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataIntegrityError, match="not a readable gzip file"):
        load_mnist("test")


def test_read_idx_checks_magic_and_size(tmp_path):
    bad_magic = tmp_path / "bad.gz"
    bad_magic.write_bytes(gzip.compress((1234).to_bytes(4, "big") + (0).to_bytes(4, "big")))
    with pytest.raises(DataIntegrityError, match="magic number 1234"):
        read_idx(bad_magic)
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress((2049).to_bytes(4, "big") + (5).to_bytes(4, "big") + b"\x01\x02"))
    with pytest.raises(DataIntegrityError, match="shape"):
        read_idx(short)
    good = tmp_path / "good.gz"
    good.write_bytes(gzip.compress((2049).to_bytes(4, "big") + (3).to_bytes(4, "big") + b"\x07\x08\x09"))
    assert read_idx(good).tolist() == [7, 8, 9]


# --- train_val_split -------------------------------------------------------------------------

def test_train_val_split_partitions_the_samples():
    X = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    Xt, yt, Xv, yv = train_val_split(X, y, 0.2, np.random.default_rng(0))
    assert len(Xv) == 10 and len(Xt) == 40
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(50))
    np.testing.assert_array_equal(Xt[:, 0], 2 * yt)  # rows stay paired with their labels
    again = train_val_split(X, y, 0.2, np.random.default_rng(0))
    np.testing.assert_array_equal(again[3], yv)


@pytest.mark.parametrize("val_size, error", [(0, ValueError), (50, ValueError), (1.0, ValueError),
                                             (0.0, ValueError), (True, TypeError), ("10", TypeError)])
def test_train_val_split_rejects_bad_sizes(val_size, error):
    with pytest.raises(error, match="val_size"):
        train_val_split(np.zeros((50, 2)), np.zeros(50), val_size, np.random.default_rng(0))


def test_train_val_split_needs_a_generator_and_paired_arrays():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        train_val_split(np.zeros((10, 2)), np.zeros(10), 2, rng=0)
    with pytest.raises(ValueError, match="same number of samples"):
        train_val_split(np.zeros((10, 2)), np.zeros(9), 2, np.random.default_rng(0))


# --- minibatches -----------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 300), batch_size=st.integers(1, 64), shuffle=st.booleans(), seed=st.integers(0, 2**16))
def test_minibatches_cover_every_index_exactly_once(n, batch_size, shuffle, seed):
    X = np.arange(n)[:, None] * np.ones((1, 3))
    y = np.arange(n)
    batches = list(minibatches(X, y, batch_size, shuffle=shuffle, rng=np.random.default_rng(seed)))
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(n))
    sizes = [len(yb) for _, yb in batches]
    assert all(s == batch_size for s in sizes[:-1]) and 1 <= sizes[-1] <= batch_size
    assert len(batches) == -(-n // batch_size)
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], yb)
    if not shuffle:
        assert seen.tolist() == list(range(n))


def test_minibatches_shuffle_is_reproducible_and_differs_between_seeds():
    y = np.arange(100)
    order = lambda seed: np.concatenate([b for _, b in minibatches(y, y, 7, rng=np.random.default_rng(seed))])
    np.testing.assert_array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "8"])
def test_minibatches_rejects_bad_batch_sizes_at_the_call(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        minibatches(np.zeros((10, 2)), np.zeros(10), batch_size, shuffle=False)


def test_minibatches_shuffle_needs_an_explicit_rng():
    with pytest.raises(ValueError, match="explicit rng"):
        minibatches(np.zeros((10, 2)), np.zeros(10), 4)
    with pytest.raises(ValueError, match="same number of samples"):
        minibatches(np.zeros((10, 2)), np.zeros(8), 4, shuffle=False)
