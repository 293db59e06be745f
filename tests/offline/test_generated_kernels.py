"""Every generator's output against PyTorch, on shapes it was not traced with.

Each reference is traced once; its generated module then runs on several shapes (non powers of two,
smaller than one block, longer than a loop's slice), with default configurations and with a
configuration that forces the looping form, through Triton's interpreter.
"""

from __future__ import annotations

import textwrap

import pytest
import torch

from kevolve.eval_harness.precision import DType, MathMode, Precision, resolve
from kevolve.tools.offline.configs import default_config, neighbours
from offline_helpers import assert_same, candidate_source, fused_program, load

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"


def _reference(forward: str, init: str = "pass", params: str = "") -> str:
    return HEADER + textwrap.dedent(f"""
    class Model(nn.Module):
        def __init__(self{params}):
            super().__init__()
            {init}

        def forward(self, *xs):
            {forward}


    def get_inputs():
        return [torch.randn(8, 24)]


    def get_init_inputs():
        return []
    """)


def _module(body: str, inputs: str, init_inputs: str = "[]") -> str:
    return HEADER + textwrap.dedent(body) + textwrap.dedent(f"""

    def get_inputs():
        return {inputs}


    def get_init_inputs():
        return {init_inputs}
    """)


CASES = {
    "pointwise_broadcast": (_module("""
        class Model(nn.Module):
            def __init__(self, slope):
                super().__init__()
                self.slope = slope
                self.scale = nn.Parameter(torch.randn(24))

            def forward(self, x, y, z):
                a = torch.sigmoid(x) * y + torch.tanh(z) - 0.5 * F.gelu(x, approximate="tanh")
                b = F.leaky_relu(a, self.slope) + torch.clamp(x, -0.3, 0.4) * self.scale
                c = torch.where(x > 0, F.hardswish(b), F.mish(b)) + F.softplus(y) - F.elu(z)
                return c * c + torch.abs(x).pow(3) + torch.rsqrt(torch.exp(x) + 1.0) + torch.log1p(torch.abs(z))
        """, "[torch.randn(8, 24), torch.randn(8, 1), torch.randn(24)]", "[0.05]"),
        lambda n, m: [torch.randn(n, 24), torch.randn(n, 1), torch.randn(24)], [0.05]),
    "row_reductions": (_module("""
        class Model(nn.Module):
            def forward(self, x):
                return (x.sum(-1), x.mean(dim=-1, keepdim=True), x.amax(-1), torch.amin(x, dim=1),
                        x.argmax(-1), torch.argmin(x, dim=-1), torch.logsumexp(x, dim=-1), x.var(-1),
                        x.std(-1, correction=0), torch.prod(1.0 + 0.05 * x, dim=-1))
        """, "[torch.randn(8, 24)]"), lambda n, m: [torch.randn(n, m)], []),
    "column_and_middle_reductions": (_module("""
        class Model(nn.Module):
            def forward(self, x, y):
                return (x.sum(dim=0), y.mean(dim=1), y.amax(dim=(0, 2)), torch.max(y, dim=1)[1], F.normalize(y, dim=1),
                        F.normalize(x, p=1.0, dim=0))
        """, "[torch.randn(8, 24), torch.randn(3, 8, 24)]"),
        lambda n, m: [torch.randn(n, m), torch.randn(3, n, m)], []),
    "softmax": (_module("""
        class Model(nn.Module):
            def forward(self, x, y):
                return torch.softmax(x * 2.0, dim=-1), F.log_softmax(y, dim=1)
        """, "[torch.randn(8, 24), torch.randn(2, 8, 24)]"),
        lambda n, m: [torch.randn(n, m), torch.randn(2, n, m)], []),
    "layer_norm_fused": (_module("""
        class Model(nn.Module):
            def __init__(self, width):
                super().__init__()
                self.norm = nn.LayerNorm(width)
                self.weight = nn.Parameter(torch.randn(width))

            def forward(self, x):
                h = torch.relu(self.norm(x * 2.0 + 1.0))
                rms = x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-6) * self.weight
                return h + 0.5, rms
        """, "[torch.randn(8, 24)]", "[24]"), lambda n, m: [torch.randn(n, 24)], [24]),
    "group_and_batch_norm": (_module("""
        class Model(nn.Module):
            def __init__(self, channels, groups):
                super().__init__()
                self.group = nn.GroupNorm(groups, channels)
                self.batch = nn.BatchNorm2d(channels)
                self.instance = nn.InstanceNorm2d(channels, affine=True)

            def forward(self, x):
                return F.silu(self.group(x)), self.batch(x) * 2.0, self.instance(x)
        """, "[torch.randn(2, 6, 5, 7)]", "[6, 3]"), lambda n, m: [torch.randn(2, 6, n % 5 + 1, m % 7 + 2)], [6, 3]),
    "linear_epilogue": (_module("""
        class Model(nn.Module):
            def __init__(self, features):
                super().__init__()
                self.linear = nn.Linear(features, features)
                self.gain = nn.Parameter(torch.randn(features))

            def forward(self, x):
                return x + self.gain * F.gelu(self.linear(x)) * 0.5
        """, "[torch.randn(8, 24)]", "[24]"), lambda n, m: [torch.randn(n, 24)], [24]),
    "max_values_epilogue": (_module("""
        class Model(nn.Module):
            def __init__(self, features, dim):
                super().__init__()
                self.linear = nn.Linear(features, features)
                self.dim = dim

            def forward(self, x):
                y = torch.max(self.linear(x), dim=self.dim, keepdim=True).values
                return F.gelu(y - y.mean(dim=0, keepdim=True)), x.T * 2.0
        """, "[torch.randn(8, 24)]", "[24, 1]"), lambda n, m: [torch.randn(n + 1, 24)], [24, 1]),
    "cross_entropy": (_module("""
        class Model(nn.Module):
            def forward(self, logits, targets):
                return (F.cross_entropy(logits, targets), F.cross_entropy(logits, targets, reduction="none"),
                        F.cross_entropy(logits, targets, reduction="sum", ignore_index=0))
        """, "[torch.randn(8, 24), torch.randint(0, 24, (8,))]"),
        lambda n, m: [torch.randn(n, m + 1), torch.randint(0, m + 1, (n,))], []),
    "pooling": (_module("""
        class Model(nn.Module):
            def __init__(self, pool):
                super().__init__()
                self.pool = nn.AvgPool2d(pool)
                self.dilated = nn.MaxPool1d(kernel_size=3, stride=1, dilation=2)
                self.scale = nn.Parameter(torch.randn(3, 1, 1))

            def forward(self, x, y):
                return (F.max_pool2d(x, kernel_size=3, stride=2, padding=1), self.pool(F.gelu(x)) * self.scale,
                        F.avg_pool1d(y, 4, 2, 1), F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), self.dilated(y),
                        F.avg_pool2d(x, 2, 1, 1))  # padding counted: divided by the literal 2 * 2 taps
        """, "[torch.randn(2, 3, 9, 11), torch.randn(2, 3, 17)]", "[2]"),
        lambda n, m: [torch.randn(2, 3, n + 4, m % 13 + 5), torch.randn(2, 3, m % 29 + 7)], [2]),
    "gemm_norms_chain": (_module("""
        class Model(nn.Module):
            def __init__(self, features, outputs, groups):
                super().__init__()
                self.gemm = nn.Linear(features, outputs)
                self.batch_norm = nn.BatchNorm1d(outputs)
                self.group_norm = nn.GroupNorm(groups, outputs)

            def forward(self, x):
                x = self.group_norm(F.gelu(self.batch_norm(self.gemm(x))))
                return torch.relu(torch.mean(x, dim=1, keepdim=True))
        """, "[torch.randn(6, 10)]", "[10, 8, 4]"), lambda n, m: [torch.randn(n + 1, 10)], [10, 8, 4]),
    "conv_softmax_pools": (_module("""
        class Model(nn.Module):
            def __init__(self, channels, pool):
                super().__init__()
                self.conv = nn.Conv3d(2, channels, 3)
                self.pool = nn.MaxPool3d(pool)

            def forward(self, x):
                return self.pool(self.pool(torch.softmax(self.conv(x), dim=1) - 0.5))
        """, "[torch.randn(1, 2, 10, 11, 12)]", "[3, 2]"),
        lambda n, m: [torch.randn(1, 2, n + 6, m % 5 + 6, 7)], [3, 2]),
    "scans": (_module("""
        class Model(nn.Module):
            def forward(self, x):
                return torch.cumsum(x, dim=1), torch.cumprod(1.0 + 0.01 * x, dim=-1), torch.logcumsumexp(x, dim=1)
        """, "[torch.randn(8, 24)]"), lambda n, m: [torch.randn(n, m)], []),
    "losses": (_module("""
        class Model(nn.Module):
            def forward(self, a, b):
                return (F.mse_loss(a, b), F.smooth_l1_loss(a, b, beta=0.5), F.l1_loss(a, b, reduction="sum"),
                        F.kl_div(F.log_softmax(a, dim=-1), F.softmax(b, dim=-1), reduction="batchmean"),
                        F.triplet_margin_loss(a, b, a * 0.5, margin=0.7),
                        F.triplet_margin_loss(a, b, b - a, reduction="none"))
        """, "[torch.randn(8, 24), torch.randn(8, 24)]"), lambda n, m: [torch.randn(n, m), torch.randn(n, m)], []),
}
# Cases whose GEMMs the half regimes also write in Triton (their bf16 / fp16 tensor-core form).
STRICT_CASES = {"linear_epilogue", "gemm_norms_chain"}
# (rows, cols): smaller than one block, odd, and longer than the looping form's 16-wide slice.
SHAPES = [(1, 3), (5, 37), (11, 93)]


