"""Gradient accumulation in PyTorch, and the activation memory that autograd keeps for backward.

    model.zero_grad()
    accumulate_gradients(model, F.cross_entropy, X, y, micro_batches=4)   # .grad as for one batch
    optimizer.step()
    saved_activation_bytes(lambda: F.cross_entropy(model(X), y))        # bytes held for backward

The gradient of a mean loss over N samples, cut into micro-batches j of n_j samples each, is

    grad (1/N) sum_i l_i = sum_j (n_j / N) grad L_j,      L_j = the mean loss over micro-batch j,

so backpropagating (n_j / N) L_j for every micro-batch adds up, in `.grad`, to the full batch's
gradient: with k equal micro-batches the factor is 1/k. This holds when each sample's loss l_i
depends on that sample alone; batch normalization makes l_i depend on the other samples of its
micro-batch, and the equality breaks. Only one micro-batch's activations exist at a time, so the
memory for activations shrinks k-fold; the time does not (the same arithmetic, in smaller pieces).
"""
from __future__ import annotations

from typing import Callable

import torch


def micro_batch_bounds(n: int, micro_batches: int) -> list[tuple[int, int]]:
    """Cut range(n) into `micro_batches` contiguous pieces whose sizes differ by at most one.

    Returns [(start, stop), ...], e.g. micro_batch_bounds(10, 3) == [(0, 4), (4, 7), (7, 10)].
    """
    for name, value in (("n", n), ("micro_batches", micro_batches)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if micro_batches > n:
        raise ValueError(f"micro_batches must be at most n = {n} (no empty micro-batch), got {micro_batches}")
    size, extra = divmod(n, micro_batches)
    bounds, start = [], 0
    for j in range(micro_batches):
        stop = start + size + (1 if j < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def accumulate_gradients(model: torch.nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                         X: torch.Tensor, y: torch.Tensor, *, micro_batches: int) -> float:
    """Add to every parameter's .grad the gradient of the mean loss over (X, y), one micro-batch at a time.

    X: (N, ...) inputs, y: (N, ...) targets; loss_fn(outputs, targets) must return the *mean* loss
    of its micro-batch (reduction="mean", the default in torch). Micro-batch j of n_j samples is
    backpropagated with the weight n_j / N. Zero the gradients before, step the optimizer after.
    Returns the mean loss over all N samples.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if len(X) != len(y):
        raise ValueError(f"X and y must hold the same number of samples, got {len(X)} and {len(y)}")
    n = len(X)
    total = 0.0
    for start, stop in micro_batch_bounds(n, micro_batches):
        weight = (stop - start) / n
        loss = loss_fn(model(X[start:stop]), y[start:stop])
        (weight * loss).backward()  # adds to .grad; the micro-batch's activations are freed here
        total += weight * loss.item()
    return total


def saved_activation_bytes(fn: Callable[[], object], *, exclude: tuple[torch.Tensor, ...] | None = None) -> int:
    """Bytes of the tensors that autograd saves for the backward pass while fn() runs (the forward).

    Counted with torch.autograd.graph.saved_tensors_hooks: every tensor that an operation keeps
    for its backward is seen once, whichever operations share it. Tensors in `exclude` (and
    tensors sharing their memory) are not counted; pass the model's parameters, which are saved
    too but exist whatever the batch size. Returns the total of numel * element_size.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a callable that runs the forward pass, got {type(fn).__name__}")
    excluded = {t.data_ptr() for t in (exclude or ())}
    seen: dict[tuple[int, int, torch.dtype], int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        key = (tensor.data_ptr(), tensor.numel(), tensor.dtype)
        if tensor.data_ptr() not in excluded:
            seen[key] = tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        fn()
    return sum(seen.values())
