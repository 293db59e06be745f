"""PyTorch's semantics where a formula could quietly differ, in the interpreter: integer powers of negative bases,
booleans added, `a & b` read again (operator.and_ ends with "_" and changes nothing), buffers viewed in the
forward, a model attribute inside a size tuple (`unflatten(1, (self.groups, -1))`) read at run time, and
cosine similarity, lerp, addcmul, addcdiv and chunk as PyTorch computes them."""

from __future__ import annotations

import pytest
import torch

from kevolve.eval_harness.precision import DType, Precision, resolve
from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.tracing import TraceFailed, trace_reference
from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

POWERS = reference_module("""
    class Model(nn.Module):
        def __init__(self, exponent):
            super().__init__()
            self.exponent = exponent

        def forward(self, x):
            return x.pow(5), x ** -2, x ** 0, torch.pow(x, 11), x ** self.exponent, x.abs() ** 1.5
    """, "[torch.randn(6, 10)]", "[3]")
BOOLEANS_AND_BITS = reference_module("""
    class Model(nn.Module):
        def forward(self, ids, a, b):
            parity = ids & 1
            either = a | b
            return parity * 10 + ids, a + b, torch.where(either, 1.0, 0.0) + torch.where(a, 2.0, 0.0)
    """, "[torch.randint(0, 100, (6, 10)), torch.rand(6, 10) > 0.5, torch.rand(6, 10) > 0.5]")
BUFFER_AND_SIZE_ATTRIBUTE = reference_module("""
    class Model(nn.Module):
        def __init__(self, channels, groups):
            super().__init__()
            self.groups = groups
            self.register_buffer("scale", torch.linspace(0.5, 2.0, channels))

        def forward(self, x):
            scaled = x * self.scale.view(1, -1, 1)
            return scaled.unflatten(1, (self.groups, -1)).sum(dim=2)
    """, "[torch.randn(2, 12, 5)]", "[12, 4]")

MIXING = reference_module("""
    class Model(nn.Module):
        def __init__(self, protos, width):
            super().__init__()
            self.protos = nn.Parameter(torch.randn(protos, width))
            self.fc = nn.Linear(width, 2 * width)

        def forward(self, q, w):
            similarity = F.cosine_similarity(q.unsqueeze(1), self.protos.unsqueeze(0), dim=-1)
            value, gate = self.fc(q).chunk(2, dim=-1)
            mixed = torch.lerp(q, value, w)
            return similarity, torch.addcmul(q, value, gate, value=0.5), torch.addcdiv(mixed, value, gate.abs() + 1.0)
    """, "[torch.randn(6, 10), torch.rand(6, 10) * 1.5 - 0.25]", "[7, 10]")


@pytest.mark.parametrize(("source", "init", "inputs", "other_init"), [
    (POWERS, [3], lambda: [torch.randn(6, 10)], [4]),
    (BOOLEANS_AND_BITS, [], lambda: [torch.randint(0, 100, (6, 10)), torch.rand(6, 10) > 0.5,
                                     torch.rand(6, 10) > 0.5], []),
    (BUFFER_AND_SIZE_ATTRIBUTE, [12, 4], lambda: [torch.randn(3, 12, 5)], [12, 3]),
    (MIXING, [7, 10], lambda: [torch.randn(5, 10), torch.rand(5, 10) * 1.5 - 0.25], [3, 10]),
], ids=["powers", "booleans_and_bits", "buffer_and_size_attribute", "mixing"])
def test_generated_values_are_pytorchs(source: str, init: list, inputs, other_init: list, tmp_path) -> None:
    name = f"semantics_{abs(hash(source))}"
    reference = load(source, tmp_path, f"ref_{name}")
    candidate = load(candidate_source(source, fused_program(source), looping=False), tmp_path, f"gen_{name}")
    for configuration in (init, other_init):  # another exponent, another group count: read at run time
        torch.manual_seed(len(configuration))
        assert_same(reference, candidate, configuration, inputs(), tol=1e-5)


def test_a_tensor_made_while_tracing_is_declined_by_name() -> None:
    made = reference_module("""
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.table = torch.arange(10.0)  # a plain attribute: neither a parameter nor a buffer

            def forward(self, x):
                return x * self.table
        """, "[torch.randn(4, 10)]")
    with pytest.raises(TraceFailed, match="makes a tensor while it is traced"):
        lower(trace_reference(made))


RMS_NORM_IN_FP32 = reference_module("""
    class Model(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.weight = nn.Parameter(torch.rand(width) + 0.5)

        def forward(self, x):
            dtype = x.dtype
            x = x.to(torch.float32)
            x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
            return self.weight * x.to(dtype)
    """, "[torch.randn(6, 64)]", "[64]")


