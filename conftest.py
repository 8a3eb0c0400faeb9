"""Loaded by pytest before any test or notebook is collected.

Kernels that nbval starts inherit this process's environment, so setting KERNEL_ENV here
gives the test run the same kernel environment that `python -m course_utils.notebooks
execute` used when the stored outputs were made.

At the end of a run, a short table gives each notebook's total run time (nbval reports
cells one by one) against the course's budget.
"""
import os
from collections import defaultdict

from course_utils.notebooks import KERNEL_ENV, NOTEBOOK_TIME_BUDGET_S

os.environ.update(KERNEL_ENV)

_notebook_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook run times")
    for path, seconds in sorted(_notebook_seconds.items()):
        flag = f"  over the {NOTEBOOK_TIME_BUDGET_S} s budget" if seconds > NOTEBOOK_TIME_BUDGET_S else ""
        terminalreporter.write_line(f"{seconds:6.1f} s  {path}{flag}")
