"""Progress bars for long loops that stay out of stored notebook outputs under test.

`tqdm.auto` picks tqdm's notebook widget inside Jupyter, and that widget ignores the
TQDM_DISABLE environment variable (tqdm 4.70 passes disable=False explicitly), so a
notebook executed by the tests would store a progress widget. `progress` reads the
variable itself; the notebook tool and the test suite set TQDM_DISABLE=1.

tqdm is imported only when a bar is made: course_utils itself needs only NumPy,
Matplotlib and ipywidgets.
"""
from __future__ import annotations

import os
from typing import Iterable


def progress_disabled() -> bool:
    """True when TQDM_DISABLE is set to anything but '', '0' or 'false'."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false")


def progress(iterable: Iterable | None = None, **kwargs):
    """`tqdm.auto.tqdm(iterable, **kwargs)`, off when TQDM_DISABLE says so.

    Use it like tqdm: `for epoch in progress(range(5), desc="epochs"): ...`.
    An explicit `disable=` argument wins over the environment.
    """
    from tqdm.auto import tqdm

    kwargs.setdefault("disable", progress_disabled())
    return tqdm(iterable, **kwargs)
