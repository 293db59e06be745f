"""The harness's public entry point: evaluate candidates against problems on one device.

Baselines are measured in a request of their own before the candidate's, then cached on disk per
problem, configuration, precision regime (its MathMode), device and software versions, so a candidate
that kills its worker never costs the baselines, and a second run of the same suite does not re-measure them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from types import TracebackType

from .problem import Problem, sha256_text
from .protocol import EvaluateRequest
from .results import BaselineTimings, CheckFinding, ErrorKind, EvalError, EvalResult, EvalStatus, Severity, Stage
from .settings import EvalSettings
from .static_checks import SYNTAX_RULE, check_source
from .worker_client import WorkerFailure, WorkerProcess

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "kevolve" / "baselines"


class Evaluator:
    """Owns one persistent worker for `device`, replacing it whenever it dies or is killed."""

    def __init__(
        self,
        device: str = "cuda:0",
        *,
        settings: EvalSettings | None = None,
        cache_dir: Path | None = None,
        use_baseline_cache: bool = True,
        artifacts_dir: Path | None = None,
    ) -> None:
        self.device = device
        self.artifacts_dir = artifacts_dir
        self.settings = settings or EvalSettings()
        self.cache_dir = cache_dir or default_cache_dir()
        self.use_baseline_cache = use_baseline_cache
        self._worker: WorkerProcess | None = None
        self.workers_started = 0

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def worker(self) -> WorkerProcess:
        """The live worker, started (or restarted) on demand; raises WorkerUnavailable."""
        if self._worker is None or not self._worker.alive:
            self._worker = WorkerProcess(self.device, host_memory_limit_bytes=self.settings.host_memory_limit_bytes)
            self._worker.start()
            self.workers_started += 1
        return self._worker

    def _send(self, request: EvaluateRequest) -> EvalResult:
        worker = self.worker()
        try:
            return worker.request(request).result
        except WorkerFailure as failure:
            logger.info("worker for %s replaced after %s", self.device, failure.error.kind.value)
            return request.result(status=EvalStatus.ERROR, error=failure.error, environment=worker.environment)

    def _artifacts(self) -> str | None:
        return str(self.artifacts_dir.resolve()) if self.artifacts_dir is not None else None

    def _cache_file(self, problem: Problem) -> Path | None:
        environment = self.worker().environment
        if environment is None:
            return None
        key = json.dumps(
            [
                problem.sha256,
                problem.primary_config(on_cpu=environment.device == "cpu"),
                self.settings.math.key,
                environment.device_name,
                environment.torch_version,
                environment.triton_version,
                self.settings.timing.model_dump(mode="json"),
                self.settings.measure_compile_baseline,
            ],
            sort_keys=True,
        )
        return self.cache_dir / f"{problem.name}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"

    def baselines(self, problem: Problem) -> EvalResult:
        """Eager and torch.compile timings of the reference (from the cache when it has them)."""
        cache = self._cache_file(problem) if self.use_baseline_cache else None
        if cache is not None and cache.is_file():
            try:
                cached = EvalResult.model_validate_json(cache.read_text())
                if cached.baselines is not None:
                    return cached.model_copy(
                        update={"baselines": cached.baselines.model_copy(update={"from_cache": True})}
                    )
            except ValueError:
                logger.warning("ignoring unreadable baseline cache %s", cache)
        result = self._send(EvaluateRequest(problem=problem, candidate_source=None, settings=self.settings,
                                            artifacts_dir=self._artifacts()))
        if cache is not None and result.status is EvalStatus.CORRECT and result.baselines is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(result.model_dump_json())
        return result

    def evaluate(
        self,
        problem: Problem,
        candidate_source: str,
        *,
        name: str = "candidate",
        baselines: BaselineTimings | None = None,
        measure_baselines: bool = True,
    ) -> EvalResult:
        """One verdict for `candidate_source`. Baselines are measured (or read) first unless given.

        If the reference itself cannot run, the returned result is that error and the candidate
        is not run: without a working reference there is nothing to judge it against. A source
        that the static checks refuse never reaches a worker.
        """
        request = EvaluateRequest(
            problem=problem,
            candidate_source=candidate_source,
            candidate_name=name,
            settings=self.settings,
            measure_baselines=False,
            artifacts_dir=self._artifacts(),
        )
        findings = self._static_findings(candidate_source)
        refusal = _refusal(request, findings)
        if refusal is not None:
            return refusal
        if baselines is None and measure_baselines:
            reference = self.baselines(problem)
            if reference.status is not EvalStatus.CORRECT:
                return reference.model_copy(update={"candidate_sha256": sha256_text(candidate_source)})
            baselines = reference.baselines
        result = self._send(request.model_copy(update={"cached_baselines": baselines}))
        update: dict = {"findings": [*findings, *result.findings]}
        if baselines is not None and result.baselines is None:
            update["baselines"] = baselines
        return result.model_copy(update=update)

    def _static_findings(self, source: str) -> list[CheckFinding]:
        if not self.settings.static_checks:
            return []
        return check_source(source, policy=self.settings.policy, math=self.settings.math)


def _refusal(request: EvaluateRequest, findings: list[CheckFinding]) -> EvalResult | None:
    """The verdict for a source whose static checks found errors; None when there are none."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if not errors:
        return None
    syntax_only = all(f.rule == SYNTAX_RULE for f in errors)
    message = "; ".join(f"line {f.line}: {f.rule}: {f.reason}" for f in errors[:8])
    return request.result(
        status=EvalStatus.ERROR if syntax_only else EvalStatus.INCORRECT,
        error=EvalError(
            kind=ErrorKind.SYNTAX_ERROR if syntax_only else ErrorKind.POLICY_VIOLATION,
            stage=Stage.STATIC_CHECK,
            message=message + (f"; and {len(errors) - 8} more" if len(errors) > 8 else ""),
        ),
        findings=findings,
    )
