"""Node: a stopped device's best kernel waits for a person (LangGraph's interrupt), then goes to the library.

A rejection with a comment sends the device back to searching, the comment becoming guidance that
every later plan and candidate of that device is given.
"""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from ..approval import ApprovalDecision, build_request
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
        decision = ApprovalDecision(approved=True, reviewer=AUTO_REVIEWER, automatic=True)
    else:
        request = build_request(context.run, search, best, problem_name=task.problem_name,
                                reference_source=problem_of(state).source)
        # Not reported here: this node runs again when resumed, and the CLI says what waits (`pending`).
        decision = ApprovalDecision.model_validate(interrupt(request.model_dump(mode="json")))
    if decision.approved:
        kernel = write_kernel(
            context.library, source=context.run.read_text(best.source_file),
            result=context.run.read_evaluation(best.evaluation_file), problem=problem_of(state), decision=decision,
            policy=task.policy, run_id=context.run.run_id, node_id=best.id,
        )
        report("approval", device, f"{best.id} approved by {decision.reviewer}; library: {kernel}")
        state_after = ApprovalState.AUTO_APPROVED if decision.automatic else ApprovalState.APPROVED
        return _with(state, device, search.model_copy(update={"approval": state_after, "approved_node": best.id}))
    comment = decision.comment or "rejected without a comment"
    report("approval", device, f"{best.id} rejected by {decision.reviewer}: {comment}; searching again")
    return _with(state, device, search.model_copy(update={
        "stop": None,
        "rounds_without_gain": 0,
        "extra_rounds": search.extra_rounds + task.search.patience,
        "rejected": [*search.rejected, best.id],
        "guidance": [*search.guidance, comment],
    }))


def _with(state: OptimizeState, device: str, search: DeviceSearch) -> dict:
    return {"searches": {**state["searches"], device: search}}
