"""Each static rule reports its exploit at exactly the marked lines, at the right severity."""

import pytest

from kevolve.eval_harness.settings import Policy
from kevolve.eval_harness.static_checks import check_source
from static_check_helpers import E, W, compose, marked_lines, of_rule

# (rule, severity, snippet[, policy]): the rule must report exactly the marked lines, at that severity.
POSITIVE = [
    ("torch_compute", E, """
        class ModelNew(nn.Module):
            def forward(self, ids):
                out = launch(ids)
                torch._assert_async(torch.eq(ids, 0).any())  # <-
                return out
    """),
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
    # Trojan Source: the override reverses how the rest of the comment displays; a zero-width joiner in a key.
    ("hidden_characters", E, """
        class ModelNew(nn.Module):
            def forward(self, x):
                # the fast path \u202e only for admins  # <-
                scales = {"scale": 1.0, "sca\u200dle": 0.0}  # <-
                return launch(x)
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

