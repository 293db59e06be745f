"""`kevolve library export`: the library's enabled kernels as an importable, self-contained Python package.

    <to>/<package>/__init__.py          dispatch counters; the list of problems
    <to>/<package>/_runtime.py          runtime.py, copied: the operators and their dispatch
    <to>/<package>/manifest.json        what was exported, and what was skipped and why
    <to>/<package>/<problem>/__init__.py      Model: the reference module whose forward calls the operator
    <to>/<package>/<problem>/reference.py     the problem's source, as the kernels were verified against
    <to>/<package>/<problem>/routes.json      (device, signature) -> kernel; each file's sha256
    <to>/<package>/<problem>/kernels/*.py     the approved sources, unchanged

Every source is written from bytes checked against the library's record, and the runtime checks them
again against routes.json before it imports one. Names reach the generated Python only as escaped
literals (repr) or as identifiers made from them (routes.identifier), never spliced into its text.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from string import Template

from pydantic import BaseModel, ConfigDict, Field

from . import runtime
from .records import LibraryEntry, LibraryError, read_library
from .routes import Route, Skipped, best_routes, identifier, kernel_module_name

GENERATOR = "kevolve library export"


class ExportedProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    problem: str
    module: str = Field(description="the problem's subpackage: `from <package> import <module>`")
    op: str
    kernels: list[str]
    routes: int


class ExportManifest(BaseModel):
    model_config = ConfigDict(frozen=True)

    generator: str = GENERATOR
    exported_at: datetime
    library: str
    package: str
    problems: list[ExportedProblem]
    skipped: list[Skipped]


def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath("templates", name).read_text())


def _render(name: str, target: Path, **values: object) -> None:
    target.write_text(_template(name).substitute(values))


def _literal(value: object) -> str:
    """`value` as a Python literal: the only form in which data from the library reaches generated code."""
    return repr(value)


def _current(entries: list[LibraryEntry]) -> tuple[list[LibraryEntry], list[Skipped]]:
    """A problem's kernels verified against its newest kept source; kernels of older sources are skipped."""
    newest = max(entries, key=lambda e: e.record.approved_at)
    keep, skipped = [], []
    for entry in entries:
        if entry.problem_path is None or not entry.problem_path.is_file():
            reason = "the library does not keep the problem source it was verified against"
        elif entry.record.problem_sha256 != newest.record.problem_sha256:
            reason = f"verified against an older problem source ({entry.record.problem_sha256[:12]})"
        else:
            keep.append(entry)
            continue
        skipped.append(Skipped(problem=entry.record.problem, node_id=entry.record.node_id, reason=reason))
    return keep, skipped


def _returns_tensor(entries: list[LibraryEntry]) -> bool | None:
    kinds = {s.returns_tensor for e in entries for s in e.signatures}
    return kinds.pop() if len(kinds) == 1 else None


def _write_problem(folder: Path, name: str, op: str, entries: list[LibraryEntry], routes: list[Route]) -> None:
    namespace, short = op.split("::")
    folder.mkdir()
    (folder / "kernels").mkdir()
    reference = entries[0].problem_source()  # the current entries share one problem source (see _current)
    (folder / "reference.py").write_bytes(reference.encode())
    used = {route.kernel for route in routes}
    hashes = {}
    for entry in entries:
        module = kernel_module_name(entry)
        if module in used:
            (folder / "kernels" / f"{module}.py").write_bytes(entry.source().encode())
            hashes[module] = entry.record.source_sha256
    manifest = {"problem": name, "op": op, "returns_tensor": _returns_tensor(entries),
                "reference_sha256": entries[0].record.problem_sha256, "kernel_sha256": hashes,
                "routes": [route.model_dump(mode="json") for route in routes]}
    (folder / "routes.json").write_text(json.dumps(manifest, indent=2) + "\n")
    _render("kernels_init.py.tmpl", folder / "kernels" / "__init__.py", problem=_literal(name))
    _render("problem_init.py.tmpl", folder / "__init__.py", problem=_literal(name), op_namespace=namespace,
            op_short=short, kernel_count=len(used), route_count=len(routes))


def _prepare_target(target: Path) -> None:
    """Replaces an earlier export; refuses to delete a folder that kevolve did not write."""
    if not target.exists():
        return
    manifest = target / "manifest.json"
    try:
        ours = json.loads(manifest.read_text()).get("generator") == GENERATOR
    except (OSError, ValueError):
        ours = False
    if not ours:
        raise LibraryError(f"{target} exists and is not an earlier export (no kevolve manifest.json): not replacing it")
    shutil.rmtree(target)


def export_library(library: Path, to: Path, *, package: str = "kevolve_kernels",
                   namespace: str = "kevolve_lib") -> ExportManifest:
    """Writes the package `to/package`; raises LibraryError for a bad library or target."""
    if not package.isidentifier() or not namespace.isidentifier():
        raise LibraryError(f"package {package!r} and operator namespace {namespace!r} must be Python identifiers")
    by_problem: dict[str, list[LibraryEntry]] = defaultdict(list)
    skipped: list[Skipped] = []
    for entry in read_library(library):
        if entry.enabled:
            by_problem[entry.record.problem].append(entry)
        else:
            skipped.append(Skipped(problem=entry.record.problem, node_id=entry.record.node_id,
                                   reason=f"disabled by re-validation: {entry.status.reason}"))
    target = to / package
    _prepare_target(target)
    target.mkdir(parents=True)
    exported = []
    for name, entries in sorted(by_problem.items()):
        current, stale = _current(entries)
        routes, unroutable = best_routes(current)
        skipped += stale + unroutable
        if not routes:
            skipped.append(Skipped(problem=name, node_id=None, reason="no enabled kernel with a routable signature"))
            continue
        if _returns_tensor(current) is None:
            skipped.append(Skipped(problem=name, node_id=None, reason="its verified signatures disagree on outputs"))
            continue
        module, op = identifier(name), f"{namespace}::{identifier(name)}"
        _write_problem(target / module, name, op, current, routes)
        exported.append(ExportedProblem(problem=name, module=module, op=op,
                                        kernels=sorted({r.kernel for r in routes}), routes=len(routes)))
    manifest = ExportManifest(exported_at=datetime.now(UTC), library=str(library.resolve()), package=package,
                              problems=exported, skipped=skipped)
    shutil.copyfile(runtime.__file__, target / "_runtime.py")
    modules = [p.module for p in exported]
    _render("package_init.py.tmpl", target / "__init__.py", library=_literal(manifest.library),
            exported_at=_literal(manifest.exported_at.isoformat(timespec="seconds")), package=package,
            problem_list=", ".join(modules) or "none", example=modules[0] if modules else "<problem>",
            problems=_literal(modules))
    (target / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n")
    return manifest
