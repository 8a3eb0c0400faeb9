"""Mixed precision: number formats, loss scaling from scratch, and the training benchmark.

Number formats. A binary floating-point format with e exponent bits and m stored mantissa bits has

    machine epsilon      2**-m                       (gap between 1 and the next number)
    largest finite       (2 - 2**-m) * 2**(2**(e-1) - 1)
    smallest normal      2**(2 - 2**(e-1))
    smallest subnormal   2**(2 - 2**(e-1) - m)

fp32 is (e, m) = (8, 23), fp16 (5, 10), bf16 (8, 7): bf16 keeps fp32's range with fewer digits,
fp16 keeps more digits in a far smaller range (largest 65504). TF32 is not a storage format: NVIDIA
tensor cores (Ampere and later) read fp32 matmul inputs with a 10-bit mantissa, (8, 10).

Loss scaling. fp16 gradients below about 6e-8 flush to zero. Multiplying the loss by S multiplies
every gradient by S (the chain rule is linear), lifting small gradients into range; dividing by S
before the update restores their value. `DynamicLossScaler` follows torch.amp.GradScaler: if any
scaled gradient is inf or NaN, skip the step and multiply S by `backoff_factor`; after
`growth_interval` clean steps in a row, multiply S by `growth_factor`.

Benchmark. `benchmark` trains one model for a fixed number of steps in one precision mode and
reports samples/s, peak memory and achieved TFLOP/s (FLOPs counted by torch's FlopCounterMode);
`python -m course_utils.amp --out FILE.csv` runs the whole grid and writes the reference CSV.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import math
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np

__all__ = ["FloatFormat", "FORMATS", "float_format", "flush_fraction", "DynamicLossScaler",
           "MODELS", "PRECISIONS", "build_model", "training_flops", "BenchResult", "benchmark",
           "matmul_tflops", "run_grid", "write_csv", "read_csv"]


# ---------------------------------------------------------------- number formats

@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format: 1 sign bit, `exponent_bits`, `mantissa_bits` stored."""

    name: str
    exponent_bits: int
    mantissa_bits: int

    @property
    def bits(self) -> int:
        return 1 + self.exponent_bits + self.mantissa_bits

    @property
    def bias(self) -> int:
        return 2 ** (self.exponent_bits - 1) - 1

    @property
    def eps(self) -> float:
        return 2.0 ** -self.mantissa_bits

    @property
    def max(self) -> float:
        return (2.0 - self.eps) * 2.0 ** self.bias

    @property
    def smallest_normal(self) -> float:
        return 2.0 ** (1 - self.bias)

    @property
    def smallest_subnormal(self) -> float:
        return 2.0 ** (1 - self.bias - self.mantissa_bits)

    @property
    def decimal_digits(self) -> float:
        """About how many significant decimal digits the format keeps: (m + 1) log10 2."""
        return (self.mantissa_bits + 1) * math.log10(2)


FORMATS: dict[str, FloatFormat] = {
    "fp32": FloatFormat("fp32", 8, 23),
    "tf32": FloatFormat("tf32", 8, 10),
    "fp16": FloatFormat("fp16", 5, 10),
    "bf16": FloatFormat("bf16", 8, 7),
}


def float_format(name: str) -> FloatFormat:
    """The FloatFormat called `name`: one of fp32, tf32, fp16, bf16."""
    if name not in FORMATS:
        raise ValueError(f"name must be one of {sorted(FORMATS)}, got {name!r}")
    return FORMATS[name]


def flush_fraction(values: np.ndarray, scale: float = 1.0, dtype=np.float16) -> float:
    """Fraction of the nonzero `values` that become 0 when `values * scale` is cast to `dtype`.

    values: any shape, float32 or float64 (e.g. a layer's gradients). scale: the loss scale S.
    The cast rounds to nearest, so values below half the smallest subnormal (2**-25 for fp16) are lost.
    """
    if not scale > 0 or not math.isfinite(scale):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    values = np.asarray(values, dtype=np.float64)
    nonzero = values != 0
    if not nonzero.any():
        raise ValueError("values has no nonzero entry: nothing can be flushed")
    with np.errstate(over="ignore"):
        cast = (values[nonzero] * scale).astype(dtype)
    return float(np.mean(cast == 0))


