"""Correctness trials: fresh seeds and inputs each time, candidate first, into poisoned memory.

Order matters. The candidate runs before the reference, on its own copy of the inputs, after the
allocator's free memory was filled with NaN: a kernel that leaves its output unwritten cannot
inherit the reference's freshly freed result. Inputs must be bit-identical afterwards,
and on the first trial the candidate runs twice on the same inputs and must agree with itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .failures import StageFailure, candidate_failure
from .float64_arbiter import judge_outputs
from .instances import ProblemInstance, call_model, run_into_poisoned_memory
from .results import CorrectnessReport, ErrorKind, EvalStatus, InputSignature, Stage, Tolerance, TrialOutcome
from .signatures import input_signature
from .tensors import OutputCheck, as_output_list, clone_all, compare_outputs, same_bits, scrub


def _run_candidate(model: nn.Module, inputs: list[Any], device: torch.device) -> list[Any]:
    try:
        return run_into_poisoned_memory(model, inputs, device)
    except Exception as exc:
        raise candidate_failure(exc, Stage.CORRECTNESS) from exc


def _outcome(
    instance: ProblemInstance, seed: int, check: OutputCheck, signature: InputSignature | None = None
) -> TrialOutcome:
    return TrialOutcome(
        config=instance.config,
        seed=seed,
        passed=check.kind is None,
        signature=signature,
        max_abs_error=check.max_abs_error,
        max_rel_error=check.max_rel_error,
        mismatched_elements=check.mismatched,
        total_elements=check.total,
    )


def _fail(
    check: OutputCheck, instance: ProblemInstance, seed: int, prefix: str, kind: ErrorKind | None = None
) -> StageFailure:
    return StageFailure(
        kind or check.kind or ErrorKind.OUTPUT_MISMATCH,
        Stage.CORRECTNESS,
        f"{prefix}: {check.message}",
        status=EvalStatus.INCORRECT,
        failed_trial=_outcome(instance, seed, check),
    )


def run_trial(
    instance: ProblemInstance,
    candidate_cls: type,
    seed: int,
    tolerance: Tolerance,
    *,
    check_self_agreement: bool,
) -> TrialOutcome:
    """One trial; raises StageFailure with the reason when the candidate is wrong."""
    where = f"config {instance.config}, seed {seed}"
    reference_model = instance.reference(seed)
    candidate_model = instance.candidate(candidate_cls, seed)
    inputs = instance.inputs(seed)
    candidate_inputs = clone_all(inputs)
    produced: list[Any] = []  # every output obtained here, scrubbed however the trial ends
    try:
        candidate_out = _run_candidate(candidate_model, candidate_inputs, instance.device)
        produced += candidate_out
        # `inputs` is untouched until the reference runs below: it is the pristine copy to compare with.
        if not same_bits(candidate_inputs, inputs):
            raise StageFailure(
                ErrorKind.INPUT_MUTATED, Stage.CORRECTNESS, f"{where}: the candidate wrote to its inputs",
                status=EvalStatus.INCORRECT,
            )
        try:
            raw_reference_out = call_model(reference_model, inputs)
            reference_out = as_output_list(raw_reference_out)
        except Exception as exc:
            raise StageFailure(
                ErrorKind.PROBLEM_INVALID, Stage.CORRECTNESS, f"the reference failed: {exc}",
                status=EvalStatus.ERROR,
            ) from exc
        produced += reference_out
        check = judge_outputs(candidate_out, reference_out, instance, seed, seed, tolerance)
        if check.kind is not None:
            raise _fail(check, instance, seed, where)
        if check_self_agreement:
            again = _run_candidate(candidate_model, candidate_inputs, instance.device)
            produced += again
            agreement = compare_outputs(again, candidate_out, tolerance)
            if agreement.kind is not None:
                raise _fail(
                    agreement, instance, seed, f"{where}, second run on the same inputs", ErrorKind.NONDETERMINISTIC
                )
        signature = input_signature(instance.init_inputs(), inputs, reference_model, raw_reference_out)
        return _outcome(instance, seed, check, signature)
    finally:
        scrub(produced, keep=[*inputs, *candidate_inputs, *_state(reference_model), *_state(candidate_model)])


def _state(model: nn.Module) -> list[torch.Tensor]:
    return [*model.parameters(), *model.buffers()]


def _report(trials: list[TrialOutcome], tolerance: Tolerance, configs: list[str]) -> CorrectnessReport:
    abs_errors = [t.max_abs_error for t in trials if t.max_abs_error is not None]
    rel_errors = [t.max_rel_error for t in trials if t.max_rel_error is not None]
    return CorrectnessReport(
        passed=all(t.passed for t in trials),
        tolerance=tolerance,
        trials=trials,
        worst_abs_error=max(abs_errors, default=None),
        worst_rel_error=max(rel_errors, default=None),
        configs_checked=configs,
    )


def _as_shape_specialised(failure: StageFailure, primary: str, config: str) -> StageFailure:
    if failure.kind in (ErrorKind.PROBLEM_INVALID, ErrorKind.DEVICE_OUT_OF_MEMORY):
        return failure
    return StageFailure(
        ErrorKind.SHAPE_SPECIALISED,
        Stage.CORRECTNESS,
        f"correct on {primary} but not on {config} ({failure.kind.value}): {failure.message}",
        status=EvalStatus.INCORRECT,
        failed_trial=failure.failed_trial,
    )


def run_correctness(
    instance_for: Callable[[str], ProblemInstance],
    candidate_cls: type,
    *,
    primary: str,
    extras: list[str],
    seeds: list[int],
    extra_trials: int,
    tolerance: Tolerance,
) -> CorrectnessReport:
    """All trials on the primary config, then `extra_trials` on each extra config.

    A candidate right on the primary shape but wrong (or crashing) on another is reported as
    shape-specialised, keeping the underlying reason in the message. A failure carries the report
    of the trials so far, its own included, so the verdict shows the error figures.
    """
    configs = [primary, *extras]
    plan = [(primary, seed, index == 0) for index, seed in enumerate(seeds)]
    plan += [(config, seed, False) for config in extras for seed in seeds[:extra_trials]]
    trials: list[TrialOutcome] = []
    for config, seed, self_agreement in plan:
        try:
            trials.append(
                run_trial(instance_for(config), candidate_cls, seed, tolerance, check_self_agreement=self_agreement)
            )
        except StageFailure as failure:
            if config != primary:
                failure = _as_shape_specialised(failure, primary, config)
            if failure.failed_trial is not None:
                failure.correctness = _report([*trials, failure.failed_trial], tolerance, configs)
            raise failure from None
    return _report(trials, tolerance, configs)
