"""The compute floor follows the regime: where the reference's products run in TF32, so may a candidate's."""

import torch
from torch import nn

from kevolve.eval_harness.roofline import speed_of_light
from kevolve.hardware_specs import DType, load_spec


def _conv_problem():
    torch.manual_seed(0)
    return nn.Conv2d(64, 64, 3, padding=1), [torch.randn(8, 64, 32, 32)]


def test_a_tf32_regime_floors_float32_products_at_the_tf32_tensor_peak():
    spec = load_spec("h100_sxm")
    model, inputs = _conv_problem()
    vector = speed_of_light(model, inputs, dtype=DType.FLOAT32, spec=spec)
    tensor = speed_of_light(model, inputs, dtype=DType.FLOAT32, spec=spec, tf32=True)
    assert vector.peak_unit == "float32 vector" and tensor.peak_unit == "tf32 tensor"
    assert tensor.peak_tflops == spec.peak_tflops(DType.TF32, True) > vector.peak_tflops
    assert tensor.flop_floor_ms < vector.flop_floor_ms
    assert tensor.flops == vector.flops and tensor.bytes == vector.bytes


def test_tf32_does_not_change_half_precision_floors():
    spec = load_spec("h100_sxm")
    model, inputs = _conv_problem()
    model, inputs = model.to(torch.bfloat16), [inputs[0].to(torch.bfloat16)]
    plain = speed_of_light(model, inputs, dtype=DType.BFLOAT16, spec=spec)
    flagged = speed_of_light(model, inputs, dtype=DType.BFLOAT16, spec=spec, tf32=True)
    assert plain.peak_unit == flagged.peak_unit == "bfloat16 tensor"
    assert plain.floor_ms == flagged.floor_ms
