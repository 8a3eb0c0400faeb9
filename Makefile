# Faster Deep Learning: the two commands are `make lab` and `make test`.
# Both create .venv (if missing) and install requirements.txt plus course_utils;
# the install is skipped while .venv is newer than requirements.txt and pyproject.toml.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PIP_FLAGS ?= --quiet --disable-pip-version-check
# Extra JupyterLab options, e.g. `make lab LAB_ARGS="--no-browser --port 8890"`.
# Jupyter refuses to run as root unless told to (containers and some classroom images run as root).
LAB_ARGS  ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: help install lab test unit notebooks stamp student html clean

help:
	@echo "make lab        set up .venv and open the course in JupyterLab"
	@echo "make test       set up .venv and run every test (unit, structure, nbval)"
	@echo "make unit       only the tests of course_utils and the notebook structure (fast)"
	@echo "make notebooks  re-execute every notebook in place with the course's notebook tool"
	@echo "make student    write the student edition (solutions stubbed) to build/student/"
	@echo "make html       write the static HTML edition to build/html/ (open build/html/index.html)"
	@echo "make clean      remove .venv and caches"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install $(PIP_FLAGS) -r requirements.txt
	$(PY) -m pip install $(PIP_FLAGS) --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

test: install
	$(PY) -m pytest

unit: install
	$(PY) -m pytest tests

notebooks: install
	$(PY) -m course_utils.notebooks execute

stamp: install
	$(PY) -m course_utils.notebooks stamp

student: install
	$(PY) -m course_utils.notebooks student

html: install
	$(PY) -m course_utils.notebooks html

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
