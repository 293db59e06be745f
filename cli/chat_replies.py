"""What the chat says about a run: its standing, its waiting kernel, its best kernel, and the help text."""

from __future__ import annotations

from kevolve.graph.approval import ApprovalRequest
from kevolve.graph.runner import OptimizationRun
from kevolve.graph.summary import format_ratio
from kevolve.tools.candidates import SearchNode

HELP = """I start and steer kernel searches. Try:
  make this layernorm faster on the H100     (a suite problem by name, or a file: optimize path/to/problem.py)
  what is the best so far?                   (rounds, best kernel and its speedups per device)
  stop and show me the kernel                (stops after the round in flight; prints the best source)
  approve it  /  reject it because <reason>  (the kernel waiting for you; a rejection searches again)
  quit"""



def speedups(eager: float | None, compiled: float | None) -> str:
    if eager is None and compiled is None:
        return "no meaningful timing on this device"
    return f"{format_ratio(eager)} vs eager, {format_ratio(compiled)} vs torch.compile"


def waiting_line(request: ApprovalRequest) -> str:
    return (f"{request.node_id} on {request.device} ({speedups(request.speedup_eager, request.speedup_compiled)}; "
            f"stopped: {request.stop_reason}) waits for you: 'show me the kernel', 'approve it' or "
            "'reject it because ...'")


def standing(optimization: OptimizationRun) -> str:
    """Where a run that is not searching stands: what waits for a person, or that it is over."""
    pending = optimization.pending()
    if pending:
        return "\n".join(waiting_line(request) for request in pending)
    return "the run is finished" if optimization.finished() else "the run is stopped"


def kernel_reply(optimization: OptimizationRun, device: str, best: SearchNode | None) -> str:
    if best is None or best.source_file is None:
        return f"{device}: no accepted kernel yet"
    outcome = best.outcome
    speed = speedups(outcome.speedup_eager, outcome.speedup_compiled) if outcome else speedups(None, None)
    return f"{device}: {best.id}, {best.plan.strategy} ({speed})\n{optimization.run.read_text(best.source_file)}"


def describe(optimization: OptimizationRun | None, *, searching: bool) -> str:
    """The session as the chat model is told it."""
    if optimization is None:
        return "No run has been started in this conversation."
    task = optimization.run.task()
    doing = "searching" if searching else "finished" if optimization.finished() else "stopped"
    lines = [f"Run {task.run_id} optimizes {task.problem_name} on {', '.join(task.devices)}: {doing}."]
    if not searching:
        lines += [f"Kernel {r.node_id} on {r.device} waits for the person's approval." for r in optimization.pending()]
    return "\n".join(lines)
