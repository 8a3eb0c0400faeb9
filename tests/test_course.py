"""course_utils.course: the course map and the addresses derived from the one repository URL."""
import re

import pytest

from course_utils import course


def test_thirteen_notebooks_numbered_in_order():
    assert [nb.number for nb in course.NOTEBOOKS] == list(range(13))
    for nb in course.NOTEBOOKS:
        assert re.fullmatch(rf"{nb.number:02d}_[a-z0-9_]+", nb.stem), nb.stem
        assert nb.filename == nb.stem + ".ipynb"
        assert nb.title and nb.summary and nb.without_gpu


def test_notebook_lookup():
    assert course.notebook(9).stem == "09_mixed_precision_training"
    with pytest.raises(ValueError, match="0..12, got 13"):
        course.notebook(13)


def test_addresses_derive_from_repo_url():
    slug = course.repo_slug()
    assert course.REPO_URL.endswith(slug) and slug.count("/") == 1
    assert course.repo_name() == slug.split("/")[1]
    url = course.colab_url("03_gradient_descent_and_sgd.ipynb")
    assert url == (f"https://colab.research.google.com/github/{slug}/blob/main/"
                   "notebooks/03_gradient_descent_and_sgd.ipynb")
    assert course.colab_badge("x.ipynb").startswith("[![Open In Colab](")
    assert course.colab_badge("x.ipynb").endswith("/notebooks/x.ipynb)")


def test_repo_slug_rejects_a_non_github_url(monkeypatch):
    monkeypatch.setattr(course, "REPO_URL", "ftp://example/repo")
    with pytest.raises(ValueError, match="must start with"):
        course.repo_slug()
