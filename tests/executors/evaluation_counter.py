"""Counting the candidates that reach a harness worker, to prove that a cached verdict never does."""

from kevolve.eval_harness import Evaluator


def count_evaluations(monkeypatch) -> list[str]:
    """Every Evaluator.evaluate from now on appends its candidate's name to the returned list."""
    calls: list[str] = []
    evaluate = Evaluator.evaluate

    def counted(self, problem, source, **kwargs):
        calls.append(kwargs.get("name", "candidate"))
        return evaluate(self, problem, source, **kwargs)

    monkeypatch.setattr(Evaluator, "evaluate", counted)
    return calls
