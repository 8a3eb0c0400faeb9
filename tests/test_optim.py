"""course_utils.optim: the NumPy optimizers equal torch.optim and keras.optimizers, step for step."""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra.numpy import array_shapes  # noqa: E402

from course_utils.checks import check_close  # noqa: E402
from course_utils.optim import SGD, AdaGrad, Adam, AdamW, RMSprop  # noqa: E402

OURS = {"SGD": SGD, "AdaGrad": AdaGrad, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW}
TORCH = {"SGD": torch.optim.SGD, "AdaGrad": torch.optim.Adagrad, "RMSprop": torch.optim.RMSprop,
         "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}
RTOL, ATOL = 1e-6, 1e-12  # float64: relative 1e-6, plus 1e-12 for values that pass near zero


# --- problems: a start and a sequence of gradients, the same for every implementation ---

def make_problem(seed: int, shapes, steps: int, grad_scale: float = 1.0):
    """params0: name -> float64 array; grads: `steps` dicts of gradients of the same shapes."""
    rng = np.random.default_rng(seed)
    params0 = {f"p{i}": rng.standard_normal(shape) for i, shape in enumerate(shapes)}
    grads = [{name: grad_scale * rng.standard_normal(p.shape) for name, p in params0.items()} for _ in range(steps)]
    return params0, grads


def run_ours(name, params0, grads, **hyper):
    params = {k: v.copy() for k, v in params0.items()}
    opt = OURS[name](params, **hyper)
    for g in grads:
        opt.step(g)
    return params


def run_torch(name, params0, grads, **hyper):
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params0.items()}
    opt = TORCH[name](list(tensors.values()), **hyper)
    for g in grads:
        for k, t in tensors.items():
            t.grad = torch.tensor(g[k], dtype=torch.float64)
        opt.step()
    return {k: t.detach().numpy() for k, t in tensors.items()}


def run_keras(opt, params0, grads, *, l2: float = 0.0):
    """Apply `grads` with a Keras optimizer to float64 variables; l2 > 0 adds l2 * theta to each
    gradient first (torch's coupled weight decay, which Keras' optimizers do not have)."""
    variables = {k: keras.Variable(v, dtype="float64") for k, v in params0.items()}
    for g in grads:
        step = [g[k] + l2 * variables[k].numpy() for k in variables]
        opt.apply(step, list(variables.values()))
    return {k: v.numpy() for k, v in variables.items()}


def assert_same(label, ours, theirs):
    for k in theirs:
        assert np.isfinite(theirs[k]).all(), f"{label}: the reference itself is not finite; pick other hyper-parameters"
        check_close(f"{label}, parameter {k}", ours[k], theirs[k], rtol=RTOL, atol=ATOL)


def f32(x: float) -> float:
    """x rounded to float32. Keras keeps the learning rate in a float32 variable and turns Python
    floats such as beta_1 or momentum into float32 tensors before casting them to float64, so
    only hyper-parameters exact in float32 reach its float64 arithmetic unchanged."""
    return float(np.float32(x))


shapes_st = st.lists(array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), min_size=1, max_size=3)
seed_st = st.integers(0, 2**32 - 1)
lr_st = st.floats(1e-4, 0.3)
rate_st = st.floats(0.0, 0.99)
decay_st = st.one_of(st.just(0.0), st.floats(1e-4, 0.1))
eps_st = st.sampled_from([0.0, 1e-10, 1e-8, 1e-3])
# beta2 near 0 with eps = 0 lets v_hat follow g_t^2 alone: where g_t (with L2 decay) crosses zero
# the step m_hat / |g_t| explodes and round-off is amplified chaotically, in torch as here.
beta2_st = st.floats(0.5, 0.999)


# --- equal to torch.optim, 100 steps, random shapes and hyper-parameters -----------------

@settings(deadline=None, max_examples=40)
@given(seed=seed_st, shapes=shapes_st, lr=lr_st, momentum=st.one_of(st.just(0.0), st.floats(0.05, 0.99)),
       dampening=st.one_of(st.just(0.0), st.floats(0.0, 0.9)), nesterov=st.booleans(), weight_decay=decay_st)
