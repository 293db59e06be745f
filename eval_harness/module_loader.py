"""Turns source text into a module inside the worker (never in the caller).

Sources are written to a file first: Triton's `@jit` reads a kernel's source through `inspect`,
which needs a real file, and tracebacks then show the candidate's own lines.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from .problem import sha256_text


def module_from_source(
    source: str, *, stem: str, workdir: Path, overrides: dict[str, Any] | None = None
) -> ModuleType:
    """Executes `source` as a fresh module; `overrides` replace module-level constants afterwards.

    Overrides are applied after execution so that `get_inputs()` and `get_init_inputs()`, which
    read the size constants when called, see the configuration's sizes: that is how a KernelBench
    file gets extra shapes without being edited. Exceptions from the module propagate.
    """
    digest = sha256_text(source)[:16]
    name = f"kevolve_src_{_safe(stem)}_{digest}"
    file = workdir / f"{name}.py"
    if not file.exists():
        file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot create a module from {file}")
    module = importlib.util.module_from_spec(spec)
    # Registered so that pickling, dataclasses and Triton's caches can find the module by name.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    module.__dict__.update(overrides or {})
    return module


def _safe(stem: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in stem)[:40]
