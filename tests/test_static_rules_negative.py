"""Each static rule lets its near miss through, and every rule has cases of both kinds."""

import pytest

from kevolve.eval_harness.settings import Policy
from kevolve.eval_harness.static_checks import RULES, check_source
from static_check_helpers import compose, errors, of_rule
from test_static_rules_positive import POSITIVE

# (rule, snippet): the near miss each rule must let through; none of these has any error finding at all.
NEGATIVE = [
    ("torch_compute", """
        class ModelNew(nn.Module):
            def forward(self, ids):
                ok = torch.ones(1, device=ids.device, dtype=torch.bool)
                out = launch(ids, ok)  # the kernel clears `ok` on an id outside its table
                torch._assert_async(ok, "an id outside the table")
                return out
    """),
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
        @triton.jit
        def _combine(a, b):
            return tl.maximum(a, b)
        @triton.jit
        def _reducing(x_ptr, BLOCK: tl.constexpr):
            tl.store(x_ptr, tl.reduce(tl.load(x_ptr + tl.arange(0, BLOCK)), 0, _combine))
        class ModelNew(nn.Module):
            def forward(self, x):
                _scale[(1,)](x)
                _run(_via_helper, x)
                _reducing[(1,)](x, BLOCK=32)
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
    # The same characters written as escapes, and text that is merely not ASCII: all of it shows as it is.
    ("hidden_characters", """
        MARKS = "\\u202e\\u200d"  # µs, ×, größe, →
        class ModelNew(nn.Module):
            def forward(self, x):\t# a tab
                return launch(x)
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

