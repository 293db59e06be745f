"""What a search node teaches: wins over the parent and failures with their cause; nothing else."""

import logging
from pathlib import Path
from unittest.mock import create_autospec

from harness_helpers import FIXTURES
from kevolve.eval_harness import EvalStatus, load_problem, problem_from_source
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.tools.candidates import Diagnosis, Operator, Outcome, Plan, ReviewVerdict, SearchNode, TaskView
from kevolve.tools.knowledge.base import KnowledgeBase, KnowledgeBaseUnavailable
from kevolve.tools.knowledge.embedded import EmbeddedKnowledgeBase
from kevolve.tools.knowledge.embeddings import LocalMiniLM
from kevolve.tools.knowledge.learned import OperatorSignature
from kevolve.tools.knowledge.models import EntryKind, SearchFilters
from kevolve.tools.learning import learned_entry, operator_signature, record_learning

TASK = TaskView(problem="softmax_rows", reference_source="", device="cuda:0", device_name="NVIDIA H100 80GB HBM3",
                hardware_spec="h100_sxm", policy="strict", dtype="float32")
SIGNATURE = OperatorSignature(families=["softmax"], shapes="rows=32768, cols=16384", dtype="float32")
DIAGNOSIS = Diagnosis(bottleneck="memory-bound, two passes over each row", headroom="at 60% of speed of light",
                      guidance="one pass with an online max", knowledge_query="online softmax one pass")


def _node(outcome: Outcome | None, *, strategy: str = "online softmax, one pass over each row",
          review: ReviewVerdict | None = None, diagnosis: Diagnosis | None = None) -> SearchNode:
    plan = Plan(operator=Operator.IMPROVE, strategy=strategy, description="keep a running max and sum")
    return SearchNode(id="n1", device="cuda:0", round=2, plan=plan, review=review, outcome=outcome,
                      diagnosis=diagnosis)


def _accepted(fitness: float | None) -> Outcome:
    return Outcome(status=EvalStatus.CORRECT, accepted=True, fitness=fitness)


def _learn(node: SearchNode, parent: SearchNode | None = None):
    return learned_entry(node, task=TASK, parent=parent, signature=SIGNATURE, spec_vendor="nvidia",
                         spec_architecture="hopper", kernel_file=Path("runs/r1/softmax_rows/n1.py"))


def test_the_signature_names_the_category_then_the_operators_and_the_sizes_of_the_config():
    softmax = load_problem(SUITE_DIR / "softmax_rows.py")
    assert operator_signature(softmax, dtype="float32", on_cpu=True) == OperatorSignature(
        families=["softmax"], shapes="rows=64, cols=256", dtype="float32")
    assert operator_signature(softmax, dtype="bfloat16", on_cpu=False).shapes == "rows=32768, cols=16384"
    fused = operator_signature(load_problem(SUITE_DIR / "fusion_conv2d_bn_relu.py"), dtype="float32", on_cpu=True)
    assert fused.families == ["fusion", "conv", "norm", "elementwise"]
    plain = operator_signature(load_problem(FIXTURES / "kernelbench_style" / "1_scale_rows.py"), dtype="float32",
                               on_cpu=True)
    assert plain.families == [] and plain.shapes == "batch_size=8, dim=32"


def test_operators_come_from_calls_and_the_matmul_operator_not_from_builtins():
    source = (
        "import torch\nfrom torch import nn\n\n"
        "class Model(nn.Module):\n"
        "    def forward(self, x, w):\n"
        "        k = max(1, x.shape[0])\n"
        "        return torch.log_softmax(x @ w, dim=-1).sum(dim=k)\n\n"
        "n = 16\neps = 1e-5\n\n"
        "def get_inputs():\n    return []\n\n"
        "def get_init_inputs():\n    return []\n"
    )
    signature = operator_signature(problem_from_source(source, name="mini"), dtype="float32", on_cpu=True)
    assert signature.families == ["reduction", "softmax", "matmul"]
    assert signature.shapes == "n=16"


def test_the_first_accepted_kernel_is_a_win():
    entry = _learn(_node(_accepted(1.3), diagnosis=DIAGNOSIS))
    assert entry.succeeded and entry.speedup == 1.3 and entry.failure_category is None
    assert (entry.device, entry.vendor, entry.architecture, entry.dsl) == ("h100_sxm", "nvidia", "hopper", "triton")
    assert entry.diagnosis_before == "first attempt, from the reference alone"
    assert entry.diagnosis_after == "memory-bound, two passes over each row; at 60% of speed of light"
    assert entry.kernel_pointer == str(Path.cwd() / "runs/r1/softmax_rows/n1.py"), "found from any folder"


