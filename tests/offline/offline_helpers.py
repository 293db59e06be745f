"""Builds generated candidates from small references and runs them beside the reference, in-process (tests only)."""

from __future__ import annotations

import functools
import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import torch

from kevolve.eval_harness.precision import DType, MathMode
from kevolve.tools.offline.configs import GroupConfig, default_config
from kevolve.tools.offline.fusion import FusedProgram, fuse
from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.module_source import module_source
from kevolve.tools.offline.regime import EXACT
from kevolve.tools.offline.tracing import trace_reference

LOOPING = GroupConfig(block=64, rows=2, single_max=0, chunk=16, warps=2)
HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"


def reference_module(body: str, inputs: str, init_inputs: str = "[]") -> str:
    """A problem's source: `body` (its Model class), and the inputs it is traced with."""
    return HEADER + textwrap.dedent(body) + textwrap.dedent(f"""

    def get_inputs():
        return {inputs}


    def get_init_inputs():
        return {init_inputs}
    """)


# Traced on the meta device, so the traced shapes can be a GPU's: 8 channels of 16 * 64 * 64 elements, which a
# plain reduction runs as 8 programs, and 4096 rows of 1024, which fill any device.
FEW_ROWS = reference_module("""
    class Model(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.norm = nn.BatchNorm2d(channels)

        def forward(self, x):
            return torch.relu(self.norm(x))
    """, "[torch.randn(16, 8, 64, 64)]", "[8]")
MANY_ROWS = reference_module("""
    class Model(nn.Module):
        def __init__(self, features):
            super().__init__()
            self.norm = nn.LayerNorm(features)

        def forward(self, x):
            return torch.relu(self.norm(x))
    """, "[torch.randn(4096, 1024)]", "[1024]")


@functools.cache
def fused_program(reference: str, *, strict: bool = False, dtype: DType = DType.FLOAT32) -> FusedProgram:
    """`strict`: GEMMs become Triton kernels, as the engine writes them under the strict policy; `dtype`: the
    regime's dtype the reference is traced in."""
    program = lower(trace_reference(reference, dtype=dtype), gemm_in_triton=strict)
    assert not program.unsupported, program.unsupported
    return fuse(program)


def candidate_source(reference: str, fused: FusedProgram, *, looping: bool, mode: MathMode = EXACT) -> str:
    configs = {g.name: LOOPING if looping else default_config(g) for g in fused.groups}
    return module_source(reference, fused, configs, "test", mode)


def load(source: str, folder: Path, name: str) -> ModuleType:
    path = folder / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def assert_same(reference: ModuleType, candidate: ModuleType, init: list, inputs: list, *, tol: float = 1e-4,
                dtype: torch.dtype = torch.float32) -> None:
    """`dtype`: the regime's, which parameters and floating inputs take, as the harness gives them."""
    torch.manual_seed(0)
    model = reference.Model(*init).to(dtype)
    torch.manual_seed(0)
    generated = candidate.ModelNew(*init).to(dtype)
    inputs = [x.to(dtype) if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in inputs]
    expected = model(*inputs)
    actual = generated(*inputs)
    expected = expected if isinstance(expected, tuple | list) else [expected]
    actual = actual if isinstance(actual, tuple | list) else [actual]
    for want, got in zip(expected, actual, strict=True):
        assert got.shape == want.shape, (got.shape, want.shape)
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        if want.dtype.is_floating_point:
            torch.testing.assert_close(got, want, atol=tol, rtol=tol)
        else:
            assert torch.equal(got, want)
