"""course_utils.env: Colab detection, device choice, bf16/TF32 support, the device report, quiet TensorFlow."""
import os
import subprocess
import sys
import types

import pytest
import torch

from course_utils import env


def fake_cuda(monkeypatch, capability, name="Tesla T4", memory=15 * 2**30):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # what a T4 answers
    props = types.SimpleNamespace(name=name, major=capability[0], minor=capability[1], total_memory=memory)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: props)


def test_in_colab_follows_the_colab_module_and_variable(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert not env.in_colab()
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert env.in_colab()


@pytest.mark.parametrize("capability, fast", [(None, False), ((7, 0), False), ((7, 5), False),
                                              ((8, 0), True), ((8, 6), True), ((9, 0), True)])
def test_bf16_is_fast_only_from_ampere_on(capability, fast):
    assert env.bf16_is_fast(capability) is fast
    assert env.tf32_is_available(capability) is fast


def test_supports_bf16_is_false_on_a_t4_although_torch_says_true(monkeypatch):
    fake_cuda(monkeypatch, (7, 5))
    assert torch.cuda.is_bf16_supported()
    assert env.supports_bf16() is False and env.supports_tf32() is False


def test_supports_bf16_on_an_a100(monkeypatch):
    fake_cuda(monkeypatch, (8, 0), name="NVIDIA A100")
    assert env.supports_bf16() is True and env.supports_tf32() is True


def test_supports_bf16_on_this_cpu_machine():
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU; the CPU answer is tested on CPU-only machines")
    assert env.supports_bf16() is False


def test_pick_torch_device():
    if not torch.cuda.is_available():
        assert env.pick_torch_device().type in ("cpu", "mps")
        with pytest.raises(RuntimeError, match="Change runtime type"):
            env.pick_torch_device("cuda")
    assert env.pick_torch_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="'cpu', 'cuda' or 'mps', got 'tpu'"):
        env.pick_torch_device("tpu")


def test_pick_torch_device_prefers_cuda(monkeypatch):
    fake_cuda(monkeypatch, (7, 5))
    assert env.pick_torch_device().type == "cuda"


def test_device_report_on_this_machine():
    report = env.device_report()
    assert report.cpu_cores == os.cpu_count()
    assert report.torch == env.package_version("torch") and report.torch.startswith("2.")
    assert report.tensorflow == env.package_version("tensorflow")
    text = str(report)
    for label in ("Python", "CPU", "GPU", "torch", "TensorFlow"):
        assert label in text
    if not report.has_gpu:
        assert "GPU              none" in text


def test_device_report_with_a_t4_and_its_advice(monkeypatch):
    fake_cuda(monkeypatch, (7, 5))
    report = env.device_report()
    assert report.has_gpu and report.gpu_name == "Tesla T4" and report.gpu_capability == (7, 5)
    assert report.gpu_memory_gib == pytest.approx(15.0)
    assert "Tesla T4 (compute capability 7.5, 15.0 GiB)" in str(report)
    assert "no fast bf16" in report.advice()


def test_advice_without_a_gpu_points_to_colab():
    report = env.DeviceReport("3.11", "Linux", "cpu", 2, False, "2.13", None, None, None, None, False)
    assert "Colab" in report.advice() and "09" in report.advice()
    assert "TensorFlow       not installed" in str(report)


def test_package_version_of_a_missing_package():
    assert env.package_version("surely-not-a-real-package-name") is None
    assert not env.is_installed("surely_not_a_real_module")


def test_filtered_stderr_drops_only_the_listed_noise(capfd):
    with env.filtered_stderr(env.TENSORFLOW_NO_GPU_NOISE):
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"E0000 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n")
        os.write(2, b"a real warning that must be kept\n")
        print("python-level stderr is kept too", file=sys.stderr)
    err = capfd.readouterr().err
    assert "a real warning that must be kept" in err and "python-level stderr is kept too" in err
    assert "cuInit" not in err and "absl" not in err


def test_import_tensorflow_leaves_stderr_silent_in_a_fresh_process():
    code = "from course_utils.env import import_tensorflow; tf = import_tensorflow(); print(tf.reduce_sum([1.0, 2.0]).numpy())"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3.0"
    assert result.stderr == ""


def test_let_tensorflow_share_gpus_turns_on_memory_growth_for_each_gpu():
    calls = []
    fake_config = types.SimpleNamespace(
        list_physical_devices=lambda kind=None: ["gpu0", "gpu1"] if kind == "GPU" else ["cpu", "gpu0", "gpu1"],
        experimental=types.SimpleNamespace(set_memory_growth=lambda device, on: calls.append((device, on))))
    fake_tf = types.SimpleNamespace(config=fake_config)
    assert env.let_tensorflow_share_gpus(fake_tf) == 2
    assert calls == [("gpu0", True), ("gpu1", True)]
    import tensorflow as tf

    assert env.let_tensorflow_share_gpus(tf) == len(tf.config.list_physical_devices("GPU"))
