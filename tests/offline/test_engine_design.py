"""What the engine tells the planner: its fusion plan, or why it writes nothing, per policy."""

from __future__ import annotations

from kevolve.eval_harness.problem import load_problem
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.tools.offline.engine import OfflineEngine


def _design(problem: str, policy: str):
    return OfflineEngine().design(load_problem(SUITE_DIR / f"{problem}.py").source, policy)


def test_a_linear_stays_with_cublas_under_hybrid_and_becomes_a_triton_gemm_under_strict() -> None:
    hybrid = _design("fusion_linear_hardtanh_residual", "hybrid")
    strict = _design("fusion_linear_hardtanh_residual", "strict")
    assert hybrid.supported and hybrid.vendor_calls == ["torch.nn.functional.linear"]
    assert [g.kind for g in hybrid.groups] == ["pointwise"]
    assert strict.supported and not strict.vendor_calls
    assert [g.kind for g in strict.groups] == ["gemm"] and strict.groups[0].operations[0] == "linear"


def test_what_has_no_generator_is_named() -> None:
    convolution = _design("conv_2d", "strict")
    assert not convolution.supported and "conv2d" in convolution.reason
    attention = _design("attention_sdpa", "strict")
    assert not attention.supported and "sdpa" in attention.describe()


def test_attention_stays_pytorchs_kernel_under_hybrid_and_what_surrounds_it_is_fused() -> None:
    alone = _design("attention_sdpa", "hybrid")
    assert not alone.supported and "nothing to fuse" in alone.reason
    block = _design("block_transformer_prenorm", "hybrid")
    assert block.supported and "torch.nn.functional.scaled_dot_product_attention" in block.vendor_calls
    # Each norm is one kernel, the second with the residual add before it.
    assert [g.kind for g in block.groups].count("reduction") == 2


def test_a_loop_on_the_inputs_values_is_declined_at_its_line() -> None:
    # The reference decides how many steps to take from a value it reads: tracing cannot follow it, and the
    # reason says where, so a person sees which loop stopped the engine.
    design = _design("recsys_hstu_jagged_attention", "hybrid")
    assert not design.supported and "control flow" in design.reason
    assert "at the reference's line" in design.reason and "lengths.max()" in design.reason


def test_settings_that_shape_the_forward_are_listed_as_kept() -> None:
    # A step count and a flag decide which steps are traced; alpha / r is one constant that two attributes move.
    from offline_helpers import reference_module

    source = reference_module("""
        class Model(nn.Module):
            def __init__(self, steps, residual, alpha, r):
                super().__init__()
                self.steps, self.residual, self.alpha, self.r = steps, residual, alpha, r

            def forward(self, x):
                y = x
                for _ in range(self.steps):
                    y = torch.tanh(y)
                if self.residual:
                    y = y + x
                return y * (self.alpha / self.r)
        """, "[torch.randn(4, 8)]", "[3, True, 16.0, 4]")
    design = OfflineEngine().design(source, "hybrid")
    assert design.supported
    kept = " | ".join(design.baked)
    assert "depend on steps" in kept and "depend on residual" in kept and "depends on alpha and r" in kept, kept


def test_a_tuple_setting_passed_whole_is_read_at_run_time_and_one_taken_apart_is_kept() -> None:
    from offline_helpers import reference_module

    def design_of(use: str):
        return OfflineEngine().design(reference_module(f"""
            class Model(nn.Module):
                def __init__(self, size):
                    super().__init__()
                    self.size = size

                def forward(self, x):
                    return {use}
            """, "[torch.randn(2, 3, 8, 8)]", "[(2, 4)]"), "hybrid")

    whole = design_of("F.max_pool2d(x, self.size), F.adaptive_avg_pool2d(x, self.size)")
    assert whole.supported and not whole.baked
    apart = design_of("F.max_pool2d(x, self.size) * self.size[0]")
    assert apart.supported and "constants depend on size" in " | ".join(apart.baked)
