"""Where the code is running: Colab or not, which CPU and GPU, which precisions are fast.

torch and TensorFlow are optional here: every function works (and says so) when
they are not installed, because course_utils itself needs only NumPy.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import platform
import re
import sys
import tempfile
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    import torch

# Lines that TensorFlow's CUDA build writes to stderr on a machine without a GPU driver.
# They are noise there (the device report says "no GPU" in plain words); any other line
# that TensorFlow writes during import is passed through to stderr.
TENSORFLOW_NO_GPU_NOISE = (
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"cudart_stub\.cc.*Could not find cuda drivers on your machine",
    r"failed call to cuInit",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
)
TENSORFLOW_QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "1", "TF_ENABLE_ONEDNN_OPTS": "0"}


def in_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def is_installed(module: str) -> bool:
    """True if `module` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def bf16_is_fast(capability: tuple[int, int] | None) -> bool:
    """Whether an NVIDIA GPU of this compute capability has bf16 tensor cores.

    capability: (major, minor) as `torch.cuda.get_device_capability()` gives it, or
    None for "no CUDA GPU". bf16 tensor cores arrived with Ampere (8.0); a T4 (7.5)
    can *emulate* bf16, which `torch.cuda.is_bf16_supported()` reports as True, but
    slowly.
    """
    return capability is not None and tuple(capability) >= (8, 0)


def tf32_is_available(capability: tuple[int, int] | None) -> bool:
    """Whether matmuls can run in TF32 on this GPU (also Ampere, 8.0, and later)."""
    return bf16_is_fast(capability)


def _cuda_capability() -> tuple[int, int] | None:
    if not is_installed("torch"):
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    return tuple(torch.cuda.get_device_capability())  # type: ignore[return-value]


def supports_bf16() -> bool:
    """True only where bf16 is real hardware: a CUDA GPU of compute capability >= 8.0.

    False on CPUs, on Apple GPUs and on a T4, even though PyTorch can run bf16 there.
    """
    return bf16_is_fast(_cuda_capability())


def supports_tf32() -> bool:
    """True on CUDA GPUs of compute capability >= 8.0 (A100, H100, RTX 30xx and later)."""
    return tf32_is_available(_cuda_capability())


