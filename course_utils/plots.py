"""The course's plot style and the figures that several notebooks draw.

Every function takes an optional matplotlib Axes `ax` to draw into and returns the Axes
it drew on, so figures can be combined with plt.subplots.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib
import numpy as np

from course_utils.bench import format_seconds

# Okabe & Ito's palette: distinguishable with the common forms of colour blindness.
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

COURSE_STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 80,           # keeps notebooks small; figures stay sharp enough on screen
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.frameon": False,
    "axes.prop_cycle": matplotlib.cycler(color=COLORS),
    "image.cmap": "viridis",
}


def use_course_style() -> None:
    """Apply the course style to matplotlib (called by setup_notebook)."""
    import matplotlib.pyplot as plt  # importing pyplot first lets Jupyter's inline backend set itself up

    plt.rcParams.update(COURSE_STYLE)


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot()


def plot_training_curves(history: Mapping[str, Sequence[float]], *, xlabel: str = "epoch",
                         ylabel: str = "loss", title: str | None = None, logy: bool = False,
                         x: Sequence[float] | None = None, ax=None):
    """One line per entry of `history` (name -> values of shape (T,)), against epochs 1..T or `x`.

    x: shared x values of shape (T,), e.g. seconds of wall-clock time instead of epochs.
    """
    if not history:
        raise ValueError("history is empty: pass name -> sequence of values")
    ax = _axes(ax)
    for name, values in history.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 1:
            raise ValueError(f"history[{name!r}] must be 1-D, got shape {values.shape}")
        xs = np.arange(1, len(values) + 1) if x is None else np.asarray(x, dtype=float)
        if len(xs) != len(values):
            raise ValueError(f"x has {len(xs)} values but history[{name!r}] has {len(values)}")
        ax.plot(xs, values, label=name, marker="o" if len(values) <= 20 else None, markersize=3)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(history) > 1:
        ax.legend()
    return ax


def plot_timings(results: Mapping[str, object], *, title: str | None = None, unit: str = "ms",
                 ax=None):
    """Horizontal bars of median times with half-IQR error bars, one bar per bench.Timing."""
    scale = {"s": 1.0, "ms": 1e3, "us": 1e6, "µs": 1e6, "ns": 1e9}
    if unit not in scale:
        raise ValueError(f"unit must be one of {sorted(scale)}, got {unit!r}")
    if not results:
        raise ValueError("results is empty: pass name -> Timing")
    ax = _axes(ax)
    names = list(results)
    medians = np.array([results[n].median for n in names]) * scale[unit]
    spreads = np.array([results[n].iqr / 2 for n in names]) * scale[unit]
    ax.barh(names, medians, xerr=spreads, color=[COLORS[i % len(COLORS)] for i in range(len(names))])
    for i, name in enumerate(names):  # the value at each bar's end, so a tiny bar still reads
        ax.annotate(f" {format_seconds(results[name].median)}", (medians[i] + spreads[i], i),
                    va="center", fontsize=9)
    ax.set_xlim(0, (medians + spreads).max() * 1.25)
    ax.invert_yaxis()
    ax.set_xlabel(f"time per call ({unit}, median of runs)")
    ax.grid(axis="y", visible=False)
    if title:
        ax.set_title(title)
    return ax


def show_images(images: np.ndarray, labels: Sequence | None = None, *, ncols: int = 10,
                title: str | None = None, size: float = 0.9):
    """A grid of grayscale images. images: (N, H, W) or (N, H*W) for square images; labels: (N,)."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"flat images of shape {images.shape} are not square; pass (N, H, W)")
        images = images.reshape(len(images), side, side)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"images must have shape (N, H, W) with N >= 1, got {images.shape}")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"got {len(labels)} labels for {len(images)} images")
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray_r")
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return axes


def reliability_diagram(probs: np.ndarray, y: np.ndarray, *, n_bins: int = 15, ax=None,
                        label: str | None = None):
    """Accuracy per confidence bin as bars, against the diagonal of perfect calibration.

    probs: (N, C) class probabilities (rows sum to 1); y: (N,) integer labels; n_bins: M
    equal-width confidence bins (see course_utils.metrics). Each non-empty bin gets a bar of
    height acc(B_m) spanning the bin (in the Axes' next colour), and a hatched orange bar from
    acc(B_m) to the bin's mean confidence conf(B_m): the gap that the expected calibration error
    (ECE) averages. Bars below
    the diagonal mean overconfidence, bars above it underconfidence. The legend gives the ECE,
    after `label` when one is given. Returns the Axes.
    """
    from course_utils.metrics import reliability_curve

    curve = reliability_curve(probs, y, n_bins)
    ax = _axes(ax)
    filled = curve.counts > 0
    left, width = curve.edges[:-1][filled], np.diff(curve.edges)[filled]
    accuracy, confidence = curve.accuracy[filled], curve.confidence[filled]
    text = f"ECE = {curve.ece:.3f}" if label is None else f"{label} (ECE = {curve.ece:.3f})"
    ax.bar(left, accuracy, width=width, align="edge", edgecolor="white", linewidth=0.5, label=text, zorder=2)
    gap_label = "gap to the mean confidence"
    ax.bar(left, confidence - accuracy, bottom=accuracy, width=width, align="edge", color=(0.84, 0.37, 0.0, 0.25),
           edgecolor=COLORS[3], hatch="///", linewidth=0.5, zorder=3,
           label="_gap" if gap_label in ax.get_legend_handles_labels()[1] else gap_label)
    if not any(line.get_gid() == "perfect calibration" for line in ax.get_lines()):
        ax.plot([0, 1], [0, 1], ls="--", color="0.25", lw=1, label="perfect calibration", gid="perfect calibration",
                zorder=4)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (largest class probability)")
    ax.set_ylabel("accuracy in the bin")
    if not ax.get_title():
        ax.set_title(f"Reliability diagram ({n_bins} bins)")
    ax.legend(loc="upper left", fontsize=9)
    return ax
