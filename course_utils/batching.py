"""Batching: what a batch costs in memory, and what it buys in throughput.

    sweep = sweep_batch_sizes(model_forward, X, [1, 4, 16, 64, 256])
    print(sweep)                                   # latency and throughput per batch size
    t0, c = fit_latency_model(sweep.batch_sizes, sweep.latency)
    batch_size_for_fraction(t0, c, 0.9)            # where throughput reaches 90% of its plateau

The cost model behind it: one call on a batch of B samples takes

    t(B) = t0 + c * B   seconds,

a fixed cost t0 per call (Python dispatch, framework bookkeeping, launching work) plus a cost c
per sample. The throughput B / t(B) rises with B towards the plateau 1 / c, and reaches the
fraction f of that plateau at B = f / (1 - f) * t0 / c: for 90 %, nine times t0 / c. The
memory a batch needs grows linearly with B: `activation_bytes` computes it from the shapes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from course_utils.bench import SyncArg, Timing, format_seconds, timeit

KEEP_MODES = ("all", "peak")


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_batch_sizes(batch_sizes: Sequence[int]) -> tuple[int, ...]:
    if isinstance(batch_sizes, (str, bytes)) or not isinstance(batch_sizes, Sequence) or not batch_sizes:
        raise ValueError(f"batch_sizes must be a non-empty sequence of positive integers, got {batch_sizes!r}")
    sizes = tuple(_check_positive_int("every batch size", b) for b in batch_sizes)
    if list(sizes) != sorted(set(sizes)):
        raise ValueError(f"batch_sizes must be strictly increasing, got {list(sizes)}")
    return sizes


def activation_bytes(batch_size: int, layer_widths: Sequence[int], *, dtype=np.float32,
                     keep: str = "all") -> int:
    """Bytes of the activations of a batch going through a stack of dense layers, from the shapes.

    layer_widths: (d_0, d_1, ..., d_L), the input width followed by each layer's output width,
        e.g. (784, 256, 256, 10) for an MLP on MNIST. Activation l has shape (batch_size, d_l).
    dtype: the activations' dtype (float32: 4 bytes per number).
    keep: "all" counts every activation, B * (d_0 + ... + d_L) numbers: what training keeps
        for the backward pass. "peak" counts the largest pair of consecutive activations,
        B * max_l (d_l + d_(l+1)) numbers: the least that inference must hold at once, when each
        layer's input is freed as soon as its output exists.
    Temporaries (pre-activations, framework workspaces) come on top: this is a lower bound.
    """
    batch_size = _check_positive_int("batch_size", batch_size)
    if isinstance(layer_widths, (str, bytes)) or not isinstance(layer_widths, Sequence) or len(layer_widths) < 2:
        raise ValueError(f"layer_widths must be a sequence of at least two widths (input, then each layer's "
                         f"output), got {layer_widths!r}")
    widths = [_check_positive_int("every layer width", d) for d in layer_widths]
    if keep not in KEEP_MODES:
        raise ValueError(f"keep must be one of {KEEP_MODES}, got {keep!r}")
    try:
        itemsize = np.dtype(dtype).itemsize
    except TypeError as err:
        raise TypeError(f"dtype must be a NumPy dtype such as np.float32, got {dtype!r}") from err
    if keep == "all":
        numbers = sum(widths)
    else:
        numbers = max(a + b for a, b in zip(widths[:-1], widths[1:]))
    return batch_size * numbers * itemsize


@dataclass(frozen=True)
class BatchSweep:
    """The time of one forward call at each batch size: timings[i] belongs to batch_sizes[i]."""

    batch_sizes: tuple[int, ...]
    timings: tuple[Timing, ...]

    def __post_init__(self):
        if len(self.batch_sizes) != len(self.timings):
            raise ValueError(f"batch_sizes has {len(self.batch_sizes)} entries but timings has {len(self.timings)}")

    @property
    def latency(self) -> np.ndarray:
        """Median seconds per call at each batch size, shape (len(batch_sizes),)."""
        return np.array([t.median for t in self.timings])

    @property
    def throughput(self) -> np.ndarray:
        """Samples per second at each batch size, B / latency(B), shape (len(batch_sizes),)."""
        return np.array(self.batch_sizes) / self.latency

    def __str__(self) -> str:
        lines = [f"{'batch':>6}  {'latency':>10}  {'spread':>11}  {'samples/s':>10}"]
        for b, t, rate in zip(self.batch_sizes, self.timings, self.throughput):
            lines.append(f"{b:>6}  {format_seconds(t.median):>10}  {'± ' + format_seconds(t.iqr / 2):>11}  "
                         f"{rate:>10.3g}")
        return "\n".join(lines)


def sweep_batch_sizes(forward: Callable[[object], object], X, batch_sizes: Sequence[int], *,
                      prepare: Callable[[np.ndarray], object] | None = None, warmup: int = 1,
                      repeat: int = 5, min_run_time: float = 0.01, sync: SyncArg = None) -> BatchSweep:
    """Time `forward(batch)` on the first B samples of X for each B in batch_sizes.

    X: (N, ...) with N >= max(batch_sizes). prepare: turns X[:B] into what forward takes (e.g.
    torch.from_numpy or tf.constant); it runs before the clock starts, so the conversion is not
    timed. warmup, repeat, min_run_time, sync: as in bench.timeit, for every batch size (each size
    is warmed up separately: frameworks may compile or allocate anew for a new shape).
    """
    if not callable(forward):
        raise TypeError(f"forward must be a callable taking one batch, got {type(forward).__name__}")
    if prepare is not None and not callable(prepare):
        raise TypeError(f"prepare must be None or a callable taking an array, got {type(prepare).__name__}")
    sizes = _check_batch_sizes(batch_sizes)
    if np.ndim(X) == 0 or len(X) < sizes[-1]:
        available = "a scalar" if np.ndim(X) == 0 else f"{len(X)} samples"
        raise ValueError(f"X must hold at least max(batch_sizes) = {sizes[-1]} samples, got {available}")
    timings = []
    for b in sizes:
        batch = X[:b] if prepare is None else prepare(X[:b])
        timings.append(timeit(lambda: forward(batch), warmup=warmup, repeat=repeat,
                              min_run_time=min_run_time, sync=sync))
    return BatchSweep(batch_sizes=sizes, timings=tuple(timings))


def fit_latency_model(batch_sizes: Sequence[int], latencies: Sequence[float]) -> tuple[float, float]:
    """Fit t(B) = t0 + c * B to measured latencies; return (t0, c) in seconds and seconds per sample.

    batch_sizes, latencies: shape (K,), K >= 2 with at least two different batch sizes.
    Latencies span orders of magnitude, so the fit minimizes the squared *relative* errors,
    sum_k ((t0 + c * B_k) / t_k - 1)^2, a linear least-squares problem in (t0, c); every point
    counts alike, not just the largest batches. With noisy measurements t0 or c can come out
    slightly negative when the data hold little information about them.
    """
    sizes = np.asarray(batch_sizes, dtype=float)
    times = np.asarray(latencies, dtype=float)
    if sizes.ndim != 1 or times.shape != sizes.shape:
        raise ValueError(f"batch_sizes and latencies must be 1-D of the same length, got shapes "
                         f"{sizes.shape} and {times.shape}")
    if len(np.unique(sizes)) < 2:
        raise ValueError(f"fitting t0 and c needs at least two different batch sizes, got {sizes.tolist()}")
    if not (np.all(np.isfinite(times)) and np.all(times > 0)):
        raise ValueError(f"latencies must be positive and finite, got {times.tolist()}")
    if not np.all(sizes > 0):
        raise ValueError(f"batch sizes must be positive, got {sizes.tolist()}")
    design = np.stack([1 / times, sizes / times], axis=1)  # (K, 2): row k is (1/t_k, B_k/t_k)
    (t0, c), *_ = np.linalg.lstsq(design, np.ones_like(times), rcond=None)
    return float(t0), float(c)


def batch_size_for_fraction(t0: float, c: float, fraction: float = 0.9) -> float:
    """The batch size at which the throughput B / (t0 + c * B) reaches `fraction` of its plateau 1 / c.

    Solving B / (t0 + c B) = fraction / c gives B = fraction / (1 - fraction) * t0 / c.
    t0 >= 0 and c > 0 in seconds; 0 < fraction < 1 (the plateau itself is reached only as B -> inf).
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction!r}")
    if not (np.isfinite(t0) and t0 >= 0):
        raise ValueError(f"t0 must be a finite number of seconds >= 0, got {t0!r}")
    if not (np.isfinite(c) and c > 0):
        raise ValueError(f"c must be a positive, finite number of seconds per sample, got {c!r}")
    return fraction / (1 - fraction) * t0 / c


def plot_sweeps(sweeps: Mapping[str, BatchSweep], *, axes=None, title: str | None = None):
    """Throughput (left) and latency (right) against batch size, log-log, one line per sweep.

    sweeps: name -> BatchSweep. axes: a pair of matplotlib Axes, or None for a new figure.
    Returns the pair of Axes.
    """
    if not sweeps:
        raise ValueError("sweeps is empty: pass name -> BatchSweep")
    bad = [name for name, s in sweeps.items() if not isinstance(s, BatchSweep)]
    if bad:
        raise TypeError(f"every value must be a BatchSweep from sweep_batch_sizes; not so for {bad}")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    left, right = axes
    for name, sweep in sweeps.items():
        left.loglog(sweep.batch_sizes, sweep.throughput, "o-", markersize=4, label=name)
        right.loglog(sweep.batch_sizes, sweep.latency * 1e3, "o-", markersize=4, label=name)
    left.set(xlabel="batch size B (samples)", ylabel="throughput (samples/s)", title="Throughput")
    right.set(xlabel="batch size B (samples)", ylabel="latency (ms per call)", title="Latency")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
    if len(sweeps) > 1:
        left.legend(fontsize=9)
    if title:
        left.figure.suptitle(title)
    return left, right