def pick_torch_device(preferred: str | None = None) -> "torch.device":
    """The torch.device to train on.

    preferred: None picks the best available ('cuda', then 'mps', then 'cpu');
    'cpu', 'cuda' or 'mps' asks for that one and raises RuntimeError, with the
    fix, if it is not available.
    """
    import torch

    available = {
        "cuda": torch.cuda.is_available(),
        "mps": hasattr(torch.backends, "mps") and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if preferred is None:
        return torch.device(next(name for name, ok in available.items() if ok))
    if preferred not in available:
        raise ValueError(f"preferred must be None, 'cpu', 'cuda' or 'mps', got {preferred!r}")
    if not available[preferred]:
        fix = ("In Colab choose Runtime > Change runtime type > a GPU; elsewhere check "
               "`nvidia-smi` and that torch was installed with CUDA support."
               if preferred == "cuda" else "MPS needs an Apple-silicon Mac and macOS 12.3 or later.")
        raise RuntimeError(f"torch device {preferred!r} is not available here. {fix}")
    return torch.device(preferred)


def cpu_model() -> str:
    """A human name of the CPU, e.g. 'AMD EPYC 7B13' (best effort; never raises)."""
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def package_version(distribution: str) -> str | None:
    """The installed version of a package, e.g. '2.13.0+cpu', or None (imports nothing)."""
    from importlib import metadata

    with contextlib.suppress(metadata.PackageNotFoundError):
        return metadata.version(distribution)
    return None


@dataclass(frozen=True)
class DeviceReport:
    """What this machine offers for training. gpu_* fields are None without a CUDA GPU."""

    python: str
    system: str
    cpu: str
    cpu_cores: int
    in_colab: bool
    torch: str | None
    tensorflow: str | None
    gpu_name: str | None
    gpu_capability: tuple[int, int] | None
    gpu_memory_gib: float | None
    apple_mps: bool

    @property
    def has_gpu(self) -> bool:
        return self.gpu_name is not None

    def advice(self) -> str:
        """What this hardware means for the course, in a sentence or two."""
        if self.gpu_capability is not None:
            major, minor = self.gpu_capability
            bf16 = "fast bf16 and TF32" if bf16_is_fast(self.gpu_capability) else "fast fp16 but no fast bf16 or TF32"
            return (f"CUDA GPU found (compute capability {major}.{minor}, {bf16}): every notebook runs, "
                    "and notebook 09 measures real mixed-precision speed-ups.")
        if self.apple_mps:
            return ("Apple GPU (MPS) found: every notebook runs; notebook 09's CUDA speed-ups are "
                    "not available here - open it in Colab with a GPU runtime to see them.")
        return ("No GPU: every notebook still runs on the CPU. Only notebook 09's mixed-precision "
                "speed-ups need one - open it in Colab (Runtime > Change runtime type > T4 GPU).")

    def __str__(self) -> str:
        gpu = "none"
        if self.has_gpu:
            major, minor = self.gpu_capability or (0, 0)
            gpu = f"{self.gpu_name} (compute capability {major}.{minor}, {self.gpu_memory_gib:.1f} GiB)"
        elif self.apple_mps:
            gpu = "Apple GPU (MPS)"
        rows = [
            ("Python", self.python),
            ("System", self.system + (" (Google Colab)" if self.in_colab else "")),
            ("CPU", f"{self.cpu}, {self.cpu_cores} logical cores"),
            ("GPU", gpu),
            ("bf16 / TF32 fast", "yes" if bf16_is_fast(self.gpu_capability) else "no"),
            ("torch", self.torch or "not installed"),
            ("TensorFlow", self.tensorflow or "not installed"),
        ]
        return "\n".join(f"{k:<17}{v}" for k, v in rows)


def device_report() -> DeviceReport:
    """Describe this machine: Python, OS, CPU, GPU (via torch, if installed), framework versions."""
    gpu_name = capability = memory = None
    mps = False
    if is_installed("torch"):
        import torch

        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            gpu_name = props.name
            capability = (props.major, props.minor)
            memory = props.total_memory / 2**30
        mps = hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    return DeviceReport(
        python=platform.python_version(),
        system=f"{platform.system()} {platform.machine()}",
        cpu=cpu_model(),
        cpu_cores=os.cpu_count() or 1,
        in_colab=in_colab(),
        torch=package_version("torch"),
        tensorflow=package_version("tensorflow"),
        gpu_name=gpu_name,
        gpu_capability=capability,
        gpu_memory_gib=memory,
        apple_mps=mps,
    )


@contextlib.contextmanager
def filtered_stderr(patterns: tuple[str, ...]) -> Iterator[None]:
    """Capture what C code writes to file descriptor 2, drop lines matching `patterns`,
    and write the rest to sys.stderr when the block ends.

    Python-level `sys.stderr` writes inside the block are captured as well.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", errors="replace")
    noise = re.compile("|".join(patterns))
    kept = [line for line in text.splitlines() if line.strip() and not noise.search(line)]
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")


def import_tensorflow() -> ModuleType:
    """Import TensorFlow without its no-GPU noise on stderr, and return the module.

    Sets TF_CPP_MIN_LOG_LEVEL=1 and TF_ENABLE_ONEDNN_OPTS=0 (unless already set), then
    imports TensorFlow and lists its devices (the step that probes CUDA) while dropping
    the lines in TENSORFLOW_NO_GPU_NOISE. Everything else TensorFlow says is kept.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    for key, value in TENSORFLOW_QUIET_ENV.items():
        os.environ.setdefault(key, value)
    with filtered_stderr(TENSORFLOW_NO_GPU_NOISE):
        tf = importlib.import_module("tensorflow")
        tf.config.list_physical_devices()
    let_tensorflow_share_gpus(tf)
    return tf


def let_tensorflow_share_gpus(tf) -> int:
    """Make TensorFlow allocate GPU memory as it needs it, instead of all of it at its first GPU op.

    Without this, TensorFlow takes nearly all GPU memory and PyTorch, in the same notebook, runs out
    (a Colab GPU runtime runs both). It must happen before TensorFlow first uses a GPU, which is why
    setup_notebook does it right after importing TensorFlow. Returns the number of GPUs configured.
    """
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    return len(gpus)
