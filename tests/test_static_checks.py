"""The static anti-reward-hacking checks: each rule refuses its exploit, at the right line, and lets the near miss
through; the hand-written benchmark candidates pass clean.

Snippets are appended to PRELUDE, a module with one launched Triton kernel (so that `no_custom_kernel` stays
quiet unless a test wants it). A line ending in `# <-` (`// <-` in C++) is where the rule under test must report,
and nowhere else.
"""

import textwrap
from pathlib import Path

import pytest

from kevolve.eval_harness.results import CheckFinding, Severity
from kevolve.eval_harness.settings import DType, Policy
from kevolve.eval_harness.static_checks import PRESETS, RULES, SYNTAX_RULE, check_source

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK_CANDIDATES = sorted((ROOT / "benchmarks" / "candidates").glob("*.py"))
FIXTURES = ROOT / "tests" / "fixtures" / "candidates"

PRELUDE = '''\
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


def launch(x):
    y = torch.empty_like(x)
    _copy_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
    return y
'''
MARKS = ("# <-", "// <-")
E, W = Severity.ERROR, Severity.WARNING


def compose(body: str, *, prelude: bool = True) -> str:
    return (PRELUDE if prelude else "") + textwrap.dedent(body)


def marked_lines(source: str) -> set[int]:
    return {number for number, line in enumerate(source.splitlines(), 1) if line.rstrip().endswith(MARKS)}


def of_rule(findings: list[CheckFinding], rule: str) -> list[CheckFinding]:
    return [f for f in findings if f.rule == rule]


def errors(findings: list[CheckFinding]) -> list[CheckFinding]:
    return [f for f in findings if f.severity is Severity.ERROR]


