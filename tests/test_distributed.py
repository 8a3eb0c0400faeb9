"""course_utils.distributed: the model and data helpers, the parsing of torchrun's report, bad input, and
a few real 2-process launches (each costs seconds): data-parallel training and a two-stage pipeline checked
against one process, and failures (a dying worker, a straggler, an overrun job) that end in a clear error
instead of a hang."""
import pytest
import torch
import torch.nn.functional as F

from course_utils import distributed
from course_utils.accumulation import micro_batch_bounds
from course_utils.distributed import (WorkerFailed, exit_codes, first_failure, launch, make_mlp, mnist_tensors,
                                      split_stages)

SMALL = {"widths": [784, 32, 16, 10], "dtype": "float64", "samples": 256, "batch_per_rank": 16, "epochs": 2,
         "lr": 0.1, "momentum": 0.9, "pipeline_batch": 64, "micro_batches": 4, "micro_batches_timed": [],
         "all_reduce_sizes": [16, 1024], "timing_repeat": 1, "collective_timeout_s": 20.0}


# --- helpers that run in one process --------------------------------------------------------------

def test_make_mlp_is_reproducible_and_has_the_requested_shapes():
    a, b = make_mlp([6, 5, 4, 3], seed=7), make_mlp([6, 5, 4, 3], seed=7)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert [type(layer).__name__ for layer in a] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert a(torch.zeros(2, 6)).shape == (2, 3)
    assert not torch.equal(make_mlp([6, 3], seed=8)[0].weight, make_mlp([6, 3], seed=7)[0].weight)
    assert make_mlp([6, 3], seed=0, dtype=torch.float64)[0].weight.dtype == torch.float64


def test_make_mlp_draws_from_torch_default_range_and_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    layer = make_mlp([100, 50], seed=0)[0]
    assert torch.equal(torch.rand(1), before)
    assert layer.weight.abs().max() <= 0.1 and layer.bias.abs().max() <= 0.1  # 1 / sqrt(100)


@pytest.mark.parametrize("widths", [[5], [5, 0], [5, 2.0], "57", [True, 3]])
def test_make_mlp_rejects_bad_widths(widths):
    with pytest.raises(ValueError, match="width"):
        make_mlp(widths, seed=0)


def test_make_mlp_rejects_a_bad_dtype():
    with pytest.raises(ValueError, match="dtype must be torch.float32 or torch.float64"):
        make_mlp([3, 2], seed=0, dtype=torch.int32)


def test_split_stages_compose_to_the_model():
    model = make_mlp([6, 5, 4, 3], seed=0)
    first, second = split_stages(model, 2)
    x = torch.randn(7, 6)
    assert torch.equal(second(first(x)), model(x))
    assert [name for name, _ in second.named_parameters()] == ["2.weight", "2.bias", "4.weight", "4.bias"]
    for bad in (0, 5, 1.5):
        with pytest.raises(ValueError, match="split_at must be an integer in 1..4"):
            split_stages(model, bad)
    with pytest.raises(TypeError, match="model must be a torch.nn.Sequential"):
        split_stages(torch.nn.Linear(2, 2), 1)


def test_mnist_tensors():
    X, y = mnist_tensors(10, dtype=torch.float64)
    assert X.shape == (10, 784) and X.dtype == torch.float64 and y.shape == (10,) and y.dtype == torch.int64
    assert 0 <= X.min() and X.max() <= 1
    for bad in (0, 60_001, 2.0):
        with pytest.raises(ValueError, match="samples must be an integer in 1..60000"):
            mnist_tensors(bad)


REPORT = """
[1]:
  time      : 2026-01-01_00:00:00
  host      : localhost
  rank      : 0 (local_rank: 0)
  exitcode  : -15 (pid: 11)
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-01-01_00:00:00
  host      : localhost
  rank      : 1 (local_rank: 1)
  exitcode  : 3 (pid: 12)
"""


def test_torchrun_report_parsing():
    assert exit_codes(REPORT) == {0: -15, 1: 3}
    assert first_failure(REPORT) == 1
    assert exit_codes("no report") == {} and first_failure("no report") is None


def test_exit_descriptions():
    sigterm = distributed._describe_exit(-15)
    assert "SIGTERM" in sigterm and "after another worker failed" in sigterm
    assert "SIGKILL" in distributed._describe_exit(-9)
    assert "exit code 3" in distributed._describe_exit(3)
    assert "not in the launcher's report" in distributed._describe_exit(None)


@pytest.mark.parametrize("kwargs, match", [
    (dict(tasks="ddp_training"), "tasks must be a non-empty list"),
    (dict(tasks=[]), "tasks must be a non-empty list"),
    (dict(tasks=["train_fast"]), r"unknown task\(s\) \['train_fast'\]"),
    (dict(tasks=["ddp_training"], nprocs=0), "nprocs must be an integer in 1..64"),
    (dict(tasks=["ddp_training"], timeout_s=0), "timeout_s must be a positive number"),
    (dict(tasks=["ddp_training"], timeout_s=float("inf")), "timeout_s must be a positive number"),
    (dict(tasks=["ddp_training"], config={"learning_rate": 0.1}), r"unknown config key\(s\) \['learning_rate'\]"),
    (dict(tasks=["ddp_training"], config={"dtype": "float16"}), "config\\['dtype'\\] must be one of"),
])
def test_launch_rejects_bad_input_before_starting_anything(kwargs, match):
    with pytest.raises(ValueError, match=match):
        launch(**kwargs)


