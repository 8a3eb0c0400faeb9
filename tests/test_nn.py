"""course_utils.nn: every layer gradient-checked, equal to torch, initialized as promised, stable."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.gradcheck import check_gradient
from course_utils.nn import Linear, ReLU, Sequential, log_softmax, softmax, softmax_cross_entropy

seeds = st.integers(0, 2**32 - 1)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def away_from_zero(x: np.ndarray, margin: float = 1e-3) -> np.ndarray:
    """x with entries closer than `margin` to ReLU's kink pushed out, so gradient checks do not straddle it."""
    return np.where(np.abs(x) < margin, np.copysign(margin, x) + x, x)


# ---------------------------------------------------------------- gradient checks (float64)

@pytest.mark.parametrize("init", ["he", "glorot"])
def test_linear_gradients_match_numerical_ones(init):
    g = rng(1)
    layer = Linear(5, 3, g, init=init)
    layer.params["b"][...] = g.standard_normal(3)  # a nonzero bias, so b enters the check
    x, upstream = g.standard_normal((4, 5)), g.standard_normal((4, 3))

    def loss(_):  # L = sum(y * upstream) has dL/dy = upstream
        return (layer.forward(x, training=False) * upstream).sum()

    layer.forward(x, training=True)
    dx = layer.backward(upstream)
    check_gradient(loss, layer.params["W"], layer.grads["W"], name="Linear dL/dW")
    check_gradient(loss, layer.params["b"], layer.grads["b"], name="Linear dL/db")
    check_gradient(loss, x, dx, name="Linear dL/dx")


def test_relu_gradient_matches_numerical_one():
    g = rng(2)
    x, upstream = away_from_zero(g.standard_normal((6, 4))), g.standard_normal((6, 4))
    relu = ReLU()
    relu.forward(x, training=True)
    dx = relu.backward(upstream)
    check_gradient(lambda x: (relu.forward(x, training=False) * upstream).sum(), x, dx, name="ReLU dL/dx")
    assert np.all(dx[x < 0] == 0)


def test_softmax_cross_entropy_gradient_matches_numerical_one():
    g = rng(3)
    logits, labels = g.standard_normal((5, 4)), g.integers(0, 4, 5)
    _, dlogits = softmax_cross_entropy(logits, labels)
    check_gradient(lambda z: softmax_cross_entropy(z, labels)[0], logits, dlogits, name="labels")
    q = g.dirichlet(np.ones(4), size=5) * g.uniform(0.5, 2.0, (5, 1))  # rows need not sum to 1
    _, dlogits = softmax_cross_entropy(logits, q)
    check_gradient(lambda z: softmax_cross_entropy(z, q)[0], logits, dlogits, name="probabilities")


def test_whole_network_with_loss_is_gradient_checked_for_every_parameter_and_the_input():
    g = rng(4)
    model = Sequential(Linear(6, 8, g), ReLU(), Linear(8, 7, g, init="glorot"), ReLU(), Linear(7, 3, g))
    for name, value in model.params.items():
        if name.endswith(".b"):
            value[...] = g.standard_normal(value.shape) * 0.1
    x, y = g.standard_normal((10, 6)), g.integers(0, 3, 10)

    def loss(_):
        return softmax_cross_entropy(model.forward(x, training=False), y)[0]

    _, dlogits = softmax_cross_entropy(model.forward(x, training=True), y)
    dx = model.backward(dlogits)
    for name, value in model.params.items():
        err = check_gradient(loss, value, model.grads[name], name=f"dL/d{name}")
        assert err < 1e-6
    check_gradient(loss, x, dx, name="dL/dx")


# ---------------------------------------------------------------- equal to torch (float64)

@settings(max_examples=30, deadline=None)
@given(seeds, st.integers(1, 9), st.integers(1, 9), st.integers(1, 9))
def test_linear_forward_and_backward_equal_torch(seed, n, d_in, d_out):
    g = rng(seed)
    layer = Linear(d_in, d_out, g)
    layer.params["b"][...] = g.standard_normal(d_out)
    x, upstream = g.standard_normal((n, d_in)), g.standard_normal((n, d_out))
    theirs = torch.nn.Linear(d_in, d_out, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(layer.params["W"].T))  # torch stores (D_out, D_in)
        theirs.bias.copy_(torch.from_numpy(layer.params["b"]))
    xt = torch.from_numpy(x).requires_grad_()
    yt = theirs(xt)
    yt.backward(torch.from_numpy(upstream))
    y = layer.forward(x, training=True)
    dx = layer.backward(upstream)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], theirs.weight.grad.numpy().T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], theirs.bias.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_relu_equals_torch_including_exact_zeros():
    x = np.array([[-2.0, -0.0, 0.0, 1e-300, 3.0]])
    upstream = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    xt = torch.from_numpy(x).requires_grad_()
    torch.relu(xt).backward(torch.from_numpy(upstream))
    relu = ReLU()
    assert np.array_equal(relu.forward(x, training=True), torch.relu(xt).detach().numpy())
    assert np.array_equal(relu.backward(upstream), xt.grad.numpy())  # gradient 0 at x = 0, as in torch


