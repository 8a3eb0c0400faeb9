"""course_utils.explore: the explorer redraws its image when a control moves."""
import ipywidgets as widgets
import pytest

from course_utils.explore import explorer, render_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def draw_line(fig, slope, label="x"):
    ax = fig.subplots()
    ax.plot([0, 1], [0, slope], label=label)
    ax.set_title(f"slope {slope}")


def test_render_png_draws_into_a_figure_of_the_given_size():
    png = render_png(draw_line, {"slope": 2.0}, figsize=(4, 3), dpi=50)
    assert png.startswith(PNG_MAGIC)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (200, 150)


def test_explorer_draws_at_once_and_redraws_on_change():
    calls = []

    def draw(fig, slope, label):
        calls.append((slope, label))
        draw_line(fig, slope, label)

    slope = widgets.FloatSlider(value=1.0, min=0, max=3)
    label = widgets.Dropdown(options=["a", "b"], value="a")
    box = explorer(draw, slope=slope, label=label)
    image = box.children[-1]
    first = bytes(image.value)  # ipywidgets stores the bytes as a memoryview
    assert first.startswith(PNG_MAGIC) and calls == [(1.0, "a")]
    slope.value = 2.5
    assert calls[-1] == (2.5, "a") and bytes(image.value) != first
    label.value = "b"
    assert calls[-1] == (2.5, "b")
    assert list(box.children[0].children) == [slope, label]


def test_explorer_rejects_missing_or_bad_controls():
    with pytest.raises(ValueError, match="at least one control"):
        explorer(draw_line)
    with pytest.raises(TypeError, match="control 'slope'"):
        explorer(draw_line, slope=3.0)
