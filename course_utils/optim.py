"""Optimizers in NumPy: SGD (momentum, Nesterov), AdaGrad, RMSprop, Adam and AdamW.

Hyper-parameters, defaults and update rules are those of torch.optim (single-tensor
algorithms, as documented there), so that the numbers agree with PyTorch to float64
round-off. Parameters are a dict of NumPy arrays, updated in place:

    params = {"W": W, "b": b}                 # name -> array (float32 or float64)
    opt = Adam(params, lr=1e-3)
    for X, y in batches:
        grads = {"W": dW, "b": db}            # the same names and shapes
        opt.step(grads)                       # W and b change in place
    opt.lr = 1e-4                             # a new learning rate at any time (schedules)

Per-parameter state lives in `opt.state[name]` under PyTorch's key names (`momentum_buffer`,
`sum`, `square_avg`, `grad_avg`, `exp_avg`, `exp_avg_sq`, `step`); `state_dict()` and
`load_state_dict()` save and restore it, so a run can be stopped and continued exactly.

Notation in the docstrings: theta are the parameters, g_t the gradient at step t = 1, 2, ...,
gamma the learning rate (lr), lambda the weight decay. Keras implements some of these
optimizers with other conventions; each class says which, and how to make Keras agree.
"""
from __future__ import annotations

import copy
import math
from typing import Mapping

import numpy as np

__all__ = ["Optimizer", "SGD", "AdaGrad", "RMSprop", "Adam", "AdamW"]