@settings(max_examples=30, deadline=None)
@given(seeds, st.integers(1, 8), st.integers(2, 8), st.floats(0.1, 100.0))
def test_softmax_cross_entropy_equals_torch(seed, n, c, scale):
    g = rng(seed)
    logits, labels = g.standard_normal((n, c)) * scale, g.integers(0, c, n)
    zt = torch.from_numpy(logits).requires_grad_()
    expected = F.cross_entropy(zt, torch.from_numpy(labels))
    expected.backward()
    loss, dlogits = softmax_cross_entropy(logits, labels)
    assert isinstance(loss, float)
    assert loss == pytest.approx(expected.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dlogits, zt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_softmax_cross_entropy_with_probabilities_equals_torch():
    g = rng(5)
    logits = g.standard_normal((6, 4)) * 3
    q = 0.9 * np.eye(4)[g.integers(0, 4, 6)] + 0.1 / 4  # label-smoothed targets
    zt = torch.from_numpy(logits).requires_grad_()
    expected = F.cross_entropy(zt, torch.from_numpy(q))
    expected.backward()
    loss, dlogits = softmax_cross_entropy(logits, q)
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(dlogits, zt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_mlp_equals_the_same_torch_network():
    g = rng(6)
    model = Sequential(Linear(12, 16, g), ReLU(), Linear(16, 5, g, init="glorot"))
    theirs = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5)).double()
    with torch.no_grad():
        for i in (0, 2):
            theirs[i].weight.copy_(torch.from_numpy(model[i].params["W"].T))
            theirs[i].bias.copy_(torch.from_numpy(model[i].params["b"]))
    x, y = g.standard_normal((32, 12)), g.integers(0, 5, 32)
    loss, dlogits = softmax_cross_entropy(model.forward(x, training=True), y)
    model.backward(dlogits)
    expected = F.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    for i in (0, 2):
        np.testing.assert_allclose(model.grads[f"{i}.W"], theirs[i].weight.grad.numpy().T, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(model.grads[f"{i}.b"], theirs[i].bias.grad.numpy(), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- initialization

# With 1000 x 800 = 800,000 draws the sample variance is within 0.5% of the true one (its relative
# standard error is sqrt(2 / n) = 0.16% for a normal, less for a uniform); a 3% tolerance cannot fail
# by chance yet tells He (2 / D_in) from Glorot (2 / (D_in + D_out)) and from 1 / D_in.
INIT_RTOL = 0.03


def test_he_initialization_statistics():
    W = Linear(1000, 800, rng(7), init="he").params["W"]
    assert W.shape == (1000, 800)
    assert W.var() == pytest.approx(2 / 1000, rel=INIT_RTOL)
    assert abs(W.mean()) < 4 * np.sqrt(2 / 1000 / W.size)
    assert np.abs(W).max() > 4 * np.sqrt(2 / 1000), "He initialization draws from a normal, not a bounded law"


def test_glorot_initialization_statistics():
    W = Linear(1000, 800, rng(8), init="glorot").params["W"]
    limit = np.sqrt(6 / 1800)
    assert W.var() == pytest.approx(2 / 1800, rel=INIT_RTOL)
    assert abs(W.mean()) < 4 * np.sqrt(2 / 1800 / W.size)
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.99 * limit  # uniform on [-limit, limit]


def test_initialization_is_reproducible_biases_start_at_zero_and_dtype_is_kept():
    a, b = Linear(20, 10, rng(9)), Linear(20, 10, rng(9))
    assert np.array_equal(a.params["W"], b.params["W"])
    g = rng(9)
    first, second = Linear(20, 10, g), Linear(20, 10, g)
    assert not np.array_equal(first.params["W"], second.params["W"]), "one generator, two different layers"
    assert np.all(a.params["b"] == 0)
    layer32 = Linear(20, 10, rng(9), dtype=np.float32)
    assert all(v.dtype == np.float32 for v in (*layer32.params.values(), *layer32.grads.values()))
    x = rng(10).standard_normal((3, 20)).astype(np.float32)
    assert layer32.forward(x, training=True).dtype == np.float32
    assert layer32.backward(np.ones((3, 10), np.float32)).dtype == np.float32


# ---------------------------------------------------------------- numerical stability

def test_large_logits_do_not_overflow():
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0], [1e308, 0.0, 0.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # exp(-2e4) may underflow to 0, harmlessly
        loss0, _ = softmax_cross_entropy(logits[:1], np.array([0]))
        loss1, d1 = softmax_cross_entropy(logits[:1], np.array([1]))
        loss2, _ = softmax_cross_entropy(logits[:1], np.array([2]))
        big, dbig = softmax_cross_entropy(logits, np.array([0, 2, 0]))
        p = softmax(logits)
    assert loss0 == 0.0 and loss1 == 1e4 and loss2 == 2e4
    np.testing.assert_allclose(d1, [[1.0, -1.0, 0.0]], atol=1e-300)
    assert np.isfinite(big) and np.all(np.isfinite(dbig))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    assert log_softmax(np.array([[1000.0, 1000.0]])).tolist() == [[-np.log(2), -np.log(2)]]


@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(1, 6), st.integers(2, 6), st.floats(-1e6, 1e6))
def test_loss_properties(seed, n, c, shift):
    g = rng(seed)
    logits, labels = g.standard_normal((n, c)) * 5, g.integers(0, c, n)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    assert loss >= 0
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-15)  # p and onehot both sum to 1
    shifted, _ = softmax_cross_entropy(logits + shift, labels)  # softmax ignores a constant added to a row
    assert shifted == pytest.approx(loss, rel=1e-9, abs=1e-9 * (1 + abs(shift)))
    np.testing.assert_allclose(softmax(logits).sum(axis=1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------- params and grads for optimizers

def test_sequential_params_are_the_layers_own_arrays_and_in_place_updates_take_effect():
    g = rng(11)
    model = Sequential(Linear(4, 5, g), ReLU(), Linear(5, 2, g))
    assert list(model.params) == ["0.W", "0.b", "2.W", "2.b"] and list(model.grads) == list(model.params)
    assert model.params["2.W"] is model[2].params["W"] and model.grads["0.b"] is model[0].grads["b"]
    params = model.params
    x = g.standard_normal((3, 4))
    before = model.forward(x, training=False)
    params["2.b"] += 1.0  # what an optimizer's in-place step does
    np.testing.assert_allclose(model.forward(x, training=False), before + 1.0)


def test_each_backward_refreshes_the_same_grads_arrays():
    g = rng(12)
    model = Sequential(Linear(4, 5, g), ReLU(), Linear(5, 2, g))
    grads = model.grads  # held once, as an optimizer loop would
    for seed in (13, 14):
        x, y = rng(seed).standard_normal((6, 4)), rng(seed).integers(0, 2, 6)
        twin = copy.deepcopy(model)  # same weights, its own grads arrays: the reference
        _, dlogits = softmax_cross_entropy(twin.forward(x, training=True), y)
        twin.backward(dlogits)
        old = {name: value.copy() for name, value in grads.items()}
        _, dlogits = softmax_cross_entropy(model.forward(x, training=True), y)
        model.backward(dlogits)
        for name in grads:
            assert grads[name] is model.grads[name], "backward must write into the existing arrays"
            np.testing.assert_array_equal(grads[name], twin.grads[name])
            assert not np.array_equal(grads[name], old[name]), f"{name} was not refreshed"


def test_input_grad_false_skips_only_the_first_layers_input_gradient():
    g = rng(18)
    model = Sequential(Linear(6, 5, g), ReLU(), Linear(5, 3, g))
    twin = copy.deepcopy(model)
    x, y = g.standard_normal((4, 6)), g.integers(0, 3, 4)
    _, dlogits = softmax_cross_entropy(model.forward(x, training=True), y)
    _, twin_dlogits = softmax_cross_entropy(twin.forward(x, training=True), y)
    assert model.backward(dlogits, input_grad=False) is None
    assert twin.backward(twin_dlogits).shape == x.shape
    for name in model.grads:
        np.testing.assert_array_equal(model.grads[name], twin.grads[name])
    relu = ReLU()
    relu.forward(x, training=True)
    assert relu.backward(x, input_grad=False) is None


def test_a_plain_sgd_loop_on_params_and_grads_learns():
    g = rng(16)
    x = g.standard_normal((64, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR-like: needs the hidden layer
    model = Sequential(Linear(2, 32, g), ReLU(), Linear(32, 2, g))
    params, grads = model.params, model.grads
    first = softmax_cross_entropy(model.forward(x, training=True), y)[0]
    for _ in range(300):
        _, dlogits = softmax_cross_entropy(model.forward(x, training=True), y)
        model.backward(dlogits)
        for name in params:
            params[name] -= 0.5 * grads[name]
    last = softmax_cross_entropy(model.forward(x, training=False), y)[0]
    assert last < 0.25 * first, f"loss went from {first:.3f} to {last:.3f}"


def test_repr_len_and_iteration():
    g = rng(17)
    model = Sequential(Linear(3, 4, g), ReLU(), Linear(4, 2, g, init="glorot"))
    assert repr(model) == "Sequential(Linear(3, 4, init='he'), ReLU(), Linear(4, 2, init='glorot'))"
    assert len(model) == 3 and [type(layer).__name__ for layer in model] == ["Linear", "ReLU", "Linear"]
    assert ReLU().params == {} and ReLU().grads == {}


# ---------------------------------------------------------------- bad inputs

def test_backward_needs_a_training_forward():
    layer, x = Linear(3, 2, rng()), np.ones((4, 3))
    with pytest.raises(RuntimeError, match=r"Linear\(3, 2, init='he'\).backward needs .*training=True"):
        layer.backward(np.ones((4, 2)))
    layer.forward(x, training=False)
    with pytest.raises(RuntimeError, match="training=False keeps nothing"):
        layer.backward(np.ones((4, 2)))
    relu = ReLU()
    relu.forward(x, training=False)
    with pytest.raises(RuntimeError, match="ReLU"):
        relu.backward(x)
    with pytest.raises(TypeError, match="training must be True or False, got 1"):
        layer.forward(x, training=1)
    with pytest.raises(TypeError, match="training"):
        Sequential(layer).forward(x)  # training is a required keyword


def test_shape_mismatches_name_the_expected_and_received_shapes():
    layer = Linear(784, 10, rng())
    with pytest.raises(ValueError, match=r"expects x of shape \(N, 784\), got \(32, 100\)"):
        layer.forward(np.ones((32, 100)), training=True)
    with pytest.raises(ValueError, match=r"expects x of shape \(N, 784\), got \(784,\)"):
        layer.forward(np.ones(784), training=True)
    layer.forward(np.ones((32, 784)), training=True)
    with pytest.raises(ValueError, match=r"expects dout of the output's shape \(32, 10\), got \(32, 9\)"):
        layer.backward(np.ones((32, 9)))
    relu = ReLU()
    relu.forward(np.ones((2, 3)), training=True)
    with pytest.raises(ValueError, match=r"shape \(2, 3\), got \(3, 2\)"):
        relu.backward(np.ones((3, 2)))
    model = Sequential(Linear(4, 5, rng()), ReLU(), Linear(6, 2, rng()))
    with pytest.raises(ValueError, match=r"Linear\(6, 2, init='he'\).forward expects x of shape \(N, 6\), got \(3, 5\)"):
        model.forward(np.ones((3, 4)), training=True)


def test_bad_layer_arguments():
    with pytest.raises(ValueError, match="in_features must be a positive integer, got 0"):
        Linear(0, 3, rng())
    with pytest.raises(ValueError, match="out_features must be a positive integer, got 2.5"):
        Linear(3, 2.5, rng())
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator.*got module"):
        Linear(3, 2, np.random)
    with pytest.raises(ValueError, match=r"init must be one of \('he', 'glorot'\), got 'xavier'"):
        Linear(3, 2, rng(), init="xavier")
    with pytest.raises(TypeError, match="dtype must be a floating type.*int32"):
        Linear(3, 2, rng(), dtype=np.int32)
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential()
    with pytest.raises(TypeError, match=r"layer 1 \(function\) is not a layer"):
        Sequential(ReLU(), lambda x: np.tanh(x))


def test_bad_loss_arguments():
    logits = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels y must lie in 0..3 for 4 classes, got values from 0 to 4"):
        softmax_cross_entropy(logits, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="got values from -1"):
        softmax_cross_entropy(logits, np.array([0, -1, 2]))
    with pytest.raises(ValueError, match=r"y must have shape \(3,\) to match logits \(3, 4\), got \(2,\)"):
        softmax_cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(TypeError, match="must be integers 0..3, got dtype float64"):
        softmax_cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"probabilities y must have the logits' shape \(3, 4\), got \(3, 3\)"):
        softmax_cross_entropy(logits, np.eye(3))
    with pytest.raises(TypeError, match="must be floating point, got int64"):
        softmax_cross_entropy(logits, np.eye(3, 4, dtype=np.int64))
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) or probabilities of shape \(3, 4\)"):
        softmax_cross_entropy(logits, np.zeros((3, 4, 1)))
    with pytest.raises(ValueError, match=r"logits must have shape \(N, C\).*got \(4,\)"):
        softmax_cross_entropy(np.zeros(4), np.array([1]))
    with pytest.raises(TypeError, match="logits must be floating point, got int64"):
        softmax_cross_entropy(np.zeros((3, 4), dtype=np.int64), np.array([0, 1, 2]))
