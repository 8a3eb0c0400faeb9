"""Interactive explorers: sliders that redraw a matplotlib figure.

    explorer(draw, lr=widgets.FloatSlider(...), steps=widgets.IntSlider(...))

`draw(fig, **values)` draws into a fresh matplotlib Figure whenever a control changes. The
figure is rendered to PNG and shown in an `ipywidgets.Image`, not through the notebook's
inline backend, so that

- the picture is part of the widget's state: it shows in JupyterLab, in Colab, and in a
  saved notebook or static HTML page (which keep the last rendered image);
- the cell's own output is the widget alone, the same in every front end and in nbval.
"""
from __future__ import annotations

import io
from typing import Callable

import ipywidgets as widgets
from matplotlib.figure import Figure


def render_png(draw: Callable[..., None], values: dict, *, figsize: tuple[float, float], dpi: int = 80) -> bytes:
    """Call draw(fig, **values) on a new Figure of `figsize` inches and return the PNG bytes."""
    fig = Figure(figsize=figsize, dpi=dpi)  # not pyplot: nothing reaches the inline backend
    draw(fig, **values)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def explorer(draw: Callable[..., None], *, figsize: tuple[float, float] = (9.0, 3.2), dpi: int = 80,
             **controls: widgets.ValueWidget) -> widgets.VBox:
    """Controls above a figure that `draw(fig, **values)` redraws whenever a control changes.

    controls: name -> an ipywidgets control with a `.value` (FloatSlider, IntSlider, Dropdown...);
    the names are the keyword arguments `draw` receives. Returns the widget to display; its
    `.children[-1]` is the Image holding the current PNG.
    """
    if not controls:
        raise ValueError("explorer needs at least one control, e.g. lr=widgets.FloatSlider(...)")
    for name, control in controls.items():
        if not hasattr(control, "value") or not hasattr(control, "observe"):
            raise TypeError(f"control {name!r} must be an ipywidgets control with a value, got {type(control).__name__}")
    image = widgets.Image(format="png")

    def redraw(_change=None) -> None:
        values = {name: control.value for name, control in controls.items()}
        image.value = render_png(draw, values, figsize=figsize, dpi=dpi)

    for control in controls.values():
        control.observe(redraw, names="value")
        style = getattr(control, "style", None)
        if style is not None and getattr(style, "description_width", None) == "":
            style.description_width = "initial"  # show the whole label, not "learning r..."
    redraw()
    row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
    return widgets.VBox([row, image])
