"""softmax_cross_entropy(label_smoothing=eps): the frameworks' definition, gradient-checked, equal to torch, Keras."""
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.env import import_tensorflow
from course_utils.gradcheck import check_gradient
from course_utils.nn import log_softmax, softmax, softmax_cross_entropy

seeds = st.integers(0, 2**32 - 1)
epsilons = st.floats(0.0, 1.0)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def smoothed_targets(labels: np.ndarray, c: int, eps: float) -> np.ndarray:
    """The frameworks' targets written out: (1 - eps) one-hot + eps / C; shape (N, C)."""
    return (1 - eps) * np.eye(c)[labels] + eps / c


# ---------------------------------------------------------------- gradient checks (float64)

@pytest.mark.parametrize("eps", [0.05, 0.1, 0.5, 1.0])
def test_smoothed_loss_gradient_matches_numerical_one_for_labels(eps):
    g = rng(1)
    logits, labels = g.standard_normal((5, 4)) * 2, g.integers(0, 4, 5)
    _, dlogits = softmax_cross_entropy(logits, labels, label_smoothing=eps)
    check_gradient(lambda z: softmax_cross_entropy(z, labels, label_smoothing=eps)[0], logits, dlogits,
                   name=f"smoothed cross-entropy dL/dz, eps={eps}")


@pytest.mark.parametrize("eps", [0.1, 0.7])
def test_smoothed_loss_gradient_matches_numerical_one_for_probability_targets(eps):
    g = rng(2)
    logits, q = g.standard_normal((4, 6)), g.dirichlet(np.ones(6), size=4)
    _, dlogits = softmax_cross_entropy(logits, q, label_smoothing=eps)
    check_gradient(lambda z: softmax_cross_entropy(z, q, label_smoothing=eps)[0], logits, dlogits,
                   name=f"smoothed soft-target cross-entropy dL/dz, eps={eps}")


# ---------------------------------------------------------------- the definition

@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(1, 8), st.integers(2, 12), epsilons)
def test_labels_and_written_out_targets_agree(seed, n, c, eps):
    """Labels with label_smoothing=eps equal the probability targets (1 - eps) onehot + eps / C."""
    g = rng(seed)
    logits, labels = g.standard_normal((n, c)) * 3, g.integers(0, c, n)
    loss, dlogits = softmax_cross_entropy(logits, labels, label_smoothing=eps)
    expected, expected_grad = softmax_cross_entropy(logits, smoothed_targets(labels, c, eps))
    assert loss == pytest.approx(expected, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dlogits, expected_grad, rtol=1e-10, atol=1e-15)
    written_out = (softmax(logits) - smoothed_targets(labels, c, eps)) / n
    np.testing.assert_allclose(dlogits, written_out, rtol=1e-10, atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(seeds, st.integers(1, 6), st.integers(2, 8), epsilons)
def test_smoothed_loss_mixes_plain_and_uniform_cross_entropy(seed, n, c, eps):
    """Cross-entropy is linear in the target: (1 - eps) CE(z, y) + eps CE(z, uniform)."""
    g = rng(seed)
    logits, labels = g.standard_normal((n, c)) * 4, g.integers(0, c, n)
    plain = -log_softmax(logits)[np.arange(n), labels].mean()
    uniform = -log_softmax(logits).mean()
    loss, _ = softmax_cross_entropy(logits, labels, label_smoothing=eps)
    assert loss == pytest.approx((1 - eps) * plain + eps * uniform, rel=1e-12, abs=1e-12)


def test_eps_zero_is_exactly_plain_cross_entropy():
    g = rng(3)
    for dtype in (np.float64, np.float32):
        logits, labels = (g.standard_normal((7, 5)) * 3).astype(dtype), g.integers(0, 5, 7)
        q = g.dirichlet(np.ones(5), size=7).astype(dtype)
        for y in (labels, q):
            default, default_grad = softmax_cross_entropy(logits, y)
            for zero in (0, 0.0, np.float32(0.0)):
                loss, dlogits = softmax_cross_entropy(logits, y, label_smoothing=zero)
                assert loss == default and dlogits.dtype == default_grad.dtype == dtype
                np.testing.assert_array_equal(dlogits, default_grad)
    logits64 = logits.astype(np.float64)
    expected = F.cross_entropy(torch.from_numpy(logits64), torch.from_numpy(labels)).item()
    assert softmax_cross_entropy(logits64, labels, label_smoothing=0.0)[0] == pytest.approx(expected, rel=1e-12)


def test_eps_one_gives_uniform_targets_whatever_the_labels():
    g = rng(4)
    logits = g.standard_normal((6, 5))
    a, da = softmax_cross_entropy(logits, g.integers(0, 5, 6), label_smoothing=1.0)
    b, db = softmax_cross_entropy(logits, g.integers(0, 5, 6), label_smoothing=1.0)
    assert a == pytest.approx(b, rel=1e-12)
    np.testing.assert_allclose(da, db, rtol=1e-12)
    np.testing.assert_allclose(da, (softmax(logits) - 1 / 5) / 6, rtol=1e-10, atol=1e-16)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 20), st.floats(0.01, 0.99))
