"""course_utils.nn.BatchNorm1d and BatchNorm2d: gradient-checked, equal to torch.nn and keras.layers in
both modes (running statistics included), and strict about their input."""
import copy
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from course_utils.gradcheck import check_gradient  # noqa: E402
from course_utils.nn import BatchNorm1d, BatchNorm2d, Linear, ReLU, Sequential, softmax_cross_entropy  # noqa: E402

seeds = st.integers(0, 2**32 - 1)
momenta = st.floats(0.0, 1.0)
epsilons = st.floats(1e-6, 1e-1)
# Equality with the frameworks: the largest absolute error, relative to the largest expected magnitude
# (or 1), at most 1e-10 in float64 (the layers agree to round-off, about 1e-15) and 1e-5 in float32.
TOL = {np.float64: 1e-10, np.float32: 1e-5}

# Shapes of x for each layer: (N, C), (N, C, L) and (N, C, H, W).
SHAPES = {"1d": (7, 4), "1d with length": (3, 4, 5), "2d": (2, 4, 3, 5)}
LAYERS = {"1d": BatchNorm1d, "1d with length": BatchNorm1d, "2d": BatchNorm2d}
TORCH_LAYERS = {BatchNorm1d: torch.nn.BatchNorm1d, BatchNorm2d: torch.nn.BatchNorm2d}


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def shape_for(layer_class, data, n_max: int = 6, c_max: int = 5) -> tuple[int, ...]:
    """A hypothesis-drawn input shape for layer_class, with at least two values per feature."""
    n, c = data.draw(st.integers(1, n_max)), data.draw(st.integers(1, c_max))
    if layer_class is BatchNorm2d:
        shape = (n, c, data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    elif data.draw(st.booleans()):
        shape = (n, c, data.draw(st.integers(1, 5)))
    else:
        shape = (n, c)
    if np.prod(shape) // c < 2:  # a training batch needs two values per feature for its variance
        shape = (2,) + shape[1:]
    return shape


def randomize_affine(layer, g: np.random.Generator) -> None:
    """gamma and beta away from their initial 1 and 0, so that both enter every check."""
    c = layer.num_features
    layer.params["gamma"][...] = g.uniform(0.5, 2.0, c)
    layer.params["beta"][...] = g.standard_normal(c)


def assert_equal_to(what: str, ours, theirs, dtype) -> None:
    """max |ours - theirs| <= TOL[dtype] * max(1, max |theirs|), with a message naming what differs."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs {theirs.shape}"
    error, scale = np.abs(ours - theirs).max(), max(1.0, np.abs(theirs).max())
    assert error <= TOL[dtype] * scale, f"{what}: max abs error {error:.2e} > {TOL[dtype]:.0e} x {scale:.3g}"


def torch_twin(layer):
    """The torch.nn layer with the same hyper-parameters, gamma and beta (float64 or float32)."""
    dtype = torch.float64 if layer.params["gamma"].dtype == np.float64 else torch.float32
    theirs = TORCH_LAYERS[type(layer)](layer.num_features, eps=layer.eps, momentum=layer.momentum, dtype=dtype)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(layer.params["gamma"]))
        theirs.bias.copy_(torch.from_numpy(layer.params["beta"]))
    return theirs


def keras_twin(layer, shape):
    """keras.layers.BatchNormalization with the same state; Keras' momentum is 1 - ours, its axis is 1."""
    dtype = str(layer.params["gamma"].dtype)
    theirs = keras.layers.BatchNormalization(axis=1, momentum=1.0 - layer.momentum, epsilon=layer.eps, dtype=dtype)
    theirs.build(shape)
    theirs.gamma.assign(layer.params["gamma"])
    theirs.beta.assign(layer.params["beta"])
    return theirs


# ---------------------------------------------------------------- gradient checks (float64)

@pytest.mark.parametrize("case", list(SHAPES))
def test_gradients_of_input_gamma_and_beta_match_numerical_ones(case):
    g = rng(1)
    layer = LAYERS[case](4)
    randomize_affine(layer, g)
    x = 2.0 * g.standard_normal(SHAPES[case]) + 0.5
    upstream = g.standard_normal(SHAPES[case])

    def loss(_):  # L = sum(y * upstream) has dL/dy = upstream; the batch statistics depend on x
        return (layer.forward(x, training=True) * upstream).sum()

    layer.forward(x, training=True)
    dx = layer.backward(upstream)
    check_gradient(loss, x, dx, atol=1e-9, name=f"BatchNorm {case} dL/dx")
    check_gradient(loss, layer.params["gamma"], layer.grads["gamma"], name=f"BatchNorm {case} dL/dgamma")
    check_gradient(loss, layer.params["beta"], layer.grads["beta"], name=f"BatchNorm {case} dL/dbeta")


@settings(max_examples=15, deadline=None)
@given(st.data(), seeds, st.sampled_from([BatchNorm1d, BatchNorm2d]), epsilons)
def test_input_gradient_matches_numerical_one_for_any_shape(data, seed, layer_class, eps):
    g = rng(seed)
    shape = shape_for(layer_class, data, n_max=4, c_max=3)
    layer = layer_class(shape[1], eps=eps)
    randomize_affine(layer, g)
    x, upstream = g.standard_normal(shape), g.standard_normal(shape)
    layer.forward(x, training=True)
    dx = layer.backward(upstream)
    check_gradient(lambda _: (layer.forward(x, training=True) * upstream).sum(), x, dx, rtol=1e-5, atol=1e-8,
                   name=f"{layer!r} dL/dx for x of shape {shape}")


def test_network_with_batchnorm_is_gradient_checked_for_every_parameter():
    g = rng(2)
    model = Sequential(Linear(6, 8, g), BatchNorm1d(8), ReLU(), Linear(8, 3, g, init="glorot"))
    randomize_affine(model[1], g)
    x, y = g.standard_normal((10, 6)), g.integers(0, 3, 10)
    assert list(model.params) == ["0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b"]

    def loss(_):
        return softmax_cross_entropy(model.forward(x, training=True), y)[0]

    _, dlogits = softmax_cross_entropy(model.forward(x, training=True), y)
    dx = model.backward(dlogits)
    for name, value in model.params.items():
        check_gradient(loss, value, model.grads[name], atol=1e-10, name=f"dL/d{name}")
    check_gradient(loss, x, dx, atol=1e-10, name="dL/dx")
    # The mean subtraction cancels the bias of the Linear layer before BatchNorm: its gradient is zero.
    np.testing.assert_allclose(model.grads["0.b"], 0.0, atol=1e-15)


# ---------------------------------------------------------------- properties of the transform

@settings(max_examples=30, deadline=None)
@given(st.data(), seeds, st.sampled_from([BatchNorm1d, BatchNorm2d]))
def test_training_output_is_normalized_and_its_gradient_is_centred(data, seed, layer_class):
    g = rng(seed)
    shape = shape_for(layer_class, data)
    c = shape[1]
    tiny = 1e-300  # eps > 0 is required; this one leaves sigma^2 + eps == sigma^2, so the properties are exact
    layer = layer_class(c, eps=tiny)
    x = 3.0 * g.standard_normal(shape) - 1.0
    axes = (0,) + tuple(range(2, len(shape)))
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=axes), 1.0, rtol=1e-9)  # every feature gets variance 1 ...
    scale = g.uniform(0.1, 10.0, c).reshape((1, c) + (1,) * (len(shape) - 2))
    shift = g.normal(0.0, 10.0, c).reshape(scale.shape)
    y_moved = layer_class(c, eps=tiny).forward(scale * x + shift, training=True)
    np.testing.assert_allclose(y_moved, y, atol=1e-7)  # ... whatever its scale and offset
    dx = layer.backward(g.standard_normal(shape))
    np.testing.assert_allclose(dx.sum(axis=axes), 0.0, atol=1e-9)  # the input gradient has zero mean per feature
    x_hat = layer._cache[0]
    np.testing.assert_allclose((dx * x_hat).sum(axis=axes), 0.0, atol=1e-9)  # and no component along x_hat


