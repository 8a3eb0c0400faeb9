"""course_utils.plots: the style applies, and figures draw what they are given."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import plots  # noqa: E402
from course_utils.bench import Timing  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_use_course_style_sets_the_palette_and_grid():
    plots.use_course_style()
    assert plt.rcParams["axes.grid"] is True
    assert plt.rcParams["axes.prop_cycle"].by_key()["color"][0] == plots.COLORS[0]


def test_plot_training_curves_draws_one_labelled_line_per_entry():
    ax = plots.plot_training_curves({"train": [3, 2, 1], "val": [3.5, 2.5, 2.0]}, ylabel="loss", title="t")
    assert [line.get_label() for line in ax.get_lines()] == ["train", "val"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    assert ax.get_ylabel() == "loss" and ax.get_legend() is not None


def test_plot_training_curves_against_seconds_and_bad_input():
    ax = plots.plot_training_curves({"sgd": [1.0, 0.5]}, x=[0.1, 0.2], xlabel="seconds", logy=True)
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [0.1, 0.2])
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="x has 3 values"):
        plots.plot_training_curves({"sgd": [1.0, 0.5]}, x=[1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        plots.plot_training_curves({})


def test_plot_timings_draws_medians_in_the_chosen_unit():
    ax = plots.plot_timings({"a": Timing((0.002,), 1), "b": Timing((0.001,), 1)}, unit="ms")
    widths = [patch.get_width() for patch in ax.patches]
    np.testing.assert_allclose(widths, [2.0, 1.0])
    assert "ms" in ax.get_xlabel()
    with pytest.raises(ValueError, match="unit"):
        plots.plot_timings({"a": Timing((1.0,), 1)}, unit="minutes")


def test_show_images_accepts_flat_square_images_and_checks_labels():
    axes = plots.show_images(np.zeros((12, 784)), labels=list(range(12)), ncols=5)
    assert axes.shape == (3, 5)
    assert axes[0, 1].get_title() == "1"
    with pytest.raises(ValueError, match="not square"):
        plots.show_images(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="3 labels for 2 images"):
        plots.show_images(np.zeros((2, 4, 4)), labels=[1, 2, 3])
