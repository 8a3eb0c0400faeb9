"""tools/cross_cpu.py: the capped environment really changes the numerics it claims to change.

If a knob were misspelt or ignored, the cross-CPU pass would re-run the notebooks exactly as the
first pass did and prove nothing; these tests catch that.
"""
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "cross_cpu.py"


def _probe(env_args: list[str]) -> dict[str, str]:
    out = subprocess.run(["env", *env_args, sys.executable, str(TOOL), "probe"],
                         capture_output=True, text=True, check=True, timeout=300)
    assert out.stderr.strip() == "", f"the probe wrote to stderr: {out.stderr}"
    return dict(line.split("\t", 1) for line in out.stdout.splitlines())


@pytest.fixture(scope="module")
def capped_env() -> list[str]:
    out = subprocess.run([sys.executable, str(TOOL), "env"], capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")
    return [line for line in lines if line]


def test_the_capped_environment_names_each_library_knob(capped_env):
    keys = {line.split("=", 1)[0] for line in capped_env}
    assert {"ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS"} <= keys
    assert not keys & {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}, "the tests must leave OpenBLAS's settings alone"


@pytest.fixture(scope="module")
def probes(capped_env) -> tuple[dict[str, str], dict[str, str]]:
    """The probe's digests without and with the caps."""
    return _probe([]), _probe(capped_env)


def test_the_capped_pass_runs_torch_on_its_scalar_kernels_and_changes_training_bits(probes):
    plain, capped = probes
    assert capped["torch CPU capability"] == "DEFAULT"
    if plain["torch CPU capability"] == "DEFAULT":
        pytest.skip("this CPU has no AVX2: torch runs its scalar kernels in both passes")
    # Five Adam steps are enough for the last bits to differ between vector and scalar kernels.
    assert capped["torch: 5 Adam steps of a CNN"] != plain["torch: 5 Adam steps of a CNN"]


def test_the_capped_pass_changes_numpys_avx512_loops_where_the_cpu_has_them(capped_env, probes):
    if not any(line.startswith("NPY_DISABLE_CPU_FEATURES=") for line in capped_env):
        pytest.skip("this CPU has no AVX-512 target of NumPy's to disable")
    plain, capped = probes
    assert capped["numpy exp, log (float64)"] != plain["numpy exp, log (float64)"]
