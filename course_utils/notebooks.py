"""The notebook tool: authors never hand-edit outputs or copy the setup cell.

    python -m course_utils.notebooks stamp   [NOTEBOOK ...]   write the setup cell and Colab badge
    python -m course_utils.notebooks execute [NOTEBOOK ...]   stamp, then re-run top to bottom in place
    python -m course_utils.notebooks new NN_topic "Title"     start a notebook with the course's skeleton
    python -m course_utils.notebooks student [--out DIR]      the student edition (solutions stubbed)
    python -m course_utils.notebooks html    [--out DIR]      the static HTML edition, with an index

With no NOTEBOOK arguments, every notebook in notebooks/ is processed. `execute` runs each
notebook in a fresh kernel of this Python environment, with the same environment variables
as the test suite (KERNEL_ENV), stores widget state so widgets render in static views, and
refuses to save a notebook whose run wrote to stderr.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from course_utils import course

# Set for every kernel the notebook tool and the test suite start, so that stored outputs
# and re-executed outputs agree: no progress bars, and a fixed seed for Python's str hash().
KERNEL_ENV = {"TQDM_DISABLE": "1", "PYTHONHASHSEED": "0"}
NOTEBOOK_TIME_BUDGET_S = 90
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = ROOT / course.NOTEBOOK_DIR
SETUP_MARKER = "# Setup: the same cell opens every notebook"


def setup_cell_source() -> str:
    """The source of the setup cell, identical in every notebook (the repository URL comes from course.py)."""
    return f'''# NBVAL_IGNORE_OUTPUT
{SETUP_MARKER} (written by `make stamp`; edit course_utils/notebooks.py, not here).
# In Colab it fetches the course and installs course_utils alone (--no-deps): Colab's torch and TensorFlow stay as they are.
import importlib.util, pathlib, subprocess, sys
if importlib.util.find_spec("course_utils") is None:
    if "google.colab" in sys.modules:
        repo = pathlib.Path("/content/{course.repo_name()}")
        if not repo.exists():
            subprocess.run(["git", "clone", "--depth", "1", "{course.REPO_URL}", str(repo)], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(repo)], check=True)
    elif (pathlib.Path.cwd().parent / "course_utils").is_dir():
        repo = pathlib.Path.cwd().parent  # opened from notebooks/ without `pip install -e .`
    else:
        raise ModuleNotFoundError("course_utils not found: run `make lab` in the course folder, or `pip install -e .` there")
    sys.path.insert(0, str(repo))
from course_utils import setup_notebook
summary = setup_notebook(seed=0)'''


def _nbformat():
    import nbformat

    return nbformat


def notebook_paths(args: list[str] | None = None) -> list[Path]:
    """The notebooks named in `args`, or all of notebooks/*.ipynb in course order."""
    if args:
        paths = [Path(a) for a in args]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"no such notebook: {', '.join(missing)}")
        return paths
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def stamp(nb, filename: str) -> bool:
    """Write the setup cell (first code cell) and the Colab badge (in the title cell) into `nb`.

    Returns True if anything changed. A notebook without a setup cell gets one after the title cell.
    """
    nbformat = _nbformat()
    changed = False
    source = setup_cell_source()
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if code_cells and SETUP_MARKER in code_cells[0].source:
        if code_cells[0].source != source:
            code_cells[0].source = source
            changed = True
    else:
        nb.cells.insert(1 if nb.cells else 0, nbformat.v4.new_code_cell(source))
        changed = True
    if nb.cells and nb.cells[0].cell_type == "markdown":
        title = nb.cells[0]
        badge = course.colab_badge(filename)
        lines = title.source.split("\n")
        badge_lines = [i for i, line in enumerate(lines) if "colab-badge.svg" in line]
        if badge_lines:
            for i in badge_lines:
                if lines[i] != badge:
                    lines[i] = badge
                    changed = True
        else:
            lines[1:1] = ["", badge]
            changed = True
        title.source = "\n".join(lines)
    return changed


def _kernel_manager():
    """A kernel of *this* Python environment, whatever kernelspecs the user has installed."""
    import ipykernel.kernelspec
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    class CurrentEnvSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                          **ipykernel.kernelspec.get_kernel_dict())

    return KernelManager(kernel_name="python3", kernel_spec_manager=CurrentEnvSpecs())


def stderr_outputs(nb) -> list[str]:
    """Problems a stored notebook must not have: error outputs and stderr streams, one line each."""
    problems = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                problems.append(f"cell {i}: stderr: {out.get('text', '').strip()[:300]}")
    return problems


def execute(path: Path, *, timeout: int = 600) -> float:
    """Stamp, clear and execute one notebook top to bottom in a fresh kernel; save it in place.

    Returns the wall-clock seconds the run took. Raises RuntimeError (and saves nothing) when a
    cell writes to stderr; nbclient raises CellExecutionError when a cell fails.
    """
    from nbclient import NotebookClient

    nbformat = _nbformat()
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    stamp(nb, path.name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    os.environ.update(KERNEL_ENV)
    client = NotebookClient(nb, km=_kernel_manager(), timeout=timeout, record_timing=False,
                            store_widget_state=True, resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    problems = stderr_outputs(nb)
    if problems:
        raise RuntimeError(f"{path.name} wrote to stderr or failed; not saved:\n  " + "\n  ".join(problems))
    nbformat.write(nb, path)
    return elapsed


def stated_run_time(nb) -> int | None:
    """Seconds from the title cell's '**Expected run time:** about N s', or None if it says none."""
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        return None
    match = re.search(r"\*\*Expected run time:\*\* about (\d+) s", nb.cells[0].source)
    return int(match.group(1)) if match else None


def new_notebook(stem: str, title: str) -> Path:
    """Create notebooks/<stem>.ipynb with the course skeleton (title cell, setup cell, sections)."""
    nbformat = _nbformat()
    match = re.fullmatch(r"(\d\d)_[a-z0-9_]+", stem)
    if not match:
        raise ValueError(f"a notebook name is NN_topic in lower case, e.g. 03_gradient_descent_and_sgd; got {stem!r}")
    path = NOTEBOOKS_DIR / f"{stem}.ipynb"
    if path.exists():
        raise FileExistsError(f"{path} exists already")
    md = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        md(f"# {match.group(1)} · {title}\n\n{course.colab_badge(path.name)}\n\n"
           "Why this matters, in two or three sentences.\n\n"
           "**You will learn**\n- ...\n- ...\n\n"
           "**Prerequisites:** ...  \n**Expected run time:** about ... s on a 2-core laptop CPU."),
        nbformat.v4.new_code_cell(setup_cell_source()),
        md("## 1. Intuition"), md("## 2. The math"), md("## 3. From scratch"), md("## 4. Check it"),
        md("## 5. Measure it"), md("## 6. In the frameworks"), md("## 7. Explore"),
        md("## Exercises"), md("## Summary\n\n- ..."),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.notebooks", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("stamp", "write the setup cell and Colab badge"),
                            ("execute", "stamp, then re-execute top to bottom in place")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("notebooks", nargs="*", help="notebook files (default: all of notebooks/)")
    for name, help_text, default in (("student", "write the student edition", "build/student"),
                                     ("html", "write the static HTML edition", "build/html")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--out", default=str(ROOT / default), help=f"output folder (default: {default})")
        p.add_argument("notebooks", nargs="*", help="notebook files (default: all of notebooks/)")
    p = sub.add_parser("new", help="create a notebook with the course skeleton")
    p.add_argument("stem", help="file name without .ipynb, e.g. 03_gradient_descent_and_sgd")
    p.add_argument("title", help="the notebook's title, e.g. 'Gradient descent and SGD'")
    args = parser.parse_args(argv)

    nbformat = _nbformat()
    if args.command == "new":
        print(f"created {new_notebook(args.stem, args.title)}")
        return 0
    paths = notebook_paths(args.notebooks)
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    if args.command in ("student", "html"):
        from course_utils import editions

        write = editions.write_student_edition if args.command == "student" else editions.write_html_edition
        written = write(paths, Path(args.out))
        print(f"wrote {len(written)} notebooks to {args.out}/")
        return 0
    for path in paths:
        if args.command == "stamp":
            nb = nbformat.read(path, as_version=4)
            if stamp(nb, path.name):
                nbformat.write(nb, path)
                print(f"stamped  {path.name}")
            else:
                print(f"ok       {path.name}")
        else:
            seconds = execute(path)
            stated = stated_run_time(nbformat.read(path, as_version=4))
            notes = []
            if seconds > NOTEBOOK_TIME_BUDGET_S:
                notes.append(f"over the {NOTEBOOK_TIME_BUDGET_S} s budget!")
            if stated and not 0.5 * stated <= seconds <= 1.5 * stated:
                notes.append(f"the title cell says about {stated} s: update it (and README's table)")
            print(f"executed {path.name} in {seconds:.1f} s" + (f"  ({'; '.join(notes)})" if notes else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
