"""Problems in KernelBench's format, loaded and checked from their syntax tree alone.

The process that holds a run's state never executes a problem: a reference can be as hostile or
as broken as a candidate. Here we only parse it, check that it defines what the format requires,
and read kevolve's literal extensions (see `problems/__init__.py`); the worker runs it.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

REQUIRED_FUNCTIONS = ("get_inputs", "get_init_inputs")
SMALL_PREFIX = "small"
DEFAULT_CONFIG = "default"


class ProblemLoadError(ValueError):
    """A problem file or source that cannot be used; the message says why, for a terminal."""


class NotAProblemFile(ProblemLoadError):
    """The module defines no `Model`: in a directory it is a helper, skipped; alone it is an error."""


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    source: str
    path: str | None = None
    sha256: str
    category: str | None = None
    configs: dict[str, dict[str, Any]] = {}

    def primary_config(self, *, on_cpu: bool) -> str:
        """On a CPU the `small` config stands in for the full size, which would take minutes."""
        if on_cpu and SMALL_PREFIX in self.configs:
            return SMALL_PREFIX
        return DEFAULT_CONFIG

    def extra_configs(self, *, on_cpu: bool) -> list[str]:
        primary = self.primary_config(on_cpu=on_cpu)
        return [
            name
            for name in self.configs
            if name != primary and name.startswith(SMALL_PREFIX) == on_cpu
        ]

    def overrides(self, config: str) -> dict[str, Any]:
        if config == DEFAULT_CONFIG:
            return {}
        if config not in self.configs:
            raise KeyError(f"problem {self.name} has no config {config!r}; it has {sorted(self.configs)}")
        return self.configs[config]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _literal_assignment(tree: ast.Module, name: str, problem: str) -> Any:
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                try:
                    return ast.literal_eval(node.value)
                except ValueError as exc:
                    raise ProblemLoadError(f"{problem}: {name} must be a plain literal ({exc})") from None
    return None


def _module_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _validated_configs(tree: ast.Module, problem: str) -> dict[str, dict[str, Any]]:
    configs = _literal_assignment(tree, "KEVOLVE_CONFIGS", problem) or {}
    if not isinstance(configs, dict) or not all(isinstance(v, dict) for v in configs.values()):
        raise ProblemLoadError(f"{problem}: KEVOLVE_CONFIGS must map config names to dicts of constants")
    known = _module_level_names(tree)
    for config, overrides in configs.items():
        unknown = set(overrides) - known
        if unknown:
            raise ProblemLoadError(
                f"{problem}: config {config!r} overrides {sorted(unknown)}, which the module does not define"
            )
    return configs


def with_configs(problem: Problem, extra: dict[str, dict[str, Any]]) -> Problem:
    """The problem with more named configurations (shapes a user declares); raises ProblemLoadError."""
    known = _module_level_names(ast.parse(problem.source))
    for config, overrides in extra.items():
        unknown = set(overrides) - known
        if unknown:
            raise ProblemLoadError(
                f"{problem.name}: declared shape {config!r} sets {sorted(unknown)}, which the module does not define"
            )
    return problem.model_copy(update={"configs": {**problem.configs, **extra}})


def problem_from_source(source: str, *, name: str, path: str | None = None) -> Problem:
    """Check `source` against the format and describe it; raises ProblemLoadError with the reason."""
    try:
        tree = ast.parse(source, filename=path or name)
    except SyntaxError as exc:
        raise ProblemLoadError(f"{name}: syntax error at line {exc.lineno}: {exc.msg}") from None
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    if "Model" not in classes:
        raise NotAProblemFile(f"{name}: no `class Model` at module level, so it is not a problem file")
    missing = [f for f in REQUIRED_FUNCTIONS if f not in functions]
    if missing:
        raise ProblemLoadError(f"{name}: missing {', '.join(missing)}()")
    category = _literal_assignment(tree, "KEVOLVE_CATEGORY", name)
    return Problem(
        name=name,
        source=source,
        path=path,
        sha256=sha256_text(source),
        category=category if isinstance(category, str) else None,
        configs=_validated_configs(tree, name),
    )


def load_problem(path: str | Path) -> Problem:
    file = Path(path)
    if not file.is_file():
        raise ProblemLoadError(f"{file}: no such problem file")
    try:
        source = file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemLoadError(f"{file}: cannot read it ({exc})") from None
    return problem_from_source(source, name=file.stem, path=str(file.resolve()))


def _is_problem_file(file: Path) -> bool:
    return file.suffix == ".py" and not file.name.startswith(("_", "."))


def load_problem_dir(directory: str | Path) -> list[Problem]:
    """Every problem file directly in `directory` (a KernelBench `level1/` folder works as it is).

    Files that do not define `Model` are skipped, not errors, so helper modules can live beside
    problems; any other defect in a file that looks like a problem is raised.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise ProblemLoadError(f"{folder}: no such directory")
    problems = []
    for file in sorted(folder.iterdir(), key=_natural_key):
        if not _is_problem_file(file):
            continue
        try:
            problems.append(load_problem(file))
        except NotAProblemFile:
            continue
    if not problems:
        raise ProblemLoadError(f"{folder}: no problem files (modules with class Model) found")
    return problems


def load_problems(target: str | Path) -> list[Problem]:
    """A file gives one problem, a directory all of its problems."""
    return load_problem_dir(target) if Path(target).is_dir() else [load_problem(target)]


def _natural_key(file: Path) -> tuple:
    """`2_x.py` sorts before `10_x.py`, as KernelBench numbers its files."""
    head, _, _ = file.stem.partition("_")
    return (0, int(head), file.stem) if head.isdigit() else (1, 0, file.stem)
