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

Layers: Linear, ReLU, Sequential, BatchNorm1d, BatchNorm2d (running statistics kept outside
`params`, PyTorch's conventions) and Dropout (p is the probability of dropping). The loss,
softmax_cross_entropy, takes labels or probability targets and an optional label_smoothing.

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


class _BatchNorm(Layer):
    """Batch normalization over every axis but the feature (channel) axis 1; see BatchNorm1d."""

    ranks: tuple[int, ...] = ()
    shape_names: tuple[str, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, *,
                 unbiased_running_var: bool = True, dtype=np.float64) -> None:
        super().__init__()
        owner = type(self).__name__
        self.num_features = _check_positive_int("num_features", num_features)
        for name, value in (("eps", eps), ("momentum", momentum)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"{owner}: {name} must be a number, got {value!r} of type {type(value).__name__}")
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"{owner}: eps must be a positive finite number such as 1e-5 (PyTorch's default) "
                             f"or 1e-3 (Keras'), got {eps!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"{owner}: momentum must lie in [0, 1] (the weight of the new batch, PyTorch's "
                             f"convention: 0.1 is Keras' momentum=0.9), got {momentum!r}")
        self.eps, self.momentum = float(eps), float(momentum)
        if not isinstance(unbiased_running_var, (bool, np.bool_)):
            raise TypeError(f"{owner}: unbiased_running_var must be True or False, got {unbiased_running_var!r}")
        self.unbiased_running_var = bool(unbiased_running_var)
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"{owner}: dtype must be a floating type such as np.float64 or np.float32, got {dtype}")
        c = self.num_features
        self.params = {"gamma": np.ones(c, dtype=dtype), "beta": np.zeros(c, dtype=dtype)}
        self.grads = {"gamma": np.zeros(c, dtype=dtype), "beta": np.zeros(c, dtype=dtype)}
        self.running_mean = np.zeros(c, dtype=dtype)
        self.running_var = np.ones(c, dtype=dtype)
        self.num_batches_tracked = 0
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_features}, eps={self.eps:g}, momentum={self.momentum:g})"

    def _check_input(self, x) -> np.ndarray:
        x = np.asarray(x)
        expected = " or ".join(self.shape_names)
        if x.ndim not in self.ranks or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}.forward expects x of shape {expected} with C = {self.num_features}, "
                             f"got {x.shape}")
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"{self!r}.forward expects floating-point x, got {x.dtype}")
        return x

    def _per_feature(self, v: np.ndarray, ndim: int) -> np.ndarray:
        """A (C,) vector reshaped to (1, C, 1, ...) so that it broadcasts against x."""
        return v.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_training(training)
        x = self._check_input(x)
        axes = (0,) + tuple(range(2, x.ndim))
        m = x.size // self.num_features  # values per feature: N, or N * L, or N * H * W
        gamma = self._per_feature(self.params["gamma"], x.ndim)
        beta = self._per_feature(self.params["beta"], x.ndim)
        if not training:
            self._cache = None
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            scale = self._per_feature(inv_std, x.ndim) * gamma
            return (x - self._per_feature(self.running_mean, x.ndim)) * scale + beta
        if m < 2:
            raise ValueError(f"{self!r}.forward with training=True needs more than one value per feature to "
                             f"compute a batch variance, got x of shape {x.shape}")
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)  # biased (divides by m): what the batch is normalized with
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x - self._per_feature(mean, x.ndim)) * self._per_feature(inv_std, x.ndim)
        self._cache = (x_hat, inv_std)
        tracked_var = var * (m / (m - 1)) if self.unbiased_running_var else var
        self.running_mean *= 1 - self.momentum
        self.running_mean += self.momentum * mean
        self.running_var *= 1 - self.momentum
        self.running_var += self.momentum * tracked_var
        self.num_batches_tracked += 1
        return x_hat * gamma + beta

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        x_hat, inv_std = self._cached(self._cache)
        dout = np.asarray(dout)
        if dout.shape != x_hat.shape:
            raise ValueError(f"{self!r}.backward expects dout of the output's shape {x_hat.shape}, got {dout.shape}")
        axes = (0,) + tuple(range(2, dout.ndim))
        m = dout.size // self.num_features
        dbeta = dout.sum(axis=axes)
        dgamma = (dout * x_hat).sum(axis=axes)
        self.grads["beta"][...] = dbeta
        self.grads["gamma"][...] = dgamma
        if not input_grad:
            return None
        scale = self._per_feature(self.params["gamma"] * inv_std / m, dout.ndim)
        return scale * (m * dout - self._per_feature(dbeta, dout.ndim) - x_hat * self._per_feature(dgamma, dout.ndim))


