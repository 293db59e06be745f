import jinja2
import pytest
from agent_factories import GUIDANCE, KNOWLEDGE, accepted, diagnosis, failed, node, plan, task
from langchain_core.messages import HumanMessage, SystemMessage

from kevolve.agents.prompting import messages, render
from kevolve.agents.strategies import strategies_for
from kevolve.tools.candidates import Operator

PARENT = node("p1", outcome=accepted(1.42, 37.5), diagnosed=diagnosis("launch overhead", "fuse the three kernels"))
BROKEN = node("b1", outcome=failed("runtime_error", "IndexError: offsets out of range"))

# Each role's variables, with values that must each leave a visible trace in the rendered prompt.
VARIABLES = {
    "planner": dict(
        task=task(), nodes=[PARENT, BROKEN], parents=[PARENT], repairable=[BROKEN], failed_strategies=["split-k"],
        guidance=[GUIDANCE], knowledge=KNOWLEDGE, count=3, strategies=strategies_for(task().reference_source),
    ),
    "coder": dict(
        task=task(), plan=plan(Operator.IMPROVE, ("p1",), "fuse the three kernels", 1.5),
        parents=[("p1", "# parent p1 source")], error="IndexError: offsets out of range",
        diagnosis=diagnosis("launch overhead", "fuse the three kernels"), knowledge=KNOWLEDGE, guidance=[GUIDANCE],
    ),
    "reviewer": dict(task=task(), plan=plan(), source="# candidate source", warnings=["cuda_graph: captured (line 3)"]),
    "analyst": dict(task=task(), node=BROKEN, parent=PARENT, profile_summary="vs eager: 1.42x (faster)"),
}
TRACES = {
    "planner": ["p1", "b1", "1.42x", "37.5%", "fuse the three kernels", "IndexError: offsets out of range",
                "split-k", GUIDANCE, KNOWLEDGE, "at most 3 plans", "single fused kernel"],
    "coder": ["# parent p1 source", "IndexError: offsets out of range", "launch overhead", "1.50x", GUIDANCE,
              KNOWLEDGE],
    "reviewer": ["# candidate source", "cuda_graph: captured (line 3)"],
    "analyst": ["b1", "IndexError: offsets out of range", "p1", "1.42x",
                "vs eager: 1.42x (faster)"],
}
COMMON = ["elementwise_gelu_tanh", "NVIDIA H100 80GB HBM3", "h100_sxm", "strict", "float32", "floor 1.28 ms",
          "approximate=\"tanh\""]


@pytest.mark.parametrize("role", VARIABLES)
def test_every_variable_leaves_its_trace(role):
    system, user = messages(role, **VARIABLES[role])
    assert isinstance(system, SystemMessage) and isinstance(user, HumanMessage)
    for trace in TRACES[role] + COMMON:
        assert trace in user.content, f"{role}: {trace!r} missing from the user prompt"
    assert "{{" not in system.content + user.content and "{%" not in system.content + user.content


@pytest.mark.parametrize(("role", "missing"), [(role, name) for role, names in VARIABLES.items() for name in names])
def test_a_missing_variable_is_an_error_that_names_it(role, missing):
    variables = {name: value for name, value in VARIABLES[role].items() if name != missing}
    with pytest.raises(jinja2.UndefinedError, match=f"'{missing}' is undefined"):
        messages(role, **variables)


def test_an_unknown_prompt_is_an_error():
    with pytest.raises(jinja2.TemplateNotFound):
        render("no_such_role_system")


def test_the_coders_reask_quotes_the_problem():
    assert "no module here" in render("coder_reask", problem="no module here")
    with pytest.raises(jinja2.UndefinedError, match="'problem' is undefined"):
        render("coder_reask")