def test_with_eps_the_gradient_keeps_a_sliver_along_x_hat():
    """sum_i dx_i x_hat_i = gamma * dgamma / s * eps / (sigma^2 + eps): zero only for eps = 0."""
    g = rng(9)
    x, upstream = g.standard_normal((6, 2)), g.standard_normal((6, 2))
    layer = BatchNorm1d(2, eps=0.1)
    layer.forward(x, training=True)
    dx = layer.backward(upstream)
    var, x_hat = x.var(axis=0), layer._cache[0]
    expected = layer.grads["gamma"] / np.sqrt(var + 0.1) * 0.1 / (var + 0.1)
    np.testing.assert_allclose((dx * x_hat).sum(axis=0), expected, rtol=1e-10)
    assert np.all(np.abs(expected) > 1e-3), "the example must show a clearly nonzero sliver"


def test_eval_mode_uses_the_buffers_and_changes_nothing():
    g = rng(3)
    layer = BatchNorm1d(3)
    randomize_affine(layer, g)
    layer.running_mean[...] = [1.0, -2.0, 0.5]
    layer.running_var[...] = [4.0, 0.25, 1.0]
    x = g.standard_normal((5, 3))
    expected = layer.params["gamma"] * (x - layer.running_mean) / np.sqrt(layer.running_var + layer.eps) + layer.params["beta"]
    state = copy.deepcopy((layer.running_mean, layer.running_var, layer.num_batches_tracked))
    np.testing.assert_allclose(layer.forward(x, training=False), expected, rtol=1e-14)
    np.testing.assert_allclose(layer.forward(x[:1], training=False), expected[:1], rtol=1e-14)  # sample by sample
    np.testing.assert_array_equal(layer.running_mean, state[0])
    np.testing.assert_array_equal(layer.running_var, state[1])
    assert layer.num_batches_tracked == state[2] == 0