# (rule, severity, snippet[, policy]): the rule must report exactly the marked lines, at that severity.
POSITIVE = [
    ("torch_compute", E, """
        import torch as T
        class ModelNew(nn.Module):
            def forward(self, x):
                return T.softmax(launch(x), dim=-1)  # <-
    """),
    ("torch_compute", E, """
        from torch.nn import functional as F
        class ModelNew(nn.Module):
            def forward(self, x):
                y = launch(x)
                return F.relu(y)  # <-
    """),
    ("torch_compute", E, """
        from torch.nn.functional import gelu as act
        relu = torch.relu
        class ModelNew(nn.Module):
            def forward(self, x):
                return relu(act(launch(x)))  # <-
    """),
    ("torch_compute", E, """
        class ModelNew(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = nn.GELU()
            def forward(self, x):
                y = launch(x).sum(dim=1)  # <-
                y.clamp_(min=0)  # <-
                return self.act(y)  # <-
    """),
    ("torch_compute", E, """
        import torch.nn.functional as F
        class ModelNew(nn.Module):
            def __init__(self):
                super().__init__()
                self.ops = [F.relu, torch.sigmoid]  # <-
            def forward(self, x):
                for op in self.ops:
                    x = op(x)
                return launch(x)
    """),
    ("torch_compute", E, """
        class ModelNew(nn.Module):
            def forward(self, x: torch.Tensor, scale: torch.Tensor, k: int) -> torch.Tensor:
                rows = x.shape[0] * k
                return launch(x) * scale  # <-
    """),
    ("torch_compute", E, """
        @torch.compile  # <-
        def fused(x):
            return x
        class ModelNew(nn.Module):
            def forward(self, x):
                return launch(fused(x))
    """),
    ("torch_compute", E, """
        import numpy as np
        class ModelNew(nn.Module):
            def forward(self, x):
                host = x.cpu()  # <-
                return launch(torch.from_numpy(np.exp(host.numpy())))  # <-
    """),
    ("torch_compute", E, """
        class ModelNew(nn.Linear):  # <-
            def forward(self, x):
                return launch(super().forward(x))
    """),
    ("torch_compute", E, """
        from torch.utils.cpp_extension import load_inline
        SRC = '''
        __global__ void noop(float* y) { }
        torch::Tensor run(torch::Tensor x) {
            noop<<<1, 1>>>(x.data_ptr<float>());
            return torch::softmax(x, -1);  // <-
        }
        '''
        ext = load_inline(name="e", cpp_sources="", cuda_sources=SRC, functions=["run"])
        class ModelNew(nn.Module):
            def forward(self, x):
                return ext.run(x)
    """),
    # hybrid lets GEMM through, not the softmax or a non-GEMM layer
    ("torch_compute", E, """
        import torch.nn.functional as F
        class ModelNew(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.norm = nn.LayerNorm(8)
            def forward(self, x):
                y = F.linear(launch(x), self.fc.weight, self.fc.bias)
                return self.norm(F.softmax(y, dim=-1))  # <-
    """, Policy.HYBRID),
    ("init_compute", W, """
        class ModelNew(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.register_buffer("mask", torch.tril(torch.ones(n, n)))  # <-
            def forward(self, x):
                return launch(x)
    """),
    ("kernel_defined_not_launched", E, """
        @triton.jit
        def _decoy_kernel(x_ptr, BLOCK: tl.constexpr):  # <-
            tl.store(x_ptr + tl.arange(0, BLOCK), 0.0)
        class ModelNew(nn.Module):
            def forward(self, x):
                return launch(x)
    """),
    ("kernel_defined_not_launched", E, """
        from torch.utils.cpp_extension import load_inline
        SRC = '''
        __global__ void used(float* y) { }
        __global__ void decoy(float* y) { }  // <-
        torch::Tensor run(torch::Tensor x) { used<<<1, 1>>>(x.data_ptr<float>()); return x; }
        '''
        ext = load_inline(name="e", cpp_sources="", cuda_sources=SRC, functions=["run"])
        class ModelNew(nn.Module):
            def forward(self, x):
                return ext.run(x)
    """),
    ("calls_reference_model", E, """
        class ModelNew(Model):  # <-
            def forward(self, x):
                return launch(x)
    """),
    ("calls_reference_model", E, """
        import sys
        from kevolve.eval_harness.problems import SUITE_DIR  # <-
        class ModelNew(nn.Module):
            def forward(self, x):
                reference = getattr(sys.modules["__main__"], "Model")  # <-
                return launch(x)
    """),
    ("try_fallback", E, """
        class ModelNew(nn.Module):
            def forward(self, x):
                try:  # <-
                    return launch(x)
                except Exception:
                    return x.clone()
    """),
    ("try_fallback", E, """
        try:  # <-
            FAST = launch
        except Exception:
            FAST = None
        class ModelNew(nn.Module):
            def forward(self, x):
                return FAST(x)
    """),
    ("concurrency", E, """
        import threading  # <-
        from concurrent.futures import ThreadPoolExecutor  # <-
        class ModelNew(nn.Module):
            def forward(self, x):
                side = torch.cuda.Stream()  # <-
                return launch(x)
    """),
    ("cuda_graph", W, """
        class ModelNew(nn.Module):
            def forward(self, x):
                graph = torch.cuda.CUDAGraph()  # <-
                return launch(x)
    """),
    ("monkey_patching", E, """
        import time
        import builtins  # <-
        torch.allclose = lambda *args, **kwargs: True  # <-
        setattr(torch.Tensor, "__eq__", lambda a, b: True)  # <-
        torch.backends.cudnn.enabled = False  # <-
        class ModelNew(nn.Module):
            def forward(self, x):
                torch.cuda.empty_cache()  # <-
                return launch(x)
    """),
    ("rng_state", E, """
        torch.manual_seed(0)  # <-
        class ModelNew(nn.Module):
            def forward(self, x):
                seed = torch.initial_seed()  # <-
                return launch(x)
    """),
    ("tensor_subclass", E, """
        from torch.utils._python_dispatch import TorchDispatchMode  # <-
        class Fake(torch.Tensor):  # <-
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):  # <-
                return func(*args, **(kwargs or {}))
        class ModelNew(nn.Module):
            def forward(self, x):
                return launch(x).as_subclass(Fake)  # <-
    """),
    ("io_access", E, """
        import os
        import socket  # <-
        import sys
        sys.path.append("/tmp/answers")  # <-
        class ModelNew(nn.Module):
            def forward(self, x):
                if os.environ.get("CHEAT"):  # <-
                    return torch.load(open("answer.pt", "rb"))  # <-
                return launch(x)
    """),
    ("reference_introspection", E, """
        import gc
        import inspect
        import sys
        class ModelNew(nn.Module):
            def forward(self, x):
                seen = gc.get_objects()  # <-
                caller = inspect.currentframe().f_back  # <-
                names = globals()  # <-
                harness = sys.modules.get("__main__")  # <-
                return launch(x)
    """),
    ("timer_access", E, """
        import time
        from time import perf_counter
        class ModelNew(nn.Module):
            def forward(self, x):
                start = perf_counter()  # <-
                event = torch.cuda.Event(enable_timing=True)  # <-
                return launch(x) if time.time() > 0 else x  # <-
    """),
    ("stateful_forward", W, """
        class ModelNew(nn.Module):
            def __init__(self):
                super().__init__()
                self.cache = {}
            def forward(self, x):
                if x.data_ptr() in self.cache:
                    return self.cache[x.data_ptr()]
                self.cache[x.data_ptr()] = y = launch(x)  # <-
                self.calls += 1  # <-
                return y
    """),
    ("precision_downcast", E, """
        torch.backends.cuda.matmul.allow_tf32 = True  # <-
        @triton.jit
        def _half_kernel(x_ptr, BLOCK: tl.constexpr):
            x = tl.load(x_ptr + tl.arange(0, BLOCK)).to(tl.float16)  # <-
            tl.store(x_ptr + tl.arange(0, BLOCK), x)
        class ModelNew(nn.Module):
            def forward(self, x):
                h = x.half()  # <-
                out = torch.empty(x.shape, dtype=torch.bfloat16, device=x.device)  # <-
                _half_kernel[(1,)](h, BLOCK=16)
                return launch(out)
    """),
    ("implicit_tf32", W, """
        @triton.jit
        def _mm_kernel(a_ptr, b_ptr, c_ptr, BLOCK: tl.constexpr):
            r = tl.arange(0, BLOCK)
            a = tl.load(a_ptr + r[:, None] * BLOCK + r[None, :])
            b = tl.load(b_ptr + r[:, None] * BLOCK + r[None, :])
            c = tl.dot(a, b)  # <-
            c += a @ b  # <-
            c += tl.dot(a, b, input_precision="ieee")
            tl.store(c_ptr + r[:, None] * BLOCK + r[None, :], c)
        class ModelNew(nn.Module):
            def forward(self, a, b):
                c = torch.empty_like(a)
                _mm_kernel[(1,)](a, b, c, BLOCK=16)
                return c
    """),
]