def test_sgd_equals_torch(seed, shapes, lr, momentum, dampening, nesterov, weight_decay):
    if nesterov:  # torch and ours require momentum > 0 and no dampening for Nesterov
        momentum, dampening = max(momentum, 0.5), 0.0
    hyper = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)
    params0, grads = make_problem(seed, shapes, 100)
    assert_same(f"SGD {hyper}", run_ours("SGD", params0, grads, **hyper), run_torch("SGD", params0, grads, **hyper))


@settings(deadline=None, max_examples=40)
@given(seed=seed_st, shapes=shapes_st, lr=lr_st, eps=eps_st, weight_decay=decay_st,
       initial=st.sampled_from([0.0, 0.1, 1.0]))
def test_adagrad_equals_torch(seed, shapes, lr, eps, weight_decay, initial):
    hyper = dict(lr=lr, eps=eps, weight_decay=weight_decay, initial_accumulator_value=initial)
    params0, grads = make_problem(seed, shapes, 100)
    assert_same(f"AdaGrad {hyper}", run_ours("AdaGrad", params0, grads, **hyper),
                run_torch("AdaGrad", params0, grads, **hyper))


@settings(deadline=None, max_examples=40)
@given(seed=seed_st, shapes=shapes_st, lr=st.floats(1e-4, 0.05), alpha=rate_st, eps=eps_st,
       momentum=st.one_of(st.just(0.0), st.floats(0.05, 0.9)), weight_decay=decay_st, centered=st.booleans())
def test_rmsprop_equals_torch(seed, shapes, lr, alpha, eps, momentum, weight_decay, centered):
    if centered:  # alpha near 0 makes v_t - a_t^2 round-off noise: 0/0 with eps = 0, chaos otherwise
        alpha = max(alpha, 0.1)
    hyper = dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay, centered=centered)
    params0, grads = make_problem(seed, shapes, 100)
    assert_same(f"RMSprop {hyper}", run_ours("RMSprop", params0, grads, **hyper),
                run_torch("RMSprop", params0, grads, **hyper))


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@settings(deadline=None, max_examples=40)
@given(seed=seed_st, shapes=shapes_st, lr=st.floats(1e-4, 0.1), beta1=rate_st, beta2=beta2_st, eps=eps_st,
       weight_decay=decay_st, grad_scale=st.sampled_from([1e-3, 1.0, 1e3]))
def test_adam_and_adamw_equal_torch(name, seed, shapes, lr, beta1, beta2, eps, weight_decay, grad_scale):
    hyper = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    params0, grads = make_problem(seed, shapes, 100, grad_scale)
    assert_same(f"{name} {hyper}", run_ours(name, params0, grads, **hyper), run_torch(name, params0, grads, **hyper))


def test_defaults_are_torchs():
    p = {"w": np.zeros(3)}
    assert Adam(p).hyperparameters() == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}
    assert AdamW(p).weight_decay == 1e-2
    assert RMSprop(p).hyperparameters() == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0,
                                            "weight_decay": 0.0, "centered": False}
    assert AdaGrad(p).hyperparameters() == {"lr": 1e-2, "eps": 1e-10, "weight_decay": 0.0,
                                            "initial_accumulator_value": 0.0}
    ref = torch.optim.Adam([torch.zeros(3)]).defaults
    assert (ref["lr"], tuple(ref["betas"]), ref["eps"]) == (Adam(p).lr, Adam(p).betas, Adam(p).eps)


def test_state_uses_torchs_key_names():
    params0, grads = make_problem(0, [(2, 3)], 2)
    cases = [("SGD", dict(lr=0.1, momentum=0.9)), ("AdaGrad", {}), ("RMSprop", dict(momentum=0.5, centered=True)),
             ("Adam", {}), ("AdamW", {})]
    for name, hyper in cases:
        tensors = [torch.tensor(params0["p0"], requires_grad=True)]
        ref = TORCH[name](tensors, **({"lr": 0.1} | hyper))
        tensors[0].grad = torch.tensor(grads[0]["p0"])
        ref.step()
        opt = OURS[name]({"p0": params0["p0"].copy()}, **({"lr": 0.1} | hyper))
        opt.step(grads[0])
        assert set(opt.state["p0"]) == set(ref.state[tensors[0]]), name
        for key, value in opt.state["p0"].items():
            check_close(f"{name} state {key}", value, ref.state[tensors[0]][key].numpy(), rtol=1e-12)