class BatchNorm1d(_BatchNorm):
    """Batch normalization of the features of x: (N, C) (or (N, C, L)), with PyTorch's conventions.

    Per feature c, over the m = N (or N * L) values of the batch:
        mu = mean(x),  v = mean((x - mu)^2)       (biased variance, divides by m)
        x_hat = (x - mu) / sqrt(v + eps),  y = gamma * x_hat + beta
    params and grads: "gamma" (C,), starting at 1, and "beta" (C,), starting at 0.
    Buffers (not in params, an optimizer never sees them): running_mean (C,), starting at 0, and
    running_var (C,), starting at 1, and the counter num_batches_tracked.

    forward(x, training=True) normalizes with the batch statistics and updates the buffers:
        running_mean <- (1 - momentum) * running_mean + momentum * mu
        running_var  <- (1 - momentum) * running_var  + momentum * v * m / (m - 1)
    PyTorch's momentum=0.1 is the weight of the *new* batch; Keras' BatchNormalization(momentum=0.99)
    is the weight of the *old* average: the same update with keras_momentum = 1 - momentum (so
    PyTorch's default 0.1 is Keras' 0.9, and Keras' default 0.99 is momentum=0.01 here). PyTorch's
    momentum=None (a cumulative average) is not supported.
    running_var tracks the unbiased variance v * m / (m - 1), as torch's running_var does; Keras'
    moving_variance tracks the biased v (pass unbiased_running_var=False for Keras' convention).
    Keras' default eps is 1e-3, PyTorch's 1e-5.
    forward(x, training=False) normalizes with the buffers instead, sample by sample:
        y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta
    and changes nothing (this is PyTorch's model.eval(), Keras' training=False).

    backward(dout) after a training forward, with g = dout and sums over the batch axes:
        dL/dbeta = sum(g),  dL/dgamma = sum(g * x_hat)
        dL/dx = gamma / (m * sqrt(v + eps)) * (m * g - dL/dbeta - x_hat * dL/dgamma)
    The mean and the variance depend on every sample, hence the two correction terms: the gradient
    through normalization has zero mean over the batch and no component along x_hat (exactly none
    for eps = 0; a part of relative size eps / (v + eps) otherwise).

    dtype: of params, grads and buffers (float64 by default; float32 for speed).
    Bad input raises ValueError: x of the wrong rank or feature count, momentum outside [0, 1],
    eps not positive, or a training batch with a single value per feature.
    """

    ranks = (2, 3)
    shape_names = ("(N, C)", "(N, C, L)")


class BatchNorm2d(_BatchNorm):
    """Batch normalization of images x: (N, C, H, W), per channel, with PyTorch's conventions.

    Exactly BatchNorm1d with the statistics of channel c taken over all m = N * H * W values of
    that channel in the batch (every position of every image): params gamma, beta (C,), buffers
    running_mean, running_var (C,), the same momentum and eps conventions, the same backward with
    sums over the axes (0, 2, 3). Keras works channels-last by default; for (N, C, H, W) arrays
    use keras.layers.BatchNormalization(axis=1).
    """

    ranks = (4,)
    shape_names = ("(N, C, H, W)",)


