"""Tasks, plans and search-tree nodes for the role tests, built from real problems and fixtures."""

from __future__ import annotations

from pathlib import Path

from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.eval_harness.results import EvalStatus
from kevolve.tools.candidates import Diagnosis, Operator, Outcome, Plan, SearchNode, TaskView

TESTS = Path(__file__).resolve().parents[1]
CANDIDATES = TESTS / "fixtures" / "candidates"
KNOWLEDGE = "Knowledge base (cite as [1]):\n\n[1] Hopper > Memory (source: h100.md)\nCoalesce loads of 128 bytes."
GUIDANCE = "Do not keep a second copy of the input in shared memory; a reviewer rejected that."


def task(problem: str = "elementwise_gelu_tanh", *, policy: str = "strict") -> TaskView:
    return TaskView(
        problem=problem,
        reference_source=(SUITE_DIR / f"{problem}.py").read_text(),
        device="cuda:0",
        device_name="NVIDIA H100 80GB HBM3",
        hardware_spec="h100_sxm",
        policy=policy,
        dtype="float32",
        speed_of_light="memory-bound; floor 1.28 ms (4295 MB at 3350 GB/s)",
    )


def plan(operator: Operator = Operator.DRAFT, parents: tuple[str, ...] = (), strategy: str = "straightforward port",
         expected_gain: float = 1.0) -> Plan:
    return Plan(operator=operator, parent_ids=list(parents), strategy=strategy,
                description=f"do {strategy}", expected_gain=expected_gain)


def accepted(fitness: float | None = 1.5, percent_of_light: float | None = 40.0) -> Outcome:
    return Outcome(status=EvalStatus.CORRECT, accepted=True, fitness=fitness, percent_of_light=percent_of_light)


def failed(kind: str = "output_mismatch", message: str = "max abs error 0.3 at [12, 7]") -> Outcome:
    status = EvalStatus.INCORRECT if kind == "output_mismatch" else EvalStatus.ERROR
    return Outcome(status=status, accepted=False, fitness=0.0, error_kind=kind, error_message=message)


def diagnosis(bottleneck: str = "memory bandwidth", guidance: str = "read the input once") -> Diagnosis:
    return Diagnosis(bottleneck=bottleneck, headroom="40% of speed of light", guidance=guidance,
                     knowledge_query=f"{bottleneck} gelu h100_sxm")


def node(node_id: str, *, outcome: Outcome | None = None, diagnosed: Diagnosis | None = None,
         made_by: Plan | None = None, round_number: int = 1) -> SearchNode:
    return SearchNode(id=node_id, device="cuda:0", round=round_number, plan=made_by or plan(),
                      outcome=outcome, diagnosis=diagnosed, source_sha256=f"sha-{node_id}")
