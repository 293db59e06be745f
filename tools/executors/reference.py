"""A device's reference verdicts: measured (or read from the disk cache) once per problem, then every
candidate on that device is compared with those same figures."""

from __future__ import annotations

from kevolve.eval_harness.evaluator import Evaluator
from kevolve.eval_harness.problem import Problem, sha256_text
from kevolve.eval_harness.results import EvalResult, EvalStatus


class ReferenceVerdicts:
    """Not thread-safe: its device's slot is held by one evaluation at a time."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self._verdicts: dict[tuple[str, str], EvalResult] = {}

    def get(self, problem: Problem) -> EvalResult:
        key = (problem.name, problem.sha256)
        if key not in self._verdicts:
            result = self.evaluator.baselines(problem)
            # A failed reference is not kept: a timeout or a lost worker may not happen on the next try.
            if result.status is not EvalStatus.CORRECT:
                return result
            self._verdicts[key] = result
        return self._verdicts[key]

    def evaluate(self, problem: Problem, source: str, *, name: str) -> EvalResult:
        reference = self.get(problem)
        if reference.status is not EvalStatus.CORRECT:
            # As Evaluator.evaluate does: without a working reference there is nothing to judge against.
            return reference.model_copy(update={"candidate_sha256": sha256_text(source)})
        return self.evaluator.evaluate(problem, source, name=name, baselines=reference.baselines)