def test_running_statistics_follow_the_momentum_formula():
    g = rng(4)
    x1, x2 = g.standard_normal((8, 2)), 3.0 + 2.0 * g.standard_normal((8, 2))
    layer = BatchNorm1d(2, momentum=0.25)
    layer.forward(x1, training=True)
    layer.forward(x2, training=True)
    mean = 0.75 * (0.75 * 0.0 + 0.25 * x1.mean(0)) + 0.25 * x2.mean(0)
    var = 0.75 * (0.75 * 1.0 + 0.25 * x1.var(0, ddof=1)) + 0.25 * x2.var(0, ddof=1)  # unbiased, as in torch
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-14)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-14)
    assert layer.num_batches_tracked == 2
    biased = BatchNorm1d(2, momentum=0.25, unbiased_running_var=False)
    biased.forward(x1, training=True)
    np.testing.assert_allclose(biased.running_var, 0.75 + 0.25 * x1.var(0), rtol=1e-14)  # Keras' convention
    frozen, last = BatchNorm1d(2, momentum=0.0), BatchNorm1d(2, momentum=1.0)
    for x in (x1, x2):
        frozen.forward(x, training=True)
        last.forward(x, training=True)
    np.testing.assert_array_equal(frozen.running_mean, 0.0)
    np.testing.assert_array_equal(frozen.running_var, 1.0)
    np.testing.assert_allclose(last.running_mean, x2.mean(0), rtol=1e-14)
    np.testing.assert_allclose(last.running_var, x2.var(0, ddof=1), rtol=1e-14)


