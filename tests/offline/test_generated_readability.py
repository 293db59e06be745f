"""A generated module reads as a person would write it: no unused imports, no unused kernel parameters,
parameters named after the traced tensors (sanitised, never colliding), and kernels launched by keyword."""

from __future__ import annotations

import ast
import textwrap

import torch

from kevolve.tools.offline.kernel_naming import sanitise
from kevolve.tools.offline.triton_helpers import HELPERS
from offline_helpers import assert_same, candidate_source, fused_program, load

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"


def _footer(inputs: str) -> str:
    return f"\n\ndef get_inputs():\n    return {inputs}\n\n\ndef get_init_inputs():\n    return []\n"

# Input names that are also names inside the kernels (`mask`, `offs`) or Python builtins and keywords' neighbours.
ELEMENTWISE = HEADER + textwrap.dedent("""
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(24))

        def forward(self, mask, offs):
            return torch.relu(mask * self.weight + offs)
    """) + _footer("[torch.randn(8, 24), torch.randn(24)]")

SOFTMAX = HEADER + textwrap.dedent("""
    class Model(nn.Module):
        def forward(self, x):
            return torch.softmax(x * 2.0, dim=-1)
    """) + _footer("[torch.randn(8, 24)]")

LINEAR = HEADER + textwrap.dedent("""
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(24, 16)

        def forward(self, x):
            return F.gelu(self.proj(x))
    """) + _footer("[torch.randn(8, 24)]")


def _kernels(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """The launched kernels: every @triton.jit function but the helpers their bodies call (triton_helpers.HELPERS)."""
    return {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name not in HELPERS
            and any(isinstance(d, ast.Attribute) and d.attr == "jit" for d in s.decorator_list)}


def _assert_readable(source: str) -> None:
    tree = ast.parse(source)
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    imported = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import | ast.ImportFrom) for alias in node.names}
    assert imported <= read, f"unused imports: {imported - read}"
    kernels = _kernels(tree)
    assert kernels
    for kernel in kernels.values():
        body_reads = {node.id for node in ast.walk(kernel) if isinstance(node, ast.Name)}
        runtime = [a.arg for a in kernel.args.args if a.annotation is None]
        assert set(runtime) <= body_reads, f"{kernel.name}: unused parameters {set(runtime) - body_reads}"
        assert not any(name.startswith(("a0_", "o0_")) for name in runtime), runtime
    launches = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Subscript)
                and isinstance(node.func.value, ast.Name) and node.func.value.id in kernels]
    assert {launch.func.value.id for launch in launches} == set(kernels)
    for launch in launches:
        kernel = kernels[launch.func.value.id]
        assert not launch.args, f"{kernel.name} is launched with positional arguments"
        passed = {k.arg for k in launch.keywords}
        assert passed >= {a.arg for a in kernel.args.args}, f"{kernel.name}: missing arguments"


def test_elementwise_module_is_readable_and_still_computes(tmp_path):
    fused = fused_program(ELEMENTWISE)
    source = candidate_source(ELEMENTWISE, fused, looping=False)
    _assert_readable(source)
    assert "import math" in source and "import torch.nn.functional" not in source
    kernel = next(iter(_kernels(ast.parse(source)).values()))
    parameters = [a.arg for a in kernel.args.args]
    assert {"weight_ptr", "weight_stride0", "mask_ptr", "offs_ptr"} <= set(parameters)
    # A loaded input named like a kernel local gets a distinct name instead of shadowing it.
    assert "mask_2 = tl.load(mask_ptr" in source
    reference, candidate = load(ELEMENTWISE, tmp_path, "readable_ref"), load(source, tmp_path, "readable_new")
    assert_same(reference, candidate, [], [torch.randn(5, 24), torch.randn(24)])


def test_reduction_and_gemm_modules_are_readable():
    for reference, strict in ((SOFTMAX, False), (LINEAR, True)):
        fused = fused_program(reference, strict=strict)
        for looping in (False, True):
            _assert_readable(candidate_source(reference, fused, looping=looping))


def test_traced_names_are_sanitised_to_plain_identifiers():
    assert sanitise("x; import os") == "x_import_os"
    assert sanitise("1st") == "t_1st"
    assert sanitise("poids_é") == "poids"
    assert sanitise("()") == ""
    assert sanitise("self.proj.weight") == "self_proj_weight"