def test_the_gradient_vanishes_at_the_optimal_logit_gap(c, eps):
    """The smoothed loss is smallest where softmax(z) equals the target: the true class's logit
    exceeds the others' by log((1 - eps + eps / C) / (eps / C)) = log(1 + C (1 - eps) / eps)."""
    gap = np.log1p(c * (1 - eps) / eps)
    logits = np.zeros((1, c))
    logits[0, 0] = gap
    loss, dlogits = softmax_cross_entropy(logits, np.array([0]), label_smoothing=eps)
    np.testing.assert_allclose(dlogits, 0.0, atol=1e-12)
    for nudge in (-1e-3, 1e-3):  # a minimum: moving the gap either way costs loss
        logits[0, 0] = gap + nudge
        assert softmax_cross_entropy(logits, np.array([0]), label_smoothing=eps)[0] > loss


def test_float32_logits_keep_their_dtype():
    g = rng(5)
    logits, labels = g.standard_normal((8, 10)).astype(np.float32), g.integers(0, 10, 8)
    loss, dlogits = softmax_cross_entropy(logits, labels, label_smoothing=0.1)
    assert dlogits.dtype == np.float32
    expected, expected_grad = softmax_cross_entropy(logits.astype(np.float64), labels, label_smoothing=0.1)
    assert loss == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(dlogits, expected_grad, rtol=1e-4, atol=1e-7)


# ---------------------------------------------------------------- equal to PyTorch

@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(1, 8), st.integers(2, 10), epsilons, st.floats(0.1, 30.0))
def test_equals_torch_cross_entropy_loss_with_label_smoothing(seed, n, c, eps, scale):
    g = rng(seed)
    logits, labels = g.standard_normal((n, c)) * scale, g.integers(0, c, n)
    zt = torch.from_numpy(logits).requires_grad_()
    expected = torch.nn.CrossEntropyLoss(label_smoothing=eps)(zt, torch.from_numpy(labels))
    expected.backward()
    loss, dlogits = softmax_cross_entropy(logits, labels, label_smoothing=eps)
    assert loss == pytest.approx(expected.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dlogits, zt.grad.numpy(), rtol=1e-10, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(seeds, st.integers(1, 6), st.integers(2, 8), epsilons)
def test_probability_targets_are_smoothed_as_torch_does(seed, n, c, eps):
    """torch smooths probability targets the same way, (1 - eps) q + eps / C; so do we."""
    g = rng(seed)
    logits, q = g.standard_normal((n, c)) * 3, g.dirichlet(np.ones(c), size=n)
    zt = torch.from_numpy(logits).requires_grad_()
    expected = F.cross_entropy(zt, torch.from_numpy(q), label_smoothing=eps)
    expected.backward()
    loss, dlogits = softmax_cross_entropy(logits, q, label_smoothing=eps)
    assert loss == pytest.approx(expected.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dlogits, zt.grad.numpy(), rtol=1e-10, atol=1e-15)


# ---------------------------------------------------------------- equal to Keras

@pytest.fixture(scope="module")
def keras_loss_and_gradient():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # the gradient below is taken with tf.GradientTape
    import_tensorflow()  # quietly, before Keras pulls TensorFlow in
    import keras
    import tensorflow as tf

    def loss_and_gradient(logits: np.ndarray, targets: np.ndarray, eps: float) -> tuple[float, np.ndarray]:
        loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=eps, dtype="float64")
        z = tf.Variable(logits)
        with tf.GradientTape() as tape:
            loss = loss_fn(targets, z)
        return float(loss), tape.gradient(loss, z).numpy()

    return loss_and_gradient


