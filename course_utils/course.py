"""The course itself: where it lives and which notebooks it has, in order.

This module is the one place that names the repository. The notebook tool
(`python -m course_utils.notebooks stamp`) writes the setup cell and the
"Open in Colab" badge of every notebook from it, so a fork changes
`REPO_URL` here and re-stamps.
"""
from __future__ import annotations

from dataclasses import dataclass

REPO_URL = "https://github.com/faster-deep-learning/faster-deep-learning"
BRANCH = "main"
NOTEBOOK_DIR = "notebooks"
COURSE_TITLE = "Faster Deep Learning: from memoization to mixed precision"


def repo_slug() -> str:
    """'owner/name' of the repository, e.g. 'faster-deep-learning/faster-deep-learning'."""
    prefix = "https://github.com/"
    if not REPO_URL.startswith(prefix):
        raise ValueError(f"REPO_URL must start with {prefix!r}, got {REPO_URL!r}")
    return REPO_URL[len(prefix):].rstrip("/")


def repo_name() -> str:
    """The folder name `git clone REPO_URL` creates."""
    return repo_slug().split("/")[-1]


def colab_url(filename: str) -> str:
    """Colab's address for a notebook of the course, e.g. colab_url('00_welcome_and_setup.ipynb')."""
    return f"https://colab.research.google.com/github/{repo_slug()}/blob/{BRANCH}/{NOTEBOOK_DIR}/{filename}"


def colab_badge(filename: str) -> str:
    """The Markdown line of the 'Open in Colab' badge for one notebook."""
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(filename)})"


@dataclass(frozen=True)
class Notebook:
    """One notebook of the course.

    number: its place in the course (0..12); stem: file name without '.ipynb';
    title: human title; summary: one line on what it teaches;
    without_gpu: what a learner without a GPU gets from it.
    """

    number: int
    stem: str
    title: str
    summary: str
    without_gpu: str

    @property
    def filename(self) -> str:
        return f"{self.stem}.ipynb"


NOTEBOOKS: tuple[Notebook, ...] = (
    Notebook(0, "00_welcome_and_setup", "Welcome and setup",
             "the course map, an environment check, a first widget and a first honest measurement",
             "runs fully"),
    Notebook(1, "01_memoization_and_hash_tables", "Memoization and hash tables",
             "store instead of recompute: hash tables, memoization, dynamic programming, backprop as DP",
             "runs fully"),
    Notebook(2, "02_batching_and_vectorization", "Batching and vectorization",
             "do the work in batches: loops vs NumPy, throughput against batch size, gradient noise",
             "runs fully; GPU synchronization is explained but not measured"),
    Notebook(3, "03_gradient_descent_and_sgd", "Gradient descent and SGD",
             "gradient descent, SGD and mini-batches in NumPy; learning rates and schedules",
             "runs fully"),
    Notebook(4, "04_momentum_rmsprop_adam", "Momentum, RMSprop and Adam",
             "Momentum, Nesterov, AdaGrad, RMSprop, Adam, AdamW in NumPy, equal to torch and Keras",
             "runs fully"),
    Notebook(5, "05_data_preprocessing_and_pipelines", "Data preprocessing and input pipelines",
             "normalization, augmentation, tf.data and DataLoader: when is the model starved?",
             "runs fully; GPU-side augmentation falls back to the CPU"),
    Notebook(6, "06_batch_normalization", "Batch normalization",
             "batch norm forward and backward, gradient-checked, equal to torch and Keras",
             "runs fully"),
    Notebook(7, "07_dropout", "Dropout",
             "inverted dropout from scratch, overfitting made visible, Monte Carlo dropout",
             "runs fully"),
    Notebook(8, "08_label_smoothing", "Label smoothing",
             "label smoothing as the frameworks define it, its gradient and its effect on calibration",
             "runs fully"),
    Notebook(9, "09_mixed_precision_training", "Mixed-precision training",
             "fp32, fp16, bf16, TF32; loss scaling; AMP in torch and Keras; measured speed-ups",
             "number formats and loss scaling run; the speed-ups need a GPU (Colab T4 or better)"),
    Notebook(10, "10_scaling_up_training", "Scaling up training",
             "gradient accumulation, data- and pipeline-parallel training, EMA weights",
             "runs fully, with processes on the CPU standing in for GPUs"),
    Notebook(11, "11_compressing_models", "Compressing models",
             "distillation, pruning, quantization and compiled inference, measured",
             "runs fully; what TensorRT adds on a GPU is described"),
    Notebook(12, "12_capstone_fast_mnist", "Capstone: fast MNIST",
             "LeNet-5 and a Keras CNN on MNIST with every trick of the course, in one ablation table",
             "runs fully, with the GPU-only rows of the ablation left out"),
)


def notebook(number: int) -> Notebook:
    """The notebook with this number; ValueError for a number outside the course."""
    for nb in NOTEBOOKS:
        if nb.number == number:
            return nb
    raise ValueError(f"the course has notebooks 0..{len(NOTEBOOKS) - 1}, got {number!r}")
