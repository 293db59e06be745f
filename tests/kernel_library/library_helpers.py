"""A kernel library built the way a run builds one: a real harness verdict, then write_kernel."""

from __future__ import annotations

from pathlib import Path

from harness_helpers import FAST_SETTINGS
from kevolve.eval_harness import Evaluator
from kevolve.eval_harness.problem import load_problem
from kevolve.graph.approval import ApprovalDecision
from kevolve.graph.library import write_kernel
from loop_helpers import GELU_PROBLEM, gelu_kernel

GELU_SOURCE = gelu_kernel(block=256, fenced=False)


def approve_into(library: Path, cache_dir: Path, *, source: str = GELU_SOURCE, node_id: str = "cpu-r02-0") -> Path:
    """Evaluates `source` on the CPU and writes it to `library` as a person's approval would; returns its path."""
    problem = load_problem(GELU_PROBLEM)
    with Evaluator("cpu", settings=FAST_SETTINGS, cache_dir=cache_dir) as evaluator:
        result = evaluator.evaluate(problem, source)
    assert result.accepted, result.error
    return write_kernel(library, source=source, result=result, problem=problem,
                        decision=ApprovalDecision(approved=True, reviewer="ada"), policy=FAST_SETTINGS.policy.value,
                        run_id="test-run", node_id=node_id)
