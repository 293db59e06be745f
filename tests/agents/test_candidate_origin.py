"""Each candidate records who wrote it (the offline engine, a hand-written seed, or the model and the call);
the summary says so per candidate and, in plain words, what the model's candidates came to; the report names
each best kernel's author."""

from agent_factories import accepted, failed, node, plan, task
from scripted_llm import ScriptedLLM

from kevolve.agents.coder import CodingRequest, write_candidate
from kevolve.graph.report.model import DeviceResult, ProblemResult
from kevolve.graph.report.render import approval_text
from kevolve.graph.search_tree import DeviceSearch
from kevolve.graph.state import initial_state
from kevolve.graph.summary import render_summary
from kevolve.tools.candidates import CandidateOrigin, Origin, Role
from kevolve.tools.llm.base import TokenUsage
from loop_helpers import gelu_kernel, gelu_task

MODEL = CandidateOrigin(origin=Origin.MODEL, model_call="qwen, its first reply")
ENGINE = CandidateOrigin(origin=Origin.ENGINE)


def test_a_model_written_candidate_names_the_model_and_its_reply():
    request = CodingRequest(task=task(), plan=plan())
    llm = ScriptedLLM(Role.CODER, ["no code here", gelu_kernel(block=512)])
    llm.model_name = "qwen"
    result, _ = write_candidate(request, llm)
    assert result.draft.written_by == CandidateOrigin(
        origin=Origin.MODEL, model_call="qwen, its reply when asked again after a reply that was no_code")


def summary_of(*nodes, calls: int = 3) -> str:
    state = initial_state(gelu_task())
    state["searches"] = {"cuda:0": DeviceSearch(device="cuda:0", nodes={n.id: n for n in nodes})}
    state["usage"] = TokenUsage(calls=calls)
    return render_summary(state)


def test_the_summary_says_plainly_when_no_model_candidate_was_accepted():
    summary = summary_of(node("a", outcome=accepted()).model_copy(update={"written_by": ENGINE}),
                         node("b", outcome=failed()).model_copy(update={"written_by": MODEL}))
    assert "No candidate the model wrote was accepted (1 written); the 1 accepted came from the offline engine " \
           "or the seeds." in summary
    assert "(by the offline engine)" in summary and "(by the model (qwen, its first reply))" in summary


def test_the_summary_counts_the_model_candidates_accepted_and_says_nothing_without_a_model():
    by_model = node("a", outcome=accepted()).model_copy(update={"written_by": MODEL})
    assert "1 of the 1 candidates the model wrote were accepted." in summary_of(by_model)
    offline = summary_of(node("a", outcome=accepted()).model_copy(update={"written_by": ENGINE}), calls=0)
    assert "the model" not in offline


def test_the_summary_labels_a_candidate_by_what_its_code_does_then_what_was_asked():
    labelled = node("a", outcome=accepted()).model_copy(
        update={"written_by": ENGINE, "label": "triton: 1 kernel, BLOCK=2048, num_warps=2"})
    line = next(line for line in summary_of(labelled).splitlines() if line.startswith("- a "))
    assert line.startswith(f"- a [{labelled.plan.operator.value}] triton: 1 kernel, BLOCK=2048, num_warps=2 "
                           f"(asked: {labelled.plan.strategy}) (by the offline engine)")


def test_the_report_names_who_wrote_each_best_kernel():
    device = DeviceResult(device="cuda:0", rounds=2, candidates=4, best_node="cuda0-r02-0", approval="auto_approved",
                          best_written_by="model (qwen, its first reply)")
    problem = ProblemResult(name="softmax_rows", run_id="run-1", state="finished", devices=[device])
    assert approval_text(problem, device) == "auto approved; best by the model (qwen, its first reply)"
    unrecorded = device.model_copy(update={"best_written_by": None})
    assert approval_text(problem, unrecorded) == "auto approved"
