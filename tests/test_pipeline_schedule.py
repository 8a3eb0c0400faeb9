"""course_utils.pipeline_schedule: the simulated GPipe and 1F1B timelines against the bubble formula
(S - 1) / (M + S - 1), their dependencies and memory, the drawing, and bad input."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from course_utils.pipeline_schedule import (SCHEDULES, Timeline, bubble_fraction, draw_timeline,  # noqa: E402
                                            simulate_schedule, stage_order)

stages_st = st.integers(1, 8)
micro_st = st.integers(1, 24)
seconds_st = st.floats(0.1, 5.0, allow_nan=False)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("schedule", SCHEDULES)
@settings(deadline=None, max_examples=60)
@given(stages=stages_st, micro_batches=micro_st, forward_s=seconds_st, backward_s=seconds_st)
def test_simulated_bubble_equals_the_formula(schedule, stages, micro_batches, forward_s, backward_s):
    timeline = simulate_schedule(stages, micro_batches, schedule=schedule, forward_s=forward_s, backward_s=backward_s)
    assert timeline.bubble == pytest.approx((stages - 1) / (micro_batches + stages - 1), abs=1e-9)
    assert timeline.bubble == pytest.approx(bubble_fraction(stages, micro_batches), abs=1e-9)


@pytest.mark.parametrize("schedule", SCHEDULES)
@settings(deadline=None, max_examples=60)
@given(stages=stages_st, micro_batches=micro_st, forward_s=seconds_st, backward_s=seconds_st)
def test_makespan_is_m_plus_s_minus_1_rounds(schedule, stages, micro_batches, forward_s, backward_s):
    timeline = simulate_schedule(stages, micro_batches, schedule=schedule, forward_s=forward_s, backward_s=backward_s)
    assert timeline.makespan == pytest.approx((micro_batches + stages - 1) * (forward_s + backward_s), rel=1e-9)
    assert timeline.busy.tolist() == pytest.approx([micro_batches * (forward_s + backward_s)] * stages, rel=1e-9)


@pytest.mark.parametrize("schedule", SCHEDULES)
@settings(deadline=None, max_examples=40)
@given(stages=stages_st, micro_batches=micro_st)
def test_every_task_runs_once_after_its_dependencies_and_stages_never_overlap(schedule, stages, micro_batches):
    timeline = simulate_schedule(stages, micro_batches, schedule=schedule)
    tasks = {(t.kind, t.stage, t.micro_batch): t for t in timeline.tasks}
    assert len(timeline.tasks) == len(tasks) == 2 * stages * micro_batches
    for (kind, s, m), task in tasks.items():
        assert task.end - task.start == pytest.approx(1.0 if kind == "F" else 2.0)
        if kind == "F" and s > 0:
            assert task.start >= tasks[("F", s - 1, m)].end
        if kind == "B":
            assert task.start >= tasks[("F", s, m)].end
            if s < stages - 1:
                assert task.start >= tasks[("B", s + 1, m)].end
    for s in range(stages):
        on_stage = sorted((t.start, t.end) for t in timeline.tasks if t.stage == s)
        assert all(end <= next_start + 1e-12 for (_, end), (next_start, _) in zip(on_stage, on_stage[1:]))


@settings(deadline=None, max_examples=40)
@given(stages=stages_st, micro_batches=micro_st)
def test_activation_memory_gpipe_holds_all_1f1b_at_most_s_minus_stage(stages, micro_batches):
    assert simulate_schedule(stages, micro_batches).in_flight.tolist() == [micro_batches] * stages
    held = simulate_schedule(stages, micro_batches, schedule="1f1b").in_flight.tolist()
    assert held == [min(stages - s, micro_batches) for s in range(stages)]


def test_small_cases_by_hand():
    # One stage never waits; two stages with one micro-batch idle half the time.
    assert simulate_schedule(1, 5).bubble == 0 and bubble_fraction(1, 5) == 0
    assert simulate_schedule(2, 1).bubble == pytest.approx(0.5)
    assert bubble_fraction(4, 8) == pytest.approx(3 / 11)
    # GPipe, S = 2, M = 2, t_f = 1, t_b = 2: stage 1 runs F0 at [1, 2], F1 at [2, 3], B0 at [3, 5], B1 at [5, 7].
    stage1 = sorted((t.start, t.kind, t.micro_batch) for t in simulate_schedule(2, 2).tasks if t.stage == 1)
    assert stage1 == [(1.0, "F", 0), (2.0, "F", 1), (3.0, "B", 0), (5.0, "B", 1)]


def test_stage_orders():
    assert stage_order(3, 2, 0) == [("F", 0), ("F", 1), ("B", 0), ("B", 1)]
    # 1F1B on the first of 3 stages with 4 micro-batches: 2 warm-up forwards, then alternate, then 2 backwards.
    assert stage_order(3, 4, 0, "1f1b") == [("F", 0), ("F", 1), ("F", 2), ("B", 0), ("F", 3), ("B", 1),
                                            ("B", 2), ("B", 3)]
    assert stage_order(3, 4, 2, "1f1b") == [("F", 0), ("B", 0), ("F", 1), ("B", 1), ("F", 2), ("B", 2),
                                            ("F", 3), ("B", 3)]


def test_draw_timeline_draws_one_box_per_task_and_a_legend():
    timeline = simulate_schedule(3, 4)
    fig, ax = plt.subplots()
    assert draw_timeline(timeline, ax) is ax
    assert "bubble 33%" in ax.get_title()
    assert len(ax.texts) == 2 * 3 * 4
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["forward", "backward"]
    fig2, ax2 = plt.subplots()
    draw_timeline(timeline, ax2, title="mine", numbers=False)
    assert ax2.get_title() == "mine" and not ax2.texts
    fig3, ax3 = plt.subplots()
    assert draw_timeline(simulate_schedule(1, 1), ax3).get_title() == "gpipe: 1 stage, 1 micro-batch, bubble 0%"


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(stages=0, micro_batches=4), ValueError, "stages must be a positive integer, got 0"),
    (dict(stages=2, micro_batches=1.5), ValueError, "micro_batches must be a positive integer"),
    (dict(stages=True, micro_batches=4), ValueError, "stages must be a positive integer"),
    (dict(stages=2, micro_batches=4, schedule="interleaved"), ValueError, "schedule must be one of"),
    (dict(stages=2, micro_batches=4, forward_s=0), ValueError, "forward_s must be a positive, finite"),
    (dict(stages=2, micro_batches=4, backward_s=float("inf")), ValueError, "backward_s must be a positive, finite"),
    (dict(stages=2, micro_batches=4, forward_s="1"), TypeError, "forward_s must be a number of seconds"),
])
def test_simulate_schedule_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        simulate_schedule(**kwargs)


def test_other_functions_reject_bad_input():
    with pytest.raises(ValueError, match="micro_batches must be a positive integer, got -1"):
        bubble_fraction(2, -1)
    with pytest.raises(ValueError, match=r"stage must be an integer in 0..1, got 2"):
        stage_order(2, 4, 2)
    with pytest.raises(ValueError, match="schedule must be one of"):
        stage_order(2, 4, 0, "zigzag")
    with pytest.raises(TypeError, match="timeline must be a Timeline"):
        draw_timeline({"stages": 2}, plt.subplots()[1])
    assert isinstance(simulate_schedule(2, 2), Timeline)
