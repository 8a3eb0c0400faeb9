"""course_utils.bench, driven by a fake clock so that the tests check logic, never speed."""
import io

import pytest

from course_utils.bench import Timing, compare, format_seconds, timeit


def test_timeit_reports_seconds_per_call(clock):
    result = timeit(clock.work(0.5), warmup=2, repeat=5, number=1)
    assert result.times == (0.5,) * 5
    assert result.median == 0.5 and result.iqr == 0.0 and result.runs == 5 and result.number == 1


def test_warmup_calls_are_not_timed(clock):
    durations = iter([10.0, 10.0] + [1.0] * 3)  # two slow first calls, then steady
    result = timeit(clock.work(lambda: next(durations)), warmup=2, repeat=3, number=1)
    assert result.times == (1.0, 1.0, 1.0)


def test_median_resists_an_outlier_and_iqr_measures_spread(clock):
    durations = iter([1.0, 2.0, 3.0, 4.0, 100.0])
    result = timeit(clock.work(lambda: next(durations)), warmup=0, repeat=5, number=1)
    assert result.median == 3.0
    assert result.iqr == pytest.approx(2.0)  # quartiles 2 and 4 (inclusive method)
    assert (result.min, result.max) == (1.0, 100.0)


def test_number_is_calibrated_for_fast_functions(clock):
    result = timeit(clock.work(1e-5), warmup=0, repeat=3, min_run_time=0.02)
    assert result.number == 10_000  # the first power of ten with a run of >= 0.02 s
    assert result.median == pytest.approx(1e-5)


def test_sync_is_called_around_every_timed_run(clock):
    calls = []
    timeit(clock.work(0.1), warmup=1, repeat=4, number=2, sync=lambda: calls.append(clock.now))
    assert len(calls) == 8  # before and after each of the 4 runs


def test_sync_true_without_a_gpu_is_an_error():
    with pytest.raises(RuntimeError, match="no CUDA or MPS device"):
        timeit(lambda: None, sync=True)


@pytest.mark.parametrize("kwargs, message", [
    ({"repeat": 0}, "repeat must be an integer >= 1"),
    ({"warmup": -1}, "warmup must be an integer >= 0"),
    ({"number": 0}, "number must be an integer >= 1"),
    ({"repeat": 2.5}, "repeat must be an integer"),
    ({"min_run_time": 0}, "min_run_time must be positive"),
])
def test_timeit_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        timeit(lambda: None, **kwargs)


def test_timeit_needs_a_callable():
    with pytest.raises(TypeError, match="lambda"):
        timeit(42)
    with pytest.raises(TypeError, match="sync must be"):
        timeit(lambda: None, sync="cuda")


def test_timeit_on_the_real_clock_returns_positive_times():
    result = timeit(lambda: sum(range(100)), repeat=3)
    assert result.runs == 3 and all(t > 0 for t in result.times)


@pytest.mark.parametrize("seconds, text", [(2.5, "2.5 s"), (0.0123, "12.3 ms"), (4.56e-5, "45.6 µs"),
                                           (7.89e-7, "789 ns")])
def test_format_seconds_picks_a_readable_unit(seconds, text):
    assert format_seconds(seconds) == text


def test_timing_str_states_median_spread_and_runs():
    text = str(Timing(times=(0.010, 0.012, 0.011), number=100))
    assert text.startswith("11 ms ±") and "3 runs x 100 calls" in text


def test_compare_prints_speedups_against_the_baseline():
    out = io.StringIO()
    speedups = compare({"slow": Timing((2.0, 2.0, 2.0), 1), "fast": Timing((0.5, 0.5, 0.5), 1),
                        "slower": Timing((4.0, 4.0, 4.0), 1)}, items=100, file=out)
    assert speedups == {"slow": 1.0, "fast": 4.0, "slower": 0.5}
    table = out.getvalue()
    assert "1.00x (baseline)" in table and "4.00x faster" in table and "2.00x slower" in table
    assert "items/s" in table and "200" in table  # 100 items in 0.5 s


def test_compare_with_a_named_baseline_and_bad_input():
    speedups = compare({"a": Timing((1.0,), 1), "b": Timing((2.0,), 1)}, baseline="b", file=io.StringIO())
    assert speedups == {"a": 2.0, "b": 1.0}
    with pytest.raises(ValueError, match="baseline 'c'"):
        compare({"a": Timing((1.0,), 1)}, baseline="c")
    with pytest.raises(ValueError, match="empty"):
        compare({})
    with pytest.raises(TypeError, match="Timing"):
        compare({"a": 1.0})


def test_timeit_pauses_the_garbage_collector_and_restores_it():
    import gc

    seen = []
    timeit(lambda: seen.append(gc.isenabled()), warmup=1, repeat=2, number=1)
    assert seen == [False, False, False] and gc.isenabled()
    timeit(lambda: seen.append(gc.isenabled()), warmup=0, repeat=1, number=1, pause_gc=False)
    assert seen[-1] is True


def test_timeit_restores_the_collector_when_fn_raises():
    import gc

    def boom():
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        timeit(boom)
    assert gc.isenabled()
