"""A kernel library built the way a run builds one: a real harness verdict, then write_kernel."""

from __future__ import annotations

import importlib
import itertools
import sys
from pathlib import Path
from types import ModuleType

from harness_helpers import FAST_SETTINGS
from kevolve.eval_harness import Evaluator
from kevolve.eval_harness.problem import load_problem
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.graph.approval import ApprovalDecision
from kevolve.graph.library import write_kernel
from kevolve.tools.kernel_library.export import export_library
from loop_helpers import GELU_PROBLEM, gelu_kernel

REPOSITORY = Path(__file__).resolve().parents[2]
GELU_SOURCE = gelu_kernel(block=256, fenced=False)
LAYERNORM_PROBLEM = SUITE_DIR / "layernorm_affine.py"
LAYERNORM_SOURCE = (REPOSITORY / "benchmarks" / "candidates" / "layernorm_affine.py").read_text()

_exports = itertools.count()


def approve_into(library: Path, evaluator: Evaluator, problem_file: Path, source: str, node_id: str) -> Path:
    """Evaluates `source` and writes it to `library` as a person's approval would; returns its path."""
    problem = load_problem(problem_file)
    result = evaluator.evaluate(problem, source)
    assert result.accepted, result.error
    decision = ApprovalDecision(approved=True, reviewer="ada", review_id=f"test-run:{node_id}", node_id=node_id,
                                source_sha256=result.candidate_sha256)
    return write_kernel(library, source=source, result=result, problem=problem, decision=decision,
                        policy=FAST_SETTINGS.policy.value, run_id="test-run", node_id=node_id)


def build_library(library: Path, cache_dir: Path) -> dict[str, Path]:
    """A GELU kernel (no parameters) and a LayerNorm kernel (weight, bias, a constructor argument)."""
    with Evaluator("cpu", settings=FAST_SETTINGS, cache_dir=cache_dir) as evaluator:
        return {
            "gelu": approve_into(library, evaluator, GELU_PROBLEM, GELU_SOURCE, "cpu-r02-0"),
            "layernorm": approve_into(library, evaluator, LAYERNORM_PROBLEM, LAYERNORM_SOURCE, "cpu-r04-1"),
        }


def export_and_import(library: Path, to: Path) -> tuple[ModuleType, str]:
    """Exports under a package name and operator namespace of its own (one process registers each once)."""
    number = next(_exports)
    package, namespace = f"shipped_kernels_{number}", f"kevolve_test_{number}"
    export_library(library, to, package=package, namespace=namespace)
    sys.path.insert(0, str(to))
    try:
        return importlib.import_module(package), namespace
    finally:
        sys.path.remove(str(to))