def _number(owner: str, name: str, value, *, low: float = 0.0, high: float | None = None,
            high_open: bool = False) -> float:
    """value as a float in [low, high] (or [low, high)); an error naming owner.name otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    upper = "inf)" if high is None else (f"{high:g})" if high_open else f"{high:g}]")
    if (math.isnan(value) or value < low or (high is not None and (value > high or (high_open and value == high)))):
        raise ValueError(f"{owner}: {name} must lie in [{low:g}, {upper}, got {value!r}")
    return value


def _flag(owner: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def _check_params(owner: str, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not isinstance(params, Mapping):
        raise TypeError(f"{owner}: params must be a dict mapping names to NumPy arrays, got {type(params).__name__}")
    if not params:
        raise ValueError(f"{owner}: params is empty; pass a dict mapping names to the arrays to train")
    for name, p in params.items():
        if not isinstance(name, str):
            raise TypeError(f"{owner}: parameter names must be strings, got {name!r}")
        if not isinstance(p, np.ndarray):
            raise TypeError(f"{owner}: params[{name!r}] must be a NumPy array (it is updated in place), "
                            f"got {type(p).__name__}; convert it with np.array(..., dtype=np.float64)")
        if not np.issubdtype(p.dtype, np.floating):
            raise TypeError(f"{owner}: params[{name!r}] must have a floating dtype (float32 or float64), got {p.dtype}")
        if not p.flags.writeable:
            raise ValueError(f"{owner}: params[{name!r}] is read-only; the optimizer updates it in place")
    return dict(params)


class Optimizer:
    """The common part: parameters, state, argument checks, state_dict.

    A subclass lists its hyper-parameters in `hyperparameter_names`, checks and stores them
    in `_configure(**values)` and implements the update of one parameter in
    `_update(param, grad, state)`, where `state` is `self.state[name]` (a dict it may fill).
    """

    hyperparameter_names: tuple[str, ...] = ("lr",)

    def __init__(self, params: Mapping[str, np.ndarray], **hyperparameters) -> None:
        self.params = _check_params(type(self).__name__, params)
        self.state: dict[str, dict] = {name: {} for name in self.params}
        self._configure(**hyperparameters)

    # -- hyper-parameters --------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The learning rate gamma; assign a new value at any time (e.g. from a schedule)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _number(type(self).__name__, "lr", value)

    def _configure(self, **values) -> None:
        raise NotImplementedError

    def hyperparameters(self) -> dict:
        """name -> value of every hyper-parameter, e.g. {'lr': 0.001, 'betas': (0.9, 0.999), ...}."""
        return {name: getattr(self, name) for name in self.hyperparameter_names}

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in self.hyperparameters().items())
        return f"{type(self).__name__}({values})"

    # -- one step --------------------------------------------------------------------------
    def _check_grads(self, grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        owner = type(self).__name__
        if not isinstance(grads, Mapping):
            raise TypeError(f"{owner}.step: grads must be a dict with the same names as params, got {type(grads).__name__}")
        missing = [name for name in self.params if name not in grads]
        if missing:
            raise ValueError(f"{owner}.step: grads has no entry for parameter {missing[0]!r}; "
                             f"it needs one per parameter: {list(self.params)}")
        extra = [name for name in grads if name not in self.params]
        if extra:
            raise ValueError(f"{owner}.step: grads[{extra[0]!r}] matches no parameter; "
                             f"the parameters are {list(self.params)}")
        checked = {}
        for name, param in self.params.items():
            g = np.asarray(grads[name])
            if g.dtype == bool or not (np.issubdtype(g.dtype, np.floating) or np.issubdtype(g.dtype, np.integer)):
                raise TypeError(f"{owner}.step: grads[{name!r}] must hold real numbers, got dtype {g.dtype}")
            if g.shape != param.shape:
                raise ValueError(f"{owner}.step: grads[{name!r}] has shape {g.shape}, "
                                 f"but parameter {name!r} has shape {param.shape}")
            if not np.isfinite(g).all():
                bad = int(np.size(g) - np.isfinite(g).sum())
                raise ValueError(f"{owner}.step: grads[{name!r}] holds {bad} NaN or infinite values; "
                                 "no parameter was changed. Lower the learning rate, or clip the gradients")
            checked[name] = g
        return checked

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Update every parameter in place from its gradient: grads[name] has params[name]'s shape.

        All gradients are checked before any parameter changes, so a bad gradient leaves
        the parameters and the state as they were.
        """
        grads = self._check_grads(grads)
        for name, param in self.params.items():
            self._update(param, grads[name], self.state[name])

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    # -- saving and restoring ------------------------------------------------------------
    def state_dict(self) -> dict:
        """A deep copy of the state and the hyper-parameters: {'state': {...}, 'hyperparameters': {...}}.

        The parameters themselves are not included (save them separately, as in PyTorch).
        """
        return {"state": copy.deepcopy(self.state), "hyperparameters": self.hyperparameters()}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore what state_dict() saved, into an optimizer over parameters of the same names and shapes."""
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "hyperparameters"}:
            raise ValueError(f"{owner}: expected a dict with keys 'state' and 'hyperparameters' "
                             f"(from state_dict()), got {state_dict!r:.100}")
        state, hyper = state_dict["state"], state_dict["hyperparameters"]
        if set(state) != set(self.params):
            raise ValueError(f"{owner}: the saved state is for parameters {sorted(state)}, "
                             f"this optimizer has {sorted(self.params)}")
        if set(hyper) != set(self.hyperparameter_names):
            raise ValueError(f"{owner}: the saved hyper-parameters {sorted(hyper)} are not those of "
                             f"{type(self).__name__}: {sorted(self.hyperparameter_names)}")
        for name, entries in state.items():
            for key, value in entries.items():
                if isinstance(value, np.ndarray) and value.shape != self.params[name].shape:
                    raise ValueError(f"{owner}: state[{name!r}][{key!r}] has shape {value.shape}, "
                                     f"but parameter {name!r} has shape {self.params[name].shape}")
        previous = self.hyperparameters()
        try:
            self._configure(**hyper)
        except (TypeError, ValueError):
            self._configure(**previous)  # a bad saved value changes nothing
            raise
        self.state = {name: {key: (np.array(value, dtype=self.params[name].dtype) if isinstance(value, np.ndarray)
                                   else copy.deepcopy(value)) for key, value in state[name].items()}
                      for name in self.params}


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (heavy ball or Nesterov) and L2 weight decay.

        g_t <- g_t + lambda * theta_{t-1}                                  (if weight_decay != 0)
        b_t <- g_t at t = 1, else  mu * b_{t-1} + (1 - tau) * g_t          (if momentum mu != 0)
        g_t <- g_t + mu * b_t  (nesterov)   or   g_t <- b_t  (heavy ball)  (if momentum mu != 0)
        theta_t <- theta_{t-1} - gamma * g_t

    tau is the dampening. State: `momentum_buffer` (b), created at the first step.
    Nesterov needs momentum > 0 and dampening = 0 (as in torch).

    Keras' SGD keeps v_t = mu * v_{t-1} - gamma * g_t and adds it, v = -gamma * b: the same
    numbers for a constant learning rate and dampening 0 (Keras has no dampening). Keras'
    weight_decay is decoupled (theta <- theta - gamma * lambda * theta before the step): the
    same as L2 here without momentum, different with it.
    """

    hyperparameter_names = ("lr", "momentum", "dampening", "nesterov", "weight_decay")

    def __init__(self, params: Mapping[str, np.ndarray], lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                         weight_decay=weight_decay)

    def _configure(self, *, lr, momentum, dampening, nesterov, weight_decay) -> None:
        owner = type(self).__name__
        self.lr = lr
        self.momentum = _number(owner, "momentum", momentum)
        self.dampening = _number(owner, "dampening", dampening, high=1.0)
        self.nesterov = _flag(owner, "nesterov", nesterov)
        self.weight_decay = _number(owner, "weight_decay", weight_decay)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(f"{owner}: nesterov=True needs momentum > 0 and dampening = 0, "
                             f"got momentum={self.momentum}, dampening={self.dampening}")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * param
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, dtype=param.dtype)
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        param -= self.lr * grad


