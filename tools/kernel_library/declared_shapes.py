"""Shapes a user declares for library kernels, verified by `kevolve library revalidate --shapes FILE`.

    rmsnorm_rows:              # problem name
      - {rows: 4096, cols: 2048}   # the module constants to set, as in KEVOLVE_CONFIGS
      - {rows: 17, cols: 5000}

A kernel is routed only the shapes its correctness trials passed on; declaring a shape asks the
harness to try it there, on this device, and a pass adds it to the kernel's verified signatures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import RootModel, ValidationError

from kevolve.eval_harness.problem import SMALL_PREFIX, Problem, ProblemLoadError, problem_from_source, with_configs
from kevolve.tools.yaml_file import read_yaml

from .records import LibraryEntry, LibraryError


class DeclaredShapes(RootModel[dict[str, list[dict[str, Any]]]]):
    @classmethod
    def load(cls, path: Path) -> DeclaredShapes:
        try:
            return cls.model_validate(read_yaml(path, LibraryError) or {})
        except ValidationError as exc:
            raise LibraryError(f"{path}: expected problem names mapped to lists of constants: {exc}") from None

    def apply(self, problem: Problem, *, on_cpu: bool) -> Problem:
        """`problem` with the shapes declared for it as configurations this device evaluates.

        The harness runs `small*` configurations on a CPU and the others on a GPU, so the names
        follow the device the declared shapes are verified on.
        """
        declared = self.root.get(problem.name, [])
        prefix = f"{SMALL_PREFIX}_declared" if on_cpu else "declared"
        return with_configs(problem, {f"{prefix}_{i}": dict(shape) for i, shape in enumerate(declared)})

    def check(self, entries: list[LibraryEntry]) -> None:
        """Before any evaluation: every declared problem has a kernel and every shape sets its constants."""
        sources = {e.record.problem: e.problem_path for e in entries if e.problem_path and e.problem_path.is_file()}
        for name in self.root:
            if name not in sources:
                raise LibraryError(f"shapes are declared for {name}, which has no kernel (or problem source) "
                                   "in the library")
            try:
                self.apply(problem_from_source(sources[name].read_text(), name=name), on_cpu=True)
            except ProblemLoadError as exc:
                raise LibraryError(str(exc)) from None
