import pytest
from agent_factories import accepted, diagnosis, failed, node, plan, task
from scripted_llm import ScriptedLLM

from kevolve.agents.analyst import AnalysisRequest, ProfileFacts, analyze_candidate
from kevolve.eval_harness.profile_summary import render_profile_summary
from kevolve.eval_harness.results import EvalResult, EvalStatus, KernelProfile, KernelStat, SpeedOfLight
from kevolve.tools.candidates import Operator, Role
from kevolve.tools.llm.base import MalformedReply, TokenUsage

IMPROVE = plan(Operator.IMPROVE, ("p",), "address memory bandwidth", expected_gain=1.2)


def summary(percent: float, *, bound: str = "memory", launches: int = 1, launch_bound: bool = False) -> EvalResult:
    """A measured result, which the graph passes on as its rendering and its facts."""
    light = SpeedOfLight(flops=0, bytes=4_294_967_296, peak_tflops=67.0, peak_unit="fp32", bandwidth_gbps=3350.0,
                         flop_floor_ms=0.0, byte_floor_ms=1.28, floor_ms=1.28, bound=bound)
    kernels = [KernelStat(name=f"k{i}", launches_per_call=1, device_ms_per_call=0.5, share=1 / launches)
               for i in range(launches)]
    profile = KernelProfile(source="torch.profiler", calls_profiled=5, kernels=kernels,
                            launches_per_call=launches, launch_bound=launch_bound)
    return EvalResult(
        problem="elementwise_gelu_tanh", problem_sha256="0" * 64, candidate_sha256=None, dtype="float32",
        status=EvalStatus.CORRECT, speed_of_light=light, percent_of_light=percent, profile=profile,
    )


def analyze(candidate, parent=None, profile=None, llm=None):
    request = AnalysisRequest(
        task=task(), node=candidate, parent=parent,
        profile_summary=render_profile_summary(profile) if profile is not None else "",
        facts=ProfileFacts.from_result(profile) if profile is not None else ProfileFacts(),
    )
    return analyze_candidate(request, llm)


def test_a_failure_is_a_correctness_bottleneck_with_a_fix():
    result, usage = analyze(node("n", outcome=failed("output_mismatch", "max abs error 0.3 at [12, 7]")))
    assert result.bottleneck == "correctness: output_mismatch" and usage == TokenUsage()
    assert "indexing" in result.guidance and "max abs error 0.3" in result.guidance
    assert result.expectation_met is None  # no parent to compare with


def test_a_memory_bound_candidate_far_from_the_floor_is_told_to_move_fewer_bytes():
    result, _ = analyze(node("n", outcome=accepted(1.5, 40.0)), profile=summary(40.0))
    assert result.bottleneck == "memory bandwidth" and "40%" in result.headroom
    assert "h100_sxm" in result.knowledge_query and "gelu" in result.knowledge_query
    assert result.bottleneck in result.knowledge_query


def test_close_to_the_floor_there_is_little_headroom():
    result, _ = analyze(node("n", outcome=accepted(2.0, 85.0)), profile=summary(85.0))
    assert "little headroom" in result.headroom


@pytest.mark.parametrize(("launches", "launch_bound"), [(1, True), (6, False)])
def test_many_launches_are_to_be_fused(launches, launch_bound):
    result, _ = analyze(node("n", outcome=accepted(1.1, 30.0)),
                        profile=summary(30.0, launches=launches, launch_bound=launch_bound))
    assert result.bottleneck == "launch overhead" and "fuse" in result.guidance


@pytest.mark.parametrize(("fitness", "parent_fitness", "met"), [
    (1.19, 1.0, True),  # within the 2% slack of the promised 1.2x
    (1.10, 1.0, False),
    (0.0, 1.0, False),  # the improvement broke the kernel
    (None, None, None),  # timings not meaningful (CPU)
    (1.3, None, None),
])
def test_the_expectation_is_judged_from_the_measured_fitness(fitness, parent_fitness, met):
    parent = node("p", outcome=accepted(parent_fitness))
    outcome = accepted(fitness) if fitness != 0.0 else failed()
    assert analyze(node("n", outcome=outcome, made_by=IMPROVE), parent)[0].expectation_met is met


def test_the_llm_diagnoses_but_the_numbers_decide_the_expectation():
    claimed = diagnosis("register spills", "fewer live values per program").model_copy(update={"expectation_met": True})
    llm = ScriptedLLM(Role.ANALYST, [claimed])
    parent = node("p", outcome=accepted(1.0))
    result, usage = analyze(node("n", outcome=accepted(1.05), made_by=IMPROVE), parent, summary(40.0), llm)
    assert result.bottleneck == "register spills" and result.expectation_met is False and usage.calls == 1
    prompt = llm.last_user_prompt()
    assert "40.0% of speed of light" in prompt and "address memory bandwidth" in prompt


def test_a_malformed_analysis_falls_back_to_the_offline_reading():
    llm = ScriptedLLM(Role.ANALYST, [MalformedReply("no JSON")])
    result, _ = analyze(node("n", outcome=accepted(1.5, 40.0)), profile=summary(40.0), llm=llm)
    assert result.bottleneck == "memory bandwidth"


def test_a_node_without_outcome_cannot_be_analysed():
    with pytest.raises(ValueError, match="no outcome"):
        analyze(node("n"))