# --- equal to keras.optimizers, with the conventions matched ---------------------------

@settings(deadline=None, max_examples=8)
@given(seed=seed_st, shapes=shapes_st, lr=lr_st, momentum=st.one_of(st.just(0.0), st.floats(0.05, 0.99)),
       nesterov=st.booleans(), weight_decay=decay_st)
def test_sgd_equals_keras(seed, shapes, lr, momentum, nesterov, weight_decay):
    """Keras' velocity is -lr times torch's buffer; Keras has no dampening; L2 decay is fed in the gradient."""
    lr, momentum = f32(lr), f32(max(momentum, 0.5) if nesterov else momentum)
    params0, grads = make_problem(seed, shapes, 30)
    ours = run_ours("SGD", params0, grads, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    theirs = run_keras(keras.optimizers.SGD(learning_rate=lr, momentum=momentum, nesterov=nesterov),
                       params0, grads, l2=weight_decay)
    assert_same("SGD vs Keras", ours, theirs)


def test_plain_sgd_weight_decay_equals_keras_decoupled_weight_decay():
    """Without momentum, L2 in the gradient and Keras' decoupled decay give the same step."""
    params0, grads = make_problem(1, [(3, 2)], 30)
    lr, weight_decay = f32(0.05), f32(0.01)
    ours = run_ours("SGD", params0, grads, lr=lr, weight_decay=weight_decay)
    theirs = run_keras(keras.optimizers.SGD(learning_rate=lr, weight_decay=weight_decay), params0, grads)
    assert_same("SGD(weight_decay) vs Keras SGD(weight_decay)", ours, theirs)


@settings(deadline=None, max_examples=8)
@given(seed=seed_st, shapes=shapes_st, lr=lr_st, initial=st.sampled_from([0.1, 1.0]), weight_decay=decay_st)
def test_adagrad_equals_keras(seed, shapes, lr, initial, weight_decay):
    """Keras puts eps inside the root and starts the sum at 0.1: match with eps=0 and the same start."""
    lr = f32(lr)
    weight_decay = f32(weight_decay)
    params0, grads = make_problem(seed, shapes, 30)
    ours = run_ours("AdaGrad", params0, grads, lr=lr, eps=0.0, weight_decay=weight_decay,
                    initial_accumulator_value=initial)
    theirs = run_keras(keras.optimizers.Adagrad(learning_rate=lr, epsilon=0.0, initial_accumulator_value=initial),
                       params0, grads, l2=weight_decay)
    assert_same("AdaGrad vs Keras", ours, theirs)


@settings(deadline=None, max_examples=8)
@given(seed=seed_st, shapes=shapes_st, lr=st.floats(1e-4, 0.05), alpha=st.floats(0.1, 0.99),
       momentum=st.one_of(st.just(0.0), st.floats(0.05, 0.9)), centered=st.booleans())
def test_rmsprop_equals_keras(seed, shapes, lr, alpha, momentum, centered):
    """Keras calls alpha rho and puts eps inside the root: match with rho=alpha and eps=0.
    (alpha > 0: with alpha = 0, centered and eps = 0, the first step divides 0 by 0 in both.)"""
    lr, alpha, momentum = f32(lr), f32(alpha), f32(momentum)
    params0, grads = make_problem(seed, shapes, 30)
    ours = run_ours("RMSprop", params0, grads, lr=lr, alpha=alpha, eps=0.0, momentum=momentum, centered=centered)
    theirs = run_keras(keras.optimizers.RMSprop(learning_rate=lr, rho=alpha, epsilon=0.0, momentum=momentum,
                                                centered=centered), params0, grads)
    assert_same("RMSprop vs Keras", ours, theirs)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@settings(deadline=None, max_examples=8)
@given(seed=seed_st, shapes=shapes_st, lr=st.floats(1e-4, 0.1), beta1=rate_st, beta2=beta2_st,
       weight_decay=decay_st)
def test_adam_and_adamw_equal_keras(name, seed, shapes, lr, beta1, beta2, weight_decay):
    """Keras adds epsilon before bias correction: match with eps=0. Keras' Adam(weight_decay) is
    decoupled, so torch's Adam L2 is fed in the gradient, and Keras' AdamW is ours directly."""
    lr, beta1, beta2, weight_decay = f32(lr), f32(beta1), f32(beta2), f32(weight_decay)
    params0, grads = make_problem(seed, shapes, 30)
    ours = run_ours(name, params0, grads, lr=lr, betas=(beta1, beta2), eps=0.0, weight_decay=weight_decay)
    if name == "Adam":
        opt = keras.optimizers.Adam(learning_rate=lr, beta_1=beta1, beta_2=beta2, epsilon=0.0)
        theirs = run_keras(opt, params0, grads, l2=weight_decay)
    else:
        opt = keras.optimizers.AdamW(learning_rate=lr, beta_1=beta1, beta_2=beta2, epsilon=0.0,
                                     weight_decay=weight_decay)
        theirs = run_keras(opt, params0, grads)
    assert_same(f"{name} vs Keras", ours, theirs)


def test_keras_epsilon_hat_differs_by_about_eps_over_root_of_bias_correction():
    """With epsilon > 0 Keras and torch differ, by about eps / sqrt(1 - beta2^t) in the denominator:
    tiny gradients make that visible, and ours agree with torch, not Keras."""
    params0, grads = make_problem(2, [(4,)], 10, grad_scale=1e-7)
    lr = f32(0.01)
    ours = run_ours("Adam", params0, grads, lr=lr, eps=1e-7)
    keras_params = run_keras(keras.optimizers.Adam(learning_rate=lr, epsilon=1e-7), params0, grads)
    assert_same("Adam vs torch, eps=1e-7", ours, run_torch("Adam", params0, grads, lr=lr, eps=1e-7))
    moved_ours = np.abs(ours["p0"] - params0["p0"]).sum()
    moved_keras = np.abs(keras_params["p0"] - params0["p0"]).sum()
    assert moved_keras < 0.5 * moved_ours, "Keras' epsilon-hat should damp the steps much more for tiny gradients"


# --- state_dict round trip -------------------------------------------------------------

ROUND_TRIP_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("AdaGrad", dict(lr=0.1, weight_decay=1e-3, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-3)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=1e-3)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,hyper", ROUND_TRIP_CASES, ids=[c[0] for c in ROUND_TRIP_CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_state_dict_round_trip_continues_exactly(name, hyper, dtype):
    params0, grads = make_problem(3, [(5, 3), (3,)], 100)
    params0 = {k: v.astype(dtype) for k, v in params0.items()}
    straight = run_ours(name, params0, grads, **hyper)

    params = {k: v.copy() for k, v in params0.items()}
    first = OURS[name](params, **hyper)
    for g in grads[:50]:
        first.step(g)
    saved = first.state_dict()
    resumed_params = {k: v.copy() for k, v in params.items()}  # saved with the optimizer, as in torch
    first.step(grads[50])  # the saved state is a copy: this must not change it
    second = OURS[name](resumed_params, lr=123.0) if name == "SGD" else OURS[name](resumed_params)
    second.load_state_dict(saved)
    assert second.hyperparameters() == first.hyperparameters()
    for g in grads[50:]:
        second.step(g)
    for k in straight:
        assert resumed_params[k].dtype == dtype
        np.testing.assert_array_equal(resumed_params[k], straight[k], err_msg=f"{name} after a round trip")


def test_load_state_dict_rejects_a_state_for_other_parameters():
    opt = Adam({"w": np.zeros(3)})
    opt.step({"w": np.ones(3)})
    saved = opt.state_dict()
    with pytest.raises(ValueError, match=r"parameters \['w'\], this optimizer has \['v'\]"):
        Adam({"v": np.zeros(3)}).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"state\['w'\]\['exp_avg'\] has shape \(3,\).*\(4,\)"):
        Adam({"w": np.zeros(4)}).load_state_dict(saved)
    with pytest.raises(ValueError, match="hyper-parameters"):
        SGD({"w": np.zeros(3)}, lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="'state' and 'hyperparameters'"):
        Adam({"w": np.zeros(3)}).load_state_dict({"state": {}})
    bad = opt.state_dict()
    bad["hyperparameters"]["lr"] = -1.0
    target = Adam({"w": np.zeros(3)}, lr=0.5)
    with pytest.raises(ValueError, match="lr must lie in"):
        target.load_state_dict(bad)
    assert target.lr == 0.5 and target.state == {"w": {}}, "a failed load must change nothing"


