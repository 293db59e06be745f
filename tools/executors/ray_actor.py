"""What a Ray actor runs: the coordinator of one device's harness worker, on the node that has the device.

The actor process never executes a candidate: its Evaluator starts the harness's sandboxed worker
subprocess, as the local executor does, and replaces it when a candidate kills it. Everything that
crosses the cluster is JSON (the results model's own), never an unpickled object from a worker.
"""

from __future__ import annotations

from pathlib import Path

from kevolve.eval_harness.evaluator import Evaluator
from kevolve.eval_harness.problem import Problem
from kevolve.eval_harness.settings import EvalSettings

from .reference import ReferenceVerdicts


class EvaluationActor:
    """Ray places one per GPU (`num_gpus=1`: Ray sets CUDA_VISIBLE_DEVICES, so the GPU is `cuda:0` here)."""

    def __init__(self, device: str, settings_json: str, *, cache_dir: str | None, use_baseline_cache: bool,
                 artifacts_dir: str | None) -> None:
        self._evaluator = Evaluator(
            device, settings=EvalSettings.model_validate_json(settings_json),
            cache_dir=Path(cache_dir) if cache_dir else None, use_baseline_cache=use_baseline_cache,
            artifacts_dir=Path(artifacts_dir) if artifacts_dir else None,
        )
        self._references = ReferenceVerdicts(self._evaluator)

    def describe(self) -> tuple[str, str, str]:
        """(the worker's Environment as JSON, this node's address, the device as this node numbers it)."""
        import ray

        environment = self._evaluator.worker().environment
        assert environment is not None, "a started worker has reported its environment"
        gpu_ids = ray.get_gpu_ids()
        device = f"cuda:{gpu_ids[0]}" if gpu_ids else self._evaluator.device
        return environment.model_dump_json(), ray.util.get_node_ip_address(), device

    def baselines(self, problem_json: str) -> str:
        return self._references.get(Problem.model_validate_json(problem_json)).model_dump_json()

    def evaluate(self, problem_json: str, source: str, name: str) -> str:
        problem = Problem.model_validate_json(problem_json)
        return self._references.evaluate(problem, source, name=name).model_dump_json()

    def close(self) -> None:
        self._evaluator.close()