# --- real launches --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_workers():
    """One 2-process job that runs data-parallel training, the all-reduce sweep and a GPipe step."""
    return launch(["ddp_training", "all_reduce_times", "gpipe_training"], nprocs=2, config=SMALL, timeout_s=180)


def single_process_training(permutations, batch):
    """One process, batch 2B: consecutive slices of each epoch's permutation (the two ranks' samples)."""
    X, y = mnist_tensors(SMALL["samples"], dtype=torch.float64)
    model = make_mlp(SMALL["widths"], seed=0, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=SMALL["lr"], momentum=SMALL["momentum"])
    for permutation in permutations:
        for start in range(0, len(permutation), batch):
            index = permutation[start:start + batch]
            optimizer.zero_grad()
            F.cross_entropy(model(X[index]), y[index]).backward()
            optimizer.step()
    return dict(model.named_parameters())


def test_two_data_parallel_workers_match_one_process_with_twice_the_batch(two_workers):
    results = [r["ddp_training"] for r in two_workers.results]
    epochs, samples = SMALL["epochs"], SMALL["samples"]
    permutations = []
    for epoch in range(epochs):
        shards = [r["indices"][epoch] for r in results]
        assert sorted(torch.cat(shards).tolist()) == list(range(samples)), "the ranks must share out every sample"
        permutation = torch.empty(samples, dtype=torch.int64)
        permutation[0::2], permutation[1::2] = shards  # rank r reads positions r, r + 2, ...
        permutations.append(permutation)
    assert not torch.equal(permutations[0], permutations[1]), "set_epoch should reshuffle"
    expected = single_process_training(permutations, 2 * SMALL["batch_per_rank"])
    start = make_mlp(SMALL["widths"], seed=0, dtype=torch.float64).state_dict()
    steps = epochs * samples // (2 * SMALL["batch_per_rank"])
    for r in results:
        assert len(r["losses"]) == steps
        for name, p in expected.items():
            assert not torch.equal(p.detach(), start[name]), f"{name} should have moved during training"
            torch.testing.assert_close(r["params"][name], p.detach(), rtol=1e-10, atol=1e-12)


def test_all_reduce_sums_over_ranks_and_is_timed_per_size(two_workers):
    for r in two_workers.results:
        sweep = r["all_reduce_times"]
        assert torch.equal(sweep["check_sum"], torch.full((4,), 3.0))  # (0 + 1) + (1 + 1)
        assert sweep["sizes"].tolist() == SMALL["all_reduce_sizes"]
        assert sweep["seconds"].shape == (2, SMALL["timing_repeat"]) and (sweep["seconds"] > 0).all()


def test_two_stage_pipeline_matches_the_unsplit_model(two_workers):
    stage0, stage1 = (r["gpipe_training"] for r in two_workers.results)
    X, y = mnist_tensors(SMALL["samples"], dtype=torch.float64)
    X, y = X[:SMALL["pipeline_batch"]], y[:SMALL["pipeline_batch"]]
    model = make_mlp(SMALL["widths"], seed=0, dtype=torch.float64)
    outputs = model(X)
    F.cross_entropy(outputs, y).backward()
    torch.testing.assert_close(stage1["outputs"], outputs.detach(), rtol=1e-12, atol=1e-12)
    bounds = micro_batch_bounds(len(y), SMALL["micro_batches"])
    losses = [F.cross_entropy(outputs.detach()[a:b], y[a:b]) for a, b in bounds]
    torch.testing.assert_close(stage1["losses"], torch.stack(losses), rtol=1e-12, atol=1e-12)
    assert set(stage0["grads"]) == {"0.weight", "0.bias"} and "outputs" not in stage0
    grads = stage0["grads"] | stage1["grads"]
    assert set(grads) == {name for name, _ in model.named_parameters()}
    for name, p in model.named_parameters():
        torch.testing.assert_close(grads[name], p.grad, rtol=1e-10, atol=1e-12)


def test_a_dying_worker_gives_a_clear_error_not_a_hang():
    # The survivor waits in an all_reduce with a 60 s collective timeout; torchrun notices the death and
    # stops it long before. Had anything hung, launch would raise TimeoutError after 90 s instead.
    with pytest.raises(WorkerFailed) as info:
        launch(["worker_dies"], nprocs=2, config={"collective_timeout_s": 60.0, "die_rank": 1}, timeout_s=90)
    message = str(info.value)
    assert message.startswith("the job ['worker_dies'] failed after")
    assert "rank 1 ended without a result (exit code 3" in message
    # rank 0 either raises (gloo sees the closed connection) or is stopped by torchrun: both are named
    assert "rank 0 raised" in message or "rank 0 ended without a result" in message
    assert "Root Cause" in message


def test_a_straggler_makes_the_others_collective_time_out():
    # Rank 1 sleeps 60 s; rank 0's all_reduce gives up after the 2 s collective timeout and raises.
    with pytest.raises(WorkerFailed, match=r"rank 0 raised .*[Tt]imed out") as info:
        launch(["straggler"], nprocs=2, config={"collective_timeout_s": 2.0, "sleep_s": 60.0}, timeout_s=90)
    assert "rank 1 ended without a result (stopped by the launcher with SIGTERM" in str(info.value)


def test_a_job_that_overruns_its_time_limit_is_stopped():
    with pytest.raises(TimeoutError, match=r"did not finish within timeout_s=6 s; all of its processes were stopped"):
        launch(["straggler"], nprocs=2, config={"collective_timeout_s": 60.0, "sleep_s": 60.0}, timeout_s=6)