def test_params_grads_and_buffers_are_kept_and_refreshed_in_place():
    g = rng(5)
    layer = BatchNorm2d(3, dtype=np.float32)
    assert set(layer.params) == set(layer.grads) == {"gamma", "beta"}  # buffers are not parameters
    held = {"params": dict(layer.params), "grads": dict(layer.grads),
            "buffers": {"running_mean": layer.running_mean, "running_var": layer.running_var}}
    assert all(a.dtype == np.float32 and a.shape == (3,) for group in held.values() for a in group.values())
    x = g.standard_normal((4, 3, 2, 2)).astype(np.float32)
    before = layer.forward(x, training=False)
    layer.params["beta"] += 1.0  # what an optimizer's in-place step does
    np.testing.assert_allclose(layer.forward(x, training=False), before + 1.0, rtol=1e-6)
    y = layer.forward(x, training=True)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32
    assert all(layer.params[k] is a for k, a in held["params"].items())
    assert all(layer.grads[k] is a for k, a in held["grads"].items()), "backward must refresh grads in place"
    assert layer.running_mean is held["buffers"]["running_mean"] and layer.running_var is held["buffers"]["running_var"]
    assert not np.array_equal(layer.running_mean, 0.0), "the training forward updates the held buffers"
    assert repr(layer) == "BatchNorm2d(3, eps=1e-05, momentum=0.1)"


def test_input_grad_false_returns_none_and_still_fills_the_parameter_gradients():
    g = rng(6)
    layer, twin = BatchNorm1d(4), BatchNorm1d(4)
    x, upstream = g.standard_normal((5, 4)), g.standard_normal((5, 4))
    layer.forward(x, training=True)
    twin.forward(x, training=True)
    assert layer.backward(upstream, input_grad=False) is None
    assert twin.backward(upstream).shape == x.shape
    for name in layer.grads:
        np.testing.assert_array_equal(layer.grads[name], twin.grads[name])


# ---------------------------------------------------------------- equal to torch.nn

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=25, deadline=None)
@given(data=st.data(), seed=seeds, layer_class=st.sampled_from([BatchNorm1d, BatchNorm2d]), momentum=momenta,
       eps=epsilons)
def test_equals_torch_in_training_and_eval_mode_with_running_statistics(dtype, data, seed, layer_class, momentum, eps):
    g = rng(seed)
    shape = shape_for(layer_class, data)
    ours = layer_class(shape[1], eps=eps, momentum=momentum, dtype=dtype)
    randomize_affine(ours, g)
    theirs = torch_twin(ours)
    for step in range(3):  # several training steps: the running statistics accumulate
        x = (2.0 * g.standard_normal(shape) + g.standard_normal()).astype(dtype)
        upstream = g.standard_normal(shape).astype(dtype)
        xt = torch.from_numpy(x).requires_grad_()
        theirs.zero_grad()
        yt = theirs(xt)
        yt.backward(torch.from_numpy(upstream))
        y = ours.forward(x, training=True)
        dx = ours.backward(upstream)
        assert_equal_to(f"training output, step {step}", y, yt.detach().numpy(), dtype)
        assert_equal_to(f"dL/dx, step {step}", dx, xt.grad.numpy(), dtype)
        assert_equal_to(f"dL/dgamma, step {step}", ours.grads["gamma"], theirs.weight.grad.numpy(), dtype)
        assert_equal_to(f"dL/dbeta, step {step}", ours.grads["beta"], theirs.bias.grad.numpy(), dtype)
        assert_equal_to(f"running_mean, step {step}", ours.running_mean, theirs.running_mean.numpy(), dtype)
        assert_equal_to(f"running_var, step {step}", ours.running_var, theirs.running_var.numpy(), dtype)
    assert ours.num_batches_tracked == int(theirs.num_batches_tracked) == 3
    theirs.eval()
    x = g.standard_normal(shape).astype(dtype)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    assert_equal_to("eval output", ours.forward(x, training=False), expected, dtype)


