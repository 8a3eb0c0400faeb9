"""course_utils.notebooks: stamping, the skeleton, and the setup cell in Colab and without an install."""
import os
import subprocess
import sys
import textwrap

import nbformat
import pytest

from course_utils import course, notebooks
from course_utils.notebooks import ROOT, setup_cell_source, stamp


def test_setup_cell_names_the_repository_once_and_installs_without_deps():
    src = setup_cell_source()
    assert src.startswith("# NBVAL_IGNORE_OUTPUT\n")
    assert src.count(course.REPO_URL) == 1
    assert '"--no-deps", "-e"' in src
    assert "torch" not in src.replace("torch and TensorFlow stay", "") and "tensorflow" not in src
    compile(src, "<setup cell>", "exec")


def test_stamp_inserts_then_refreshes_the_setup_cell_and_badge():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 05 · Title\n\ntext"), nbformat.v4.new_code_cell("x = 1")]
    assert stamp(nb, "05_data_preprocessing_and_pipelines.ipynb")
    assert nb.cells[1].source == setup_cell_source() and nb.cells[2].source == "x = 1"
    assert course.colab_badge("05_data_preprocessing_and_pipelines.ipynb") in nb.cells[0].source
    assert not stamp(nb, "05_data_preprocessing_and_pipelines.ipynb")  # idempotent
    nb.cells[1].source = nb.cells[1].source.replace("seed=0", "seed=1")  # a hand edit
    nb.cells[0].source = nb.cells[0].source.replace("05_data", "99_old")  # a stale badge
    assert stamp(nb, "05_data_preprocessing_and_pipelines.ipynb")
    assert nb.cells[1].source == setup_cell_source()
    assert "99_old" not in nb.cells[0].source and len(nb.cells) == 3


def test_new_notebook_has_the_skeleton(tmp_path, monkeypatch):
    monkeypatch.setattr(notebooks, "NOTEBOOKS_DIR", tmp_path)
    path = notebooks.new_notebook("07_dropout", "Dropout")
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].source.startswith("# 07 · Dropout\n")
    assert nb.cells[1].source == setup_cell_source()
    headings = [c.source.split("\n")[0] for c in nb.cells if c.cell_type == "markdown"]
    assert "## Exercises" in headings and headings[-1] == "## Summary"
    with pytest.raises(FileExistsError):
        notebooks.new_notebook("07_dropout", "Dropout")
    with pytest.raises(ValueError, match="NN_topic"):
        notebooks.new_notebook("Dropout", "Dropout")


def test_stderr_outputs_finds_errors_and_stderr():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="warning!\n"),
                    nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])]
    nb.cells = [cell]
    problems = notebooks.stderr_outputs(nb)
    assert problems == ["cell 0: stderr: warning!", "cell 0: ValueError: bad"]


# The setup cell, run as a learner would run it, in a fresh Python process where course_utils
# is *not* importable: the editable install is hidden first.
HIDE_INSTALL = textwrap.dedent(f"""
    import importlib.util, sys
    sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path = [p for p in sys.path if p not in ("", {str(ROOT)!r}) and "__editable__" not in p]
    for name in list(sys.modules):
        if name.startswith("course_utils"):
            del sys.modules[name]
    assert importlib.util.find_spec("course_utils") is None, "could not hide the installed course_utils"
""")


def run_python(code: str, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env, timeout=180)


def test_setup_cell_finds_course_utils_from_the_notebooks_folder():
    code = HIDE_INSTALL + setup_cell_source() + "\nprint('SUMMARY', summary)"
    result = run_python(code, cwd=ROOT / "notebooks")
    assert result.returncode == 0, result.stderr
    assert "SUMMARY Python" in result.stdout and "seed 0" in result.stdout
    assert result.stderr == ""


def test_setup_cell_in_colab_clones_and_installs_only_course_utils(tmp_path):
    source = setup_cell_source().replace('pathlib.Path("/content/', f'pathlib.Path("{tmp_path}/')
    fake_colab = textwrap.dedent(f"""
        import os, subprocess, sys, types
        sys.modules["google.colab"] = types.ModuleType("google.colab")
        commands, real_run = [], subprocess.run
        def fake_run(cmd, *args, **kwargs):
            if not (cmd[0] == "git" or cmd[1:3] == ["-m", "pip"]):
                return real_run(cmd, *args, **kwargs)  # e.g. platform's own probes
            commands.append(cmd)
            if cmd[:2] == ["git", "clone"]:
                os.symlink({str(ROOT)!r}, cmd[-1])  # stands in for the clone
            return subprocess.CompletedProcess(cmd, 0)
        subprocess.run = fake_run
    """)
    code = HIDE_INSTALL + fake_colab + source + "\nprint('COMMANDS', commands)"
    result = run_python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    clone, pip = eval(result.stdout.split("COMMANDS ", 1)[1])
    assert clone == ["git", "clone", "--depth", "1", course.REPO_URL, f"{tmp_path}/{course.repo_name()}"]
    assert pip[1:] == ["-m", "pip", "install", "--quiet", "--no-deps", "-e", f"{tmp_path}/{course.repo_name()}"]


def test_setup_cell_without_course_utils_says_what_to_do(tmp_path):
    result = run_python(HIDE_INSTALL + setup_cell_source(), cwd=tmp_path)
    assert result.returncode != 0
    assert "course_utils not found: run `make lab`" in result.stderr


def test_stated_run_time_reads_the_title_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · T\n\n**Expected run time:** about 45 s on a 2-core laptop CPU.")]
    assert notebooks.stated_run_time(nb) == 45
    nb.cells[0].source = "# 01 · T"
    assert notebooks.stated_run_time(nb) is None
