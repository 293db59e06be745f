"""Runs the tracing subprocess and validates what it prints."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from kevolve.eval_harness.precision import DType

from .traced import TracedProgram


class TraceFailed(RuntimeError):
    """The reference could not be traced (data-dependent control flow, an error, a timeout)."""


def trace_reference(source: str, *, config: str = "default", dtype: DType = DType.FLOAT32,
                    timeout_s: float = 120.0) -> TracedProgram:
    """The reference's traced program, its floating tensors in `dtype`; it runs in a child process, never in the
    caller."""
    with tempfile.TemporaryDirectory(prefix="kevolve-trace-") as folder:
        problem = Path(folder) / "reference.py"
        problem.write_text(source, encoding="utf-8")
        try:
            done = subprocess.run(
                [sys.executable, "-m", "kevolve.tools.offline.trace_program", str(problem), "--config", config,
                 "--dtype", dtype.value],
                capture_output=True, text=True, timeout=timeout_s, cwd=folder,
            )
        except subprocess.TimeoutExpired as exc:
            raise TraceFailed(f"tracing took longer than {timeout_s:.0f} s") from exc
    try:
        raw = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
    except json.JSONDecodeError:
        raw = None
    if raw is None:
        raise TraceFailed(f"the tracer printed nothing usable (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    if "error" in raw:
        raise TraceFailed(raw["error"])
    return TracedProgram.model_validate(raw)
