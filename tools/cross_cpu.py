"""The cross-CPU pass: run the notebooks again as a CPU with a smaller instruction set would.

A stored output must print the same on a learner's laptop as on the machine that wrote it.
Floating-point training amplifies the last bits in which vector instruction sets differ (an
AVX-512 reduction adds in another order than an AVX2 one), so this tool re-runs the tests with
every library that dispatches on the CPU at run time capped below what this CPU has:

    python tools/cross_cpu.py env                 the capped environment, one KEY=VALUE a line
    python tools/cross_cpu.py probe               digests of a short training loop (NumPy, torch)
    python tools/cross_cpu.py measure             which knob changes which digest on this machine
    python tools/cross_cpu.py pytest [ARGS ...]   pytest ARGS under the capped environment

The knobs, each from its library's documentation:

- ATEN_CPU_CAPABILITY=default: torch's ATen kernels use their scalar (non-AVX) build instead of
  the AVX2/AVX-512 one (torch.backends.cpu.get_cpu_capability() then reports "DEFAULT").
- ONEDNN_MAX_CPU_ISA=AVX2: oneDNN (torch's convolutions on the CPU) uses no AVX-512 code.
- MKL_ENABLE_INSTRUCTIONS=AVX2: MKL (torch's matrix products) uses no AVX-512 code. On an AMD
  CPU MKL takes its AVX2 path anyway, so this knob changes nothing there; on Intel it does.
- NPY_DISABLE_CPU_FEATURES: NumPy's own dispatched loops (float64 exp and log, for example)
  skip the AVX-512 targets; the list is read from the installed NumPy, since NumPy 2.4 renamed
  them (X86_V4, AVX512_ICL, ...), and holds only targets this CPU has, since NumPy warns about
  the others.

Left alone on purpose: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (NumPy's matrix products). Some
machines set them to avoid wrong results from older OpenBLAS builds, so the tests never change
them. TensorFlow's Eigen kernels are compiled for one instruction set and have no run-time knob;
the course runs TensorFlow with oneDNN off (TF_ENABLE_ONEDNN_OPTS=0).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

FIXED_KNOBS = {
    "ATEN_CPU_CAPABILITY": "default",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
}


def numpy_avx512_targets() -> list[str]:
    """NumPy's dispatch targets above AVX2 that this CPU supports (empty on an AVX2-only CPU)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return [name for name in __cpu_dispatch__
            if name.startswith(("AVX512", "X86_V4")) and __cpu_features__.get(name, False)]


def capped_env() -> dict[str, str]:
    """The environment variables of the capped pass (to add to os.environ)."""
    knobs = dict(FIXED_KNOBS)
    targets = numpy_avx512_targets()
    if targets:
        knobs["NPY_DISABLE_CPU_FEATURES"] = " ".join(targets)
    return knobs


def _digest(array) -> str:
    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:12]


def probe() -> dict[str, str]:
    """Digests of results that depend on the instruction set: equal digests, equal bits.

    NumPy float64 exp and log (NumPy's dispatched loops), and five Adam steps of a small
    convolutional network in torch on one thread (ATen's elementwise kernels, oneDNN's
    convolution, MKL's matrix product).
    """
    import numpy as np
    import torch

    torch.set_num_threads(1)
    x = np.random.default_rng(0).standard_normal(100_003)
    digests = {"numpy exp, log (float64)": _digest(np.concatenate([np.exp(x), np.log(np.abs(x))]))}
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 26 * 26, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images, labels = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    for _ in range(5):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    digests["torch: 5 Adam steps of a CNN"] = _digest(weights.numpy())
    digests["torch CPU capability"] = torch.backends.cpu.get_cpu_capability()
    return digests


def _probe_in(extra_env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run([sys.executable, __file__, "probe"], env={**os.environ, **extra_env},
                         capture_output=True, text=True, check=True)
    if out.stderr.strip():
        raise RuntimeError(f"the probe wrote to stderr under {extra_env}:\n{out.stderr}")
    return dict(line.split("\t", 1) for line in out.stdout.splitlines())


def measure() -> list[tuple[str, list[str]]]:
    """For the whole capped environment and each knob alone: which probe digests change."""
    base = _probe_in({})
    knobs = capped_env()
    rows = [("all knobs", knobs)] + [(f"{k}={v}", {k: v}) for k, v in knobs.items()]
    return [(label, [name for name, value in _probe_in(env).items() if value != base[name]])
            for label, env in rows]


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("env", [])
    if command == "env":
        for key, value in capped_env().items():
            print(f"{key}={value}")
    elif command == "probe":
        for name, value in probe().items():
            print(f"{name}\t{value}")
    elif command == "measure":
        for label, changed in measure():
            print(f"{label:60s} changes: {', '.join(changed) or 'nothing'}")
    elif command == "pytest":
        env = {**os.environ, **capped_env()}
        print("cross-CPU pass under " + " ".join(f"{k}={v!r}" for k, v in capped_env().items()), flush=True)
        return subprocess.run([sys.executable, "-m", "pytest", *args], env=env).returncode
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
