"""Neural-network layers in NumPy, each with a hand-written backward pass.

    model = Sequential(Linear(784, 256, rng), ReLU(), Linear(256, 10, rng, init="glorot"))
    logits = model.forward(X, training=True)              # X: (N, 784) -> logits: (N, 10)
    loss, dlogits = softmax_cross_entropy(logits, y)      # y: (N,) labels 0..9
    model.backward(dlogits, input_grad=False)             # fills model.grads
    optimizer.step(model.grads)                           # updates model.params in place

Every layer has the same small interface:

- `forward(x, *, training)` returns the output and, when training=True, keeps what backward
  needs (with training=False it keeps nothing: inference stores no activations);
- `backward(dout, *, input_grad=True)` takes dL/d(output) of the last training forward, writes
  dL/d(param) into `grads` and returns dL/d(input); with input_grad=False it skips that last
  product and returns None (training never needs the gradient with respect to the data, and
  skipping it in the first layer saves about a third of a training step of a 784-256-10 MLP);
- `params` and `grads` are dicts with the same keys (empty for layers without parameters).
  The arrays in `params` are the very arrays the layer computes with, so an optimizer that
  updates them in place changes the layer; the arrays in `grads` are overwritten in place by
  every backward (copy them to keep one).

Shapes: N samples per batch, D_in and D_out features; everything is row-major, x @ W.
"""
from __future__ import annotations

import numpy as np

INITS = ("he", "glorot")


