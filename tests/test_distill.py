"""course_utils.distill: the Hinton loss, gradient-checked, equal to PyTorch's kl_div + cross_entropy."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.distill import distillation_loss, soft_loss, soft_targets
from course_utils.gradcheck import check_gradient
from course_utils.nn import softmax_cross_entropy


def logits_pair(seed: int, n: int = 6, c: int = 5, scale: float = 3.0):
    g = np.random.default_rng(seed)
    return g.standard_normal((n, c)) * scale, g.standard_normal((n, c)) * scale, g.integers(0, c, n)


def torch_distillation(z, v, y, temperature, alpha):
    v = torch.from_numpy(v)
    soft = F.kl_div(F.log_softmax(z / temperature, dim=1), F.softmax(v / temperature, dim=1), reduction="batchmean")
    return alpha * temperature**2 * soft + (1 - alpha) * F.cross_entropy(z, torch.from_numpy(y))


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (4.0, 0.9), (10.0, 1.0), (0.5, 0.3)])
def test_gradient_matches_numerical_gradient(temperature, alpha):
    z, v, y = logits_pair(1)
    _, dz = distillation_loss(z, v, y, temperature=temperature, alpha=alpha)
    check_gradient(lambda s: distillation_loss(s, v, y, temperature=temperature, alpha=alpha)[0], z, dz,
                   name=f"distillation dL/dz at T={temperature}, alpha={alpha}")


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), temperature=st.floats(0.5, 20.0), alpha=st.floats(0.0, 1.0))
def test_loss_and_gradient_equal_torch(seed, temperature, alpha):
    z, v, y = logits_pair(seed)
    loss, dz = distillation_loss(z, v, y, temperature=temperature, alpha=alpha)
    zt = torch.from_numpy(z).requires_grad_()
    expected = torch_distillation(zt, v, y, temperature, alpha)
    expected.backward()
    np.testing.assert_allclose(loss, expected.item(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_soft_gradient_is_T_times_difference_of_softened_probabilities():
    z, v, _ = logits_pair(2)
    _, dz = soft_loss(z, v, 3.0)
    expected = 3.0 * (soft_targets(z, 3.0) - soft_targets(v, 3.0)) / z.shape[0]
    np.testing.assert_allclose(dz, expected, rtol=1e-12, atol=1e-15)


def test_soft_loss_is_zero_when_student_equals_teacher_and_positive_otherwise():
    z, v, _ = logits_pair(3)
    loss_same, grad_same = soft_loss(v, v.copy(), 2.0)
    assert abs(loss_same) < 1e-12 and np.abs(grad_same).max() < 1e-15
    assert soft_loss(z, v, 2.0)[0] > 0, "KL divergence between different distributions must be positive"


def test_T_squared_keeps_the_soft_gradient_scale_as_T_grows():
    """For large T, T (p_T - q) tends to the centred logit difference / C: independent of T."""
    z, v, _ = logits_pair(4, n=1, c=5)
    limit = ((z - z.mean()) - (v - v.mean())) / z.shape[1]
    _, grad = soft_loss(z, v, 1e4)
    np.testing.assert_allclose(grad, limit, rtol=1e-3, atol=1e-3 * np.abs(limit).max())
    norms = [np.linalg.norm(soft_loss(z, v, t)[1]) for t in (50.0, 100.0, 200.0)]
    assert max(norms) / min(norms) < 1.01, f"scaled soft gradient should not depend on T for large T, got {norms}"
    unscaled = [n / t**2 for n, t in zip(norms, (50.0, 100.0, 200.0))]
    assert unscaled[0] / unscaled[2] > 15, "without T^2 the gradient should shrink about 16x from T=50 to T=200"


def test_alpha_zero_is_plain_cross_entropy():
    z, v, y = logits_pair(5)
    loss, dz = distillation_loss(z, v, y, temperature=4.0, alpha=0.0)
    ce, dce = softmax_cross_entropy(z, y)
    assert loss == pytest.approx(ce, rel=1e-12)
    np.testing.assert_allclose(dz, dce, rtol=1e-12)


def test_float32_logits_give_a_float32_gradient():
    z, v, y = logits_pair(6)
    _, dz = distillation_loss(z.astype(np.float32), v.astype(np.float32), y, temperature=2.0, alpha=0.5)
    assert dz.dtype == np.float32


@pytest.mark.parametrize("temperature, error", [(0.0, ValueError), (-1.0, ValueError), (float("nan"), ValueError),
                                                (float("inf"), ValueError), ("2", TypeError), (True, TypeError)])
def test_bad_temperature_raises(temperature, error):
    z, v, y = logits_pair(7)
    with pytest.raises(error, match="temperature"):
        distillation_loss(z, v, y, temperature=temperature, alpha=0.5)


@pytest.mark.parametrize("alpha, error", [(-0.1, ValueError), (1.5, ValueError), (float("nan"), ValueError),
                                          (None, TypeError)])
def test_bad_alpha_raises(alpha, error):
    z, v, y = logits_pair(8)
    with pytest.raises(error, match="alpha"):
        distillation_loss(z, v, y, temperature=2.0, alpha=alpha)


def test_mismatched_shapes_raise():
    z, v, y = logits_pair(9)
    with pytest.raises(ValueError, match="same shape"):
        soft_loss(z, v[:, :3], 2.0)