def test_network_with_batchnorm_equals_the_same_torch_network():
    g = rng(7)
    ours = Sequential(Linear(12, 16, g), BatchNorm1d(16), ReLU(), Linear(16, 5, g, init="glorot"))
    randomize_affine(ours[1], g)
    theirs = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
                                 torch.nn.Linear(16, 5)).double()
    with torch.no_grad():
        for i in (0, 3):
            theirs[i].weight.copy_(torch.from_numpy(ours[i].params["W"].T))
            theirs[i].bias.copy_(torch.from_numpy(ours[i].params["b"]))
        theirs[1].weight.copy_(torch.from_numpy(ours[1].params["gamma"]))
        theirs[1].bias.copy_(torch.from_numpy(ours[1].params["beta"]))
    x, y = g.standard_normal((32, 12)), g.integers(0, 5, 32)
    loss, dlogits = softmax_cross_entropy(ours.forward(x, training=True), y)
    ours.backward(dlogits)
    expected = F.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(ours.grads["0.W"], theirs[0].weight.grad.numpy().T, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(ours.grads["1.gamma"], theirs[1].weight.grad.numpy(), rtol=1e-9, atol=1e-14)
    theirs.eval()
    np.testing.assert_allclose(ours.forward(x, training=False), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- equal to keras.layers.BatchNormalization

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=8, deadline=None)  # Keras runs eagerly and slowly: few, small examples
@given(data=st.data(), seed=seeds, layer_class=st.sampled_from([BatchNorm1d, BatchNorm2d]), momentum=momenta,
       eps=epsilons)
def test_equals_keras_in_training_and_eval_mode_with_running_statistics(dtype, data, seed, layer_class, momentum, eps):
    g = rng(seed)
    shape = shape_for(layer_class, data)
    ours = layer_class(shape[1], eps=eps, momentum=momentum, unbiased_running_var=False, dtype=dtype)
    randomize_affine(ours, g)
    theirs = keras_twin(ours, shape)
    for step in range(3):
        x = (2.0 * g.standard_normal(shape) + g.standard_normal()).astype(dtype)
        expected = np.asarray(theirs(x, training=True))
        assert_equal_to(f"training output, step {step}", ours.forward(x, training=True), expected, dtype)
        assert_equal_to(f"running_mean, step {step}", ours.running_mean, theirs.moving_mean.numpy(), dtype)
        assert_equal_to(f"running_var, step {step}", ours.running_var, theirs.moving_variance.numpy(), dtype)
    x = g.standard_normal(shape).astype(dtype)
    expected = np.asarray(theirs(x, training=False))
    assert_equal_to("eval output", ours.forward(x, training=False), expected, dtype)


def test_torch_and_keras_differ_only_in_the_running_variance_correction():
    g = rng(8)
    x = g.standard_normal((4, 3))  # a batch of m = 4: torch's running_var uses var * 4 / 3
    torch_style, keras_style = BatchNorm1d(3, momentum=0.1), BatchNorm1d(3, momentum=0.1, unbiased_running_var=False)
    theirs = keras_twin(keras_style, x.shape)
    torch_style.forward(x, training=True)
    keras_style.forward(x, training=True)
    theirs(x, training=True)
    np.testing.assert_allclose(keras_style.running_var, theirs.moving_variance.numpy(), rtol=1e-14)
    np.testing.assert_allclose(torch_style.running_var - 0.9, (keras_style.running_var - 0.9) * 4 / 3, rtol=1e-12)
    np.testing.assert_array_equal(torch_style.running_mean, keras_style.running_mean)


# ---------------------------------------------------------------- bad inputs

def test_wrong_feature_count_or_rank_names_the_expected_and_received_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4, eps=1e-05, momentum=0.1\).forward expects x of shape "
                                         r"\(N, C\) or \(N, C, L\) with C = 4, got \(8, 3\)"):
        BatchNorm1d(4).forward(np.ones((8, 3)), training=True)
    with pytest.raises(ValueError, match=r"with C = 4, got \(4,\)"):
        BatchNorm1d(4).forward(np.ones(4), training=False)
    with pytest.raises(ValueError, match=r"got \(2, 4, 3, 3\)"):
        BatchNorm1d(4).forward(np.ones((2, 4, 3, 3)), training=True)
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3, .*expects x of shape \(N, C, H, W\) with C = 3, got \(5, 3\)"):
        BatchNorm2d(3).forward(np.ones((5, 3)), training=True)
    with pytest.raises(ValueError, match=r"with C = 3, got \(2, 4, 5, 5\)"):
        BatchNorm2d(3).forward(np.ones((2, 4, 5, 5)), training=False)
    with pytest.raises(TypeError, match="floating-point x, got int64"):
        BatchNorm1d(2).forward(np.ones((3, 2), dtype=np.int64), training=True)


