"""The Ray executor: a long-lived actor per GPU on every node of a Ray cluster (Ray is an optional dependency).

A dead actor (killed, its node lost) costs the candidate it was judging, recorded as an error
result, and is replaced on the same node before the next request. The harness's stage timeouts
run inside the actor's worker; the caller adds one backstop, past which it replaces the actor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kevolve.eval_harness.problem import Problem
from kevolve.eval_harness.protocol import EvaluateRequest
from kevolve.eval_harness.results import Environment, ErrorKind, EvalError, EvalResult, EvalStatus, Stage
from kevolve.eval_harness.settings import EvalSettings
from kevolve.eval_harness.worker_client import READY_TIMEOUT_SECONDS, WorkerUnavailable

from .errors import ExecutorUnavailable
from .executor import Executor
from .ray_actor import EvaluationActor
from .result_cache import ResultCache
from .settings import ExecutorSettings
from .slots import DeviceSlot

logger = logging.getLogger(__name__)

Spawn = Callable[[], Any]  # starts a fresh actor where this slot's device is


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorUnavailable("the ray executor needs Ray: pip install 'kevolve[ray]'") from None
    return ray


def call_timeout_s(settings: EvalSettings) -> float:
    """The backstop for one request: a worker start and every stage at its own limit, baselines included."""
    return READY_TIMEOUT_SECONDS + sum(settings.timeouts.model_dump().values())


class RaySlot(DeviceSlot):
    def __init__(self, spawn: Spawn, actor: Any, description: Any, *, settings: EvalSettings,
                 instance: int | None = None) -> None:
        self._ray = import_ray()
        self._spawn = spawn
        self._settings = settings
        self.actor = actor
        self.replacements = 0
        self.lost = False  # no replacement could start: the device no longer takes requests
        environment, host, device = self._described(description)
        super().__init__(device, host=host, instance=instance)
        self._environment = environment

    def _described(self, description: Any) -> tuple[Environment, str, str]:
        try:
            environment_json, host, device = self._ray.get(description, timeout=READY_TIMEOUT_SECONDS)
        except self._ray.exceptions.RayTaskError as exc:
            raise WorkerUnavailable(f"an evaluation actor could not start its worker: {exc}") from None
        except (self._ray.exceptions.RayActorError, self._ray.exceptions.GetTimeoutError) as exc:
            raise ExecutorUnavailable(f"an evaluation actor did not start: {exc}") from None
        return Environment.model_validate_json(environment_json), host, device

    @property
    def environment(self) -> Environment:
        return self._environment

    def matches(self, target: str) -> bool:
        return not self.lost and super().matches(target)

    def baselines(self, problem: Problem) -> EvalResult:
        request = EvaluateRequest(problem=problem, candidate_source=None, settings=self._settings)
        return self._call(request, self.actor.baselines.remote(problem.model_dump_json()))

    def evaluate(self, problem: Problem, source: str, *, name: str) -> EvalResult:
        request = EvaluateRequest(problem=problem, candidate_source=source, candidate_name=name,
                                  settings=self._settings)
        return self._call(request, self.actor.evaluate.remote(problem.model_dump_json(), source, name))

    def _call(self, request: EvaluateRequest, reply: Any) -> EvalResult:
        exceptions = self._ray.exceptions
        try:
            return EvalResult.model_validate_json(self._ray.get(reply, timeout=call_timeout_s(self._settings)))
        except exceptions.RayTaskError as exc:
            # The actor lives but raised: as the local executor, a device that cannot serve is WorkerUnavailable.
            if isinstance(exc.cause, WorkerUnavailable):
                raise WorkerUnavailable(f"{self.label}: {exc.cause}") from None
            raise
        except exceptions.GetTimeoutError:
            error = EvalError(kind=ErrorKind.TIMEOUT, stage=Stage.DISPATCH,
                              message=f"the actor for {self.label} gave no verdict within "
                                      f"{call_timeout_s(self._settings):.0f} s; it was replaced")
        except exceptions.RayActorError as exc:
            error = EvalError(kind=ErrorKind.WORKER_CRASHED, stage=Stage.DISPATCH,
                              message=f"the actor for {self.label} died during the request ({type(exc).__name__}); "
                                      "it was replaced")
        logger.warning("%s", error.message)
        self._replace()
        return request.result(status=EvalStatus.ERROR, error=error, environment=self._environment)

    def _replace(self) -> None:
        self._ray.kill(self.actor, no_restart=True)
        self.replacements += 1
        try:
            self.actor = self._spawn()
            self._environment, self.host, self.device = self._described(self.actor.describe.remote())
        except WorkerUnavailable as exc:
            logger.error("%s is out of service: %s", self.label, exc)
            self.lost = True

    def close(self) -> None:
        if self.lost:
            return
        try:
            self._ray.get(self.actor.close.remote(), timeout=30)
        except (self._ray.exceptions.RayError, TimeoutError):
            logger.info("the actor for %s did not close cleanly", self.label)
        self._ray.kill(self.actor, no_restart=True)


class RayExecutor(Executor):
    """Joins the cluster (or starts a local Ray), then places an actor on each GPU of each live node."""

    def __init__(
        self,
        settings: EvalSettings | None = None,
        *,
        executor: ExecutorSettings,
        cache: ResultCache | None = None,
        cache_dir: Path | None = None,
        use_baseline_cache: bool = True,
        artifacts_dir: Path | None = None,
    ) -> None:
        super().__init__(settings or EvalSettings(), cache=cache)
        self._ray = ray = import_ray()
        self._started_ray = not ray.is_initialized()
        if self._started_ray:
            try:
                ray.init(address=executor.ray_address, log_to_driver=False, include_dashboard=False)
            except (ConnectionError, RuntimeError) as exc:
                raise ExecutorUnavailable(f"cannot join the Ray cluster at {executor.ray_address}: {exc}") from None
        self._actor_class = ray.remote(EvaluationActor)
        self._actor_options = {
            "cache_dir": str(cache_dir) if cache_dir else None,
            "use_baseline_cache": use_baseline_cache,
            "artifacts_dir": str(artifacts_dir) if artifacts_dir else None,
        }
        gpu_spawns = self._gpu_spawns(executor.ray_max_gpus)
        spawns = gpu_spawns + [self._spawn_cpu] * executor.ray_cpu_actors
        if not spawns:
            self.close()
            raise ExecutorUnavailable("the Ray cluster has no GPU, and no CPU actors were asked for")
        actors = [spawn() for spawn in spawns]
        # Every actor starts its worker at once; the slots then wait for each in turn.
        descriptions = [actor.describe.remote() for actor in actors]
        try:
            for number, (spawn, actor, description) in enumerate(zip(spawns, actors, descriptions, strict=True)):
                # A GPU is one device of its node; CPU actors share the node's `cpu` and are told apart by number.
                instance = number - len(gpu_spawns) if number >= len(gpu_spawns) else None
                self.router.add(RaySlot(spawn, actor, description, settings=self.settings, instance=instance))
        except WorkerUnavailable:
            for actor in actors:
                ray.kill(actor, no_restart=True)
            self.close()
            raise

    def _open_devices(self, target: str) -> None:
        """Every actor was placed when the executor opened."""

    def _gpu_spawns(self, limit: int | None) -> list[Spawn]:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        spawns: list[Spawn] = []
        for node in self._ray.nodes():
            if not node.get("Alive"):
                continue
            strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
            for _ in range(int(node.get("Resources", {}).get("GPU", 0))):
                spawns.append(lambda strategy=strategy: self._actor_class.options(
                    num_gpus=1, num_cpus=1, scheduling_strategy=strategy).remote("cuda:0", **self._actor_arguments()))
        return spawns[:limit] if limit is not None else spawns

    def _spawn_cpu(self) -> Any:
        return self._actor_class.options(num_cpus=1).remote("cpu", **self._actor_arguments())

    def _actor_arguments(self) -> dict[str, Any]:
        return {"settings_json": self.settings.model_dump_json(), **self._actor_options}

    def close(self) -> None:
        super().close()
        if self._started_ray:
            self._ray.shutdown()