# --- properties of the algorithms ------------------------------------------------------

@settings(deadline=None, max_examples=30)
@given(seed=seed_st, shapes=shapes_st, lr=lr_st)
def test_sgd_without_momentum_is_gradient_descent(seed, shapes, lr):
    params0, grads = make_problem(seed, shapes, 5)
    expected = {k: v.copy() for k, v in params0.items()}
    for g in grads:
        for k in expected:
            expected[k] = expected[k] - lr * g[k]
    assert_same("SGD(momentum=0)", run_ours("SGD", params0, grads, lr=lr), expected)


@settings(deadline=None, max_examples=30)
@given(seed=seed_st, shapes=shapes_st, scale=st.floats(1e-3, 1e3), beta1=rate_st, beta2=rate_st)
def test_adam_with_eps_zero_ignores_the_scale_of_the_gradient(seed, shapes, scale, beta1, beta2):
    """m_hat / sqrt(v_hat) does not change when every gradient is multiplied by c > 0."""
    params0, grads = make_problem(seed, shapes, 20)
    scaled = [{k: scale * g for k, g in step.items()} for step in grads]
    hyper = dict(lr=0.01, betas=(beta1, beta2), eps=0.0)
    assert_same(f"Adam with gradients x{scale:.3g}", run_ours("Adam", params0, scaled, **hyper),
                run_ours("Adam", params0, grads, **hyper))