# ---------------------------------------------------------------- loss scaling

@dataclass
class DynamicLossScaler:
    """Dynamic loss scaling, with torch.amp.GradScaler's defaults and update rule.

    Use: loss_for_backward = scaler.scale(loss); grads = scaler.step(scaled_grads) gives the
    unscaled gradients, or None when they overflowed and the step must be skipped.
    growth_interval=math.inf makes it a static scaler that still backs off on overflow.
    """

    init_scale: float = 2.0 ** 16
    growth_factor: float = 2.0
    backoff_factor: float = 0.5
    growth_interval: float = 2000
    scale_value: float = field(init=False)
    growth_tracker: int = field(init=False, default=0)
    skipped_steps: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if not self.init_scale > 0:
            raise ValueError(f"init_scale must be positive, got {self.init_scale!r}")
        if not self.growth_factor > 1:
            raise ValueError(f"growth_factor must be > 1, got {self.growth_factor!r}")
        if not 0 < self.backoff_factor < 1:
            raise ValueError(f"backoff_factor must be in (0, 1), got {self.backoff_factor!r}")
        if not self.growth_interval >= 1:
            raise ValueError(f"growth_interval must be >= 1, got {self.growth_interval!r}")
        self.scale_value = float(self.init_scale)

    def scale(self, loss):
        """loss * S: backpropagate this instead of the loss."""
        return loss * self.scale_value

    def unscale(self, grads: Sequence[np.ndarray]) -> tuple[list[np.ndarray], bool]:
        """(grads / S in float32, whether any scaled gradient was inf or NaN)."""
        found_inf = not all(np.isfinite(g).all() for g in grads)
        inverse = np.float32(1.0 / self.scale_value)
        return [np.asarray(g, dtype=np.float32) * inverse for g in grads], found_inf

    def update(self, found_inf: bool) -> None:
        """Back off after an overflow; grow after growth_interval clean steps in a row."""
        if found_inf:
            self.scale_value *= self.backoff_factor
            self.growth_tracker = 0
            self.skipped_steps += 1
        else:
            self.growth_tracker += 1
            if self.growth_tracker >= self.growth_interval:
                self.scale_value *= self.growth_factor
                self.growth_tracker = 0

    def step(self, scaled_grads: Sequence[np.ndarray]) -> list[np.ndarray] | None:
        """Unscale, update the scale, and return the gradients to apply (None: skip this step)."""
        grads, found_inf = self.unscale(scaled_grads)
        self.update(found_inf)
        return None if found_inf else grads

    def state_dict(self) -> dict:
        return {"scale": self.scale_value, "growth_tracker": self.growth_tracker}

    def load_state_dict(self, state: dict) -> None:
        self.scale_value = float(state["scale"])
        self.growth_tracker = int(state["growth_tracker"])


# ---------------------------------------------------------------- models and FLOPs

def _lenet():
    import torch.nn as nn
    return nn.Sequential(  # input (N, 1, 28, 28)
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),      # (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),  # (N, 400)
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def _wide_mlp(width: int = 4096, depth: int = 4):
    import torch.nn as nn
    layers, features = [], 784  # input (N, 784)
    for _ in range(depth):
        layers += [nn.Linear(features, width), nn.ReLU()]
        features = width
    return nn.Sequential(*layers, nn.Linear(features, 10))


def _cifar_cnn():
    import torch.nn as nn

    def block(c_in: int, c_out: int):
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(  # input (N, 3, 32, 32)
        *block(3, 64), *block(64, 128), nn.MaxPool2d(2),        # (N, 128, 16, 16)
        *block(128, 256), nn.MaxPool2d(2), *block(256, 512),    # (N, 512, 8, 8)
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(512, 10))


