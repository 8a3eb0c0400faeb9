"""Input pipelines: a dataset whose reading cost you choose, a throughput harness, a schedule simulator.

    dataset = SlowImageDataset(images, labels, latency_s=2e-4, work=20)
    dataset[3]                        # (image (28, 28) float32 in [0, 1], label), one read
    BatchedView(dataset)[[0, 1, 2]]   # (images (3, 28, 28), labels (3,)): one read for a batch
    rate = pipeline_throughput(loader, step=train_step)   # samples/s, median of whole epochs
    check_same_samples("DataLoader", list(loader), expected_batches, ordered=True)
    schedule = simulate_pipeline(load_s=0.02, step_s=0.01, workers=2, steps=20)

The cost model. Reading one request from storage costs a fixed latency (opening a file, a round
trip to a disk or an object store) and then decoding costs CPU time for every item:

    t_read(B items in one request) = latency + B * t_decode.

`SlowImageDataset` makes both costs visible on any laptop: the latency is a `time.sleep`, which
releases Python's global interpreter lock (GIL) as real input/output does, and the decode is a
zlib decompression followed by `work` units of pure-Python work, which holds the GIL as Python
code does. A loader with W workers that each build a whole batch of B items in `load_s` seconds,
feeding a training step of `step_s` seconds, delivers in the steady state

    batches/s = 1 / (load_s + step_s)             with no workers (load, then train, in turn),
    batches/s = min(W / load_s, 1 / step_s)       with W >= 1 workers loading ahead,

so the model is *starved* (waits for data) when W / load_s < 1 / step_s. `simulate_pipeline`
plays the schedule of torch's DataLoader event by event (round-robin workers, at most
`prefetch` batches in flight per worker) so that the formula can be seen and checked.

Worker processes started with "spawn" (the default on Windows and macOS) import the module that
defines a dataset; the classes here live in a module for that reason: a dataset class defined in
a notebook cannot be found by such a worker.
"""
from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from course_utils.bench import SyncArg, Timing, format_seconds, timeit

WORK_UNIT_ITERATIONS = 1000  # one unit of `python_work`: a thousand trips around a Python loop


