"""MNIST from the IDX files that ship with the course, read with NumPy alone, and mini-batches.

The four gzip-compressed IDX files live in `data/mnist/` at the top of the repository
(or in the folder named by the environment variable COURSE_DATA_DIR). Each file's
SHA-256 is checked on first read; the decoded arrays are then cached for the process.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np

SPLITS = ("train", "test")
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# SHA-256 of the *decompressed* IDX files, as published with MNIST (see data/README.md).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
IDX_MAGIC = {2049: 1, 2051: 3}  # magic number -> number of dimensions (labels: 1, images: 3)

_cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}


class DataIntegrityError(ValueError):
    """A data file exists but is not the original: wrong checksum, truncated, or not IDX."""


def mnist_dir() -> Path:
    """The folder holding the MNIST files: $COURSE_DATA_DIR/mnist, else <repository>/data/mnist."""
    root = os.environ.get("COURSE_DATA_DIR")
    base = Path(root) if root else Path(__file__).resolve().parent.parent / "data"
    return base / "mnist"


def _restore_hint(path: Path) -> str:
    return (f"The MNIST files ship with the course in data/mnist/. Restore this one with "
            f"`git checkout -- data/mnist/{path.name}` (or clone the repository again), or set "
            f"COURSE_DATA_DIR to a folder whose mnist/ subfolder holds the four .gz files.")


def read_idx(path: Path, expected_sha256: str | None = None) -> np.ndarray:
    """Read one gzip-compressed IDX file into a uint8 array.

    Returns (N,) for a label file and (N, rows, cols) for an image file.
    expected_sha256: hex digest of the decompressed bytes; a mismatch raises DataIntegrityError.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MNIST file not found: {path}. {_restore_hint(path)}")
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as err:
        raise DataIntegrityError(f"{path} is not a readable gzip file ({err}). {_restore_hint(path)}") from err
    if expected_sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != expected_sha256:
            raise DataIntegrityError(
                f"checksum mismatch for {path}: sha256 of the decompressed bytes is {digest}, "
                f"expected {expected_sha256}. The file is corrupted or not the original. {_restore_hint(path)}")
    if len(raw) < 8:
        raise DataIntegrityError(f"{path} is too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in IDX_MAGIC:
        raise DataIntegrityError(f"{path} has IDX magic number {magic}, expected 2049 (labels) or 2051 (images)")
    ndim = IDX_MAGIC[magic]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(shape)):
        raise DataIntegrityError(f"{path}: header says shape {shape} but the file holds "
                                 f"{len(raw) - header} data bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _load_raw(split: str) -> tuple[np.ndarray, np.ndarray]:
    folder = mnist_dir()
    key = (str(folder), split)
    if key not in _cache:
        images_file, labels_file = MNIST_FILES[split]
        images = read_idx(folder / images_file, MNIST_SHA256[images_file[:-3]])
        labels = read_idx(folder / labels_file, MNIST_SHA256[labels_file[:-3]])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataIntegrityError(f"MNIST {split}: images {images.shape} and labels {labels.shape} do not pair up")
        images.flags.writeable = False
        labels.flags.writeable = False
        _cache[key] = (images, labels)
    return _cache[key]


def load_mnist(split: str = "train", *, flatten: bool = False, normalize: bool = True,
               dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST images and labels.

    split: 'train' (60,000 images) or 'test' (10,000 images).
    flatten: False gives X of shape (N, 28, 28); True gives (N, 784).
    normalize: True scales pixels from 0..255 to [0, 1] (needs a floating dtype);
        False keeps the values 0..255.
    dtype: dtype of X, e.g. np.float32 (default), np.float64, or np.uint8 with normalize=False.
    Returns (X, y): X as above, y of shape (N,) with int64 labels 0..9. Both are fresh arrays
    that the caller may modify.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}. "
                         "For a validation set, split the training set with train_val_split().")
    dtype = np.dtype(dtype)
    if normalize and not np.issubdtype(dtype, np.floating):
        raise ValueError(f"normalize=True scales pixels to [0, 1] and needs a floating dtype, got {dtype}. "
                         "Pass normalize=False for integer pixels 0..255.")
    images, labels = _load_raw(split)
    X = images.astype(dtype)
    if normalize:
        X /= dtype.type(255)
    if flatten:
        X = X.reshape(len(X), -1)
    return X, labels.astype(np.int64)


def _check_pair(X: np.ndarray, y: np.ndarray | None) -> int:
    if np.ndim(X) == 0:
        raise ValueError(f"X must have a first (sample) axis, got a scalar of shape {np.shape(X)}")
    n = len(X)
    if y is not None and len(y) != n:
        raise ValueError(f"X and y must have the same number of samples, got {n} and {len(y)}")
    return n


def _check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}")


def train_val_split(X: np.ndarray, y: np.ndarray, val_size: int | float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split (X, y) at random into a training part and a validation part.

    X: (N, ...); y: (N,). val_size: a number of samples (int, 1..N-1) or a fraction (float, 0 < f < 1).
    rng: the generator that draws the permutation (explicit, so the split is reproducible).
    Returns (X_train, y_train, X_val, y_val) with N - n_val and n_val samples.
    """
    n = _check_pair(X, y)
    _check_rng(rng)
    if isinstance(val_size, bool) or not isinstance(val_size, (int, float, np.integer, np.floating)):
        raise TypeError(f"val_size must be an int (count) or a float (fraction), got {type(val_size).__name__}")
    if isinstance(val_size, (float, np.floating)):
        if not 0.0 < val_size < 1.0:
            raise ValueError(f"a fractional val_size must lie strictly between 0 and 1, got {val_size}")
        n_val = int(round(val_size * n))
    else:
        n_val = int(val_size)
    if not 1 <= n_val <= n - 1:
        raise ValueError(f"val_size gives {n_val} validation samples out of {n}; "
                         f"both parts need at least one sample (1 <= n_val <= {n - 1})")
    order = rng.permutation(n)
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def minibatches(X: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool = True,
                rng: np.random.Generator | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (X_batch, y_batch) pairs that together cover every sample exactly once.

    X: (N, ...); y: (N,). Each batch holds batch_size samples, except the last, which keeps
    the remaining N % batch_size (it is not dropped). shuffle=True visits the samples in an
    order drawn from `rng` (required then, so that epochs are reproducible); shuffle=False
    keeps the stored order.
    """
    n = _check_pair(X, y)
    if y is None:
        raise ValueError("y must be given: minibatches yields (X_batch, y_batch) pairs")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    batch_size = int(batch_size)
    if shuffle:
        if rng is None:
            raise ValueError("shuffle=True needs an explicit rng, e.g. rng=np.random.default_rng(0), "
                             "so that the order of the batches is reproducible")
        _check_rng(rng)
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    # Validation above runs at the call; the batches themselves are produced lazily.
    return ((X[order[s:s + batch_size]], y[order[s:s + batch_size]]) for s in range(0, n, batch_size))
