"""course_utils.accumulation: micro-batch bounds, accumulated gradients against one large batch (and the
batch-norm case where they differ), and the bytes that autograd saves for the backward pass."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.accumulation import accumulate_gradients, micro_batch_bounds, saved_activation_bytes


def small_problem(n=24, d=5, classes=3, seed=0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=generator, dtype=dtype)
    y = torch.randint(0, classes, (n,), generator=generator)
    return X, y


def small_model(d=5, classes=3, seed=0, dtype=torch.float64, batch_norm=False):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(d, 8, dtype=dtype)]
    if batch_norm:
        layers.append(torch.nn.BatchNorm1d(8, dtype=dtype))
    layers += [torch.nn.Tanh(), torch.nn.Linear(8, classes, dtype=dtype)]
    return torch.nn.Sequential(*layers)


# --- micro_batch_bounds ---------------------------------------------------------------------------

def test_micro_batch_bounds_example_from_the_docstring():
    assert micro_batch_bounds(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert micro_batch_bounds(5, 1) == [(0, 5)]
    assert micro_batch_bounds(4, 4) == [(0, 1), (1, 2), (2, 3), (3, 4)]


@settings(deadline=None, max_examples=100)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n))))
def test_micro_batch_bounds_cover_the_range_in_near_equal_contiguous_pieces(n_and_k):
    n, k = n_and_k
    bounds = micro_batch_bounds(n, k)
    assert len(bounds) == k
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(stop == next_start for (_, stop), (next_start, _) in zip(bounds, bounds[1:]))
    sizes = [stop - start for start, stop in bounds]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("n, k, match", [(0, 1, "n must be a positive integer"),
                                         (10, 0, "micro_batches must be a positive integer"),
                                         (10, 2.0, "micro_batches must be a positive integer"),
                                         (True, 1, "n must be a positive integer"),
                                         (3, 4, "micro_batches must be at most n = 3")])
def test_micro_batch_bounds_rejects_bad_input(n, k, match):
    with pytest.raises(ValueError, match=match):
        micro_batch_bounds(n, k)


# --- accumulate_gradients -------------------------------------------------------------------------

def full_batch_grads(model, X, y):
    model.zero_grad()
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    return [p.grad.clone() for p in model.parameters()], loss.item()


@pytest.mark.parametrize("micro_batches", [1, 2, 3, 5, 24])
def test_accumulated_gradient_equals_the_full_batch_gradient(micro_batches):
    X, y = small_problem()
    expected, expected_loss = full_batch_grads(small_model(), X, y)
    model = small_model()
    model.zero_grad()
    loss = accumulate_gradients(model, F.cross_entropy, X, y, micro_batches=micro_batches)
    for p, g in zip(model.parameters(), expected):
        torch.testing.assert_close(p.grad, g, rtol=1e-12, atol=1e-14)
    assert loss == pytest.approx(expected_loss, rel=1e-12)


def test_accumulation_adds_to_existing_gradients():
    X, y = small_problem()
    expected, _ = full_batch_grads(small_model(), X, y)
    model = small_model()
    model.zero_grad()
    accumulate_gradients(model, F.cross_entropy, X, y, micro_batches=3)
    accumulate_gradients(model, F.cross_entropy, X, y, micro_batches=4)
    for p, g in zip(model.parameters(), expected):
        torch.testing.assert_close(p.grad, 2 * g, rtol=1e-12, atol=1e-14)


def test_batch_norm_breaks_the_equality():
    X, y = small_problem()
    expected, _ = full_batch_grads(small_model(batch_norm=True), X, y)
    model = small_model(batch_norm=True)
    model.zero_grad()
    accumulate_gradients(model, F.cross_entropy, X, y, micro_batches=4)
    gap = (model[0].weight.grad - expected[0]).norm() / expected[0].norm()
    assert gap > 1e-3, f"batch norm should make the accumulated gradient differ, relative gap {gap:.1e}"


def test_accumulate_gradients_rejects_bad_input():
    X, y = small_problem()
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        accumulate_gradients(lambda x: x, F.cross_entropy, X, y, micro_batches=2)
    with pytest.raises(ValueError, match="same number of samples, got 24 and 23"):
        accumulate_gradients(small_model(), F.cross_entropy, X, y[:-1], micro_batches=2)
    with pytest.raises(ValueError, match="micro_batches must be at most n = 24"):
        accumulate_gradients(small_model(), F.cross_entropy, X, y, micro_batches=25)


# --- saved_activation_bytes -----------------------------------------------------------------------

def test_saved_bytes_of_a_linear_relu_chain_follow_from_the_shapes():
    # Linear saves its input (and its weight, excluded); ReLU saves its output; the last Linear saves
    # the ReLU's output, which is the same tensor and counted once. So, per sample, float64:
    # the input (5) + the hidden activation (8), and nothing else of size proportional to the batch.
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8, dtype=torch.float64), torch.nn.ReLU(),
                                torch.nn.Linear(8, 3, dtype=torch.float64))
    X = torch.randn(40, 5, dtype=torch.float64)
    counted = {b: saved_activation_bytes(lambda: model(X[:b]), exclude=tuple(model.parameters()))
               for b in (10, 40)}
    assert counted[10] == 10 * (5 + 8) * 8
    assert counted[40] == 4 * counted[10]


def test_saved_bytes_include_the_parameters_unless_excluded():
    torch.manual_seed(0)
    layer = torch.nn.Linear(6, 4)
    x = torch.randn(3, 6, requires_grad=True)  # then autograd saves the weight too, for x's gradient
    without = saved_activation_bytes(lambda: layer(x), exclude=tuple(layer.parameters()))
    with_params = saved_activation_bytes(lambda: layer(x))
    assert without == 3 * 6 * 4
    assert with_params == without + 4 * 6 * 4  # the weight (4, 6) in float32


def test_saved_bytes_are_zero_without_autograd():
    layer = torch.nn.Linear(6, 4)
    with torch.no_grad():
        assert saved_activation_bytes(lambda: layer(torch.randn(3, 6))) == 0


def test_saved_activation_bytes_rejects_a_non_callable():
    with pytest.raises(TypeError, match="fn must be a callable"):
        saved_activation_bytes(torch.randn(3))
