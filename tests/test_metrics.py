"""course_utils.metrics: accuracy, ECE against a case computed by hand and a brute-force loop; reliability diagrams."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from course_utils import plots  # noqa: E402
from course_utils.metrics import accuracy, expected_calibration_error, reliability_curve  # noqa: E402
from course_utils.nn import softmax  # noqa: E402

# Six predictions over three classes, with the confidence (largest probability) and whether it is right:
HAND_PROBS = np.array([
    [0.90, 0.05, 0.05],  # conf 0.90, predicts 0, label 0: right  -> bin (0.8, 1.0]
    [0.10, 0.85, 0.05],  # conf 0.85, predicts 1, label 1: right  -> bin (0.8, 1.0]
    [0.70, 0.20, 0.10],  # conf 0.70, predicts 0, label 2: wrong  -> bin (0.6, 0.8]
    [0.25, 0.65, 0.10],  # conf 0.65, predicts 1, label 1: right  -> bin (0.6, 0.8]
    [0.50, 0.30, 0.20],  # conf 0.50, predicts 0, label 0: right  -> bin (0.4, 0.6]
    [0.95, 0.03, 0.02],  # conf 0.95, predicts 0, label 1: wrong  -> bin (0.8, 1.0]
])
HAND_LABELS = np.array([0, 1, 2, 1, 0, 1])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def random_probs(seed: int, n: int, c: int, sharpness: float = 3.0) -> np.ndarray:
    g = np.random.default_rng(seed)
    return softmax(g.standard_normal((n, c)) * sharpness)


def brute_force_ece(probs: np.ndarray, y: np.ndarray, n_bins: int) -> float:
    """ECE with a loop over the bins, straight from the definition: bin m = ((m - 1) / M, m / M]."""
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == y
    total = 0.0
    for m in range(1, n_bins + 1):
        low, high = (m - 1) / n_bins, m / n_bins
        members = [i for i in range(len(y)) if low < confidence[i] <= high or (m == 1 and confidence[i] == 0)]
        if members:
            gap = abs(np.mean(correct[members]) - np.mean(confidence[members]))
            total += len(members) / len(y) * gap
    return total


# ---------------------------------------------------------------- accuracy

def test_accuracy_by_hand_and_the_same_for_logits_and_probabilities():
    assert accuracy(HAND_PROBS, HAND_LABELS) == pytest.approx(4 / 6)
    logits = np.random.default_rng(0).standard_normal((50, 7)) * 2
    labels = np.random.default_rng(1).integers(0, 7, 50)
    assert accuracy(logits, labels) == accuracy(softmax(logits), labels)
    assert accuracy(logits, logits.argmax(axis=1)) == 1.0
    assert isinstance(accuracy(logits, labels), float)


def test_accuracy_breaks_ties_towards_the_lowest_class():
    scores = np.array([[0.5, 0.5], [0.2, 0.8]])
    assert accuracy(scores, np.array([0, 1])) == 1.0
    assert accuracy(scores, np.array([1, 1])) == 0.5


# ---------------------------------------------------------------- ECE

def test_ece_of_a_small_case_computed_by_hand():
    # Five bins of width 0.2. Three filled ones:
    #   (0.8, 1.0]: rows 0, 1, 5 -> accuracy 2/3, mean confidence (0.90 + 0.85 + 0.95) / 3 = 0.90
    #   (0.6, 0.8]: rows 2, 3    -> accuracy 1/2, mean confidence (0.70 + 0.65) / 2 = 0.675
    #   (0.4, 0.6]: row 4        -> accuracy 1,   mean confidence 0.50
    by_hand = 3 / 6 * abs(2 / 3 - 0.90) + 2 / 6 * abs(1 / 2 - 0.675) + 1 / 6 * abs(1 - 0.50)
    assert by_hand == pytest.approx(0.258333333, abs=1e-9)
    assert expected_calibration_error(HAND_PROBS, HAND_LABELS, n_bins=5) == pytest.approx(by_hand, rel=1e-12)


def test_reliability_curve_of_the_hand_case():
    curve = reliability_curve(HAND_PROBS, HAND_LABELS, n_bins=5)
    np.testing.assert_allclose(curve.edges, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(curve.centers, [0.1, 0.3, 0.5, 0.7, 0.9])
    np.testing.assert_array_equal(curve.counts, [0, 0, 1, 2, 3])
    np.testing.assert_allclose(curve.accuracy, [np.nan, np.nan, 1.0, 0.5, 2 / 3])  # empty bins are NaN
    np.testing.assert_allclose(curve.confidence, [np.nan, np.nan, 0.5, 0.675, 0.9])
    assert curve.ece == expected_calibration_error(HAND_PROBS, HAND_LABELS, n_bins=5)


def test_a_confidence_on_a_bin_edge_belongs_to_the_bin_that_edge_closes():
    # Four bins, (0, 0.25], (0.25, 0.5], (0.5, 0.75], (0.75, 1]: edges that floats represent exactly.
    probs = np.array([[0.5, 0.5, 0.0], [0.75, 0.25, 0.0], [0.25, 0.75, 0.0], [1.0, 0.0, 0.0], [0.4, 0.3, 0.3]])
    curve = reliability_curve(probs, np.array([0, 0, 0, 0, 0]), n_bins=4)
    np.testing.assert_array_equal(curve.counts, [0, 2, 2, 1])  # 0.5 and 0.4 | 0.75 twice | 1.0
    np.testing.assert_allclose(curve.accuracy[1:], [1.0, 0.5, 1.0])  # ties go to class 0; row 2 predicts 1
    np.testing.assert_allclose(curve.confidence[1:], [0.45, 0.75, 1.0])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(2, 10), st.integers(1, 20),
       st.floats(0.1, 10.0))
def test_ece_equals_a_brute_force_loop_and_lies_in_zero_one(seed, n, c, n_bins, sharpness):
    probs = random_probs(seed, n, c, sharpness)
    y = np.random.default_rng(seed + 1).integers(0, c, n)
    ece = expected_calibration_error(probs, y, n_bins)
    assert ece == pytest.approx(brute_force_ece(probs, y, n_bins), rel=1e-9, abs=1e-12)
    assert 0.0 <= ece <= 1.0
    curve = reliability_curve(probs, y, n_bins)
    assert curve.counts.sum() == n and curve.counts.shape == curve.accuracy.shape == (n_bins,)
    order = np.random.default_rng(seed).permutation(n)  # the order of the samples does not matter
    assert expected_calibration_error(probs[order], y[order], n_bins) == pytest.approx(ece, rel=1e-12, abs=1e-15)


def test_ece_extremes_certain_and_right_certain_and_wrong():
    certain = np.eye(4)[[0, 1, 2, 3, 1]]
    assert expected_calibration_error(certain, np.array([0, 1, 2, 3, 1])) == 0.0
    assert expected_calibration_error(certain, np.array([1, 2, 3, 0, 0])) == 1.0


def test_labels_drawn_from_the_predicted_probabilities_give_a_small_ece():
    """A model is calibrated if its labels really occur with the probabilities it predicts."""
    g = np.random.default_rng(2)
    probs = random_probs(3, 100_000, 5, sharpness=2.0)
    y = (probs.cumsum(axis=1) < g.random((len(probs), 1))).sum(axis=1)  # y_i ~ Categorical(probs_i)
    calibrated = expected_calibration_error(probs, y)
    overconfident = expected_calibration_error(softmax(np.log(probs) * 3), y)  # sharper, same argmax
    assert calibrated < 0.01, f"ECE of a calibrated model is {calibrated:.4f}; only sampling noise expected"
    assert overconfident > 0.1


def test_float32_probabilities_are_accepted():
    probs = random_probs(4, 200, 10).astype(np.float32)
    y = np.random.default_rng(5).integers(0, 10, 200)
    assert expected_calibration_error(probs, y) == pytest.approx(
        expected_calibration_error(probs.astype(np.float64), y), abs=1e-6)


# ---------------------------------------------------------------- bad input

def test_probabilities_that_do_not_sum_to_one_are_refused():
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3]])
    with pytest.raises(ValueError, match=r"probs must lie in \[0, 1\], got -1.*softmax\(logits\)"):
        expected_calibration_error(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"row 1 sums to 0.6.*pass softmax\(logits\)"):
        reliability_curve(np.array([[0.2, 0.8], [0.3, 0.3]]), np.array([0, 1]))
    with pytest.raises(ValueError, match="probs must lie in \\[0, 1\\], got 1.5"):
        expected_calibration_error(np.array([[1.5, 0.0]]), np.array([0]))


def test_labels_out_of_range_and_shape_mismatches_are_refused():
    with pytest.raises(ValueError, match=r"labels y must lie in 0..2 for 3 classes, got values from 0 to 3"):
        expected_calibration_error(HAND_PROBS, np.array([0, 1, 2, 1, 0, 3]))
    with pytest.raises(ValueError, match="got values from -1"):
        accuracy(HAND_PROBS, np.array([0, 1, 2, 1, 0, -1]))
    with pytest.raises(ValueError, match=r"labels y must have shape \(6,\) to match probs \(6, 3\), got \(5,\)"):
        reliability_curve(HAND_PROBS, HAND_LABELS[:5])
    with pytest.raises(ValueError, match=r"got \(6, 1\)"):
        accuracy(HAND_PROBS, HAND_LABELS[:, None])
    with pytest.raises(TypeError, match="labels y must be integers 0..2, got dtype float64"):
        expected_calibration_error(HAND_PROBS, HAND_LABELS.astype(float))
    with pytest.raises(ValueError, match=r"probs must have shape \(N, C\) with N, C >= 1, got \(3,\)"):
        expected_calibration_error(np.array([0.2, 0.3, 0.5]), np.array([2]))
    with pytest.raises(ValueError, match=r"shape \(N, C\).*got \(0, 3\)"):
        accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_non_finite_and_non_float_scores_and_bad_bin_counts_are_refused():
    with pytest.raises(ValueError, match=r"probs must be finite, got nan at index \(0, 1\)"):
        expected_calibration_error(np.array([[0.5, np.nan]]), np.array([0]))
    with pytest.raises(TypeError, match="probs_or_logits must be floating point, got int64"):
        accuracy(np.array([[1, 0]]), np.array([0]))
    for bad in (0, -3, 2.5, True, None):
        with pytest.raises(ValueError, match=f"n_bins must be a positive integer, e.g. 15, got {bad!r}"):
            expected_calibration_error(HAND_PROBS, HAND_LABELS, n_bins=bad)


# ---------------------------------------------------------------- the reliability diagram

def test_reliability_diagram_draws_one_bar_per_filled_bin_and_the_gap_to_confidence():
    ax = plots.reliability_diagram(HAND_PROBS, HAND_LABELS, n_bins=5, label="hand case")
    accuracy_bars, gap_bars = ax.containers
    np.testing.assert_allclose([p.get_x() for p in accuracy_bars], [0.4, 0.6, 0.8])  # the filled bins
    np.testing.assert_allclose([p.get_width() for p in accuracy_bars], [0.2, 0.2, 0.2])
    np.testing.assert_allclose([p.get_height() for p in accuracy_bars], [1.0, 0.5, 2 / 3])
    np.testing.assert_allclose([p.get_y() for p in gap_bars], [1.0, 0.5, 2 / 3])  # from the accuracy...
    tops = [p.get_y() + p.get_height() for p in gap_bars]
    np.testing.assert_allclose(tops, [0.5, 0.675, 0.9])  # ...to the mean confidence
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "hand case (ECE = 0.258)" in legend and "perfect calibration" in legend
    diagonal = [line for line in ax.get_lines() if line.get_label() == "perfect calibration"]
    assert len(diagonal) == 1 and list(diagonal[0].get_xdata()) == [0, 1] and list(diagonal[0].get_ydata()) == [0, 1]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() and ax.get_xlim() == (0.0, 1.0)


def test_reliability_diagram_on_given_axes_and_twice_on_the_same_axes():
    fig, ax = plt.subplots()
    probs = random_probs(6, 300, 4)
    y = np.random.default_rng(7).integers(0, 4, 300)
    assert plots.reliability_diagram(probs, y, ax=ax) is ax
    plots.reliability_diagram(HAND_PROBS, HAND_LABELS, n_bins=5, ax=ax, label="second")
    assert sum(line.get_label() == "perfect calibration" for line in ax.get_lines()) == 1
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"ECE = {expected_calibration_error(probs, y):.3f}" in legend and "second (ECE = 0.258)" in legend
    assert legend.count("gap to the mean confidence") == 1
    with pytest.raises(ValueError, match="row 0 sums to"):
        plots.reliability_diagram(np.ones((2, 3)), np.array([0, 1]), ax=ax)
