"""`setup_notebook`: the one call at the top of every notebook of the course."""
from __future__ import annotations

import os
import platform
import random

import numpy as np

from course_utils import env, plots


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator, and torch / TensorFlow / Keras when installed.

    The course passes explicit np.random.Generator objects wherever it can; this covers the
    libraries that draw from global state (weight initializers, dropout masks, shuffling).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    if env.is_installed("torch"):
        import torch

        torch.manual_seed(seed)  # seeds the CPU and every CUDA device
    if env.is_installed("tensorflow"):
        tf = env.import_tensorflow()
        tf.random.set_seed(seed)
        if env.is_installed("keras"):
            import keras

            keras.utils.set_random_seed(seed)


def environment_summary() -> str:
    """One line: Python, NumPy, torch, TensorFlow, Keras versions and the device torch would use."""
    parts = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    for label, dist in (("torch", "torch"), ("TensorFlow", "tensorflow"), ("Keras", "keras")):
        parts.append(f"{label} {env.package_version(dist) or 'not installed'}")
    report = env.device_report()
    if report.has_gpu:
        device = f"GPU {report.gpu_name}"
    elif report.apple_mps:
        device = "Apple GPU (MPS)"
    else:
        device = f"CPU ({report.cpu_cores} cores)"
    parts.append(f"device: {device}")
    return " | ".join(parts)


def setup_notebook(seed: int = 0) -> str:
    """Prepare a notebook: quiet TensorFlow, seed every library, set the plot style.

    Call it once, in the first code cell, before TensorFlow is imported anywhere: it sets
    TF_CPP_MIN_LOG_LEVEL=1 and TF_ENABLE_ONEDNN_OPTS=0 and imports TensorFlow itself with its
    no-GPU noise filtered (see env.import_tensorflow), so that notebooks keep a clean stderr.
    Prints and returns a one-line summary of the environment.
    """
    for key, value in env.TENSORFLOW_QUIET_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    seed_everything(seed)
    plots.use_course_style()
    summary = environment_summary() + f" | seed {seed}"
    print(summary)
    return summary
