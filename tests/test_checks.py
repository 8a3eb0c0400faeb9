"""course_utils.checks: check_close passes what is close, and explains what is not."""
import numpy as np
import pytest
import torch

from course_utils.checks import check_between, check_close, rel_error, to_numpy


def test_check_close_passes_and_returns_the_max_relative_error():
    err = check_close("same", np.array([1.0, 2.0]), np.array([1.0, 2.0 * (1 + 1e-9)]), rtol=1e-6)
    assert 0 < err == pytest.approx(1e-9, rel=1e-3)
    assert check_close("identical", np.eye(3), np.eye(3), rtol=0) == 0.0


def test_check_close_failure_names_the_check_the_error_the_worst_index_and_the_hint():
    got = np.zeros((4, 8))
    expected = np.zeros((4, 8))
    got[3, 7], expected[3, 7] = 0.4121, 0.4258
    with pytest.raises(AssertionError) as info:
        check_close("Adam after 100 steps", got, expected, rtol=1e-6, hint="Did you apply bias correction?")
    message = str(info.value)
    assert message.startswith("Adam after 100 steps: max relative error 3.2e-02 > rtol=1e-06")
    assert "worst at index (3, 7): 0.4121 vs 0.4258" in message
    assert message.endswith("Did you apply bias correction?")


def test_atol_covers_values_near_zero():
    check_close("near zero", np.array([1e-12]), np.array([0.0]), rtol=1e-6, atol=1e-10)
    with pytest.raises(AssertionError, match="atol"):
        check_close("near zero", np.array([1e-8]), np.array([0.0]), rtol=1e-6, atol=1e-10)


def test_shape_mismatch_is_an_error_not_a_broadcast():
    with pytest.raises(AssertionError, match=r"shape \(3,\) does not match the expected shape \(3, 1\)"):
        check_close("shapes", np.zeros(3), np.zeros((3, 1)))


def test_non_finite_values_must_match():
    with pytest.raises(AssertionError, match="got nan at index \\(1,\\)"):
        check_close("nan", np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError, match="non-finite"):
        check_close("inf", np.array([1.0, 5.0]), np.array([1.0, np.inf]))
    check_close("matching non-finite values", np.array([np.nan, np.inf]), np.array([np.nan, np.inf]))


def test_check_close_accepts_tensors_and_numbers():
    t = torch.tensor([1.0, 2.0], requires_grad=True) * 2
    check_close("torch tensor", t, np.array([2.0, 4.0]))
    check_close("python float", 0.1 + 0.2, 0.3, rtol=1e-12)


def test_check_close_rejects_bad_arguments():
    with pytest.raises(TypeError, match="name"):
        check_close("", 1.0, 1.0)
    with pytest.raises(ValueError, match="rtol and atol"):
        check_close("x", 1.0, 1.0, rtol=-1)


def test_rel_error_is_symmetric_and_floored():
    a, b = np.array([1.0, 100.0]), np.array([1.1, 100.0])
    assert rel_error(a, b) == rel_error(b, a) == pytest.approx(0.1 / 2.1)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([0.0]), np.array([1e-12])) == pytest.approx(1e-4)  # floor 1e-8


def test_to_numpy_detaches_tensors():
    x = torch.ones(2, requires_grad=True)
    assert isinstance(to_numpy(x * 3), np.ndarray) and to_numpy(x * 3).tolist() == [3.0, 3.0]


def test_check_between_passes_inside_the_range_and_returns_the_value():
    assert check_between("accuracy", np.float32(0.93), 0.92, 0.95) == pytest.approx(0.93)
    assert check_between("edges count", 0.92, 0.92, 0.95) == 0.92
    assert check_between("a tensor", torch.tensor(0.5), 0.0, 1.0) == 0.5


@pytest.mark.parametrize("value", [0.9199, 0.9501, float("nan"), float("inf"), -float("inf")])
def test_check_between_fails_outside_the_range_and_on_non_finite_values(value):
    with pytest.raises(AssertionError, match="teacher accuracy"):
        check_between("teacher accuracy", value, 0.92, 0.95, hint="Was the teacher trained?")


@pytest.mark.parametrize("low, high", [(0.95, 0.92), (float("nan"), 1.0), (0.0, float("inf"))])
def test_check_between_rejects_bounds_that_make_no_sense(low, high):
    with pytest.raises(ValueError, match="low and high"):
        check_between("x", 0.5, low, high)


def test_check_between_takes_one_number():
    with pytest.raises(ValueError, match="one number"):
        check_between("x", np.array([0.5, 0.6]), 0.0, 1.0)
