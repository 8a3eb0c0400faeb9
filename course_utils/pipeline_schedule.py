"""Pipeline parallelism on paper: a simulator of GPipe and 1F1B schedules, and the bubble they leave.

    timeline = simulate_schedule(stages=4, micro_batches=8)        # GPipe, backward twice the forward
    timeline.bubble                                                # idle fraction of the stages' time
    bubble_fraction(4, 8)                                          # (S - 1) / (M + S - 1) = 3/11
    draw_timeline(timeline, ax)                                    # one row per stage

The model is cut into S stages, one per device, and each batch into M micro-batches. Stage s can run
the forward pass of micro-batch m only after stage s - 1 has, and the backward pass of micro-batch m
only after stage s + 1 has (and after its own forward of m). With every stage taking t_f for a
forward and t_b for a backward of one micro-batch, GPipe (all forwards, then all backwards) takes

    T = (M + S - 1) (t_f + t_b)

while each stage works M (t_f + t_b) of it, so the fraction of stage-time spent idle, the bubble, is

    bubble = 1 - M (t_f + t_b) / T = (S - 1) / (M + S - 1).

More micro-batches shrink the bubble; they cost memory, because a stage keeps the activations of
every micro-batch whose backward pass it has not yet run: all M of them in GPipe. The 1F1B schedule
(one forward, one backward, after a warm-up of S - 1 - s forwards on stage s) has the same bubble
but holds at most S - s micro-batches on stage s. `simulate_schedule` plays either schedule task by
task from these dependencies alone, so the formula can be checked against it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SCHEDULES = ("gpipe", "1f1b")


@dataclass(frozen=True)
class Task:
    """One forward ("F") or backward ("B") pass of one micro-batch on one stage, from start to end seconds."""

    stage: int
    micro_batch: int
    kind: str
    start: float
    end: float


@dataclass(frozen=True)
class Timeline:
    """Every task of one training step of a pipeline: 2 * stages * micro_batches of them."""

    stages: int
    micro_batches: int
    schedule: str
    tasks: tuple[Task, ...]

    @property
    def makespan(self) -> float:
        """Seconds from the first forward to the last backward."""
        return max(t.end for t in self.tasks)

    @property
    def busy(self) -> np.ndarray:
        """Seconds each stage spends working, shape (stages,)."""
        busy = np.zeros(self.stages)
        for t in self.tasks:
            busy[t.stage] += t.end - t.start
        return busy

    @property
    def bubble(self) -> float:
        """Idle fraction of the stages' time: 1 - sum(busy) / (stages * makespan)."""
        return float(1 - self.busy.sum() / (self.stages * self.makespan))

    @property
    def in_flight(self) -> np.ndarray:
        """Most micro-batches whose activations each stage holds at once, shape (stages,).

        A micro-batch's activations are held on a stage from the end of its forward pass there to
        the end of its backward pass there.
        """
        peak = np.zeros(self.stages, dtype=int)
        for s in range(self.stages):
            events = sorted((t.end, 1 if t.kind == "F" else -1) for t in self.tasks if t.stage == s)
            held = 0
            for _, change in events:  # at equal times a backward's release (-1) sorts before a forward's +1
                held += change
                peak[s] = max(peak[s], held)
        return peak


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_seconds(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return float(value)


def bubble_fraction(stages: int, micro_batches: int) -> float:
    """(S - 1) / (M + S - 1): the idle fraction of a GPipe or 1F1B step with equal stages."""
    s, m = _check_count("stages", stages), _check_count("micro_batches", micro_batches)
    return (s - 1) / (m + s - 1)


def stage_order(stages: int, micro_batches: int, stage: int, schedule: str = "gpipe") -> list[tuple[str, int]]:
    """The order in which one stage runs its tasks: a list of (kind, micro_batch), kind "F" or "B".

    gpipe: F0, F1, ..., F(M-1), then B0, ..., B(M-1) (torch.distributed.pipelining's order).
    1f1b: w = min(S - 1 - stage, M) warm-up forwards, then alternately one forward and one backward,
    then the w backwards left.
    """
    s, m = _check_count("stages", stages), _check_count("micro_batches", micro_batches)
    if isinstance(stage, bool) or not isinstance(stage, (int, np.integer)) or not 0 <= stage < s:
        raise ValueError(f"stage must be an integer in 0..{s - 1}, got {stage!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if schedule == "gpipe":
        return [("F", i) for i in range(m)] + [("B", i) for i in range(m)]
    warmup = min(s - 1 - stage, m)
    order = [("F", i) for i in range(warmup)]
    for i in range(m - warmup):
        order += [("F", warmup + i), ("B", i)]
    return order + [("B", i) for i in range(m - warmup, m)]


def simulate_schedule(stages: int, micro_batches: int, *, schedule: str = "gpipe", forward_s: float = 1.0,
                      backward_s: float = 2.0) -> Timeline:
    """Play one training step of an S-stage pipeline; return the timeline of its 2 S M tasks.

    Each stage runs its tasks in `stage_order`, each as early as its dependencies allow: F(s, m)
    after F(s - 1, m); B(s, m) after F(s, m) and B(s + 1, m). forward_s, backward_s: seconds of one
    micro-batch's forward and backward pass on any stage (sending activations is taken as free).
    """
    s, m = _check_count("stages", stages), _check_count("micro_batches", micro_batches)
    duration = {"F": _check_seconds("forward_s", forward_s), "B": _check_seconds("backward_s", backward_s)}
    orders = [stage_order(s, m, stage, schedule) for stage in range(s)]
    done: dict[tuple[str, int, int], float] = {}  # (kind, stage, micro-batch) -> end time
    free = [0.0] * s  # when each stage finishes its current task
    position = [0] * s  # index of each stage's next task in its order
    tasks: list[Task] = []
    while len(tasks) < 2 * s * m:
        progressed = False
        for stage in range(s):
            while position[stage] < len(orders[stage]):
                kind, mb = orders[stage][position[stage]]
                needs = [("F", stage - 1, mb)] if kind == "F" and stage > 0 else []
                if kind == "B":
                    needs.append(("F", stage, mb))
                    if stage < s - 1:
                        needs.append(("B", stage + 1, mb))
                if any(need not in done for need in needs):
                    break
                start = max([free[stage]] + [done[need] for need in needs])
                end = start + duration[kind]
                done[(kind, stage, mb)] = free[stage] = end
                tasks.append(Task(stage, mb, kind, start, end))
                position[stage] += 1
                progressed = True
        if not progressed:  # cannot happen with the two schedules above; guards changes to stage_order
            raise RuntimeError(f"the {schedule} order deadlocks with {s} stages and {m} micro-batches")
    return Timeline(stages=s, micro_batches=m, schedule=schedule, tasks=tuple(tasks))


def draw_timeline(timeline: Timeline, ax, *, title: str | None = None, numbers: bool = True):
    """One row per stage (stage 0 on top): forward passes in blue, backward passes in orange.

    numbers: write each micro-batch's number in its box (leave off for many micro-batches).
    The white gaps are the bubble. Returns the Axes.
    """
    if not isinstance(timeline, Timeline):
        raise TypeError(f"timeline must be a Timeline from simulate_schedule, got {type(timeline).__name__}")
    colors = {"F": "#0072B2", "B": "#E69F00"}
    for t in timeline.tasks:
        ax.broken_barh([(t.start, t.end - t.start)], (t.stage - 0.4, 0.8), facecolors=colors[t.kind],
                       edgecolor="white", linewidth=0.8)
        if numbers:
            ax.text((t.start + t.end) / 2, t.stage, str(t.micro_batch), ha="center", va="center",
                    color="white", fontsize=8)
    for kind, label in (("F", "forward"), ("B", "backward")):
        ax.broken_barh([], (0, 0), facecolors=colors[kind], label=label)
    ax.set_yticks(range(timeline.stages), [f"stage {s}" for s in range(timeline.stages)])
    ax.set_ylim(timeline.stages - 0.5, -0.5)
    ax.set_xlim(0, timeline.makespan)
    ax.set_xlabel("time (units of one micro-batch's forward pass)")
    ax.grid(axis="y", visible=False)
    s, m = timeline.stages, timeline.micro_batches
    ax.set_title(title or f"{timeline.schedule}: {s} stage{'s' * (s != 1)}, {m} micro-batch{'es' * (m != 1)}, "
                          f"bubble {timeline.bubble:.0%}")
    return ax
