"""A candidate more accurate than the float32 reference is not failed for disagreeing with its rounding."""

import textwrap

from kevolve.eval_harness import ErrorKind, EvalStatus, problem_from_source

# `(x + 1e4) - 1e4` in float32 rounds x to the spacing of floats near 1e4 (about 1e-3): up to 5e-4 from x, five
# times the fp32 tolerance. In float64 the same reference is x to within 1e-12.
ROUNDING_REFERENCE = textwrap.dedent('''
    import torch
    from torch import nn

    class Model(nn.Module):
        def forward(self, x):
            return (x + 1e4) - 1e4

    def get_inputs():
        return [torch.randn(4096)]

    def get_init_inputs():
        return []

    KEVOLVE_CONFIGS = {"small": {}}
''')

COPY_PLUS = textwrap.dedent('''
    import torch
    import triton
    import triton.language as tl
    from torch import nn

    @triton.jit
    def _shift_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offsets < n
        tl.store(y_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) + SHIFT, mask=mask)

    class ModelNew(nn.Module):
        def forward(self, x):
            y = torch.empty_like(x)
            _shift_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
            return y
''')


def _candidate(shift: float) -> str:
    return COPY_PLUS.replace("SHIFT", repr(shift))


def test_the_exact_answer_passes_where_the_float32_reference_rounds(cpu_evaluator):
    problem = problem_from_source(ROUNDING_REFERENCE, name="rounding_reference")
    result = cpu_evaluator.evaluate(problem, _candidate(0.0), name="exact")
    assert result.status is EvalStatus.CORRECT, result.error
    # The trials record how far the candidate is from the float32 reference: far more than the tolerance.
    assert result.correctness.worst_abs_error > 1e-4


def test_an_error_the_reference_does_not_share_still_fails(cpu_evaluator):
    problem = problem_from_source(ROUNDING_REFERENCE, name="rounding_reference")
    result = cpu_evaluator.evaluate(problem, _candidate(0.01), name="shifted")
    assert result.status is EvalStatus.INCORRECT
    assert result.error.kind is ErrorKind.OUTPUT_MISMATCH


# In float32 `x * 1e38 * 10` overflows to inf for most x, and dividing back keeps inf; in float64 it is 10x.
OVERFLOWING_REFERENCE = ROUNDING_REFERENCE.replace("return (x + 1e4) - 1e4", "return x * 1e38 * 10.0 / 1e38")


def test_an_overflow_in_the_reference_grants_no_slack(cpu_evaluator):
    problem = problem_from_source(OVERFLOWING_REFERENCE, name="overflowing_reference")
    scaled = COPY_PLUS.replace("+ SHIFT", "* 10.0")  # exact where the reference is finite, finite where it is inf
    result = cpu_evaluator.evaluate(problem, scaled, name="scaled")
    assert result.status is EvalStatus.INCORRECT, "10x where the reference says inf is not the reference's answer"
    assert result.error.kind is ErrorKind.OUTPUT_MISMATCH
