"""course_utils.amp: number formats, the loss scaler against torch's GradScaler, FLOPs, the benchmark."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from course_utils import amp


@pytest.mark.parametrize("name, dtype", [("fp32", torch.float32), ("fp16", torch.float16),
                                         ("bf16", torch.bfloat16)])
def test_formats_agree_with_torch_finfo(name, dtype):
    fmt, info = amp.float_format(name), torch.finfo(dtype)
    assert fmt.bits == info.bits
    assert fmt.eps == info.eps
    assert fmt.max == info.max
    assert fmt.smallest_normal == info.tiny
    assert fmt.smallest_subnormal == info.smallest_normal * info.eps


def test_formats_agree_with_numpy_finfo():
    for name, dtype in [("fp32", np.float32), ("fp16", np.float16)]:
        fmt, info = amp.float_format(name), np.finfo(dtype)
        assert (fmt.eps, fmt.max, fmt.smallest_normal, fmt.smallest_subnormal) == (
            float(info.eps), float(info.max), float(info.smallest_normal), float(info.smallest_subnormal))


def test_tf32_has_fp32_range_and_fp16_precision():
    tf32 = amp.float_format("tf32")
    assert tf32.bits == 19
    assert tf32.max == pytest.approx(amp.float_format("fp32").max, rel=1e-3)
    assert tf32.eps == amp.float_format("fp16").eps


def test_fp16_largest_value_is_65504_and_overflows_above():
    assert amp.float_format("fp16").max == 65504
    with np.errstate(over="ignore"):
        assert np.isinf(np.float32(65520).astype(np.float16))


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="fp32"):
        amp.float_format("fp8")


def test_flush_fraction_counts_values_lost_in_fp16_and_scaling_rescues_them():
    values = np.array([1e-3, 1e-6, 1e-9, 1e-10])  # the last two are below fp16's 6e-8
    assert amp.flush_fraction(values) == 0.5
    assert amp.flush_fraction(values, scale=2.0 ** 16) == 0.0


@given(st.floats(min_value=-30, max_value=-1))
@settings(max_examples=50, deadline=None)
def test_flush_fraction_never_grows_with_a_larger_scale(log10_magnitude):
    values = np.full(3, 10.0 ** log10_magnitude) * np.array([1.0, 0.5, 0.25])
    assert amp.flush_fraction(values, scale=1024.0) <= amp.flush_fraction(values, scale=1.0)


def test_flush_fraction_refuses_bad_input():
    with pytest.raises(ValueError, match="scale"):
        amp.flush_fraction(np.ones(3), scale=0.0)
    with pytest.raises(ValueError, match="nonzero"):
        amp.flush_fraction(np.zeros(3))


def _torch_scales(grad_sequence, **kwargs):
    """Scale after each step of torch.amp.GradScaler on the CPU, and which steps it applied."""
    param = torch.nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.SGD([param], lr=1.0)
    scaler = torch.amp.GradScaler("cpu", **kwargs)
    scaler.scale(torch.ones(()))  # the scaler creates its state on first use
    scales, applied = [], []
    for grad in grad_sequence:  # already-scaled gradients, as backward() of a scaled loss gives
        before = param.detach().clone()
        param.grad = torch.tensor(grad, dtype=torch.float32)
        scaler.step(optimizer)
        scaler.update()
        scales.append(scaler.get_scale())
        applied.append(not torch.equal(before, param.detach()))
    return scales, applied


def test_dynamic_scaler_matches_torch_grad_scaler():
    kwargs = dict(init_scale=1024.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
    grads = [[1.0, 2.0, 3.0]] * 4 + [[1.0, math.inf, 0.0]] + [[1.0, 1.0, 1.0]] * 2 \
        + [[math.nan, 0.0, 0.0]] * 2 + [[0.5, 0.5, 0.5]] * 5
    torch_scales, torch_applied = _torch_scales(grads, **kwargs)
    ours = amp.DynamicLossScaler(**kwargs)
    scales, applied = [], []
    for grad in grads:
        result = ours.step([np.array(grad, dtype=np.float32)])
        scales.append(ours.scale_value)
        applied.append(result is not None)
    assert scales == torch_scales
    assert applied == torch_applied
    assert ours.skipped_steps == 3


def test_scaler_unscales_gradients_and_keeps_its_state():
    scaler = amp.DynamicLossScaler(init_scale=8.0)
    assert scaler.scale(3.0) == 24.0
    (grad,) = scaler.step([np.array([16.0, 8.0])])
    np.testing.assert_array_equal(grad, [2.0, 1.0])
    restored = amp.DynamicLossScaler()
    restored.load_state_dict(scaler.state_dict())
    assert restored.state_dict() == {"scale": 8.0, "growth_tracker": 1}


def test_static_scaler_never_grows():
    scaler = amp.DynamicLossScaler(init_scale=4.0, growth_interval=math.inf)
    for _ in range(100):
        scaler.step([np.ones(2)])
    assert scaler.scale_value == 4.0


@pytest.mark.parametrize("kwargs, word", [({"init_scale": 0.0}, "init_scale"),
                                          ({"growth_factor": 1.0}, "growth_factor"),
                                          ({"backoff_factor": 1.5}, "backoff_factor"),
                                          ({"growth_interval": 0}, "growth_interval")])
def test_scaler_refuses_bad_settings(kwargs, word):
    with pytest.raises(ValueError, match=word):
        amp.DynamicLossScaler(**kwargs)


@pytest.mark.parametrize("width, depth, batch", [(32, 1, 4), (16, 3, 5)])
def test_training_flops_of_an_mlp_match_the_formula(width, depth, batch):
    model, shape = amp.build_model("MLP 4x4096", width=width, depth=depth)
    layers = [784] + [width] * depth + [10]
    macs = sum(a * b for a, b in zip(layers, layers[1:]))
    # forward 2 FLOPs per multiply-add; backward twice that, except the input's own gradient
    expected = 6 * batch * macs - 2 * batch * layers[0] * layers[1]
    assert amp.training_flops(model, shape, batch) == expected


def test_lenet_shapes_add_up_and_flops_scale_with_the_batch():
    model, shape = amp.build_model("LeNet-5")
    assert model(torch.zeros(2, *shape)).shape == (2, 10)
    assert amp.training_flops(model, shape, 4) == 4 * amp.training_flops(model, shape, 1)


def test_cifar_cnn_maps_images_to_ten_logits():
    model, shape = amp.build_model("CIFAR CNN")
    assert model(torch.zeros(2, *shape)).shape == (2, 10)


def test_benchmark_runs_on_the_cpu_and_reports_consistent_numbers():
    result = amp.benchmark("MLP 4x4096", "bf16", batch=16, steps=2, repeat=1, width=16, depth=1)
    assert result.step_seconds > 0 and result.peak_mib is None
    assert result.samples_per_second == pytest.approx(16 / result.step_seconds)
    assert result.tflops == pytest.approx(result.flops_per_step / result.step_seconds / 1e12)


def test_benchmark_refuses_bad_input():
    with pytest.raises(ValueError, match="precision"):
        amp.benchmark("LeNet-5", "fp8", batch=2)
    with pytest.raises(ValueError, match="tf32"):
        amp.benchmark("LeNet-5", "tf32", batch=2, device="cpu")
    with pytest.raises(ValueError, match="name"):
        amp.build_model("ResNet")


def test_csv_round_trip(tmp_path):
    rows = [{"model": "LeNet-5", "precision": "bf16", "batch": 512, "step_seconds": 0.01,
             "samples_per_second": 51200.0, "speedup": 0.8, "tflops": 1.5, "peak_mib": None,
             "flops_per_step": 123, "device": "X", "torch": "2.13.0", "date": "2026-11-24"}]
    path = tmp_path / "bench.csv"
    amp.write_csv(str(path), rows)
    assert amp.read_csv(str(path)) == rows


def test_run_grid_on_the_cpu_writes_fp32_and_bf16_rows(tmp_path):
    rows = amp.run_grid("cpu", grid=(("LeNet-5", 4),), steps=1, progress=lambda line: None)
    assert [row["precision"] for row in rows] == ["fp32", "bf16"]
    assert rows[0]["speedup"] == 1.0
    assert rows[1]["speedup"] == pytest.approx(rows[0]["step_seconds"] / rows[1]["step_seconds"])
