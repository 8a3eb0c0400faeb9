"""Loaded by pytest before any test or notebook is collected.

Kernels that nbval starts inherit this process's environment, so setting KERNEL_ENV here
gives the test run the same kernel environment that `python -m course_utils.notebooks
execute` used when the stored outputs were made.

At the end of a run, a short table gives each notebook's total run time (nbval reports
cells one by one) against the course's budget.
"""
import os
from collections import defaultdict

from course_utils.notebooks import KERNEL_ENV, stated_run_time

os.environ.update(KERNEL_ENV)

_notebook_seconds: dict[str, float] = defaultdict(float)
_notebook_load: dict[str, list[float]] = defaultdict(list)  # 1-minute load average after each cell


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration  # setup (the kernel's start), call and teardown
        if report.when == "call":
            _notebook_load[path].append(os.getloadavg()[0])


def _stated_seconds(path: str) -> int | None:
    import nbformat

    try:
        return stated_run_time(nbformat.read(path, as_version=4))
    except OSError:
        return None


def pytest_terminal_summary(terminalreporter):
    """Each notebook's measured run time against 1.5x the time its title cell states.

    No test fails on time: a loaded machine must not fail CI. When the load average while a
    notebook ran exceeds the core count by more than one, the other processes slowed it down,
    and the summary says that its figure is inflated rather than that it is over budget.
    """
    if not _notebook_seconds:
        return
    cores = os.cpu_count() or 1
    terminalreporter.section("notebook run times (budget: 1.5x the time stated in the title cell)")
    for path, seconds in sorted(_notebook_seconds.items()):
        stated = _stated_seconds(path)
        load = max(_notebook_load[path], default=0.0)
        if stated is None:
            verdict = "no run time stated in the title cell"
        elif seconds <= 1.5 * stated:
            verdict = f"within budget (stated about {stated} s)"
        elif load > cores + 1:
            verdict = (f"over 1.5x the stated {stated} s, but the machine was loaded (load {load:.1f} "
                       f"on {cores} cores): the figure is inflated")
        else:
            verdict = f"OVER BUDGET: the title cell states about {stated} s"
        terminalreporter.write_line(f"{seconds:6.1f} s  {path}  {verdict}")


# --- the student edition, checked in the kernel that nbval has just run the notebook in ------------
#
# After the last cell of each notebook, one extra item per exercise runs that exercise's cells in
# their student form (solutions replaced by `raise NotImplementedError`, see course_utils.editions)
# in the same kernel, errors allowed, and asserts that the exercise's check then fails with
# NotImplementedError. nbval has just proven that the full notebook passes every check, and the
# cells before the first exercise are the same in both editions, so together this shows what a
# separate run of the student edition would show, without executing every notebook twice.

import pytest  # noqa: E402


class StudentExercise(pytest.Item):
    def __init__(self, *, sources: list[str], first_cell: int, timeout: float, **kwargs):
        super().__init__(**kwargs)
        self.sources, self.first_cell, self.timeout = sources, first_cell, timeout

    def runtest(self):
        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            raise RuntimeError("the notebook's kernel is not running: did an earlier cell fail?")
        outcomes = []
        for source in self.sources:
            msg_id = kernel.execute_cell_input(source, allow_stdin=False)
            while True:
                reply = kernel.get_message(stream="shell", timeout=self.timeout)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            kernel.await_idle(msg_id, self.timeout)
            content = reply["content"]
            outcomes.append(content.get("ename", "passed") if content["status"] == "error" else "passed")
        assert "NotImplementedError" in outcomes, (
            f"in the student edition, the exercise at cell {self.first_cell} does not fail its check "
            f"(its cells gave: {outcomes}); does the check call the code between the solution markers?")

    def reportinfo(self):
        return self.path, None, self.name


def _student_items(notebook_file, last_item):
    from course_utils import editions

    cells = notebook_file.nb.cells
    exercises = [i for i, c in enumerate(cells) if c.cell_type == "code" and editions.BEGIN in c.source]
    bounds = exercises[1:] + [len(cells)]
    timeout = float(notebook_file.config.option.nbval_cell_timeout or 300)
    for number, (start, stop) in enumerate(zip(exercises, bounds), start=1):
        sources = [editions.strip_solutions(c.source)[0] for c in cells[start:stop] if c.cell_type == "code"]
        yield StudentExercise.from_parent(notebook_file, name=f"student edition, exercise {number}",
                                          sources=sources, first_cell=start, timeout=timeout)


def pytest_collection_modifyitems(session, config, items):
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:
        return
    result = []
    for index, item in enumerate(items):
        result.append(item)
        parent = item.parent
        is_last_cell = isinstance(parent, IPyNbFile) and (index + 1 == len(items) or items[index + 1].parent is not parent)
        if is_last_cell and not isinstance(item, StudentExercise):
            result.extend(_student_items(parent, item))
    items[:] = result