@pytest.mark.parametrize("looping", [False, True], ids=["default", "looping"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_module_matches_pytorch(case: str, looping: bool, tmp_path) -> None:
    reference_source, make_inputs, init = CASES[case]
    fused = fused_program(reference_source)
    assert fused.groups, "the reference should give at least one fused kernel"
    reference = load(reference_source, tmp_path, f"ref_{case}")
    candidate = load(candidate_source(reference_source, fused, looping=looping), tmp_path, f"gen_{case}_{looping}")
    for seed, (rows, cols) in enumerate(SHAPES):
        torch.manual_seed(seed)
        assert_same(reference, candidate, init, make_inputs(rows, cols))


HALF_REGIMES = {"bf16": (DType.BFLOAT16, 5e-2), "fp16": (DType.FLOAT16, 1e-2)}  # ~ 12 units of roundoff


# Each half regime runs one form (bf16 the looping one, fp16 the on-chip one) on the largest shape: every
# generator in both dtypes and both forms, at a sixth of the cost of the full grid.
@pytest.mark.parametrize("regime", sorted(HALF_REGIMES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_half_regimes_load_halves_compute_in_fp32_and_store_the_references_dtype(case: str, regime: str,
                                                                                   tmp_path) -> None:
    reference_source, make_inputs, init = CASES[case]
    dtype, tol = HALF_REGIMES[regime]
    mode = resolve(Precision(regime))
    fused = fused_program(reference_source, strict=case in STRICT_CASES, dtype=dtype)
    reference = load(reference_source, tmp_path, f"ref_{case}_{regime}")
    source = candidate_source(reference_source, fused, looping=regime == "bf16", mode=mode)
    candidate = load(source, tmp_path, f"gen_{case}_{regime}")
    torch.manual_seed(0)
    assert_same(reference, candidate, init, make_inputs(*SHAPES[-1]), tol=tol, dtype=getattr(torch, dtype.value))


def test_a_softmax_is_one_kernel() -> None:
    fused = fused_program(CASES["softmax"][0])
    kernels = fused.groups
    assert len(kernels) == 2  # one per softmax: max, exp, sum and division share a kernel
    assert all(g.kind == "reduction" and len(g.outputs) == 1 for g in kernels)


def test_a_linear_keeps_cublas_and_fuses_its_epilogue() -> None:
    fused = fused_program(CASES["linear_epilogue"][0])
    assert fused.program.vendor_calls == ["torch.nn.functional.linear"]
    [epilogue] = fused.groups
    assert [m.fn for m in epilogue.members] == ["gelu", "mul", "mul", "add"]


STRICT_GEMM = _module("""
    class Model(nn.Module):
        def __init__(self, features, outputs):
            super().__init__()
            self.linear = nn.Linear(features, outputs)
            self.gamma = nn.Parameter(torch.randn(outputs))

        def forward(self, x, y):
            return F.hardtanh(self.linear(x), -0.5, 0.5) * self.gamma + 1.0, torch.matmul(x, y)
    """, "[torch.randn(20, 37), torch.randn(37, 19)]", "[37, 23]")


def test_under_strict_a_gemm_is_a_triton_kernel_with_its_epilogue(tmp_path) -> None:
    fused = fused_program(STRICT_GEMM, strict=True)
    assert not fused.program.vendor_calls
    assert [[m.fn for m in g.members] for g in fused.groups] == [["linear", "add", "hardtanh", "mul", "add"],
                                                                   ["matmul"]]
    reference = load(STRICT_GEMM, tmp_path, "ref_strict_gemm")
    candidate = load(candidate_source(STRICT_GEMM, fused, looping=False), tmp_path, "gen_strict_gemm")
    for rows, inner in ((3, 70), (65, 19)):  # smaller than a tile, and one row past a 64-row tile
        assert_same(reference, candidate, [37, 23], [torch.randn(rows, 37), torch.randn(37, inner)])


# `default` as PyTorch ships it: cuDNN may use TF32, matmuls may not.
PYTORCH_DEFAULT = MathMode(precision=Precision.DEFAULT, dtype=DType.FLOAT32, cudnn_tf32=True,
                           matmul_precision="highest")


@pytest.mark.parametrize(("regime", "dot"), [("exact", 'input_precision="ieee"'), ("default", 'input_precision="ieee"'),
                                             ("tf32", 'input_precision="tf32"'), ("bf16", "tl.dot(a, b)")])
def test_a_triton_gemm_uses_tf32_only_where_the_regime_lets_matmuls_use_it(regime: str, dot: str) -> None:
    mode = PYTORCH_DEFAULT if regime == "default" else resolve(Precision(regime))
    fused = fused_program(STRICT_GEMM, strict=True, dtype=mode.dtype)
    source = candidate_source(STRICT_GEMM, fused, looping=False, mode=mode)
    assert source.count(dot) == 2 and ("tf32" in source) == (regime == "tf32")


# One family each: strided broadcast loads, windowed reads, a reduction over middle dims, a carried scan.
WIDE_CASES = ["pointwise_broadcast", "pooling", "column_and_middle_reductions", "scans"]


@pytest.mark.parametrize("looping", [False, True], ids=["default", "looping"])
@pytest.mark.parametrize("case", WIDE_CASES)
def test_the_int64_index_form_computes_the_same(case: str, looping: bool, tmp_path) -> None:
    # Tensors past int32 offsets do not fit a CPU test: the launcher's choice is forced instead.
    reference_source, make_inputs, init = CASES[case]
    reference = load(reference_source, tmp_path, f"ref_wide_{case}")
    candidate = load(candidate_source(reference_source, fused_program(reference_source), looping=looping), tmp_path,
                     f"gen_wide_{case}_{looping}")
    candidate._needs_int64 = lambda shape, *tensors: True
    torch.manual_seed(0)
    assert_same(reference, candidate, init, make_inputs(*SHAPES[-1]))


def test_int64_indexing_only_where_an_index_or_offset_could_pass_int32(tmp_path) -> None:
    reference_source = CASES["softmax"][0]
    candidate = load(candidate_source(reference_source, fused_program(reference_source), looping=False), tmp_path,
                     "gen_width")
    wide = candidate._needs_int64
    assert not wide((64, 128, 256), torch.empty(64, 128, 256, device="meta"))
    assert wide((2**31,))  # the index itself
    assert wide((2,), torch.empty(2, 2**30, device="meta"))  # an operand's last element, not the index
    assert not wide((2**30,), torch.empty(1, device="meta").expand(2**30))  # broadcast: offsets stay at 0


def test_a_pool_steps_through_its_taps_and_its_search_keeps_it_so() -> None:
    pools = [group for group in fused_program(CASES["pooling"][0]).groups if group.window_members()]
    assert len(pools) == 6
    for group in pools:
        start = default_config(group)
        assert (start.chunk, start.single_max) == (1, 0)  # one tap per step, never the padded on-chip window
        steps = neighbours(group, start)
        assert all((step.chunk, step.single_max) == (1, 0) for step in steps)
        assert {step.rows for step in steps} == {256, 512, 1024}
