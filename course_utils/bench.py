"""Honest timing for every speed claim in the course.

A time is the median of several runs after warm-up, with its spread, measured with
`time.perf_counter`; when a GPU is in use, the device is synchronized before the clock
is read, so that the time covers the work and not only the launch of the work.
Speed-ups are ratios of times taken side by side, in one run, by `compare`.
"""
from __future__ import annotations

import gc
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable, Mapping

SyncArg = Callable[[], object] | bool | None


@dataclass(frozen=True)
class Timing:
    """Seconds per call of one function: one entry in `times` per timed run.

    Each run calls the function `number` times and records the average, so
    `times` has shape (runs,) and is in seconds per call.
    """

    times: tuple[float, ...]
    number: int

    @property
    def runs(self) -> int:
        return len(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def max(self) -> float:
        return max(self.times)

    @property
    def iqr(self) -> float:
        """Interquartile range of the run times (0 for fewer than two runs)."""
        if self.runs < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.times, n=4, method="inclusive")
        return q3 - q1

    def __str__(self) -> str:
        calls = f" x {self.number} calls" if self.number > 1 else ""
        return (f"{format_seconds(self.median)} ± {format_seconds(self.iqr / 2)} "
                f"(median ± half IQR of {self.runs} runs{calls})")


def format_seconds(seconds: float) -> str:
    """A duration with a readable unit: 3.21 s, 12.3 ms, 45.6 µs, 789 ns."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _gpu_sync() -> Callable[[], object] | None:
    """torch's synchronize for the GPU in use, or None when no GPU work can be pending."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch.cuda.synchronize
    mps = getattr(torch, "mps", None)
    if mps is not None and torch.backends.mps.is_available():
        return mps.synchronize
    return None


def _resolve_sync(sync: SyncArg) -> Callable[[], object] | None:
    if sync is None:
        return _gpu_sync()
    if sync is False:
        return None
    if sync is True:
        found = _gpu_sync()
        if found is None:
            raise RuntimeError("sync=True asks to synchronize a GPU, but torch has no CUDA or MPS device in use")
        return found
    if callable(sync):
        return sync
    raise TypeError(f"sync must be None (auto), True, False or a callable, got {type(sync).__name__}")


def _check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _time_calls(fn: Callable[[], object], number: int, sync: Callable[[], object] | None) -> float:
    if sync is not None:
        sync()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    if sync is not None:
        sync()
    return time.perf_counter() - start


def timeit(fn: Callable[[], object], *, warmup: int = 1, repeat: int = 7, number: int | None = None,
           sync: SyncArg = None, min_run_time: float = 0.02, pause_gc: bool = True) -> Timing:
    """Time `fn()` honestly and return a Timing.

    warmup: calls made first and not timed (first calls pay for compilation, caches, allocation).
    repeat: number of timed runs; the median of their times is the result.
    number: calls per run; None picks the smallest power of 10 that makes one run last at
        least `min_run_time` seconds, so that fast functions are not lost in clock resolution.
    sync: None synchronizes the GPU before reading the clock whenever torch has one in use;
        False never synchronizes; True requires a GPU; a callable is called instead.
    pause_gc: collect garbage first and keep Python's garbage collector off while timing (as the
        standard library's timeit does), so that a collection of objects that other code made
        (torch and TensorFlow leave hundreds of thousands) does not land in one run at random.
        Pass False to include collector pauses that the timed code itself causes.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a callable taking no arguments, got {type(fn).__name__}; "
                        "wrap a call with arguments in a lambda: timeit(lambda: f(x))")
    _check_count("warmup", warmup, 0)
    _check_count("repeat", repeat, 1)
    if number is not None:
        _check_count("number", number, 1)
    if not min_run_time > 0:
        raise ValueError(f"min_run_time must be positive, got {min_run_time!r}")
    sync_fn = _resolve_sync(sync)
    gc_was_on = gc.isenabled()
    if pause_gc:
        gc.collect()
        gc.disable()
    try:
        for _ in range(warmup):
            fn()
        if number is None:
            number = 1
            while _time_calls(fn, number, sync_fn) < min_run_time and number < 10**7:
                number *= 10
        times = tuple(_time_calls(fn, number, sync_fn) / number for _ in range(repeat))
    finally:
        if gc_was_on:
            gc.enable()
    return Timing(times=times, number=number)


def compare(results: Mapping[str, Timing], *, baseline: str | None = None, items: int | None = None,
            file=None) -> dict[str, float]:
    """Print a table of timings with each one's speed-up over a baseline; return the speed-ups.

    results: name -> Timing, measured side by side in this run. baseline: the name to compare
    against (default: the first). items: samples processed per call, to add a throughput column.
    Returns name -> speed-up, where speed-up = baseline median / this median (> 1 means faster).
    """
    if not results:
        raise ValueError("results is empty: pass at least one name -> Timing")
    bad = [name for name, t in results.items() if not isinstance(t, Timing)]
    if bad:
        raise TypeError(f"every value must be a Timing from bench.timeit; not so for {bad}")
    baseline = next(iter(results)) if baseline is None else baseline
    if baseline not in results:
        raise ValueError(f"baseline {baseline!r} is not one of {list(results)}")
    base = results[baseline].median
    speedups = {name: base / t.median for name, t in results.items()}
    width = max(len(name) for name in results)
    header = f"{'':{width}}  {'median':>10}  {'spread':>11}  " + (f"{'items/s':>10}  " if items else "")
    lines = [header + f"vs {baseline}"]
    for name, t in results.items():
        row = f"{name:{width}}  {format_seconds(t.median):>10}  {'± ' + format_seconds(t.iqr / 2):>11}  "
        if items:
            row += f"{items / t.median:>10.3g}  "
        s = speedups[name]
        if name == baseline:
            row += "1.00x (baseline)"
        elif s >= 1:
            row += f"{s:.2f}x faster"
        else:
            row += f"{s:.2f}x ({1 / s:.2f}x slower)"
        lines.append(row)
    print("\n".join(lines), file=file)
    return speedups
