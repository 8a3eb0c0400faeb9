"""course_utils.gradcheck: numerical gradients of known functions, wrong gradients caught, x restored."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.gradcheck import check_gradient, numerical_gradient


def random_array(seed: int, shape) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 2)])
def test_quadratic_form_gradient_of_any_shape(shape):
    # f(x) = 1/2 x^T A x + c^T x over the flattened x, with A symmetric: grad = A x + c.
    x = random_array(0, shape)
    n = x.size
    M = random_array(1, (n, n))
    A, c = M + M.T, random_array(2, n)

    def f(x):
        v = x.reshape(-1)
        return 0.5 * v @ A @ v + c @ v

    grad = numerical_gradient(f, x)
    assert grad.shape == x.shape and grad.dtype == x.dtype
    np.testing.assert_allclose(grad.reshape(-1), A @ x.reshape(-1) + c, rtol=1e-7, atol=1e-9)


def test_sin_gradient_is_cos():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sin(v).sum(), x), np.cos(x), atol=1e-9)


def test_central_differences_are_exact_for_quadratics_up_to_round_off():
    # (f(x + h) - f(x - h)) / 2h has no truncation error for a quadratic, even with a large h.
    x = np.array([1.5, -2.0])
    grad = numerical_gradient(lambda v: (v**2).sum(), x, h=0.5)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-14)


def test_softmax_component_gradient():
    # f(z) = log softmax(z)_k has gradient onehot(k) - softmax(z).
    z = random_array(3, 6)
    k = 2

    def f(z):
        return z[k] - np.log(np.exp(z).sum())

    p = np.exp(z) / np.exp(z).sum()
    expected = -p
    expected[k] += 1
    err = check_gradient(f, z, expected, name="d log softmax_k / dz")
    assert 0 <= err < 1e-7


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(1, 5))
def test_check_gradient_accepts_correct_gradients_of_a_smooth_function(seed, rows, cols):
    # f(W) = sum(tanh(x @ W)) for a fixed x: grad = x^T (1 - tanh^2(x @ W)).
    rng = np.random.default_rng(seed)
    x, W = rng.standard_normal((4, rows)), rng.standard_normal((rows, cols))
    grad = x.T @ (1 - np.tanh(x @ W) ** 2)
    assert check_gradient(lambda W: np.tanh(x @ W).sum(), W, grad) <= 1e-6


def test_wrong_gradients_are_caught_with_a_useful_message():
    x = random_array(4, (3, 4))
    f = lambda v: (v**3).sum()  # noqa: E731
    right = 3 * x**2
    assert check_gradient(f, x, right) < 1e-6  # truncation error h^2 = 1e-10 on a gradient as small as 8e-5
    with pytest.raises(AssertionError) as info:
        check_gradient(f, x, -right, name="d sum(x^3) / dx", hint="Check the sign.")
    message = str(info.value)
    assert message.startswith("d sum(x^3) / dx: max relative error 1.0e+00 > rtol=1e-06 (12 of 12 entries off")
    assert "analytic / numerical = -1 there" in message and message.endswith("Check the sign.")
    with pytest.raises(AssertionError, match="analytic / numerical = 0.5 there"):
        check_gradient(f, x, right / 2)


def test_a_single_wrong_entry_is_located():
    x = random_array(5, (2, 3))
    grad = 2 * x
    grad[1, 2] += 1e-3
    with pytest.raises(AssertionError, match=r"1 of 6 entries off; worst at index \(1, 2\)"):
        check_gradient(lambda v: (v**2).sum(), x, grad)


def test_rtol_is_the_threshold():
    x = np.array([1.0, 2.0])
    almost = 2 * x * (1 + 1e-4)  # relative error about 5e-5
    with pytest.raises(AssertionError):
        check_gradient(lambda v: (v**2).sum(), x, almost, rtol=1e-5)
    assert check_gradient(lambda v: (v**2).sum(), x, almost, rtol=1e-4) == pytest.approx(5e-5, rel=1e-3)


def test_x_is_left_exactly_unchanged_and_shifts_are_visible_through_closures():
    x = random_array(6, (4, 5))
    before = x.copy()
    seen = []

    def f(_):
        seen.append(x.sum())  # reads x through the closure, as a loss reads a layer's weights
        return (x**2).sum()

    grad = numerical_gradient(f, x)
    assert np.array_equal(x, before), "x must be restored bit for bit"
    np.testing.assert_allclose(grad, 2 * before, rtol=1e-8)
    assert len(seen) == 2 * x.size and len(set(np.round(seen, 6))) > 1


def test_x_is_restored_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])

    def f(v):
        if v[1] != 2.0:
            raise ZeroDivisionError("probe")
        return v.sum()

    with pytest.raises(ZeroDivisionError):
        numerical_gradient(f, x)
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_float32_round_off_is_visible():
    # Why checks run in float64: the same correct gradient in float32 fails a 1e-6 check.
    x = random_array(7, 10)
    f = lambda v: (np.sin(v) * 100).sum()  # noqa: E731
    assert check_gradient(f, x.copy(), 100 * np.cos(x)) < 1e-6
    x32 = x.astype(np.float32)
    with pytest.raises(AssertionError):
        check_gradient(f, x32, (100 * np.cos(x32)).astype(np.float32), h=1e-5)


def test_bad_inputs_raise_errors_naming_the_argument():
    x = np.ones(3)
    f = lambda v: v.sum()  # noqa: E731
    with pytest.raises(TypeError, match="x must be a NumPy array.*got list"):
        numerical_gradient(f, [1.0, 2.0])
    with pytest.raises(TypeError, match="floating dtype.*int64"):
        numerical_gradient(f, np.arange(3))
    read_only = np.ones(3)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="x must be writeable"):
        numerical_gradient(f, read_only)
    for h in (0, -1e-5, np.inf, "1e-5", True):
        with pytest.raises(ValueError, match="h must be a positive finite step"):
            numerical_gradient(f, x, h=h)
    with pytest.raises(TypeError, match="f must be a callable"):
        numerical_gradient(3.0, x)
    with pytest.raises(ValueError, match=r"f must return a scalar.*shape \(3,\)"):
        numerical_gradient(lambda v: v * 2, x)
    with pytest.raises(ValueError, match=r"analytic_grad must have the shape of x, \(3,\), got \(3, 1\)"):
        check_gradient(f, x, np.ones((3, 1)))
    with pytest.raises(ValueError, match="rtol must be a number >= 0"):
        check_gradient(f, x, np.ones(3), rtol=-1)
    with pytest.raises(TypeError, match="name must be a non-empty string"):
        check_gradient(f, x, np.ones(3), name="")


def test_atol_forgives_round_off_on_small_entries_but_not_real_mistakes():
    # With |f| ~ 1e6, f is resolved only to ~1e-10 (its ulp), so a central difference with h = 1e-5
    # is off by up to ~1e-5 absolutely: far too much for a gradient entry of 2e-3 at rtol 1e-6.
    f = lambda v: 1e6 + (v**2).sum()  # noqa: E731
    x = np.array([1e-3, 1.0])
    right = 2 * x
    with pytest.raises(AssertionError, match=r"> rtol=1e-06 \(1 of 2 entries off; worst at index \(0,\)"):
        check_gradient(f, x, right)
    err = check_gradient(f, x, right, atol=1e-4)
    assert err > 1e-6, "the returned value is still the plain max relative error"
    wrong = right + np.array([0.0, 1e-3])  # a real mistake, larger than the slack
    with pytest.raises(AssertionError, match=r"rtol=1e-06, atol=1e-04 \(1 of 2 entries off; worst at index \(1,\)"):
        check_gradient(f, x, wrong, atol=1e-4)
    with pytest.raises(ValueError, match="atol must be a number >= 0"):
        check_gradient(f, x, right, atol=-1e-9)