class Layer:
    """The interface every layer follows; layers without parameters keep the empty dicts."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def _check_training(self, training) -> None:
        if not isinstance(training, (bool, np.bool_)):
            raise TypeError(f"training must be True or False, got {training!r}")

    def _cached(self, value):
        if value is None:
            raise RuntimeError(f"{self!r}.backward needs the input of a forward(x, training=True) call first; "
                               "forward with training=False keeps nothing for backward")
        return value


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class Linear(Layer):
    """A fully connected layer, y = x @ W + b.

    W: (D_in, D_out), b: (D_out,); params and grads have keys "W" and "b".
    forward: x (N, D_in) -> y (N, D_out).
    backward: dout = dL/dy (N, D_out) -> dL/dx = dout @ W.T (N, D_in) (None with
        input_grad=False), and dL/dW = x.T @ dout (D_in, D_out), dL/db = dout summed over the
        batch (D_out,).

    Note: torch.nn.Linear stores its weight transposed, as (D_out, D_in), and computes
    x @ weight.T + bias; copy W.T into it to compare.

    Initialization, drawn from `rng` (biases start at zero):
    - "he" (Kaiming normal, for ReLU networks): W ~ Normal(0, 2 / D_in), so the variance of
      the activations stays roughly the same from layer to layer through ReLUs;
    - "glorot" (Xavier uniform, Keras' Dense default): W ~ Uniform(-a, a) with
      a = sqrt(6 / (D_in + D_out)), so Var W = 2 / (D_in + D_out).
    """

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator, *,
                 init: str = "he", dtype=np.float64) -> None:
        super().__init__()
        self.in_features = _check_positive_int("in_features", in_features)
        self.out_features = _check_positive_int("out_features", out_features)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, e.g. np.random.default_rng(0), "
                            f"got {type(rng).__name__}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"dtype must be a floating type such as np.float64 or np.float32, got {dtype}")
        self.init = init
        shape = (self.in_features, self.out_features)
        if init == "he":
            W = rng.standard_normal(shape) * np.sqrt(2.0 / self.in_features)
        else:
            limit = np.sqrt(6.0 / (self.in_features + self.out_features))
            W = rng.uniform(-limit, limit, size=shape)
        self.params = {"W": W.astype(dtype), "b": np.zeros(self.out_features, dtype=dtype)}
        self.grads = {"W": np.zeros(shape, dtype=dtype), "b": np.zeros(self.out_features, dtype=dtype)}
        self._x: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, init={self.init!r})"

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_training(training)
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"{self!r}.forward expects x of shape (N, {self.in_features}), got {x.shape}")
        self._x = x if training else None
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        x = self._cached(self._x)
        dout = np.asarray(dout)
        expected = (x.shape[0], self.out_features)
        if dout.shape != expected:
            raise ValueError(f"{self!r}.backward expects dout of the output's shape {expected}, got {dout.shape}")
        self.grads["W"][...] = x.T @ dout
        self.grads["b"][...] = dout.sum(axis=0)
        return dout @ self.params["W"].T if input_grad else None


class ReLU(Layer):
    """relu(x) = max(x, 0), elementwise, for x of any shape.

    backward: dL/dx = dout * (x > 0); at exactly x = 0 the gradient is taken as 0 (as PyTorch does).
    """

    def __init__(self) -> None:
        super().__init__()
        self._positive: np.ndarray | None = None

    def __repr__(self) -> str:
        return "ReLU()"

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_training(training)
        x = np.asarray(x)
        positive = x > 0
        self._positive = positive if training else None
        return np.where(positive, x, 0).astype(x.dtype, copy=False)

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        positive = self._cached(self._positive)
        dout = np.asarray(dout)
        if dout.shape != positive.shape:
            raise ValueError(f"ReLU().backward expects dout of the output's shape {positive.shape}, got {dout.shape}")
        return np.where(positive, dout, 0).astype(dout.dtype, copy=False) if input_grad else None


class Sequential(Layer):
    """Layers applied one after the other; backward runs them in reverse order.

    params and grads are flat dicts "<layer index>.<name>" -> array, e.g. "0.W", "0.b", "2.W",
    holding the layers' own arrays (not copies), so they plug straight into course_utils.optim:

        opt = Adam(model.params); model.backward(dlogits, input_grad=False); opt.step(model.grads)
    """

    def __init__(self, *layers: Layer) -> None:  # no Layer.__init__: params and grads are properties here
        if not layers:
            raise ValueError("Sequential needs at least one layer, e.g. Sequential(Linear(784, 10, rng))")
        for i, layer in enumerate(layers):
            missing = [a for a in ("forward", "backward", "params", "grads") if not hasattr(layer, a)]
            if missing:
                raise TypeError(f"layer {i} ({type(layer).__name__}) is not a layer: it lacks {missing}")
        self.layers = list(layers)

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(repr(layer) for layer in self.layers) + ")"

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __iter__(self):
        return iter(self.layers)

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{i}.{name}": value for i, layer in enumerate(self.layers) for name, value in layer.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{i}.{name}": value for i, layer in enumerate(self.layers) for name, value in layer.grads.items()}

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_training(training)
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Backward through every layer, last to first; input_grad=False spares the first layer dL/dx."""
        for layer in reversed(self.layers[1:]):
            dout = layer.backward(dout)
        if input_grad:
            return self.layers[0].backward(dout)
        return self.layers[0].backward(dout, input_grad=False)


def _check_logits(logits) -> np.ndarray:
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[0] == 0 or logits.shape[1] == 0:
        raise ValueError(f"logits must have shape (N, C) with N, C >= 1, got {logits.shape}")
    if not np.issubdtype(logits.dtype, np.floating):
        raise TypeError(f"logits must be floating point, got {logits.dtype}")
    return logits


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax(z)_c = z_c - log sum_k exp(z_k), row by row; logits: (N, C) -> (N, C).

    Computed stably: with m = max_k z_k, log sum_k exp(z_k) = m + log sum_k exp(z_k - m),
    where every exponent is <= 0, so nothing overflows however large the logits are.
    """
    logits = _check_logits(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities softmax(z)_c = exp(z_c) / sum_k exp(z_k); logits: (N, C) -> (N, C)."""
    return np.exp(log_softmax(logits))


def _check_targets(y, logits: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    n, c = logits.shape
    if y.ndim == 1:
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"labels y of shape (N,) must be integers 0..{c - 1}, got dtype {y.dtype}")
        if y.shape[0] != n:
            raise ValueError(f"y must have shape ({n},) to match logits {logits.shape}, got {y.shape}")
        if y.min() < 0 or y.max() >= c:
            raise ValueError(f"labels y must lie in 0..{c - 1} for {c} classes, got values from {y.min()} to {y.max()}")
    elif y.ndim == 2:
        if y.shape != logits.shape:
            raise ValueError(f"target probabilities y must have the logits' shape {logits.shape}, got {y.shape}")
        if not np.issubdtype(y.dtype, np.floating):
            raise TypeError(f"target probabilities y of shape (N, C) must be floating point, got {y.dtype}")
    else:
        raise ValueError(f"y must be labels of shape ({n},) or probabilities of shape {logits.shape}, got {y.shape}")
    return y


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against the targets, and its gradient.

    logits z: (N, C) floating. y: (N,) integer labels in 0..C-1, or (N, C) target
    probabilities q (e.g. label-smoothed one-hot rows).
    With p = softmax(z) row by row:
        loss = -(1/N) sum_i log p_{i, y_i}             (labels)
             = -(1/N) sum_i sum_c q_ic log p_ic          (probabilities)
        dloss/dz = (p - onehot(y)) / N                  (labels)
                 = (p * sum_c q_ic - q) / N              (probabilities; (p - q) / N when rows sum to 1)
    Numerically stable (log-sum-exp, see log_softmax): logits of 1e4 give finite results.
    Returns (loss as a Python float, dlogits of shape (N, C)). Equals torch.nn.functional.cross_entropy
    with its default reduction="mean".
    """
    logits = _check_logits(logits)
    y = _check_targets(y, logits)
    n = logits.shape[0]
    log_p = log_softmax(logits)
    p = np.exp(log_p)
    if y.ndim == 1:
        rows = np.arange(n)
        loss = -log_p[rows, y].mean()
        dlogits = p
        dlogits[rows, y] -= 1
    else:
        loss = -(y * log_p).sum(axis=1).mean()
        dlogits = p * y.sum(axis=1, keepdims=True) - y
    dlogits /= n
    return float(loss), dlogits.astype(logits.dtype, copy=False)
