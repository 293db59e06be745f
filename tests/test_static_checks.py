"""The static anti-reward-hacking checks: each rule refuses its exploit, at the right line, and lets the near miss
through; the hand-written benchmark candidates pass clean.

Snippets are appended to PRELUDE, a module with one launched Triton kernel (so that `no_custom_kernel` stays
quiet unless a test wants it). A line ending in `# <-` (`// <-` in C++) is where the rule under test must report,
and nowhere else.
"""

from pathlib import Path

import pytest

from kevolve.eval_harness.settings import Policy
from kevolve.eval_harness.static_checks import PRESETS, RULES, SYNTAX_RULE, check_source
from static_check_helpers import E, W, compose, errors, marked_lines, of_rule

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK_CANDIDATES = sorted((ROOT / "benchmarks" / "candidates").glob("*.py"))
FIXTURES = ROOT / "tests" / "fixtures" / "candidates"


# --- the custom-kernel requirement -------------------------------------------------------------------------

def test_module_without_any_kernel_is_refused_at_its_model_class():
    source = compose("""
        import torch
        import torch.nn as nn
        class ModelNew(nn.Module):  # <-
            def forward(self, x):
                return x.clone()
    """, prelude=False)
    found = of_rule(check_source(source, policy=Policy.HYBRID), "no_custom_kernel")
    assert [(f.line, f.severity) for f in found] == [(min(marked_lines(source)), E)]


def test_kernel_defined_but_never_launched_is_both_a_decoy_and_no_kernel():
    source = compose("""
        import torch.nn as nn
        import triton
        import triton.language as tl
        @triton.jit
        def _decoy(x_ptr):  # <-
            pass
        class ModelNew(nn.Module):  # <-
            def forward(self, x):
                return x
    """, prelude=False)
    findings = check_source(source, policy=Policy.STRICT)
    decoy, class_line = sorted(marked_lines(source))
    assert [f.line for f in of_rule(findings, "kernel_defined_not_launched")] == [decoy]
    assert [f.line for f in of_rule(findings, "no_custom_kernel")] == [class_line]
    assert "_decoy" in of_rule(findings, "no_custom_kernel")[0].reason


def test_load_inline_function_called_counts_as_a_custom_kernel():
    source = compose('''
        import torch
        import torch.nn as nn
        from torch.utils.cpp_extension import load_inline
        CUDA = """
        #include <torch/extension.h>
        __global__ void twice_kernel(const float* x, float* y, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] = 2.0f * x[i];  // not torch::mul(x, 2)
        }
        torch::Tensor twice(torch::Tensor x) {
            auto y = torch::empty_like(x);
            int n = x.numel();
            twice_kernel<<<(n + 255) / 256, 256, 0, at::cuda::getCurrentCUDAStream()>>>(
                x.data_ptr<float>(), y.data_ptr<float>(), n);
            return y;
        }
        """
        def _extension():
            return load_inline(name="twice", cpp_sources="torch::Tensor twice(torch::Tensor x);",
                               cuda_sources=CUDA, functions=["twice"])
        class ModelNew(nn.Module):
            def forward(self, x):
                return _extension().twice(x.contiguous())
    ''', prelude=False)
    assert check_source(source, policy=Policy.STRICT) == []


def test_load_inline_built_but_never_called_is_no_kernel():
    source = compose('''
        import torch.nn as nn
        from torch.utils.cpp_extension import load_inline
        ext = load_inline("e", "", "__global__ void k(float* y) {}  void run() { k<<<1, 1>>>(nullptr); }")
        class ModelNew(nn.Module):  # <-
            def forward(self, x):
                return x
    ''', prelude=False)
    found = of_rule(check_source(source, policy=Policy.STRICT), "no_custom_kernel")
    assert [f.line for f in found] == sorted(marked_lines(source))


# --- resolution through imports ----------------------------------------------------------------------------

@pytest.mark.parametrize("imports, call", [
    ("import torch as T", "T.softmax(y, dim=-1)"),
    ("from torch.nn import functional as F", "F.softmax(y, dim=-1)"),
    ("import torch.nn.functional as F", "F.softmax(y, dim=-1)"),
    ("from torch import nn as N", "N.functional.softmax(y, dim=-1)"),
    ("from torch.nn.functional import softmax as sm", "sm(y, dim=-1)"),
    ("import torch", "getattr(torch, 'softmax')(y, dim=-1)"),
])
def test_aliases_resolve_to_the_torch_function(imports, call):
    source = compose(f"""
        {imports}
        class ModelNew(nn.Module):
            def forward(self, x):
                y = launch(x)
                return {call}  # <-
    """)
    found = of_rule(check_source(source, policy=Policy.STRICT), "torch_compute")
    assert [f.line for f in found] == sorted(marked_lines(source))
    assert "softmax" in found[0].reason


