"""Node: a stopped device's best kernel waits for a person (LangGraph's interrupt), then goes to the library.

What goes to the library is the node the person decided on, with the source they were shown
(graph/approval.py says how that is made sure of), not whatever the search's best is at resume.

A rejection with a comment sends the device back to searching, the comment becoming guidance that
every later plan and candidate of that device is given.
"""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from kevolve.eval_harness.problem import sha256_text

from ..approval import ApprovalDecision, ApprovedKernel, DecisionRecord, approved_kernel, build_request, check_decision
from ..context import RunContext
from ..library import write_kernel
from ..search_tree import ApprovalState, DeviceSearch
from ..state import OptimizeState
from .common import problem_of, report

AUTO_REVIEWER = "nobody (--auto-approve)"


def awaiting_approval(state: OptimizeState) -> list[str]:
    return [
        device for device, search in state["searches"].items()
        if search.stop is not None and search.approval is ApprovalState.NOT_ASKED
    ]


def await_approval(state: OptimizeState, runtime: Runtime[RunContext]) -> dict:
    context = runtime.context
    task = state["task"]
    device = awaiting_approval(state)[0]
    search = state["searches"][device]
    best = search.best
    if best is None:
        report("approval", device, "no accepted kernel to approve")
        return _with(state, device, search.model_copy(update={"approval": ApprovalState.NOTHING_TO_APPROVE}))
    if task.search.auto_approve and best.outcome.beats_baselines is False:
        # Unattended, only a measured win goes into the library; a person may still choose otherwise.
        report("approval", device, f"{best.id} is not faster than every baseline: not approved automatically")
        return _with(state, device, search.model_copy(update={"approval": ApprovalState.NOT_FASTER}))
    if task.search.auto_approve:
        # Nobody is shown anything: the file must still hash to what the harness verified (write_kernel checks).
        kernel = ApprovedKernel(node=best, result=context.run.read_evaluation(best.evaluation_file),
                                source=context.run.read_text(best.source_file))
        decision = ApprovalDecision(approved=True, reviewer=AUTO_REVIEWER, automatic=True,
                                    review_id=f"{context.run.run_id}:{best.id}", node_id=best.id,
                                    source_sha256=sha256_text(kernel.source))
    else:
        request = build_request(context.run, search, best, problem_name=task.problem_name,
                                reference_source=problem_of(state).source)
        # Not reported here: this node runs again when resumed, and the CLI says what waits (`pending`).
        # The run resumes with the request as the checkpoint kept it (the runner reads it there), not the
        # one just rebuilt from the run's files: a file edited since is not what the reviewer saw.
        answer = DecisionRecord.model_validate(interrupt(request.model_dump(mode="json")))
        decision = answer.decision
        check_decision(answer.request, decision)
        if not decision.approved:
            return _rejected(state, device, search, answer.request.node_id, decision)
        kernel = approved_kernel(context.run, search, answer)
    written = write_kernel(
        context.library, source=kernel.source, result=kernel.result, problem=problem_of(state), decision=decision,
        policy=task.policy, run_id=context.run.run_id, node_id=kernel.node.id,
        written_by=kernel.node.written_by.describe() if kernel.node.written_by is not None else None,
    )
    report("approval", device, f"{kernel.node.id} approved by {decision.reviewer}; library: {written}")
    state_after = ApprovalState.AUTO_APPROVED if decision.automatic else ApprovalState.APPROVED
    return _with(state, device, search.model_copy(update={"approval": state_after, "approved_node": kernel.node.id}))


def _rejected(state: OptimizeState, device: str, search: DeviceSearch, node_id: str,
              decision: ApprovalDecision) -> dict:
    comment = decision.comment or "rejected without a comment"
    report("approval", device, f"{node_id} rejected by {decision.reviewer}: {comment}; searching again")
    return _with(state, device, search.model_copy(update={
        "stop": None,
        "rounds_without_gain": 0,
        "extra_rounds": search.extra_rounds + state["task"].search.patience,
        "rejected": [*search.rejected, node_id],
        "guidance": [*search.guidance, comment],
    }))


def _with(state: OptimizeState, device: str, search: DeviceSearch) -> dict:
    return {"searches": {**state["searches"], device: search}}
