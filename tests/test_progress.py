"""course_utils.progress: bars that honour TQDM_DISABLE, also where tqdm.notebook would not."""
import pytest

from course_utils.progress import progress, progress_disabled


@pytest.mark.parametrize("value, disabled", [("1", True), ("true", True), ("", False), ("0", False),
                                             ("False", False)])
def test_progress_disabled_reads_the_variable(monkeypatch, value, disabled):
    monkeypatch.setenv("TQDM_DISABLE", value)
    assert progress_disabled() is disabled
    assert progress(range(3)).disable is disabled


def test_progress_iterates_and_an_explicit_argument_wins(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert list(progress(range(4), desc="x")) == [0, 1, 2, 3]
    assert progress(range(2), disable=False).disable is False


def test_tqdm_notebook_ignores_the_variable_which_is_why_progress_exists(monkeypatch):
    """If tqdm fixes this, progress() can become a plain re-export of tqdm.auto."""
    from tqdm.notebook import tqdm as notebook_tqdm

    monkeypatch.setenv("TQDM_DISABLE", "1")
    bar = notebook_tqdm(range(2), gui=False)
    assert bar.disable is False
    bar.close()
