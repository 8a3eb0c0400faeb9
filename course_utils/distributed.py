"""Data- and pipeline-parallel training with torch.distributed, launched from a notebook.

    run = launch(["ddp_training", "all_reduce_times"], nprocs=2, config={"samples": 1024}, timeout_s=120)
    run.results[0]["ddp_training"]["params"]      # what rank 0 returned from the task "ddp_training"

Why a launcher. Every process of a distributed job runs the same program; a notebook cell is not
a program that other processes can import and run. So the workers' code lives in this module, and
`launch` runs it with PyTorch's own launcher, torchrun, in a subprocess:

    python -m torch.distributed.run --standalone --nproc-per-node N -m course_utils.distributed \
        --tasks ddp_training,all_reduce_times --config CONFIG.json --out DIR

torchrun starts N worker processes, gives each the environment variables RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT, watches them, and stops all of them as soon as one fails.
Each worker joins a process group (`init_process_group`, backend gloo: collectives over TCP on
the CPU), runs the named tasks in order, writes what they return to DIR/rank<r>.pt (or its
traceback to DIR/rank<r>.error), and leaves the group with `destroy_process_group`. The same command,
with --nnodes and a rendezvous address instead of --standalone, runs a job across machines.

Bounded time, clear errors. Every collective has a timeout (`collective_timeout_s` in the config,
passed to `init_process_group(timeout=...)`), so a worker waiting for a dead or stuck peer raises
instead of hanging; torchrun then stops the others; `launch` waits at most `timeout_s` seconds for
the whole job (then stops every process it started) and raises `WorkerFailed` naming the rank that
failed and why, with the end of the launcher's log.

The tasks (each a function `task(config, rank, world_size) -> dict of tensors and numbers`):
    ddp_training      SGD with DistributedDataParallel and a DistributedSampler: the parameters after
                      training, the indices each rank saw, the losses
    ddp_step_times    seconds per training step with DDP, and with DDP's all-reduce skipped (no_sync)
    all_reduce_times  seconds per all_reduce against message size
    gpipe_training    one GPipe step with torch.distributed.pipelining, one stage per rank: the stage's
                      gradients and (last stage) the model's outputs and loss; seconds per step against
                      the number of micro-batches
    worker_dies       rank `die_rank` ends abruptly (os._exit) or raises, while the others wait in an
                      all_reduce: what a crash looks like from the launcher
    straggler         rank `straggler_rank` sleeps `sleep_s` seconds before an all_reduce, longer than
                      the collective timeout: the others' all_reduce raises instead of waiting forever

The model and data are rebuilt in every process from a seed (`make_mlp`, `mnist_tensors`), so that
the notebook can build the same ones and compare.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from course_utils.bench import timeit

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_CONFIG: dict = {
    "seed": 0,
    "widths": [784, 256, 256, 10],    # the MLP: input width, then each Linear layer's output width
    "dtype": "float32",               # "float32" or "float64"
    "samples": 1024,                  # the first N MNIST training images
    "batch_per_rank": 32,             # ddp_training, ddp_step_times: samples per rank per step
    "epochs": 1,                      # ddp_training
    "lr": 0.05,                       # ddp_training: SGD learning rate
    "momentum": 0.9,                  # ddp_training: SGD momentum
    "split_at": 2,                    # gpipe_training: stage 0 is model[:split_at], stage 1 the rest
    "pipeline_batch": 64,             # gpipe_training: samples per pipeline step
    "micro_batches": 4,               # gpipe_training: micro-batches of the checked step
    "micro_batches_timed": [1, 2, 4, 8],  # gpipe_training: micro-batch counts to time ([] to skip)
    "all_reduce_sizes": [2**k for k in range(4, 23, 2)],  # all_reduce_times: float32 numbers per message
    "timing_repeat": 5,               # timed runs per measurement (the median is reported)
    "collective_timeout_s": 30.0,     # every collective raises after waiting this long
    "threads": 1,                     # torch threads per worker (2 workers on 2 cores: 1 each)
    "die_rank": 1,                    # worker_dies
    "die_how": "exit",                # worker_dies: "exit" (like a crash, no traceback) or "raise"
    "straggler_rank": 1,              # straggler
    "sleep_s": 60.0,                  # straggler
}
DTYPES = {"float32": torch.float32, "float64": torch.float64}


# --- the model and the data, the same in every process -------------------------------------------

def _check_widths(widths) -> list[int]:
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) < 2:
        raise ValueError(f"widths must be a sequence of at least two layer widths, got {widths!r}")
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise ValueError(f"every width must be a positive integer, got {widths!r}")
    return list(widths)


def make_mlp(widths: Sequence[int], *, seed: int, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """Linear-ReLU-...-Linear with layer l mapping widths[l] to widths[l + 1], initialized from `seed`.

    widths (d_0, ..., d_L): the model maps x (N, d_0) to logits (N, d_L). The same seed gives
    the same parameters in every process (torch's default initialization, drawn from a
    generator seeded with `seed`; the global generator is left alone).
    """
    widths = _check_widths(widths)
    if dtype not in DTYPES.values():
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    layers: list[nn.Module] = []
    with torch.random.fork_rng(devices=[]):  # nn.Linear's own initialization draws from the global generator
        for i, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(d_in, d_out, dtype=dtype))
            if i < len(widths) - 2:
                layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):
                bound = 1 / math.sqrt(layer.in_features)  # torch's default: U(-1/sqrt(d_in), 1/sqrt(d_in))
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
    return model


def split_stages(model: nn.Sequential, split_at: int) -> tuple[nn.Sequential, nn.Sequential]:
    """The two pipeline stages model[:split_at] and model[split_at:]; they share the model's modules.

    Parameter names stay those of the whole model ('2.weight' in stage 1 is model[2].weight).
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    if isinstance(split_at, bool) or not isinstance(split_at, int) or not 0 < split_at < len(model):
        raise ValueError(f"split_at must be an integer in 1..{len(model) - 1} (model has {len(model)} layers), "
                         f"got {split_at!r}")
    return model[:split_at], model[split_at:]


