"""Fixtures shared by the unit tests."""
import pytest

from course_utils import bench


class FakeClock:
    """A stand-in for time.perf_counter: time moves only when a test moves it.

    Tests of timing code use it to check the logic (warm-up, repeats, medians, what is inside
    the timed region) without measuring anything, so they can never fail on a slow machine.
    """

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def work(self, seconds):
        """A function that 'takes' `seconds` (a number, or a callable giving one per call)."""
        def fn():
            self.now += seconds() if callable(seconds) else seconds
        return fn


@pytest.fixture
def clock(monkeypatch):
    """A FakeClock installed as course_utils.bench's clock."""
    fake = FakeClock()
    monkeypatch.setattr(bench.time, "perf_counter", fake)
    return fake
