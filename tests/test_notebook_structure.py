"""Every notebook follows the conventions of notebooks/README.md that a program can check."""
import json
import re
from pathlib import Path

import pytest

from course_utils import course
from course_utils.notebooks import NOTEBOOKS_DIR, setup_cell_source

PATHS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
MAX_BYTES = 2 * 1024 * 1024


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def markdown(nb: dict) -> str:
    return "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_there_are_notebooks():
    assert PATHS, f"no notebooks found in {NOTEBOOKS_DIR}"


def test_notebooks_are_the_courses_in_order():
    stems = {nb.stem: nb for nb in course.NOTEBOOKS}
    for path in PATHS:
        assert path.stem in stems, f"{path.name} is not in course_utils/course.py's NOTEBOOKS; add it there"
    assert [p.stem for p in PATHS] == sorted(p.stem for p in PATHS)
    assert PATHS[0].name == "00_welcome_and_setup.ipynb"


@pytest.fixture(params=PATHS, ids=[p.name for p in PATHS])
def nb_path(request) -> Path:
    return request.param


def test_title_cell(nb_path):
    nb = load(nb_path)
    entry = next(n for n in course.NOTEBOOKS if n.stem == nb_path.stem)
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown", "the first cell must be the Markdown title cell"
    text = source(first)
    assert text.startswith(f"# {entry.number:02d} · {entry.title}\n"), \
        f"title line must be '# {entry.number:02d} · {entry.title}'"
    assert course.colab_badge(nb_path.name) in text, "Colab badge missing or stale: run `make stamp`"
    learn = re.search(r"\*\*You will learn\*\*\n((?:- .+\n?){2,})", text)
    assert learn, "the title cell needs '**You will learn**' followed by at least two '- ' bullets"
    assert "**Prerequisites:**" in text, "the title cell must state the prerequisites"
    assert re.search(r"\*\*Expected run time:\*\* .*\d", text), "the title cell must state the expected run time"


def test_setup_cell_is_the_stamped_one(nb_path):
    cells = code_cells(load(nb_path))
    assert cells, "a notebook needs code cells"
    assert source(cells[0]) == setup_cell_source(), "the first code cell differs from the setup cell: run `make stamp`"


def test_sections_exercises_and_summary(nb_path):
    nb = load(nb_path)
    text = markdown(nb)
    numbered = re.findall(r"^## (\d+)\. ", text, flags=re.M)
    assert len(numbered) >= 2 and numbered == [str(i) for i in range(1, len(numbered) + 1)], \
        f"sections must be numbered 1, 2, 3...; found {numbered}"
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert "Exercises" in headings, "the notebook needs an '## Exercises' section"
    assert headings[-1] == "Summary", "'## Summary' must be the last section"
    assert headings.index("Exercises") < headings.index("Summary")
    bullets = re.findall(r"^- ", source(nb["cells"][-1]), flags=re.M)
    assert source(nb["cells"][-1]).startswith("## Summary") and 3 <= len(bullets) <= 6, \
        "the last cell is the summary, with three to six bullets"


def test_solution_markers_are_paired(nb_path):
    cells = code_cells(load(nb_path))
    total = 0
    for cell in cells:
        markers = re.findall(r"^\s*### (BEGIN|END) SOLUTION\s*$", source(cell), flags=re.M)
        assert markers == ["BEGIN", "END"] * (len(markers) // 2), f"unpaired solution markers: {markers}"
        total += len(markers) // 2
    assert total >= 1, "exercises need solutions between '### BEGIN SOLUTION' and '### END SOLUTION'"


def test_executed_top_to_bottom(nb_path):
    counts = [c.get("execution_count") for c in code_cells(load(nb_path))]
    assert counts == list(range(1, len(counts) + 1)), \
        "execution counts must be 1..n: re-execute with `python -m course_utils.notebooks execute`"


def test_no_stored_errors_or_stderr(nb_path):
    for i, cell in enumerate(code_cells(load(nb_path)), start=1):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"code cell {i} stores an error: {out.get('ename')}"
            assert out.get("name") != "stderr", f"code cell {i} stores stderr output: {''.join(out['text'])[:200]}"


def test_no_skipped_cells(nb_path):
    for cell in code_cells(load(nb_path)):
        assert "NBVAL_SKIP" not in source(cell), "NBVAL_SKIP hides a cell from the tests; make it run on a CPU"
        assert "nbval-skip" not in cell.get("metadata", {}).get("tags", [])


def test_file_size(nb_path):
    size = nb_path.stat().st_size
    assert size < MAX_BYTES, f"{nb_path.name} is {size / 2**20:.1f} MB; keep it under 2 MB (smaller figures)"


def test_kernelspec_is_python3(nb_path):
    assert load(nb_path)["metadata"]["kernelspec"]["name"] == "python3"


def test_nbval_runs_strict():
    config = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert "--nbval\"" in config and "--nbval-lax" not in config


def test_no_trailing_semicolons(nb_path):
    """nbval runs cells without IPython's history, so a trailing ';' does not hide the value there:
    the stored and the re-executed outputs would differ. End drawing cells with plt.show()."""
    for i, cell in enumerate(code_cells(load(nb_path)), start=1):
        lines = [line for line in source(cell).rstrip().splitlines() if line.strip() and not line.lstrip().startswith("#")]
        assert not (lines and lines[-1].rstrip().endswith(";")), \
            f"code cell {i} ends with ';': assign the value or end with plt.show() instead"