@settings(max_examples=25, deadline=None)
@given(seeds, st.integers(1, 8), st.integers(2, 10), epsilons)
def test_equals_keras_categorical_crossentropy_with_label_smoothing(keras_loss_and_gradient, seed, n, c, eps):
    g = rng(seed)
    logits, labels = g.standard_normal((n, c)) * 3, g.integers(0, c, n)
    expected, expected_grad = keras_loss_and_gradient(logits, np.eye(c)[labels], eps)  # Keras wants one-hot y
    loss, dlogits = softmax_cross_entropy(logits, labels, label_smoothing=eps)
    assert loss == pytest.approx(expected, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dlogits, expected_grad, rtol=1e-10, atol=1e-15)


def test_keras_smooths_probability_targets_the_same_way(keras_loss_and_gradient):
    g = rng(6)
    logits, q = g.standard_normal((5, 4)), g.dirichlet(np.ones(4), size=5)
    expected, expected_grad = keras_loss_and_gradient(logits, q, 0.3)
    loss, dlogits = softmax_cross_entropy(logits, q, label_smoothing=0.3)
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(dlogits, expected_grad, rtol=1e-10, atol=1e-15)


def test_the_eps_over_c_minus_1_variant_is_not_the_frameworks_definition():
    """Some texts give the true class 1 - eps and the others eps / (C - 1): a different loss for the
    same eps, and the frameworks' loss at eps * C / (C - 1)."""
    g = rng(7)
    c, eps = 5, 0.2
    logits, labels = g.standard_normal((8, c)) * 3, g.integers(0, c, 8)
    variant = np.where(np.eye(c)[labels] == 1, 1 - eps, eps / (c - 1))
    torch_loss = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels), label_smoothing=eps).item()
    variant_loss, _ = softmax_cross_entropy(logits, variant)
    assert abs(variant_loss - torch_loss) > 1e-3
    converted, _ = softmax_cross_entropy(logits, labels, label_smoothing=eps * c / (c - 1))
    assert converted == pytest.approx(variant_loss, rel=1e-12)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("eps", [-0.1, 1.5, -1e-12, float("nan"), float("inf")])
def test_label_smoothing_outside_zero_one_is_refused(eps):
    with pytest.raises(ValueError, match=rf"label_smoothing must lie in \[0, 1\].*got {eps!r}"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=eps)


@pytest.mark.parametrize("eps", ["0.1", None, True, np.array([0.1])])
def test_label_smoothing_must_be_a_number(eps):
    with pytest.raises(TypeError, match="label_smoothing must be a number in \\[0, 1\\], got"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=eps)


def test_label_smoothing_is_keyword_only_and_labels_are_still_checked():
    with pytest.raises(TypeError):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), 0.1)
    with pytest.raises(ValueError, match=r"labels y must lie in 0..2 for 3 classes, got values from 0 to 3"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]), label_smoothing=0.1)