class Dropout(Layer):
    """Inverted dropout: in training, zero each entry with probability p and scale the rest by 1/(1 - p).

    p is the DROP probability, as in torch.nn.Dropout(p) and keras.layers.Dropout(rate); the
    original paper (Srivastava et al., 2014) and some courses write p for the KEEP probability,
    so their p = 0.8 is p = 0.2 here. 0 <= p < 1 (p = 1 would drop everything and divide by 0).
    rng: the np.random.Generator that draws the masks (explicit, so runs are reproducible; it is
        the public attribute `rng`, which may be replaced, e.g. by a fresh generator per draw).

    forward(x, training=True), x of any shape (N, ...), floating:
        m ~ Bernoulli(1 - p) elementwise, drawn from rng (m_i = 1: keep entry i),
        y = m * x / (1 - p)                                     (y: the shape and dtype of x)
        so E[y_i] = x_i (the expectation is preserved, which is why the scaling is there) and
        Var[y_i] = x_i**2 * p / (1 - p) (the noise dropout adds).
        mask: an optional boolean keep-mask of x's shape to use instead of drawing one (for
        gradient checks with a fixed mask, or to reproduce another library's draw).
    forward(x, training=False): y = x, the identity; x itself is returned (no copy, no mask
        drawn, nothing kept). Scaling in training rather than at test time is what makes the
        dropout "inverted": inference is untouched.
    backward(dout): dL/dx = dout * m / (1 - p), through the mask of the last training forward.
    The mask is kept as a boolean array, `mask` (one byte per entry); params and grads are empty.
    With p = 0 no random numbers are drawn and the layer passes x through (m = 1 everywhere).
    """

    def __init__(self, p: float, rng: np.random.Generator) -> None:
        super().__init__()
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"p must be a number, the drop probability in [0, 1), got {p!r} of type {type(p).__name__}")
        if not 0.0 <= float(p) < 1.0:  # NaN fails this too
            raise ValueError(f"p is the drop probability and must lie in [0, 1), got p={p!r} "
                             "(p=0.2 drops 20% of the entries; a keep probability of 0.8 is p=0.2)")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, e.g. np.random.default_rng(0), "
                            f"got {type(rng).__name__}")
        self.p = float(p)
        self.rng = rng
        self.mask: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g})"

    def forward(self, x: np.ndarray, *, training: bool, mask: np.ndarray | None = None) -> np.ndarray:
        self._check_training(training)
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"Dropout expects floating-point x, got dtype {x.dtype}")
        if not training:
            if mask is not None:
                raise ValueError("mask is used only in training mode; forward(x, training=False) is the identity")
            self.mask = None
            return x
        if mask is None:
            mask = self.rng.random(x.shape) >= self.p if self.p > 0 else np.ones(x.shape, dtype=bool)
        else:
            mask = np.asarray(mask)
            if mask.dtype != np.bool_:
                raise TypeError(f"mask must be a boolean keep-mask (True: keep), got dtype {mask.dtype}")
            if mask.shape != x.shape:
                raise ValueError(f"mask must have x's shape {x.shape}, got {mask.shape}")
        self.mask = mask
        return np.where(mask, x * x.dtype.type(1.0 / (1.0 - self.p)), x.dtype.type(0))

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        mask = self._cached(self.mask)
        dout = np.asarray(dout)
        if not np.issubdtype(dout.dtype, np.floating):
            raise TypeError(f"Dropout.backward expects floating-point dout, got dtype {dout.dtype}")
        if dout.shape != mask.shape:
            raise ValueError(f"{self!r}.backward expects dout of the output's shape {mask.shape}, got {dout.shape}")
        if not input_grad:
            return None
        return np.where(mask, dout * dout.dtype.type(1.0 / (1.0 - self.p)), dout.dtype.type(0))


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


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray, *,
                          label_smoothing: float = 0.0) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against the targets, and its gradient.

    logits z: (N, C) floating. y: (N,) integer labels in 0..C-1, or (N, C) target
    probabilities q (e.g. a teacher's soft targets).
    label_smoothing eps in [0, 1] replaces the targets q (q = onehot(y) for labels) by
        q_eps = (1 - eps) * q + eps / C,
    the definition of torch.nn.CrossEntropyLoss(label_smoothing=eps) (for labels and for
    probabilities alike) and of keras.losses.CategoricalCrossentropy(label_smoothing=eps): every
    class, the true one included, gets eps / C, so a label's class keeps 1 - eps + eps / C.
    (Texts that give the true class 1 - eps and each other class eps / (C - 1) describe this
    with eps * C / (C - 1) in place of eps.) eps = 0 (the default) computes plain cross-entropy
    exactly as before; eps = 1 makes every target uniform.
    With p = softmax(z) row by row:
        loss = -(1/N) sum_i log p_{i, y_i}                               (labels, eps = 0)
             = (1 - eps) * that - eps * (1/N) sum_i (1/C) sum_c log p_ic  (labels)
             = -(1/N) sum_i sum_c q_ic log p_ic                          (probabilities, q = q_eps)
        dloss/dz = (p - q_eps) / N                   (labels: q_eps = (1 - eps) onehot(y) + eps / C)
                 = (p * sum_c q_ic - q) / N           (probabilities; (p - q) / N when rows sum to 1)
    Numerically stable (log-sum-exp, see log_softmax): logits of 1e4 give finite results.
    Returns (loss as a Python float, dlogits of shape (N, C)). Equals torch.nn.functional.cross_entropy
    with its default reduction="mean" and the same label_smoothing.
    Raises ValueError for label_smoothing outside [0, 1] (or NaN), TypeError for a non-number.
    """
    logits = _check_logits(logits)
    y = _check_targets(y, logits)
    is_number = isinstance(label_smoothing, (int, float, np.integer, np.floating))
    if isinstance(label_smoothing, (bool, np.bool_)) or not is_number:
        raise TypeError(f"label_smoothing must be a number in [0, 1], got {label_smoothing!r} "
                        f"of type {type(label_smoothing).__name__}")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:  # NaN fails this too
        raise ValueError(f"label_smoothing must lie in [0, 1] (0: plain cross-entropy, 1: uniform targets), "
                         f"got {label_smoothing!r}")
    n, c = logits.shape
    log_p = log_softmax(logits)
    p = np.exp(log_p)
    if y.ndim == 1:
        rows = np.arange(n)
        loss = -log_p[rows, y].mean()
        dlogits = p
        dlogits[rows, y] -= 1
        if eps > 0:  # p - ((1 - eps) onehot + eps / C) = (p - onehot) + eps onehot - eps / C
            loss = (1 - eps) * loss - eps * log_p.mean(axis=1).mean()
            dlogits[rows, y] += eps
            dlogits -= eps / c
    else:
        if eps > 0:
            y = (1 - eps) * y + eps / c
        loss = -(y * log_p).sum(axis=1).mean()
        dlogits = p * y.sum(axis=1, keepdims=True) - y
    dlogits /= n
    return float(loss), dlogits.astype(logits.dtype, copy=False)