def test_a_conversion_down_to_the_regimes_half_is_rounded_where_the_reference_rounds(tmp_path) -> None:
    # In bf16 the normalised values are rounded to bf16 before the weight multiplies them, as PyTorch does.
    fused = fused_program(RMS_NORM_IN_FP32, dtype=DType.BFLOAT16)
    assert "round_to_bfloat16" in [step.fn for group in fused.groups for step in group.members]
    source = candidate_source(RMS_NORM_IN_FP32, fused, looping=False, mode=resolve(Precision.BF16))
    reference, candidate = load(RMS_NORM_IN_FP32, tmp_path, "ref_rms_bf16"), load(source, tmp_path, "gen_rms_bf16")
    assert_same(reference, candidate, [64], [torch.randn(9, 64)], tol=1e-2, dtype=torch.bfloat16)


def test_arithmetic_on_float64_values_is_declined_and_a_float64_result_is_not() -> None:
    program = lower(trace_reference(reference_module("""
        class Model(nn.Module):
            def forward(self, x):
                return (x.double() * 1e8 + 1.0 - x.double() * 1e8).float(), x.sum(dim=1, dtype=torch.float64)
        """, "[torch.randn(4, 10)]")))
    assert program.unsupported == ["arithmetic on float64 values (kernels compute in float32)"]
    stored = lower(trace_reference(reference_module("""
        class Model(nn.Module):
            def forward(self, x):
                return x.sum(dim=1, dtype=torch.float64)
        """, "[torch.randn(4, 10)]")))
    assert not stored.unsupported


def test_nan_is_kept_by_clamp_relu_and_maximum_and_an_all_minus_inf_row_has_logsumexp_minus_inf(tmp_path) -> None:
    source = reference_module("""
        class Model(nn.Module):
            def forward(self, x, y):
                masked = torch.where(y > 0.5, x, float("-inf"))
                return torch.relu(x), x.clamp(-1.0, 1.0), torch.maximum(x, y), torch.logsumexp(masked, dim=1)
        """, "[torch.randn(6, 10), torch.rand(6, 10)]")
    reference = load(source, tmp_path, "ref_nan")
    candidate = load(candidate_source(source, fused_program(source), looping=False), tmp_path, "gen_nan")
    x, y = torch.randn(6, 10), torch.rand(6, 10)
    x[torch.rand(6, 10) < 0.2] = float("nan")
    y[0] = 0.0  # row 0 is all -inf
    for want, got in zip(reference.Model()(x, y), candidate.ModelNew()(x, y), strict=True):
        torch.testing.assert_close(got, want, equal_nan=True)


def test_round_is_half_to_even_and_finiteness_tests_are_pytorchs(tmp_path) -> None:
    source = reference_module("""
        class Model(nn.Module):
            def forward(self, x):
                return torch.round(x * 2.0), torch.round(x, decimals=1), torch.isfinite(x), x.isnan() | x.isinf()
        """, "[torch.randn(6, 10)]")
    reference = load(source, tmp_path, "ref_round")
    candidate = load(candidate_source(source, fused_program(source), looping=False), tmp_path, "gen_round")
    x = torch.randint(-40, 40, (6, 10)) / 4.0  # quarters: x * 2 holds every kind of tie
    x[0, :3] = torch.tensor([float("nan"), float("inf"), float("-inf")])
    x[1, :2] = torch.tensor([2.0**24 + 2, -(2.0**23) - 1])
    for want, got in zip(reference.Model()(x), candidate.ModelNew()(x), strict=True):
        torch.testing.assert_close(got, want, equal_nan=True, atol=0, rtol=0)


@pytest.mark.parametrize("looping", [False, True])
def test_nan_wins_the_maxima_and_minima_of_reductions_pools_and_softmax(looping: bool, tmp_path) -> None:
    """Triton's tl.max and tl.maximum drop a NaN (max.f32 returns the other operand); PyTorch's amax, max pooling
    and softmax return NaN, and its argmax and argmin the first NaN's index. Random inputs never hold one, so the
    harness would not see the difference."""
    source = reference_module("""
        class Model(nn.Module):
            def forward(self, x):
                pooled = F.max_pool2d(x, 2)
                return (x.amax(dim=-1), x.amin(dim=-1), x.max(dim=2).values, pooled, torch.softmax(x, dim=-1),
                        F.adaptive_max_pool2d(x, 1), x.argmax(dim=-1), x.argmin(dim=2))
        """, "[torch.randn(2, 3, 6, 40)]")
    reference = load(source, tmp_path, "ref_nan_max")
    candidate = load(candidate_source(source, fused_program(source), looping=looping), tmp_path, "gen_nan_max")
    x = torch.randn(2, 3, 6, 40)
    x[0, 1, 2, 7] = x[1, 2, 5, 39] = x[1, 0, 0, 0] = float("nan")
    for want, got in zip(reference.Model()(x), candidate.ModelNew()(x), strict=True):
        torch.testing.assert_close(got, want, equal_nan=True)
