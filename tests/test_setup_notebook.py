"""setup_notebook: the summary line, the seeds, the plot style."""
import random

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf
import torch

from course_utils import setup_notebook
from course_utils.notebook_setup import seed_everything
from course_utils.plots import COLORS


def draws():
    return (random.random(), np.random.rand(), torch.rand(1).item(), float(tf.random.uniform(())),
            float(keras.random.uniform(())))


def test_setup_notebook_prints_and_returns_the_summary(capsys):
    summary = setup_notebook(seed=3)
    assert capsys.readouterr().out.strip() == summary
    for part in ("Python ", "NumPy ", "torch ", "TensorFlow ", "Keras ", "device: ", "seed 3"):
        assert part in summary
    assert plt.rcParams["axes.prop_cycle"].by_key()["color"][0] == COLORS[0]


def test_seeds_make_every_library_repeat_itself():
    seed_everything(7)
    first = draws()
    seed_everything(7)
    assert draws() == first
    seed_everything(8)
    assert draws() != first


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True])
def test_bad_seeds_are_rejected(seed):
    with pytest.raises(ValueError, match="seed must be an integer"):
        seed_everything(seed)
