from agent_factories import CANDIDATES, TESTS, plan, task
from scripted_llm import ScriptedLLM

from kevolve.agents.reviewer import ReviewRequest, review_candidate
from kevolve.tools.candidates import ReviewVerdict, Role
from kevolve.tools.llm.base import MalformedReply, TokenUsage

TRITON = (CANDIDATES / "correct_triton.py").read_text()
TORCH_ONLY = (CANDIDATES / "correct_torch.py").read_text()  # F.gelu, no kernel of its own
HYBRID_GEMM = (TESTS / "adversarial" / "legit" / "hybrid_matmul_epilogue.py").read_text()


def review(source, llm=None, policy="strict", problem="elementwise_gelu_tanh"):
    return review_candidate(ReviewRequest(task=task(problem, policy=policy), source=source, plan=plan()), llm)


def test_a_functional_fallback_is_refused_under_strict_without_asking_the_llm():
    llm = ScriptedLLM(Role.REVIEWER)
    verdict, usage = review(TORCH_ONLY, llm)
    assert not verdict.approved and usage == TokenUsage() and llm.received == []
    rules = {reason.split(":")[0] for reason in verdict.reasons}
    assert {"torch_compute", "no_custom_kernel"} <= rules
    assert any("torch.nn.functional.gelu" in r and r.endswith("(line 7)") for r in verdict.reasons)


def test_a_real_triton_kernel_is_approved():
    assert review(TRITON) == (ReviewVerdict(approved=True), TokenUsage())


def test_the_policy_decides_about_a_vendor_gemm():
    assert review(HYBRID_GEMM, policy="hybrid", problem="matmul_square")[0].approved
    assert not review(HYBRID_GEMM, policy="strict", problem="matmul_square")[0].approved


def test_unparsable_sources_and_missing_model_new_are_refused():
    syntax = review((CANDIDATES / "syntax_error.py").read_text())[0]
    assert not syntax.approved and syntax.reasons[0].startswith("syntax:")
    missing = review((CANDIDATES / "no_model_new.py").read_text())[0]
    assert not missing.approved and missing.reasons[0].startswith("missing_model_new:")


def test_the_llm_may_refuse_only_with_a_concrete_reason():
    refusal = ReviewVerdict(approved=False, reasons=["forward recomputes with F.gelu when x is small (line 30)"])
    verdict, usage = review(TRITON, ScriptedLLM(Role.REVIEWER, [refusal]))
    assert verdict == refusal and usage.calls == 1
    hedging = ReviewVerdict(approved=False, reasons=["", "  "])
    assert review(TRITON, ScriptedLLM(Role.REVIEWER, [hedging]))[0] == ReviewVerdict(approved=True)


def test_an_unreadable_review_is_no_objection():
    verdict, _ = review(TRITON, ScriptedLLM(Role.REVIEWER, [MalformedReply("prose instead of JSON")]))
    assert verdict.approved


def test_the_reviewer_sees_the_source_and_the_checks_warnings():
    source = TRITON.replace(
        "class ModelNew(nn.Module):\n",
        "class ModelNew(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.table = torch.randn(4).exp()\n\n",
    )
    llm = ScriptedLLM(Role.REVIEWER, [ReviewVerdict(approved=True)])
    assert review(source, llm)[0].approved
    prompt = llm.last_user_prompt()
    assert "_gelu_tanh_kernel" in prompt and "init_compute:" in prompt