def test_triton_language_calls_are_not_torch_calls_in_or_out_of_kernels():
    source = compose("""
        from triton import language as tlang
        WIDTH = tlang.constexpr(4)
        @triton.jit
        def _row_sum(x_ptr, out_ptr, BLOCK: tlang.constexpr):
            x = tl.load(x_ptr + tl.arange(0, BLOCK))
            total = tl.sum(x, axis=0) + tlang.max(x, axis=0) + tl.exp(x).sum()
            tl.store(out_ptr, total)
        class ModelNew(nn.Module):
            def forward(self, x):
                out = torch.empty(1, device=x.device, dtype=x.dtype)
                _row_sum[(1,)](x, out, BLOCK=16)
                return launch(out)
    """)
    assert check_source(source, policy=Policy.STRICT) == []


# --- policies ---------------------------------------------------------------------------------------------

HYBRID_MIX = """
    import torch.nn.functional as F
    class ModelNew(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)
        def forward(self, x):
            a = torch.matmul(x, x)  # vendor
            b = F.linear(x, self.fc.weight, self.fc.bias)  # vendor
            c = self.fc(x)  # vendor
            d = x @ x  # vendor
            e = F.scaled_dot_product_attention(x, x, x, is_causal=True)  # vendor
            return launch(F.softmax(a, dim=-1))  # <-
"""


def test_hybrid_allows_vendor_gemm_but_not_softmax():
    source = compose(HYBRID_MIX)
    found = of_rule(check_source(source, policy=Policy.HYBRID), "torch_compute")
    assert [f.line for f in found] == sorted(marked_lines(source))
    assert "softmax" in found[0].reason


def test_strict_refuses_vendor_gemm_too():
    source = compose(HYBRID_MIX)
    vendor = {n for n, line in enumerate(source.splitlines(), 1) if line.endswith("# vendor")}
    found = of_rule(check_source(source, policy=Policy.STRICT), "torch_compute")
    assert {f.line for f in found} == vendor | marked_lines(source)
    assert len(vendor) == 5


def test_presets_cover_exactly_the_registered_rules():
    for policy in Policy:
        assert set(PRESETS[policy].severities) == set(RULES)
    assert not PRESETS[Policy.STRICT].allow_vendor_heavy
    assert PRESETS[Policy.HYBRID].allow_vendor_heavy
    for r in RULES.values():
        assert r.description and r.severity in (E, W)


# --- whole files ------------------------------------------------------------------------------------------

def test_there_are_six_benchmark_candidates():
    assert len(BENCHMARK_CANDIDATES) == 6


@pytest.mark.parametrize("path", BENCHMARK_CANDIDATES, ids=[p.stem for p in BENCHMARK_CANDIDATES])
@pytest.mark.parametrize("policy", list(Policy))
def test_hand_written_candidates_have_no_errors(path, policy):
    findings = check_source(path.read_text(), policy=policy)
    assert not errors(findings), [(f.rule, f.line, f.reason) for f in errors(findings)]


@pytest.mark.parametrize(("fixture", "rule", "line"), [
    ("tensor_subclass.py", "tensor_subclass", 5),
    ("patches_timer.py", "monkey_patching", 6),
    ("correct_torch.py", "torch_compute", 7),
    ("correct_torch.py", "no_custom_kernel", 5),
])
def test_existing_adversarial_fixtures_are_refused(fixture, rule, line):
    findings = check_source((FIXTURES / fixture).read_text(), policy=Policy.STRICT)
    assert (rule, line, E) in {(f.rule, f.line, f.severity) for f in findings}


def test_syntax_error_gives_one_finding_with_its_line():
    findings = check_source("import torch\n\nclass ModelNew(:\n    pass\n", policy=Policy.STRICT)
    assert len(findings) == 1
    assert (findings[0].rule, findings[0].severity, findings[0].line) == (SYNTAX_RULE, E, 3)


def test_findings_are_ordered_by_line_and_not_repeated():
    source = compose("""
        import time
        class ModelNew(nn.Module):
            def forward(self, x):
                return launch(x) if time.time() and time.time() else x
    """)
    findings = check_source(source, policy=Policy.STRICT)
    assert [f.line for f in findings] == sorted(f.line for f in findings)
    assert len(of_rule(findings, "timer_access")) == 1