class AdaGrad(Optimizer):
    """AdaGrad: each coordinate's step is divided by the root of its summed squared gradients.

        g_t <- g_t + lambda * theta_{t-1}                    (if weight_decay != 0)
        s_t = s_{t-1} + g_t^2                                (s_0 = initial_accumulator_value)
        theta_t = theta_{t-1} - gamma * g_t / (sqrt(s_t) + eps)

    State: `sum` (s) and `step`. torch's lr_decay is not implemented (it is 0 here).
    Keras' Adagrad divides by sqrt(s_t + eps), eps *inside* the root, and starts from
    initial_accumulator_value=0.1 (torch and this class: 0). With eps=0 on both sides and
    the same initial_accumulator_value they compute the same numbers.
    """

    hyperparameter_names = ("lr", "eps", "weight_decay", "initial_accumulator_value")

    def __init__(self, params: Mapping[str, np.ndarray], lr: float = 1e-2, eps: float = 1e-10,
                 weight_decay: float = 0.0, *, initial_accumulator_value: float = 0.0) -> None:
        super().__init__(params, lr=lr, eps=eps, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value)

    def _configure(self, *, lr, eps, weight_decay, initial_accumulator_value) -> None:
        owner = type(self).__name__
        self.lr = lr
        self.eps = _number(owner, "eps", eps)
        self.weight_decay = _number(owner, "weight_decay", weight_decay)
        self.initial_accumulator_value = _number(owner, "initial_accumulator_value", initial_accumulator_value)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, self.initial_accumulator_value)
        state["step"] += 1
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * param
        state["sum"] += grad * grad
        param -= self.lr * grad / (np.sqrt(state["sum"]) + self.eps)


