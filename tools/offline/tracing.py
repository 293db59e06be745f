"""Runs the tracing subprocess and validates what it writes.

The reference is code from a problem file, which may have come from anywhere (a shared suite, a run folder):
it is traced as the harness runs a candidate, in its own process session with an allow-listed environment
(no API keys), killed with everything it started when it overruns, and only a bounded tail of its output read.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from kevolve.eval_harness.precision import DType
from kevolve.eval_harness.worker_client import run_in_session, worker_environment

from .traced import TracedProgram


class TraceFailed(RuntimeError):
    """The reference could not be traced (data-dependent control flow, an error, a timeout)."""


def trace_reference(source: str, *, config: str = "default", dtype: DType = DType.FLOAT32,
                    timeout_s: float = 120.0) -> TracedProgram:
    """The reference's traced program, its floating tensors in `dtype`; it runs in a child process, never in the
    caller."""
    with tempfile.TemporaryDirectory(prefix="kevolve-trace-") as folder:
        problem, program = Path(folder) / "reference.py", Path(folder) / "program.json"
        problem.write_text(source, encoding="utf-8")
        done = run_in_session(
            [sys.executable, "-m", "kevolve.tools.offline.trace_program", str(problem), "--config", config,
             "--dtype", dtype.value, "--out", str(program)],
            env=worker_environment("cpu"), timeout_s=timeout_s, log_path=Path(folder) / "trace.log", cwd=Path(folder),
        )
        if done.timed_out:
            raise TraceFailed(f"tracing took longer than {timeout_s:.0f} s")
        try:
            raw = json.loads(program.read_text(encoding="utf-8")) if program.is_file() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raw = None
    if not isinstance(raw, dict):
        tail = done.output_tail.strip()[-500:]
        raise TraceFailed(f"the tracer wrote nothing usable (exit {done.returncode}): {tail}")
    if "error" in raw:
        raise TraceFailed(str(raw["error"]))
    return TracedProgram.model_validate(raw)
