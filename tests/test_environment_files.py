"""The set-up files agree: requirements.txt, environment.yml, pyproject.toml, Makefile, CI, README."""
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", line)
        assert match, f"requirements.txt: {line!r} is not an exact pin NAME==VERSION"
        pins[match.group(1).lower()] = match.group(2)
    return pins


def environment_yml_pins() -> dict[str, str]:
    text = (ROOT / "environment.yml").read_text()
    pip_block = text.split("- pip:", 1)[1]
    pins = {}
    for name, version in re.findall(r"^\s+- ([A-Za-z0-9_.\-]+)==(\S+)\s*$", pip_block, flags=re.M):
        pins[name.lower()] = version
    return pins


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_lists_the_same_pins_as_requirements():
    assert environment_yml_pins() == requirement_pins()
    assert re.search(r"^\s+- python=3\.11\s*$", (ROOT / "environment.yml").read_text(), flags=re.M)


def test_key_pins():
    pins = requirement_pins()
    assert pins["torch"] == "2.13.0"
    assert "tensorflow" in pins and "tensorflow-cpu" not in pins
    assert Version(pins["keras"]).major == 3
    for tool in ("jupyterlab", "ipykernel", "pytest", "nbval", "hypothesis", "nbclient", "nbformat", "nbconvert",
                 "playwright"):
        assert tool in pins, f"{tool} must be pinned in requirements.txt"


def test_installed_versions_are_the_pinned_ones():
    for name, version in requirement_pins().items():
        installed = Version(metadata.version(name)).public  # 2.13.0+cpu counts as 2.13.0
        assert installed == Version(version).public, f"{name}: installed {installed}, requirements.txt pins {version}"


def test_course_utils_depends_only_on_what_colab_has():
    project = pyproject()["project"]
    names = [Requirement(r).name for r in project["dependencies"]]
    assert sorted(names) == ["ipywidgets", "matplotlib", "numpy"]
    for r in project["dependencies"]:
        spec = str(Requirement(r).specifier)
        assert spec.startswith(">=") and "," not in spec, f"{r}: only a lower bound, so pip never upgrades Colab's copy"
    extras = project["optional-dependencies"]
    assert {Requirement(r).name for r in extras["frameworks"]} == {"torch", "tensorflow", "keras"}
    assert {"pytest", "nbval", "hypothesis"} <= {Requirement(r).name for r in extras["dev"]}


def test_pins_satisfy_the_package_requirements():
    pins = requirement_pins()
    project = pyproject()["project"]
    for r in project["dependencies"] + sum(project["optional-dependencies"].values(), []):
        req = Requirement(r)
        assert req.specifier.contains(pins[req.name.lower()]), f"requirements.txt pins {req.name} outside {req}"


def test_makefile_and_ci_run_the_two_commands():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab:", "test:", "install:"):
        assert re.search(rf"^{target}", makefile, flags=re.M), f"Makefile lacks the {target} target"
    assert "-r requirements.txt" in makefile and "-e ." in makefile
    assert "jupyter lab" in makefile and "pytest" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci and re.search(r"^make test$", ci, flags=re.M)


def test_readme_quick_start_shows_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1]
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", quick, flags=re.S).group(1)
    assert [line.strip() for line in first_block.strip().splitlines()] == ["make lab", "make test"]
    for words in ("conda env create -f environment.yml", "Colab", "make test"):
        assert words in readme


@pytest.mark.parametrize("path", ["LICENSE", "data/README.md", "notebooks/README.md", "environment.yml"])
def test_project_files_exist(path):
    assert (ROOT / path).is_file() and (ROOT / path).read_text().strip()


def test_data_readme_states_the_mnist_license():
    assert "CC BY-SA 3.0" in (ROOT / "data" / "README.md").read_text()


def test_readme_course_table_names_every_notebook():
    from course_utils import course

    readme = (ROOT / "README.md").read_text()
    for nb in course.NOTEBOOKS:
        assert f"| {nb.number:02d} | {nb.title} |" in readme, f"README's course table lacks {nb.number:02d} {nb.title}"


def test_readme_run_times_match_the_notebooks():
    import json

    from course_utils import course

    readme = (ROOT / "README.md").read_text()
    for nb in course.NOTEBOOKS:
        path = ROOT / "notebooks" / nb.filename
        row = next(line for line in readme.splitlines() if line.startswith(f"| {nb.number:02d} | {nb.title} |"))
        if not path.exists():
            assert "(in preparation)" in row, f"README lists {nb.filename} with a run time, but it does not exist"
            continue
        title = "".join(json.loads(path.read_text())["cells"][0]["source"])
        stated = re.search(r"\*\*Expected run time:\*\* (about \d+ s)", title).group(1)
        assert f"| {stated} |" in row, f"README says {row.split('|')[4].strip()!r} for {nb.filename}, the notebook {stated!r}"