MODELS: dict[str, tuple[Callable, tuple[int, ...]]] = {
    "LeNet-5": (_lenet, (1, 28, 28)),
    "MLP 4x4096": (_wide_mlp, (784,)),
    "CIFAR CNN": (_cifar_cnn, (3, 32, 32)),
}
PRECISIONS = ("fp32", "tf32", "fp16", "bf16")


def build_model(name: str, *, seed: int = 0, **kwargs):
    """(model, input shape of one sample) for a benchmark model; kwargs go to its builder."""
    if name not in MODELS:
        raise ValueError(f"name must be one of {list(MODELS)}, got {name!r}")
    import torch
    builder, shape = MODELS[name]
    torch.manual_seed(seed)
    return builder(**kwargs), shape


def training_flops(model, sample_shape: tuple[int, ...], batch: int) -> int:
    """FLOPs of one training step (forward and backward) on a batch, counted by torch.

    torch.utils.flop_counter counts 2 FLOPs per multiply-add of matmuls and convolutions (the
    work that dominates); element-wise ops are not counted.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    device = next(model.parameters()).device
    x = torch.zeros((batch, *sample_shape), device=device)
    y = torch.zeros(batch, dtype=torch.long, device=device)
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(x), y).backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


# ---------------------------------------------------------------- the benchmark

@dataclass(frozen=True)
class BenchResult:
    """One model trained in one precision: seconds per step and what follows from it."""

    model: str
    precision: str
    batch: int
    step_seconds: float
    flops_per_step: int
    peak_mib: float | None
    device: str

    @property
    def samples_per_second(self) -> float:
        return self.batch / self.step_seconds

    @property
    def tflops(self) -> float:
        return self.flops_per_step / self.step_seconds / 1e12


def _set_tf32(torch, on: bool) -> None:
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def benchmark(model_name: str, precision: str, *, batch: int, steps: int = 30, warmup: int = 5,
              repeat: int = 3, device: str = "cpu", compile: bool = False, **model_kwargs) -> BenchResult:
    """Train `model_name` on random data for `steps` steps in `precision`; time the steps.

    precision: fp32 (TF32 off), tf32 (CUDA only), fp16 (autocast + GradScaler), bf16 (autocast,
    no scaler). The optimizer is SGD with momentum. The time is the median over `repeat` runs of
    `steps` steps each, after `warmup` untimed steps, with the device synchronized.
    """
    import torch
    from course_utils.bench import timeit
    from course_utils.env import cpu_model
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    dev = torch.device(device)
    if precision == "tf32" and dev.type != "cuda":
        raise ValueError("precision 'tf32' exists only on NVIDIA GPUs (Ampere or newer); use fp32 on "
                         f"{dev.type}")
    if batch < 1 or steps < 1:
        raise ValueError(f"batch and steps must be >= 1, got batch={batch!r}, steps={steps!r}")
    model, shape = build_model(model_name, **model_kwargs)
    model = model.to(dev)
    flops = training_flops(model, shape, batch)
    step_model = torch.compile(model) if compile else model
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn((batch, *shape), generator=generator).to(dev)
    y = torch.randint(0, 10, (batch,), generator=generator).to(dev)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
    scaler = torch.amp.GradScaler(dev.type, enabled=precision == "fp16")
    if dev.type == "cuda":
        _set_tf32(torch, precision == "tf32")

    def one_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            loss = torch.nn.functional.cross_entropy(step_model(x), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    def run() -> None:
        for _ in range(steps):
            one_step()

    for _ in range(warmup):
        one_step()
    peak = None
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        one_step()
        torch.cuda.synchronize(dev)
        peak = torch.cuda.max_memory_allocated(dev) / 2 ** 20
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else False
    timing = timeit(run, warmup=0, repeat=repeat, number=1, sync=sync)
    if dev.type == "cuda":
        _set_tf32(torch, False)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else cpu_model()
    return BenchResult(model_name, precision, batch, timing.median / steps, flops, peak, name)


def matmul_tflops(n: int = 8192, precision: str = "bf16", *, device: str = "cuda", repeat: int = 5) -> float:
    """Achieved TFLOP/s of one n x n x n matmul (2 n**3 FLOPs) in `precision` on `device`."""
    import torch
    from course_utils.bench import timeit
    dtype = {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16,
             "bf16": torch.bfloat16}[precision]
    dev = torch.device(device)
    a = torch.randn(n, n, device=dev, dtype=dtype)
    b = torch.randn(n, n, device=dev, dtype=dtype)
    if dev.type == "cuda":
        _set_tf32(torch, precision == "tf32")
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else False
    timing = timeit(lambda: a @ b, warmup=2, repeat=repeat, number=1, sync=sync)
    if dev.type == "cuda":
        _set_tf32(torch, False)
    return 2 * n ** 3 / timing.median / 1e12


# ---------------------------------------------------------------- the grid and its CSV

CSV_FIELDS = ("model", "precision", "batch", "step_seconds", "samples_per_second", "speedup",
              "tflops", "peak_mib", "flops_per_step", "device", "torch", "date")
GRID = (("LeNet-5", 512), ("CIFAR CNN", 512), ("MLP 4x4096", 4096))


def run_grid(device: str, grid=GRID, *, steps: int = 30, progress=print) -> list[dict]:
    """Benchmark every (model, batch) of `grid` in every precision the device has; rows for a CSV.

    Each row's speedup is over fp32 on the same model and batch.
    """
    import torch
    precisions = PRECISIONS if device.startswith("cuda") else ("fp32", "bf16")
    date = datetime.date.today().isoformat()
    rows = []
    for model_name, batch in grid:
        fp32_seconds = None
        for precision in precisions:
            result = benchmark(model_name, precision, batch=batch, steps=steps, device=device)
            fp32_seconds = fp32_seconds or result.step_seconds
            row = {**{k: v for k, v in asdict(result).items() if k in CSV_FIELDS},
                   "samples_per_second": result.samples_per_second,
                   "speedup": fp32_seconds / result.step_seconds, "tflops": result.tflops,
                   "torch": torch.__version__, "date": date}
            rows.append(row)
            progress(f"{model_name:>10} batch {batch:>5} {precision}: {row['samples_per_second']:>10.0f} "
                     f"samples/s, x{row['speedup']:.2f}, {row['tflops']:.1f} TFLOP/s")
    return rows


def write_csv(path: str, rows: Sequence[dict]) -> None:
    """Write benchmark rows with the columns CSV_FIELDS (missing values are left empty)."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_FIELDS})


def read_csv(path: str) -> list[dict]:
    """Rows of a benchmark CSV, numbers converted back (empty cells become None)."""
    numeric = {"batch": int, "flops_per_step": int, "step_seconds": float, "samples_per_second": float,
               "speedup": float, "tflops": float, "peak_mib": float}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and set(rows[0]) != set(CSV_FIELDS):
        raise ValueError(f"{path} has columns {sorted(rows[0])}, expected {sorted(CSV_FIELDS)}")
    return [{k: (numeric[k](v) if k in numeric and v != "" else (None if v == "" else v))
             for k, v in row.items()} for row in rows]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Mixed-precision training benchmark; writes a CSV.")
    parser.add_argument("--out", required=True, help="CSV file to write")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args(argv)
    import torch
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        for precision in ("fp32", "tf32", "bf16", "fp16"):
            print(f"8192^3 matmul {precision}: {matmul_tflops(8192, precision, device=device):.0f} TFLOP/s")
    write_csv(args.out, run_grid(device, steps=args.steps))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
