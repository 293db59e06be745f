"""kevolve's evaluation harness: problems, sandboxed workers, correctness, timing and scores.

It imports nothing from LangChain or the agents, so it runs alone on a bare GPU box.
"""

from .evaluator import Evaluator
from .problem import Problem, ProblemLoadError, load_problem, load_problems, problem_from_source
from .results import ErrorKind, EvalResult, EvalStatus, Stage
from .settings import DType, EvalSettings, TimingSettings

__all__ = [
    "DType",
    "ErrorKind",
    "EvalResult",
    "EvalSettings",
    "EvalStatus",
    "Evaluator",
    "Problem",
    "ProblemLoadError",
    "Stage",
    "TimingSettings",
    "load_problem",
    "load_problems",
    "problem_from_source",
]