class RMSprop(Optimizer):
    """RMSprop: divide by the root of a running average of squared gradients.

        g_t <- g_t + lambda * theta_{t-1}                         (if weight_decay != 0)
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2               (v_0 = 0)
        d_t = sqrt(v_t) + eps,  or with centered=True:
              a_t = alpha * a_{t-1} + (1 - alpha) * g_t,  d_t = sqrt(v_t - a_t^2) + eps
        b_t = mu * b_{t-1} + g_t / d_t,  theta_t = theta_{t-1} - gamma * b_t   (if momentum mu > 0)
        theta_t = theta_{t-1} - gamma * g_t / d_t                             (otherwise)

    State: `square_avg` (v), `grad_avg` (a, if centered), `momentum_buffer` (b, if momentum),
    `step`. The decay rate alpha is a separate hyper-parameter from the learning rate.

    Keras' RMSprop calls alpha `rho` (default 0.9; torch's alpha defaults to 0.99), puts eps
    *inside* the root, sqrt(v_t + eps) (default 1e-7), and keeps its momentum buffer already
    multiplied by gamma. With eps=0 on both sides they compute the same numbers.
    """

    hyperparameter_names = ("lr", "alpha", "eps", "momentum", "weight_decay", "centered")

    def __init__(self, params: Mapping[str, np.ndarray], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, momentum: float = 0.0, weight_decay: float = 0.0, *,
                 centered: bool = False) -> None:
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, momentum=momentum,
                         weight_decay=weight_decay, centered=centered)

    def _configure(self, *, lr, alpha, eps, momentum, weight_decay, centered) -> None:
        owner = type(self).__name__
        self.lr = lr
        self.alpha = _number(owner, "alpha", alpha, high=1.0, high_open=True)
        self.eps = _number(owner, "eps", eps)
        self.momentum = _number(owner, "momentum", momentum)
        self.weight_decay = _number(owner, "weight_decay", weight_decay)
        self.centered = _flag(owner, "centered", centered)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if self.centered:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * param
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * grad * grad
        if self.centered:
            grad_avg = state["grad_avg"]
            grad_avg *= self.alpha
            grad_avg += (1 - self.alpha) * grad
            denom = np.sqrt(square_avg - grad_avg * grad_avg) + self.eps
        else:
            denom = np.sqrt(square_avg) + self.eps
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += grad / denom
            param -= self.lr * buf
        else:
            param -= self.lr * grad / denom


class Adam(Optimizer):
    """Adam: momentum on the gradient, RMSprop's scaling, and bias correction of both averages.

        g_t <- g_t + lambda * theta_{t-1}                  (if weight_decay != 0: L2 in the gradient)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t          (m_0 = 0)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2        (v_0 = 0)
        m_hat = m_t / (1 - beta1^t),  v_hat = v_t / (1 - beta2^t)       (bias correction)
        theta_t = theta_{t-1} - gamma * m_hat / (sqrt(v_hat) + eps)

    Because m_0 = v_0 = 0, m_t and v_t are averages that start too close to zero; dividing by
    1 - beta^t removes that bias exactly for a constant gradient.
    State: `exp_avg` (m), `exp_avg_sq` (v), `step` (t).

    Keras' Adam adds its epsilon to sqrt(v_t) *before* bias correction ("epsilon hat"):
    theta_t = theta_{t-1} - gamma * m_hat / (sqrt(v_hat) + eps_keras / sqrt(1 - beta2^t)),
    default 1e-7. No constant makes that equal to eps here at every step, but with eps=0 on
    both sides the two compute the same numbers. Keras' weight_decay is decoupled (AdamW's).
    """

    hyperparameter_names = ("lr", "betas", "eps", "weight_decay")
    decoupled_weight_decay = False

    def __init__(self, params: Mapping[str, np.ndarray], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _configure(self, *, lr, betas, eps, weight_decay) -> None:
        owner = type(self).__name__
        self.lr = lr
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{owner}: betas must be a pair (beta1, beta2) in [0, 1), got {betas!r}")
        self.betas = (_number(owner, "betas[0]", betas[0], high=1.0, high_open=True),
                      _number(owner, "betas[1]", betas[1], high=1.0, high_open=True))
        self.eps = _number(owner, "eps", eps)
        self.weight_decay = _number(owner, "weight_decay", weight_decay)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            if self.decoupled_weight_decay:
                param *= 1 - self.lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * param
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: shrink the weights directly, not through the gradient.

        theta_{t-1} <- theta_{t-1} * (1 - gamma * lambda)      (before the Adam step)
        then Adam's update with the plain gradient g_t.

    With L2 in the gradient (Adam's weight_decay), the decay term lambda * theta is divided by
    sqrt(v_hat) like the rest of the gradient, so weights with large gradients are barely
    decayed; here every weight shrinks by the same factor. Default weight_decay 1e-2 (torch).
    Keras' AdamW decays the same way (weight_decay default 0.004) with Adam's epsilon-hat.
    """

    decoupled_weight_decay = True

    def __init__(self, params: Mapping[str, np.ndarray], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