@pytest.mark.parametrize(("rule", "severity", "body", "policy"),
                         [(*case, Policy.STRICT) if len(case) == 3 else case for case in POSITIVE],
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(POSITIVE)])
def test_rule_reports_exactly_the_marked_lines(rule, severity, body, policy):
    source = compose(body)
    expected = marked_lines(source)
    assert expected, "a positive case needs at least one marked line"
    found = of_rule(check_source(source, policy=policy), rule)
    assert {f.line for f in found} == expected, [(f.line, f.reason) for f in found]
    assert all(f.severity is severity and f.origin == "static" and len(f.reason) > 20 for f in found)


# (rule, snippet): the near miss each rule must let through; none of these has any error finding at all.
NEGATIVE = [
    ("torch_compute", """
        import math
        class ModelNew(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(n, n) / math.sqrt(n))
                nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                assert x.dim() == 2 and x.is_contiguous()
                seen = set()
                seen.add(x.shape[0])
                sizes = [x.shape[1], x.shape[0]]
                sizes.sort()
                y = x.view(-1, x.shape[-1]).transpose(0, 1).contiguous().t().reshape(x.shape).float()
                out = torch.empty(x.shape[0] * 2, dtype=torch.float32, device=x.device)
                return launch(y)
    """),
    ("torch_compute", """
        import logging
        import torch.nn.functional as F
        log = logging.getLogger(__name__)
        class _Launch(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return launch(x)
        class ModelNew(nn.Module):
            def forward(self, x):
                F = x.shape[-1]  # a local named like the import: not torch.nn.functional
                log.log(logging.DEBUG, "features %d", F)
                return _Launch.apply(x.view(-1, F))
    """),
    ("init_compute", """
        class ModelNew(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.bias = nn.Parameter(torch.zeros(n))
                self.norm = nn.LayerNorm(n)
                with torch.no_grad():
                    self.norm.weight.copy_(1.0 + 0.1 * torch.randn(n))
            def forward(self, x):
                return launch(x)
    """),
    ("kernel_defined_not_launched", """
        @triton.jit
        def _twice(x):
            return x * 2
        @triton.jit
        def _scale_body(x_ptr, BLOCK: tl.constexpr):
            offs = tl.arange(0, BLOCK)
            tl.store(x_ptr + offs, _twice(tl.load(x_ptr + offs)))
        _scale = triton.autotune(configs=[triton.Config({"BLOCK": 32})], key=[])(_scale_body)
        @triton.jit
        def _via_helper(x_ptr, BLOCK: tl.constexpr):
            tl.store(x_ptr + tl.arange(0, BLOCK), 1.0)
        def _run(kernel, x):
            kernel[(1,)](x, BLOCK=32)
        class ModelNew(nn.Module):
            def forward(self, x):
                _scale[(1,)](x)
                _run(_via_helper, x)
                return launch(x)
    """),
    ("calls_reference_model", """
        class ModelNew(nn.Module):
            def __init__(self):
                super().__init__()
                self.model_dim = 4
            def forward(self, x):
                return launch(x)
        def build():
            return ModelNew()
    """),
    ("try_fallback", """
        try:
            import numpy
        except ImportError:
            numpy = None
        class ModelNew(nn.Module):
            def forward(self, x):
                try:
                    return launch(x)
                finally:
                    pass
    """),
    ("concurrency", """
        class ModelNew(nn.Module):
            def forward(self, x):
                stream = torch.cuda.current_stream()
                y = launch(x)
                torch.cuda.synchronize()
                return y
    """),
    ("cuda_graph", """
        class ModelNew(nn.Module):
            def forward(self, x):
                graph_size = x.numel()
                return launch(x)
    """),
    ("monkey_patching", """
        class ModelNew(nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = 2.0
                setattr(self, "offset", 1.0)
            def forward(self, x):
                if torch.backends.cudnn.enabled and torch.cuda.is_available():
                    pass
                return launch(x)
    """),
    ("rng_state", """
        class ModelNew(nn.Module):
            def __init__(self, n):
                super().__init__()
                generator = torch.Generator().manual_seed(0)
                self.weight = nn.Parameter(torch.randn(n, generator=generator))
            def forward(self, x):
                return launch(x)
    """),
    ("tensor_subclass", """
        class ModelNew(nn.Module):
            def forward(self, x):
                assert isinstance(x, torch.Tensor)
                return launch(x)
    """),
    ("io_access", """
        import os
        import sys
        class ModelNew(nn.Module):
            def forward(self, x):
                if sys.version_info >= (3, 11):
                    pass
                return launch(x)
    """),
    ("reference_introspection", """
        class ModelNew(nn.Module):
            def forward(self, x):
                name = type(self).__name__
                return launch(x)
    """),
    ("timer_access", """
        class ModelNew(nn.Module):
            def forward(self, x):
                y = launch(x)
                torch.cuda.synchronize()
                return y
    """),
    ("stateful_forward", """
        class ModelNew(nn.Module):
            def __init__(self, eps):
                super().__init__()
                self.eps = eps
            def forward(self, x):
                cache = {}
                cache[0] = launch(x)
                return cache[0]
    """),
    ("precision_downcast", """
        @triton.jit
        def _fp32_kernel(x_ptr, BLOCK: tl.constexpr):
            x = tl.load(x_ptr + tl.arange(0, BLOCK)).to(tl.float32)
            tl.store(x_ptr + tl.arange(0, BLOCK), x.to(x_ptr.dtype.element_ty))
        class ModelNew(nn.Module):
            def forward(self, x):
                y = x.to(torch.float32).float()
                _fp32_kernel[(1,)](y, BLOCK=16)
                return launch(torch.empty_like(y, dtype=torch.float32))
    """),
    ("implicit_tf32", """
        @triton.jit
        def _mm_kernel(a_ptr, c_ptr, BLOCK: tl.constexpr):
            r = tl.arange(0, BLOCK)
            a = tl.load(a_ptr + r[:, None] * BLOCK + r[None, :])
            tl.store(c_ptr + r[:, None] * BLOCK + r[None, :], tl.dot(a, a, input_precision="ieee"))
        class ModelNew(nn.Module):
            def forward(self, a):
                c = torch.empty_like(a)
                _mm_kernel[(1,)](a, c, BLOCK=16)
                return c
    """),
]