@settings(deadline=None, max_examples=30)
@given(sign=st.sampled_from([-1.0, 1.0]), size=st.floats(1e-2, 1e2), beta1=rate_st, beta2=rate_st)
def test_adam_steps_by_lr_under_a_constant_gradient(sign, size, beta1, beta2):
    """Bias correction makes m_hat = g and v_hat = g^2 exactly, so each step is lr * sign(g)."""
    params = {"w": np.zeros(1)}
    opt = Adam(params, lr=0.01, betas=(beta1, beta2), eps=0.0)
    for t in range(1, 6):
        opt.step({"w": np.array([sign * size])})
        check_close(f"Adam after {t} constant steps", params["w"], np.array([-sign * 0.01 * t]), rtol=1e-9)


def test_adamw_and_adam_with_l2_differ_and_agree_without_decay():
    params0, grads = make_problem(4, [(6,)], 50)
    l2 = run_ours("Adam", params0, grads, lr=0.01, weight_decay=0.1)
    decoupled = run_ours("AdamW", params0, grads, lr=0.01, weight_decay=0.1)
    assert np.abs(l2["p0"] - decoupled["p0"]).max() > 1e-3
    np.testing.assert_array_equal(run_ours("Adam", params0, grads, lr=0.01)["p0"],
                                  run_ours("AdamW", params0, grads, lr=0.01, weight_decay=0.0)["p0"])


def test_float32_parameters_stay_float32_and_are_updated_in_place():
    W = np.ones((2, 2), dtype=np.float32)
    opt = Adam({"W": W}, lr=0.1)
    opt.step({"W": np.ones((2, 2), dtype=np.float64)})
    assert W.dtype == np.float32 and np.allclose(W, 0.9)
    assert opt.state["W"]["exp_avg"].dtype == np.float32


def test_lr_can_change_between_steps():
    params = {"w": np.array([1.0])}
    opt = SGD(params, lr=0.5)
    opt.step({"w": np.array([1.0])})
    opt.lr = 0.25
    opt.step({"w": np.array([1.0])})
    assert params["w"][0] == 1.0 - 0.5 - 0.25
    with pytest.raises(ValueError, match="lr must lie in"):
        opt.lr = -0.1