def test_an_accepted_child_is_a_win_only_when_measurably_fitter_than_its_parent():
    parent = _node(_accepted(1.2), strategy="two passes", diagnosis=DIAGNOSIS)
    win = _learn(_node(_accepted(1.5)), parent)
    assert win.succeeded and win.diagnosis_before == "memory-bound, two passes over each row; at 60% of speed of light"
    assert _learn(_node(_accepted(1.1)), parent) is None
    unmeasured = _node(_accepted(None), strategy="two passes")
    assert _learn(_node(_accepted(None)), unmeasured) is None, "no timing (CPU): no gain can be claimed"
    failed_parent = _node(Outcome(status=EvalStatus.ERROR, accepted=False, fitness=0.0, error_kind="timeout"))
    repaired = _learn(_node(_accepted(1.4)), failed_parent)
    assert repaired.succeeded and repaired.diagnosis_before == "the parent failed (timeout)"


def test_a_kernel_accepted_without_a_timing_is_no_win():
    """On the CPU interpreter timings mean nothing: a "worked" entry would be retrieved by a later GPU search."""
    assert _learn(_node(_accepted(None))) is None
    failed_parent = _node(Outcome(status=EvalStatus.ERROR, accepted=False, fitness=0.0, error_kind="timeout"))
    assert _learn(_node(_accepted(None)), failed_parent) is None


def test_a_failure_is_learned_with_its_category_and_the_start_of_its_message():
    message = "output 0 mismatched:\n   max abs error 3.1 at [12, 40]\n" + "x" * 1000
    outcome = Outcome(status=EvalStatus.INCORRECT, accepted=False, fitness=0.0, error_kind="output_mismatch",
                      error_message=message)
    entry = _learn(_node(outcome))
    assert not entry.succeeded and entry.failure_category == "output_mismatch" and entry.speedup is None
    assert entry.diagnosis_after.startswith("output 0 mismatched: max abs error 3.1 at [12, 40] xxx")
    assert len(entry.diagnosis_after) == 300


def test_nodes_that_teach_nothing_give_no_entry():
    assert _learn(_node(None)) is None, "not evaluated"
    refused = ReviewVerdict(approved=False, reasons=["falls back to torch.softmax"])
    assert _learn(_node(_accepted(2.0), review=refused)) is None
    held = Outcome(status=EvalStatus.CORRECT, accepted=False, fitness=0.0, review_required=["implausible speedup"])
    assert _learn(_node(held)) is None, "correct but waiting for a person: neither a win nor a failure"


def test_recording_never_raises_when_the_base_fails(caplog):
    base = create_autospec(KnowledgeBase, instance=True)
    base.add.side_effect = KnowledgeBaseUnavailable("no Weaviate at http://kb:8080")
    with caplog.at_level(logging.WARNING, logger="kevolve.tools.learning"):
        assert record_learning(base, [_learn(_node(_accepted(1.3)))]) == 0
    assert "no Weaviate at http://kb:8080" in caplog.text
    assert record_learning(base, []) == 0 and base.add.call_count == 1


def test_a_recorded_win_is_found_by_a_later_search(tmp_path):
    win = _learn(_node(_accepted(1.3), diagnosis=DIAGNOSIS))
    failure = _learn(_node(Outcome(status=EvalStatus.ERROR, accepted=False, fitness=0.0,
                                   error_kind="kernel_compile_error", error_message="tl.dot needs 16x16 blocks"),
                           strategy="tensor-core reduction with tl.dot"))
    with EmbeddedKnowledgeBase(tmp_path / "knowledge", LocalMiniLM()) as base:
        assert record_learning(base, [win, failure]) == 2
        hits = base.search("softmax rows memory-bound on H100, single pass", limit=1,
                           filters=SearchFilters(kinds=[EntryKind.LEARNED_WIN], architecture="hopper"))
        assert [hit.passage.id for hit in hits] == [win.to_passage().id]
        assert "1.30x" in hits[0].passage.text and hits[0].passage.source == win.kernel_pointer