@pytest.mark.parametrize(("rule", "body"), NEGATIVE, ids=[f"{case[0]}-{i}" for i, case in enumerate(NEGATIVE)])
def test_near_miss_is_not_reported(rule, body):
    findings = check_source(compose(body), policy=Policy.STRICT)
    assert not of_rule(findings, rule), [(f.line, f.reason) for f in of_rule(findings, rule)]
    assert not errors(findings), [(f.rule, f.line, f.reason) for f in errors(findings)]


def test_every_rule_has_a_positive_and_a_negative_case():
    assert {case[0] for case in POSITIVE} == set(RULES) - {"no_custom_kernel"}  # that one is tested below
    assert {case[0] for case in NEGATIVE} == set(RULES) - {"no_custom_kernel"}


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
    assert len(vendor) == 4


def test_precision_rules_do_not_apply_to_half_precision_evaluations():
    source = compose("""
        class ModelNew(nn.Module):
            def forward(self, x):
                return launch(x.half())
    """)
    assert of_rule(check_source(source, policy=Policy.STRICT), "precision_downcast")
    for dtype in (DType.FLOAT16, DType.BFLOAT16):
        assert check_source(source, policy=Policy.STRICT, dtype=dtype) == []


def test_presets_cover_exactly_the_registered_rules():
    for policy in Policy:
        assert set(PRESETS[policy].severities) == set(RULES)
    assert not PRESETS[Policy.STRICT].allow_vendor_heavy
    assert PRESETS[Policy.HYBRID].allow_vendor_heavy
    assert {name for name, r in RULES.items() if r.float32_only} == {"precision_downcast", "implicit_tf32"}
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