def test_repr_lists_the_hyperparameters():
    assert repr(Adam({"w": np.zeros(1)})) == "Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0)"


# --- bad input -------------------------------------------------------------------------

@pytest.mark.parametrize("make,match", [
    (lambda p: SGD(p, lr=-0.1), "SGD: lr must lie in"),
    (lambda p: SGD(p, lr=0.1, momentum=-0.5), "momentum"),
    (lambda p: SGD(p, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
    (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening = 0"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1e-4), "weight_decay"),
    (lambda p: AdaGrad(p, eps=-1e-10), "AdaGrad: eps must lie in"),
    (lambda p: RMSprop(p, alpha=1.0), r"alpha must lie in \[0, 1\)"),
    (lambda p: RMSprop(p, eps=-1.0), "eps"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), r"betas\[0\] must lie in \[0, 1\), got 1.0"),
    (lambda p: Adam(p, betas=(0.9, -0.1)), r"betas\[1\]"),
    (lambda p: Adam(p, betas=(0.9,)), "betas must be a pair"),
    (lambda p: Adam(p, eps=-1e-8), "eps"),
    (lambda p: AdamW(p, lr=float("nan")), "lr"),
    (lambda p: SGD({}, lr=0.1), "params is empty"),
])
def test_bad_hyperparameters_raise_value_error_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make({"w": np.zeros(2)})


@pytest.mark.parametrize("make,match", [
    (lambda: SGD([np.zeros(2)], lr=0.1), "params must be a dict"),
    (lambda: SGD({"w": [0.0, 1.0]}, lr=0.1), r"params\['w'\] must be a NumPy array"),
    (lambda: SGD({"w": np.zeros(2, dtype=int)}, lr=0.1), "floating dtype"),
    (lambda: SGD({0: np.zeros(2)}, lr=0.1), "names must be strings"),
    (lambda: SGD({"w": np.zeros(2)}, lr="0.1"), "lr must be a number"),
    (lambda: SGD({"w": np.zeros(2)}, lr=0.1, momentum=0.9, nesterov="yes"), "nesterov must be True or False"),
])
def test_bad_types_raise_type_error(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_read_only_params_are_refused():
    w = np.zeros(2)
    w.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        Adam({"w": w})


@pytest.mark.parametrize("grads,error,match", [
    ({"W": np.ones((2, 3))}, ValueError, "no entry for parameter 'b'"),
    ({"W": np.ones((2, 3)), "b": np.ones(3), "c": np.ones(1)}, ValueError, r"grads\['c'\] matches no parameter"),
    ({"W": np.ones((3, 2)), "b": np.ones(3)}, ValueError, r"grads\['W'\] has shape \(3, 2\), but parameter 'W' has shape \(2, 3\)"),
    ({"W": np.ones((2, 3)), "b": np.array([1.0, np.nan, 1.0])}, ValueError, r"grads\['b'\] holds 1 NaN or infinite"),
    ({"W": np.full((2, 3), np.inf), "b": np.ones(3)}, ValueError, r"grads\['W'\] holds 6 NaN"),
    ({"W": np.ones((2, 3)), "b": np.array(["a", "b", "c"])}, TypeError, "real numbers"),
    ([np.ones((2, 3)), np.ones(3)], TypeError, "grads must be a dict"),
])
@pytest.mark.parametrize("name", list(OURS))
def test_bad_gradients_raise_and_change_nothing(name, grads, error, match):
    params = {"W": np.ones((2, 3)), "b": np.zeros(3)}
    opt = OURS[name](params, lr=0.1) if name == "SGD" else OURS[name](params)
    opt.step({"W": np.ones((2, 3)), "b": np.ones(3)})
    before = ({k: v.copy() for k, v in params.items()}, opt.state_dict())
    with pytest.raises(error, match=match):
        opt.step(grads)
    for k in params:
        np.testing.assert_array_equal(params[k], before[0][k])
    after = opt.state_dict()["state"]
    for k, entries in before[1]["state"].items():
        for key, value in entries.items():
            np.testing.assert_array_equal(after[k][key], value)