def test_a_training_batch_needs_two_values_per_feature():
    with pytest.raises(ValueError, match=r"more than one value per feature.*got x of shape \(1, 4\)"):
        BatchNorm1d(4).forward(np.ones((1, 4)), training=True)
    with pytest.raises(ValueError, match=r"got x of shape \(1, 2, 1, 1\)"):
        BatchNorm2d(2).forward(np.ones((1, 2, 1, 1)), training=True)
    assert BatchNorm1d(4).forward(np.ones((1, 4)), training=False).shape == (1, 4)  # eval: one sample is fine
    assert BatchNorm2d(2).forward(np.ones((1, 2, 2, 1)), training=True).shape == (1, 2, 2, 1)  # m = H * W = 2


@pytest.mark.parametrize("momentum", [-0.1, 1.5, float("nan"), float("inf")])
def test_bad_momentum_is_refused_with_its_value(momentum):
    with pytest.raises(ValueError, match=rf"BatchNorm1d: momentum must lie in \[0, 1\].*got {momentum!r}"):
        BatchNorm1d(3, momentum=momentum)


@pytest.mark.parametrize("eps", [0.0, -1e-5, float("inf"), float("nan")])
def test_bad_eps_is_refused_with_its_value(eps):
    with pytest.raises(ValueError, match=rf"BatchNorm2d: eps must be a positive finite number.*got {eps!r}"):
        BatchNorm2d(3, eps=eps)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="num_features must be a positive integer, got 0"):
        BatchNorm1d(0)
    with pytest.raises(ValueError, match="num_features must be a positive integer, got 2.0"):
        BatchNorm2d(2.0)
    with pytest.raises(TypeError, match="momentum must be a number, got '0.1'"):
        BatchNorm1d(3, momentum="0.1")
    with pytest.raises(TypeError, match="momentum must be a number, got None"):
        BatchNorm1d(3, momentum=None)  # torch's cumulative average (momentum=None) is not supported
    with pytest.raises(TypeError, match="eps must be a number, got True"):
        BatchNorm1d(3, eps=True)
    with pytest.raises(TypeError, match="unbiased_running_var must be True or False, got 1"):
        BatchNorm1d(3, unbiased_running_var=1)
    with pytest.raises(TypeError, match="dtype must be a floating type.*int32"):
        BatchNorm1d(3, dtype=np.int32)


def test_backward_needs_a_training_forward_and_a_matching_dout():
    layer = BatchNorm1d(3)
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(3, eps=1e-05, momentum=0.1\).backward needs .*training=True"):
        layer.backward(np.ones((4, 3)))
    layer.forward(np.arange(12.0).reshape(4, 3), training=True)
    with pytest.raises(ValueError, match=r"expects dout of the output's shape \(4, 3\), got \(3, 4\)"):
        layer.backward(np.ones((3, 4)))
    layer.forward(np.ones((4, 3)), training=False)
    with pytest.raises(RuntimeError, match="training=False keeps nothing"):
        layer.backward(np.ones((4, 3)))
    with pytest.raises(TypeError, match="training must be True or False, got 'eval'"):
        layer.forward(np.ones((4, 3)), training="eval")
