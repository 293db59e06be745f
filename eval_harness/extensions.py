"""CUDA C++ candidates (torch.utils.cpp_extension.load_inline) in the worker: where they build, and
what a failed build means for the repair that follows.

Build folders are keyed by the candidate's content hash. PyTorch keys them by the extension's
name alone, and generated candidates all pick names like "fused_ext": two candidates with the same
name rebuild each other's folder in turn, and workers on other GPUs race on its lock. Keyed by
content, a candidate seen before (the same source in a later run, on another GPU, in re-validation)
loads its cached build in about a second, and different sources never share a folder.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from .problem import sha256_text
from .results import CompilerDiagnostic

_BUILD_ROOT_VARIABLE = "TORCH_EXTENSIONS_DIR"
# The root the worker started with (a user's choice is kept); read at import, before any request
# points the variable at a candidate's own folder.
_STARTING_ROOT = os.environ.get(_BUILD_ROOT_VARIABLE)

# gcc/clang: "main.cpp:12:5: error: ..."; nvcc: "cuda.cu(12): error: ..."
_GCC_ERROR = re.compile(
    r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+):(?:(?P<column>\d+):)?\s*(?:fatal )?error:\s*(?P<message>.+)$", re.MULTILINE
)
_NVCC_ERROR = re.compile(
    r"^(?P<file>[^\s(][^(\n]*)\((?P<line>\d+)\):\s*(?:catastrophic )?error:?\s*(?P<message>.+)$", re.MULTILINE
)
_ANY_ERROR = re.compile(r"^.*\berror\b.*$", re.MULTILINE | re.IGNORECASE)
_CONTEXT_LINES = 3
_TAIL_CHARS = 3000


def build_root() -> Path:
    if _STARTING_ROOT:
        return Path(_STARTING_ROOT)
    from torch.utils.cpp_extension import get_default_build_root

    return Path(get_default_build_root())


def use_content_build_folder(source: str) -> Path:
    """Points load_inline's builds, for the rest of this request, at the folder of `source`'s content hash.

    The worker serves one request at a time, and this variable is how load_inline (called by the
    candidate, not by us) learns where to build.
    """
    folder = build_root() / f"kevolve-{sha256_text(source)[:16]}"
    os.environ[_BUILD_ROOT_VARIABLE] = str(folder)
    return folder


def build_output(exc: BaseException) -> str | None:
    """The compiler output of a failed load_inline build, or None if `exc` is not one.

    load_inline runs ninja and raises RuntimeError from the CalledProcessError, which keeps the
    build's output: recognised by those types and the command, not by the message's words.
    """
    cause = exc.__cause__
    if not isinstance(exc, RuntimeError) or not isinstance(cause, subprocess.CalledProcessError):
        return None
    command = cause.cmd if isinstance(cause.cmd, list | tuple) else str(cause.cmd).split()
    if not command or Path(str(command[0])).name != "ninja":
        return None
    output = cause.output or b""
    return output.decode(errors="replace") if isinstance(output, bytes) else str(output)


def first_error(output: str) -> CompilerDiagnostic:
    """The first error the compiler printed, with the source line it quoted."""
    found = [m for m in (_GCC_ERROR.search(output), _NVCC_ERROR.search(output)) if m is not None]
    if not found:
        line = _ANY_ERROR.search(output)
        return CompilerDiagnostic(message=(line.group(0) if line else output[-500:]).strip())
    match = min(found, key=lambda m: m.start())
    context = output[match.end():].lstrip("\n").splitlines()[:_CONTEXT_LINES]
    return CompilerDiagnostic(
        file=Path(match.group("file")).name,
        line=int(match.group("line")),
        column=int(match.group("column")) if match.groupdict().get("column") else None,
        message=match.group("message").strip(),
        context="\n".join(context),
    )


def describe_build_failure(output: str, diagnostic: CompilerDiagnostic) -> str:
    """The first error on the first line (what a repair prompt reads first), then the build's tail."""
    where = f"{diagnostic.file}:{diagnostic.line}: " if diagnostic.file else ""
    return f"extension build failed: {where}{diagnostic.message}\n{diagnostic.context}\n\n{output[-_TAIL_CHARS:]}"