def _check_nonnegative_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_seconds(name: str, value, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        allowed = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number of seconds {allowed}, got {value!r}")
    return value


def python_work(units: int) -> int:
    """A fixed amount of pure-Python work that holds the GIL: `units` thousand loop iterations.

    Stands in for CPU-bound decoding written in Python. Returns a checksum (0 for units=0) so
    that the work has a result; its time depends on the machine, its amount does not.
    """
    units = _check_nonnegative_int("units", units)
    total = 0
    for i in range(units * WORK_UNIT_ITERATIONS):
        total += i & 7
    return total


class SlowImageDataset:
    """A map-style dataset of images stored zlib-compressed, one blob per image, like files on disk.

    images: (N, H, W) uint8; labels: (N,) integers. Reading item i returns
    (image, label): image (H, W) float32 in [0, 1] (the stored uint8 divided by 255), label int64.
    latency_s: seconds slept once per read request (one item with `dataset[i]`, a whole batch
        with `read_batch`); sleeping releases the GIL, as waiting for storage does.
    work: units of `python_work` per decoded item; this part holds the GIL.

    It has `__len__` and `__getitem__`, all that torch's DataLoader needs (no torch import), and
    it pickles, so DataLoader workers and process pools can use it with fork or spawn.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, *, latency_s: float = 0.0,
                 work: int = 0) -> None:
        images = np.asarray(images)
        labels = np.asarray(labels)
        if images.ndim != 3 or images.dtype != np.uint8 or len(images) == 0:
            raise ValueError(f"images must be a non-empty uint8 array of shape (N, H, W), "
                             f"got {images.dtype} of shape {images.shape}")
        if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers of shape ({len(images)},), one per image, "
                             f"got {labels.dtype} of shape {labels.shape}")
        self.latency_s = _check_seconds("latency_s", latency_s, positive=False)
        self.work = _check_nonnegative_int("work", work)
        self.image_shape: tuple[int, int] = (int(images.shape[1]), int(images.shape[2]))
        self.blobs: list[bytes] = [zlib.compress(image.tobytes()) for image in images]
        self.labels = labels.astype(np.int64)

    def __len__(self) -> int:
        return len(self.blobs)

    def _index(self, index) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be an integer, got {type(index).__name__}; "
                            "read several items at once with read_batch(indices)")
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a dataset of {len(self)} items")
        return int(index) % len(self)

    def decode(self, index: int) -> np.ndarray:
        """Decompress item `index` and do its Python work: (H, W) float32 in [0, 1]. No latency."""
        raw = zlib.decompress(self.blobs[self._index(index)])
        python_work(self.work)
        return np.frombuffer(raw, dtype=np.uint8).reshape(self.image_shape).astype(np.float32) / np.float32(255)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.int64]:
        """One read request for one item: latency, then decode. Returns (image (H, W), label)."""
        index = self._index(index)
        if self.latency_s:
            time.sleep(self.latency_s)
        return self.decode(index), self.labels[index]

    def read_batch(self, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """One read request for several items: latency once, then decode each.

        indices: B integers. Returns (images (B, H, W) float32, labels (B,) int64).
        """
        if isinstance(indices, (str, bytes)) or not hasattr(indices, "__len__") or len(indices) == 0:
            raise ValueError(f"indices must be a non-empty sequence of integers, got {indices!r}")
        positions = [self._index(i) for i in indices]
        if self.latency_s:
            time.sleep(self.latency_s)
        return np.stack([self.decode(i) for i in positions]), self.labels[positions]


class BatchedView:
    """The same data, indexed by a list of indices: `view[[i, j, k]]` is `dataset.read_batch([i, j, k])`.

    For torch's DataLoader with a BatchSampler as `sampler` and `batch_size=None`, which passes the
    sampler's lists of indices straight to `__getitem__`: one read request per batch.
    """

    def __init__(self, dataset: SlowImageDataset) -> None:
        if not isinstance(dataset, SlowImageDataset):
            raise TypeError(f"dataset must be a SlowImageDataset, got {type(dataset).__name__}")
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        return self.dataset.read_batch(indices)


# --- checking that two pipelines deliver the same samples -------------------------------------

def batch_length(batch) -> int:
    """Number of samples in a batch: len(batch[0]) for a tuple or list such as (x, y), else len(batch)."""
    first = batch[0] if isinstance(batch, (tuple, list)) else batch
    try:
        return len(first)
    except TypeError as err:
        raise TypeError(f"cannot count the samples of a batch of type {type(first).__name__}; "
                        "pass count=... to say how") from err


def epoch_samples(batches: Iterable) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate one epoch of (x, y) batches, as NumPy arrays: (X (N, ...), y (N,)).

    Batches may hold NumPy arrays, torch tensors or TensorFlow tensors.
    """
    from course_utils.checks import to_numpy

    xs, ys = [], []
    for batch in batches:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(f"every batch must be a pair (x, y), got {type(batch).__name__}")
        xs.append(to_numpy(batch[0]))
        ys.append(to_numpy(batch[1]))
    if not xs:
        raise ValueError("the epoch has no batches")
    return np.concatenate(xs), np.concatenate(ys)


def _sample_keys(X: np.ndarray, y: np.ndarray) -> list[tuple]:
    return [(int(label), row.tobytes()) for label, row in zip(y, X.reshape(len(X), -1))]


def check_same_samples(name: str, got: Iterable, expected: Iterable, *, ordered: bool = True) -> int:
    """Assert that two epochs of (x, y) batches deliver the same samples; return how many.

    ordered=True: the same samples in the same order (the batches may be cut differently).
    ordered=False: the same multiset of samples, in any order (a shuffled epoch).
    Samples are compared exactly, bit for bit: a pipeline that reorders or changes the decoding
    arithmetic fails. Raises AssertionError naming the first difference.
    """
    X_got, y_got = epoch_samples(got)
    X_exp, y_exp = epoch_samples(expected)
    if X_got.shape != X_exp.shape or y_got.shape != y_exp.shape:
        raise AssertionError(f"{name}: got {len(X_got)} samples of shape {X_got.shape[1:]}, "
                             f"expected {len(X_exp)} of shape {X_exp.shape[1:]}")
    if ordered:
        same = (y_got == y_exp) & (X_got.reshape(len(X_got), -1) == X_exp.reshape(len(X_exp), -1)).all(axis=1)
        if not same.all():
            first = int(np.argmin(same))
            raise AssertionError(f"{name}: {int((~same).sum())} of {len(same)} samples differ; the first at "
                                 f"position {first} (label {y_got[first]}, expected {y_exp[first]}). "
                                 "Does the pipeline shuffle, or decode differently?")
        return len(same)
    keys_got, keys_exp = sorted(_sample_keys(X_got, y_got)), sorted(_sample_keys(X_exp, y_exp))
    if keys_got != keys_exp:
        from collections import Counter

        missing = Counter(keys_exp) - Counter(keys_got)
        raise AssertionError(f"{name}: {sum(missing.values())} of {len(keys_exp)} expected samples are missing "
                             "(and as many others are extra or repeated). Does an epoch see every item once?")
    return len(keys_got)


# --- measuring a pipeline -----------------------------------------------------------------------

@dataclass(frozen=True)
class Throughput:
    """One epoch of a pipeline, timed: `timing` in seconds per epoch, `samples` per epoch."""

    timing: Timing
    samples: int

    @property
    def samples_per_s(self) -> float:
        """Samples per second: samples / median seconds per epoch."""
        return self.samples / self.timing.median

    def __str__(self) -> str:
        return (f"{self.samples_per_s:,.0f} samples/s ({self.samples:,} samples per epoch in "
                f"{format_seconds(self.timing.median)} ± {format_seconds(self.timing.iqr / 2)}, "
                f"median ± half IQR of {self.timing.runs} epochs)")


def pipeline_throughput(loader, *, step: Callable[[object], object] | None = None, warmup: int = 1,
                        repeat: int = 3, sync: SyncArg = None,
                        count: Callable[[object], int] = batch_length) -> Throughput:
    """Samples per second of whole epochs of `loader`, alone or feeding `step`.

    loader: something to iterate once per epoch: a re-iterable (torch DataLoader, tf.data.Dataset,
        a list of batches) or a callable returning a fresh iterable (e.g. a generator function).
    step: None times the loader alone; otherwise step(batch) runs on every batch, as a training
        step would, and the time covers loading and stepping together.
    warmup: untimed epochs first (worker start-up, tf.data tracing, caches); repeat: timed epochs,
        each timed once (bench.timeit with number=1); the median is the result.
    count: samples in a batch (default: len(batch[0]) for (x, y) batches).
    Every epoch must deliver the same number of samples, else ValueError.
    """
    if callable(loader) and not hasattr(loader, "__iter__"):
        make_epoch = loader
    elif hasattr(loader, "__iter__"):
        if iter(loader) is loader:
            raise TypeError("loader is an iterator, which would be empty after the first epoch; pass a "
                            "callable that makes a fresh one, e.g. lambda: my_generator()")
        make_epoch = lambda: loader  # noqa: E731
    else:
        raise TypeError(f"loader must be iterable or a callable returning an iterable, got {type(loader).__name__}")
    if step is not None and not callable(step):
        raise TypeError(f"step must be None or a callable taking one batch, got {type(step).__name__}")
    counts: list[int] = []

    def epoch() -> None:
        samples = 0
        for batch in make_epoch():
            samples += count(batch)
            if step is not None:
                step(batch)
        counts.append(samples)

    timing = timeit(epoch, warmup=warmup, repeat=repeat, number=1, sync=sync)
    if len(set(counts)) != 1 or counts[0] == 0:
        raise ValueError(f"every epoch must deliver the same, non-zero number of samples; got {counts}")
    return Throughput(timing=timing, samples=counts[0])


# --- the schedule of a loader feeding a training step ------------------------------------------

def predicted_batches_per_s(load_s: float, step_s: float, workers: int) -> float:
    """Steady-state batches/s of a loader feeding a training step (see the module docstring).

    load_s: seconds for one worker to build one batch; step_s: seconds per training step;
    workers: 0 loads in the training loop itself, W >= 1 loads ahead in W workers.
    """
    load_s = _check_seconds("load_s", load_s, positive=True)
    step_s = _check_seconds("step_s", step_s, positive=True)
    workers = _check_nonnegative_int("workers", workers)
    if workers == 0:
        return 1.0 / (load_s + step_s)
    return min(workers / load_s, 1.0 / step_s)


@dataclass(frozen=True)
class PipelineSchedule:
    """When each batch was loaded and consumed, in seconds from the start; arrays of shape (steps,).

    worker[k] is the worker that loaded batch k (-1: the training loop itself, with no workers).
    """

    load_s: float
    step_s: float
    workers: int
    prefetch: int
    worker: np.ndarray
    load_start: np.ndarray
    load_end: np.ndarray
    step_start: np.ndarray
    step_end: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.step_end)

    @property
    def total_s(self) -> float:
        """Seconds from the start until the last step ends."""
        return float(self.step_end[-1])

    @property
    def waiting_s(self) -> float:
        """Seconds the training step spent waiting for data (the model starved), in all."""
        previous_end = np.concatenate([[0.0], self.step_end[:-1]])
        return float((self.step_start - previous_end).sum())

    @property
    def starved_fraction(self) -> float:
        """Fraction of the run that the training step spent waiting for data."""
        return self.waiting_s / self.total_s

    def steady_idle_fraction(self) -> float:
        """Fraction of the time the training step waits for data once start-up is over.

        The step is busy step_s seconds per batch, so it idles 1 - (batches/s) * step_s of the time.
        """
        return max(0.0, 1.0 - self.steady_batches_per_s() * self.step_s)

    def steady_batches_per_s(self) -> float:
        """Batches per second over the second half of the run, once start-up is over.

        The window holds a whole number of rounds of the workers (W batches each), so that a
        periodic schedule gives its exact rate.
        """
        per_round = max(self.workers, 1)
        rounds = (self.steps // 2) // per_round
        if rounds < 1:
            raise ValueError(f"need at least {2 * per_round} steps for a steady-state rate with "
                             f"{self.workers} workers, got {self.steps}")
        first = self.steps - rounds * per_round
        return rounds * per_round / float(self.step_end[-1] - self.step_end[first - 1])


def simulate_pipeline(load_s: float, step_s: float, *, workers: int, steps: int,
                      prefetch: int = 2) -> PipelineSchedule:
    """Play a DataLoader-like schedule event by event; deterministic, no clocks involved.

    load_s: seconds for one worker to build one batch; step_s: seconds per training step.
    workers = 0: the training loop loads batch k, then trains on it, then loads batch k + 1.
    workers = W >= 1: batch k goes to worker k mod W (round robin, as torch's DataLoader does).
        At the start, prefetch * W batches are requested; afterwards one more each time the
        training loop takes a batch, so at most prefetch * W are requested and not yet taken.
        A worker builds its batches one after another; step k starts when batch k is ready and
        step k - 1 has ended.
    steps: number of batches (and training steps).
    """
    load_s = _check_seconds("load_s", load_s, positive=True)
    step_s = _check_seconds("step_s", step_s, positive=True)
    workers = _check_nonnegative_int("workers", workers)
    steps = _check_positive_int("steps", steps)
    prefetch = _check_positive_int("prefetch", prefetch)
    worker = np.full(steps, -1, dtype=np.int64)
    load_start, load_end = np.zeros(steps), np.zeros(steps)
    step_start, step_end = np.zeros(steps), np.zeros(steps)
    in_flight = prefetch * workers
    for k in range(steps):
        previous_step_end = step_end[k - 1] if k else 0.0
        if workers == 0:
            load_start[k] = previous_step_end
        else:
            worker[k] = k % workers
            requested = 0.0 if k < in_flight else step_start[k - in_flight]
            worker_free = load_end[k - workers] if k >= workers else 0.0
            load_start[k] = max(requested, worker_free)
        load_end[k] = load_start[k] + load_s
        step_start[k] = max(load_end[k], previous_step_end)
        step_end[k] = step_start[k] + step_s
    return PipelineSchedule(load_s=load_s, step_s=step_s, workers=workers, prefetch=prefetch, worker=worker,
                            load_start=load_start, load_end=load_end, step_start=step_start, step_end=step_end)


def draw_schedule(schedule: PipelineSchedule, ax, *, unit: str = "ms", title: str | None = None,
                  legend: bool = True):
    """A timeline: one row of loading bars per worker, one row of training steps, waits in red.

    ax: a matplotlib Axes. unit: 's' or 'ms' for the time axis. legend: draw the legend to the
    right of the axes. Returns ax.
    """
    scale = {"s": 1.0, "ms": 1e3}
    if unit not in scale:
        raise ValueError(f"unit must be 's' or 'ms', got {unit!r}")
    if not isinstance(schedule, PipelineSchedule):
        raise TypeError(f"schedule must be a PipelineSchedule from simulate_pipeline, got {type(schedule).__name__}")
    from course_utils.plots import COLORS

    s = scale[unit]
    rows = ["training loop"] if schedule.workers == 0 else [f"worker {w + 1}" for w in range(schedule.workers)]
    train_row = len(rows) if schedule.workers else 0
    labels = rows + ([] if schedule.workers == 0 else ["training step"])
    for k in range(schedule.steps):
        row = 0 if schedule.workers == 0 else int(schedule.worker[k])
        ax.broken_barh([(schedule.load_start[k] * s, schedule.load_s * s)], (row - 0.35, 0.7),
                       facecolors=COLORS[0], edgecolor="white", linewidth=0.5)
        ax.broken_barh([(schedule.step_start[k] * s, schedule.step_s * s)], (train_row - 0.35, 0.7),
                       facecolors=COLORS[2], edgecolor="white", linewidth=0.5)
    previous_end = np.concatenate([[0.0], schedule.step_end[:-1]])
    waits = [(a * s, (b - a) * s) for a, b in zip(previous_end, schedule.step_start) if b - a > 1e-12]
    if schedule.workers and waits:
        ax.broken_barh(waits, (train_row - 0.35, 0.7), facecolors=COLORS[3], alpha=0.35)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlim(0, schedule.total_s * s * 1.02)
    ax.set_xlabel(f"time ({unit})")
    ax.grid(axis="y", visible=False)
    from matplotlib.patches import Patch

    handles = [Patch(color=COLORS[0], label="loading a batch"), Patch(color=COLORS[2], label="training step"),
               Patch(color=COLORS[3], alpha=0.35, label="step waits for data")]
    if legend:
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    if title:
        ax.set_title(title)
    return ax