def mnist_tensors(samples: int, *, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `samples` MNIST training images, flattened and scaled to [0, 1]: X (N, 784), y (N,) int64."""
    from course_utils.data import load_mnist

    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= 60_000:
        raise ValueError(f"samples must be an integer in 1..60000, got {samples!r}")
    images, labels = load_mnist("train", flatten=True, normalize=False, dtype="uint8")  # 4x less to convert
    return torch.from_numpy(images[:samples]).to(dtype) / 255, torch.from_numpy(labels[:samples])


def _config(config: dict) -> dict:
    full = dict(DEFAULT_CONFIG)
    full.update(config)
    return full


def _model_and_data(config: dict) -> tuple[nn.Sequential, torch.Tensor, torch.Tensor]:
    dtype = DTYPES[config["dtype"]]
    model = make_mlp(config["widths"], seed=config["seed"], dtype=dtype)
    X, y = mnist_tensors(config["samples"], dtype=dtype)
    return model, X, y


def _same_calls_timing(fn: Callable[[], object], repeat: int) -> list[float]:
    """Seconds per call of fn, `repeat` runs of one call each after one warm-up call.

    Every rank must make the same number of collective calls, so nothing here adapts the number
    of calls to the speed of the rank (bench.timeit's automatic `number` would).
    """
    return list(timeit(fn, warmup=1, repeat=repeat, number=1).times)


# --- the tasks, run in every worker process --------------------------------------------------------

def ddp_training(config: dict, rank: int, world_size: int) -> dict:
    """SGD with DistributedDataParallel; every rank reads its own shard of each epoch.

    Returns the parameters after training (name -> tensor), the dataset indices this rank read in
    each epoch (epochs, steps * batch_per_rank) and the loss of each step on this rank's shard.
    """
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    model, X, y = _model_and_data(config)
    ddp_model = DistributedDataParallel(model)  # broadcasts rank 0's parameters to every rank
    dataset = TensorDataset(X, y)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=config["seed"])
    loader = DataLoader(dataset, batch_size=config["batch_per_rank"], sampler=sampler)
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=config["lr"], momentum=config["momentum"])
    indices, losses = [], []
    for epoch in range(config["epochs"]):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        indices.append(list(sampler))
        for xb, yb in loader:
            loss = F.cross_entropy(ddp_model(xb), yb)  # the mean over this rank's batch
            optimizer.zero_grad()
            loss.backward()  # DDP all-reduces the gradients during backward: each rank gets their mean
            optimizer.step()
            losses.append(loss.item())
    return {"params": {name: p.detach().clone() for name, p in model.named_parameters()},
            "indices": torch.tensor(indices), "losses": torch.tensor(losses)}


def ddp_step_times(config: dict, rank: int, world_size: int) -> dict:
    """Seconds per DDP training step on `batch_per_rank` samples, with and without the all-reduce.

    "ddp": forward, backward with DDP's gradient all-reduce, SGD step. "no_sync": the same inside
    `ddp_model.no_sync()`, which skips the all-reduce (what gradient accumulation uses between
    updates): the difference is the cost of communication. Each list has `timing_repeat` runs.
    """
    from torch.nn.parallel import DistributedDataParallel

    model, X, y = _model_and_data(config)
    ddp_model = DistributedDataParallel(model)
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=1e-6)  # tiny: the weights barely move
    b = config["batch_per_rank"]
    xb, yb = X[rank * b:(rank + 1) * b], y[rank * b:(rank + 1) * b]

    def step() -> None:
        loss = F.cross_entropy(ddp_model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def step_no_sync() -> None:
        with ddp_model.no_sync():
            step()

    repeat = config["timing_repeat"]
    dist.barrier()
    with_all_reduce = _same_calls_timing(lambda: [step() for _ in range(5)], repeat)
    dist.barrier()
    without = _same_calls_timing(lambda: [step_no_sync() for _ in range(5)], repeat)
    parameters = sum(p.numel() for p in model.parameters())
    return {"ddp": torch.tensor(with_all_reduce) / 5, "no_sync": torch.tensor(without) / 5,
            "gradient_bytes": parameters * model[0].weight.element_size()}


def all_reduce_times(config: dict, rank: int, world_size: int) -> dict:
    """Seconds per all_reduce (sum) of a float32 tensor, for each size in `all_reduce_sizes`.

    Returns sizes (K,) in numbers and seconds (K, timing_repeat): up to 10 calls per run for
    small messages, so that a run lasts long enough to measure.
    """
    sizes = [int(n) for n in config["all_reduce_sizes"]]
    seconds = []
    for n in sizes:
        tensor = torch.ones(n)
        calls = max(1, min(10, 2**22 // n))  # about 4M numbers per run, 1 to 10 calls
        dist.barrier()
        runs = _same_calls_timing(lambda: [dist.all_reduce(tensor) for _ in range(calls)], config["timing_repeat"])
        seconds.append([t / calls for t in runs])
    total = torch.ones(4) * (rank + 1)
    dist.all_reduce(total)  # sum over ranks of (rank + 1): the check that all_reduce sums
    return {"sizes": torch.tensor(sizes), "seconds": torch.tensor(seconds), "check_sum": total}


def gpipe_training(config: dict, rank: int, world_size: int) -> dict:
    """One training step of a two-stage pipeline with torch.distributed.pipelining (GPipe schedule).

    Rank 0 runs model[:split_at], rank 1 model[split_at:]; the first `pipeline_batch` samples are
    cut into `micro_batches` micro-batches. Returns this stage's gradients (name -> tensor) and,
    on the last stage, the outputs (pipeline_batch, d_L) and the loss of each micro-batch. Then
    seconds per step (forward and backward, no optimizer) for each count in `micro_batches_timed`.
    """
    from torch.distributed.pipelining import PipelineStage, ScheduleGPipe

    if world_size != 2:
        raise ValueError(f"gpipe_training runs two stages, one per rank: launch it with nprocs=2, not {world_size}")
    model, X, y = _model_and_data(config)
    stage_module = split_stages(model, config["split_at"])[rank]
    xb, yb = X[:config["pipeline_batch"]], y[:config["pipeline_batch"]]

    def pipeline_step(micro_batches: int) -> Callable[[], object]:
        stage = PipelineStage(stage_module, stage_index=rank, num_stages=world_size, device=torch.device("cpu"))
        # the mean loss of each micro-batch; scale_grads=True divides the summed gradients by M,
        # which makes them the gradients of the mean loss over the whole batch
        schedule = ScheduleGPipe(stage, n_microbatches=micro_batches, loss_fn=F.cross_entropy, scale_grads=True)
        if rank == 0:
            return lambda: schedule.step(xb)
        losses: list = []
        return lambda: (losses.clear(), schedule.step(target=yb, losses=losses), list(losses))

    stage_module.zero_grad()
    result = pipeline_step(config["micro_batches"])()
    out: dict = {"grads": {name: p.grad.detach().clone() for name, p in stage_module.named_parameters()}}
    if rank == world_size - 1:
        _, outputs, losses = result
        out["outputs"] = outputs.detach().clone()
        out["losses"] = torch.stack([loss.detach() for loss in losses])
    times = {}
    for m in config["micro_batches_timed"]:
        step = pipeline_step(int(m))
        dist.barrier()
        times[int(m)] = torch.tensor(_same_calls_timing(lambda: (stage_module.zero_grad(), step()),
                                                        config["timing_repeat"]))
    out["step_seconds"] = times
    return out


def worker_dies(config: dict, rank: int, world_size: int) -> dict:
    """Rank `die_rank` ends before an all_reduce that every other rank waits in."""
    if rank == config["die_rank"]:
        time.sleep(0.5)  # let the others reach the all_reduce first
        if config["die_how"] == "raise":
            raise RuntimeError(f"rank {rank} fails on purpose (worker_dies, die_how='raise')")
        os._exit(3)  # like a crash: no exception, no clean-up
    tensor = torch.ones(4)
    dist.all_reduce(tensor)
    return {"reduced": tensor}


def straggler(config: dict, rank: int, world_size: int) -> dict:
    """Rank `straggler_rank` sleeps `sleep_s` seconds before an all_reduce that the others wait in."""
    if rank == config["straggler_rank"]:
        time.sleep(config["sleep_s"])
    tensor = torch.ones(4)
    dist.all_reduce(tensor)
    return {"reduced": tensor}


TASKS: dict[str, Callable[[dict, int, int], dict]] = {
    "ddp_training": ddp_training,
    "ddp_step_times": ddp_step_times,
    "all_reduce_times": all_reduce_times,
    "gpipe_training": gpipe_training,
    "worker_dies": worker_dies,
    "straggler": straggler,
}


def run_worker(tasks: Sequence[str], config: dict, out_dir: Path) -> None:
    """The body of one worker process: join the group, run the tasks, save the results, leave.

    Reads RANK and WORLD_SIZE (and MASTER_ADDR, MASTER_PORT) from the environment, as torchrun
    sets them. Writes out_dir/rank<r>.pt, or out_dir/rank<r>.error with the traceback, then re-raises.
    """
    started = time.perf_counter()
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    config = _config(config)
    torch.set_num_threads(config["threads"])
    timeout = datetime.timedelta(seconds=config["collective_timeout_s"])
    try:
        dist.init_process_group("gloo", rank=rank, world_size=world_size, timeout=timeout)
        joined = time.perf_counter()
        try:
            results, seconds = {}, {}
            for name in tasks:
                start = time.perf_counter()
                results[name] = TASKS[name](config, rank, world_size)
                seconds[name] = time.perf_counter() - start
            results["task_seconds"] = seconds
            results["start_seconds"] = joined - started
        finally:
            dist.destroy_process_group()
        torch.save(results, out_dir / f"rank{rank}.pt")
    except BaseException:
        (out_dir / f"rank{rank}.error").write_text(traceback.format_exc())
        raise


# --- the launcher, run in the notebook -------------------------------------------------------------

class WorkerFailed(RuntimeError):
    """A distributed job ended without every worker's result (a worker raised, died or timed out)."""


@dataclass
class Launch:
    """What `launch` returns: results[r] is rank r's dict task name -> what the task returned."""

    results: list[dict]
    seconds: float
    log: str = field(repr=False)


def _tail(text: str, lines: int = 25) -> str:
    """torchrun's failure report when the log has one, else the last `lines` lines."""
    report = text.find("Root Cause (first observed failure)")
    if report >= 0:
        return text[report:].strip()
    return "\n".join(text.strip().splitlines()[-lines:])


def exit_codes(log: str) -> dict[int, int]:
    """rank -> exit code from torchrun's failure report ('rank : 1 (local_rank: 1)', 'exitcode : 3 ...').

    Negative codes are signals: -15 is SIGTERM, which torchrun sends to the surviving workers when
    one has failed. Ranks that the report does not name are missing from the dict.
    """
    codes = {}
    for match in re.finditer(r"rank\s*:\s*(\d+).*?\n\s*exitcode\s*:\s*(-?\d+)", log):
        codes[int(match.group(1))] = int(match.group(2))
    return codes


def first_failure(log: str) -> int | None:
    """The rank that torchrun's report names as the root cause (the first observed failure), or None."""
    match = re.search(r"Root Cause \(first observed failure\):.*?rank\s*:\s*(\d+)", log, flags=re.S)
    return int(match.group(1)) if match else None


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "its exit code is not in the launcher's report"
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
        if code == -signal.SIGTERM:
            return f"stopped by the launcher with {name} after another worker failed"
        return f"killed by {name}"
    return f"exit code {code}: it crashed or exited without a Python error"


def _stop_process_group(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL, to the session that `launch` started (torchrun and its workers)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


def launch(tasks: Sequence[str], *, nprocs: int = 2, config: dict | None = None, timeout_s: float = 120.0) -> Launch:
    """Run the named tasks in `nprocs` worker processes with torchrun; return every rank's results.

    tasks: names from TASKS, run in this order in one process group (starting processes costs
        seconds; several tasks per launch pay it once). config: overrides of DEFAULT_CONFIG.
    timeout_s: the most seconds to wait for the whole job; then every process it started is stopped
        and TimeoutError is raised. A job in which a worker fails raises WorkerFailed.
    Needs a POSIX system (Linux, macOS, Colab): the job runs in its own session so that it can be
    stopped as a whole.
    """
    if isinstance(tasks, str) or not isinstance(tasks, Sequence) or not tasks:
        raise ValueError(f"tasks must be a non-empty list of task names from {sorted(TASKS)}, got {tasks!r}")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {unknown}; the tasks are {sorted(TASKS)}")
    if isinstance(nprocs, bool) or not isinstance(nprocs, int) or not 1 <= nprocs <= 64:
        raise ValueError(f"nprocs must be an integer in 1..64, got {nprocs!r}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not 0 < timeout_s < math.inf:
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    config = dict(config or {})
    unknown = sorted(set(config) - set(DEFAULT_CONFIG))
    if unknown:
        raise ValueError(f"unknown config key(s) {unknown}; the keys are {sorted(DEFAULT_CONFIG)}")
    if _config(config)["dtype"] not in DTYPES:
        raise ValueError(f"config['dtype'] must be one of {sorted(DTYPES)}, got {config['dtype']!r}")

    with tempfile.TemporaryDirectory(prefix="course_distributed_") as scratch:
        out_dir = Path(scratch)
        (out_dir / "config.json").write_text(json.dumps(config))
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nprocs}",
                   "--max-restarts=0", "-m", "course_utils.distributed", "--tasks", ",".join(tasks),
                   "--config", str(out_dir / "config.json"), "--out", str(out_dir)]
        env = dict(os.environ, OMP_NUM_THREADS=str(_config(config)["threads"]),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                cwd=ROOT, start_new_session=True)
        try:
            log, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _stop_process_group(proc)
            log, _ = proc.communicate()
            raise TimeoutError(f"the job {list(tasks)} did not finish within timeout_s={timeout_s} s; all of its "
                               f"processes were stopped. The end of its log:\n{_tail(log)}") from None
        seconds = time.perf_counter() - start
        results, problems, codes = [], [], exit_codes(log)
        for rank in range(nprocs):
            result_file, error_file = out_dir / f"rank{rank}.pt", out_dir / f"rank{rank}.error"
            if error_file.exists():
                last = error_file.read_text().strip().splitlines()[-1]
                problems.append(f"rank {rank} raised {last}")
            elif not result_file.exists():
                problems.append(f"rank {rank} ended without a result ({_describe_exit(codes.get(rank))})")
            else:
                results.append(torch.load(result_file, weights_only=True))
        if problems or proc.returncode != 0:
            first = first_failure(log)
            problems.sort(key=lambda text: not text.startswith(f"rank {first} "))  # the root cause first
            summary = "; ".join(problems) or f"the launcher exited with code {proc.returncode}"
            raise WorkerFailed(f"the job {list(tasks)} failed after {seconds:.1f} s: {summary}.\n"
                               f"The end of the launcher's log:\n{_tail(log)}")
    return Launch(results=results, seconds=seconds, log=log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A worker of a course_utils.distributed job (started by torchrun).")
    parser.add_argument("--tasks", required=True, help="comma-separated task names")
    parser.add_argument("--config", required=True, help="a JSON file of config overrides")
    parser.add_argument("--out", required=True, help="the folder for rank<r>.pt and rank<r>.error")
    args = parser.parse_args(argv)
    run_worker(args.tasks.split(","), json.loads(Path(args.config).read_text()), Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
