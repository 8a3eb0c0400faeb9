"""The student edition (solutions stubbed, checks failing until filled in) and the static HTML edition."""
import re
from pathlib import Path

import nbformat
import pytest

from course_utils import editions
from course_utils.notebooks import NOTEBOOKS_DIR

PATHS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


# --- strip_solutions: the transformation itself -----------------------------------------------

def test_strip_solutions_keeps_the_indentation_and_everything_else():
    source = "def f(x):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\ncheck(f(1))"
    stripped, blocks = editions.strip_solutions(source)
    assert blocks == 1
    assert stripped == ("def f(x):\n    \"\"\"doc\"\"\"\n    # YOUR CODE HERE\n"
                        f"    raise NotImplementedError(\"{editions.STUB_MESSAGE}\")\n\ncheck(f(1))")
    namespace = {}
    exec(stripped.replace("check(f(1))", ""), namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)


def test_strip_solutions_handles_top_level_and_several_blocks():
    source = "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nx = 0\n### BEGIN SOLUTION\nb = 2\n### END SOLUTION"
    stripped, blocks = editions.strip_solutions(source)
    assert blocks == 2 and "a = 1" not in stripped and "b = 2" not in stripped and "x = 0" in stripped
    assert editions.strip_solutions("x = 1") == ("x = 1", 0)


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_strip_solutions_rejects_unpaired_markers(source, message):
    with pytest.raises(ValueError, match=message):
        editions.strip_solutions(source)


def test_student_notebook_clears_outputs_and_notes_the_edition():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\nassert answer == 42")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi")]
    cell.execution_count = 3
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), cell]
    nb.metadata["widgets"] = {"state": {}}
    student = editions.student_notebook(nb)
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None
    assert "answer = 42" not in student.cells[1].source and "assert answer == 42" in student.cells[1].source
    assert "Student edition" in student.cells[0].source and "widgets" not in student.metadata
    assert "answer = 42" in nb.cells[1].source  # the original is untouched


# --- the student edition of every notebook ---------------------------------------------------------
# Executing it is done in the nbval run: see the StudentExercise items in the root conftest.py, which
# run each exercise's student cells in the notebook's kernel and require a NotImplementedError.

@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_student_edition_stubs_every_solution_and_keeps_every_check(path, tmp_path):
    from course_utils.notebooks import main

    assert main(["student", "--out", str(tmp_path), str(path)]) == 0
    full = nbformat.read(path, as_version=4)
    student = nbformat.read(tmp_path / path.name, as_version=4)
    assert (tmp_path / "README.md").is_file()
    assert len(student.cells) == len(full.cells)
    n_solutions = 0
    for before, after in zip(full.cells, student.cells):
        if before.cell_type != "code":
            continue
        stripped, blocks = editions.strip_solutions(before.source)
        n_solutions += blocks
        assert after.source == stripped and after.outputs == [] and after.execution_count is None
        assert editions.BEGIN not in after.source
        if blocks:
            assert after.source.count("raise NotImplementedError") == blocks
    assert n_solutions >= 1, f"{path.name} has no exercise solutions"


# --- the HTML edition ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def html_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html")
    editions.write_html_edition(PATHS, out)
    return out


def test_every_notebook_has_a_page_and_the_index_links_them_in_order(html_dir):
    index = (html_dir / "index.html").read_text()
    links = re.findall(r'href="(\d\d_[a-z0-9_]+)\.html"', index)
    assert [f"{p.stem}" for p in PATHS] == list(dict.fromkeys(links))
    for path in PATHS:
        page = (html_dir / f"{path.stem}.html").read_text()
        assert "data:image/png;base64," in page, f"{path.stem}: figures are missing from the page"
        assert 'href="index.html"' in page


def test_every_page_links_to_the_next_and_the_previous(html_dir):
    for i, path in enumerate(PATHS):
        page = (html_dir / f"{path.stem}.html").read_text()
        if i + 1 < len(PATHS):
            assert f'rel="next" href="{PATHS[i + 1].stem}.html"' in page, f"{path.stem} lacks a link to the next page"
        else:
            assert 'rel="next"' not in page
        if i > 0:
            assert f'rel="prev" href="{PATHS[i - 1].stem}.html"' in page


def test_html_pages_carry_the_outputs(html_dir):
    page = (html_dir / "00_welcome_and_setup.html").read_text()
    assert "data:image/png;base64," in page  # figures embedded
    assert "Exercise 3 passed" in page  # printed outputs
    assert "application/vnd.jupyter.widget-state+json" in page  # widget state, for the widget renderer


def test_the_student_check_catches_an_exercise_whose_check_ignores_the_solution(tmp_path):
    """Runs pytest with nbval on two tiny notebooks: the student-edition item passes for an exercise whose
    check calls the solution and fails for one whose check would pass without it."""
    import os
    import subprocess
    import sys

    def notebook(check: str):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("def answer():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION"),
                    nbformat.v4.new_code_cell(check)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        return nb

    nbformat.write(notebook("assert answer() == 42"), tmp_path / "good.ipynb")
    nbformat.write(notebook("assert 6 * 7 == 42"), tmp_path / "bad.ipynb")
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-c", str(root / "pyproject.toml"),
         "--rootdir", str(tmp_path), str(tmp_path / "good.ipynb"), str(tmp_path / "bad.ipynb")],
        cwd=root, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(root)})
    out = result.stdout
    failures = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert len(failures) == 1 and "bad.ipynb::student edition, exercise 1" in failures[0], out[-3000:]
    assert "does not fail its check" in out and result.returncode == 1
