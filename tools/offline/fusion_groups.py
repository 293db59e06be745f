"""The fusion groups a program is cut into (fusion.py decides them): each group's iteration shape, members and
their levels, and what its kernel reads and writes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from .program import PrimStep, Program, PyStep, Scalar

# "picked": shaped like the reduced level with k along the reduced dim, a top-k selection's and what follows it.
Level = Literal["full", "reduced", "picked"]


@dataclass
class FusionGroup:
    index: int
    shape: tuple[int, ...]
    reduced_dims: tuple[int, ...] = ()
    members: list[PrimStep] = field(default_factory=list)
    levels: dict[str, Level] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    # Index values (functions of aranges alone) this group recomputes rather than reads: other groups may too.
    inlined: set[str] = field(default_factory=set)
    # The arange stand-ins among its operands: their values are offsets, computed, never loaded.
    index_inputs: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"fused_{self.index}"

    @property
    def kind(self) -> Literal["pointwise", "reduction", "gemm", "gemm_reduction", "segment", "pairwise"]:
        if self.pairwise() is not None:
            return "pairwise"
        if self.gemm() is not None:
            return "gemm_reduction" if self.reduced_dims else "gemm"
        if self.segment() is not None:
            return "segment"
        return "reduction" if self.reduced_dims else "pointwise"

    def gemm(self) -> PrimStep | None:
        """The matrix product a GEMM group starts with; its other members are the epilogue."""
        return next((m for m in self.members if m.kind == "gemm"), None)

    def segment(self) -> PrimStep | None:
        """The segment reduction a segment group starts with; its other members are an elementwise epilogue."""
        return next((m for m in self.members if m.kind == "segment"), None)

    def pairwise(self) -> PrimStep | None:
        """The triangle of a batched product a pairwise group computes (it has no other members)."""
        return next((m for m in self.members if m.kind == "pairwise"), None)

    def head(self) -> PrimStep | None:
        """The member that reads its operands its own way (a GEMM, a segment reduction, a pairwise product)."""
        return self.gemm() or self.segment() or self.pairwise()

    def kept_shape(self, keepdim: bool) -> tuple[int, ...]:
        return tuple(1 if i in self.reduced_dims else s for i, s in enumerate(self.shape)
                     if keepdim or i not in self.reduced_dims)

    def level_of_shape(self, shape: tuple[int, ...]) -> Level | None:
        if shape == self.shape:
            return "full"
        if self.reduced_dims and shape in (self.kept_shape(True), self.kept_shape(False)):
            return "reduced"
        return None

    def windowed(self) -> list[str]:
        """Tensors read through a pooling window, in first-use order."""
        return list(dict.fromkeys(m.tensor_args()[0] for m in self.members if m.kind == "window"))

    def window_members(self) -> list[PrimStep]:
        return [m for m in self.members if m.kind == "window"]

    def scattered(self) -> list[str]:
        """Scatter members (they add into outputs of their own shape, by atomics), in program order."""
        return [m.name for m in self.members if m.kind == "scatter"]

    def starts(self) -> list[str]:
        """Tensors a scatter's output starts from (or takes its shape from), read by the launcher."""
        return list(dict.fromkeys(t for m in self.members for t in m.starts()))

    def gathered(self) -> list[str]:
        """Tables read at ids (embedding lookups, index_select, gather), in first-use order; a gather from the row
        at its top-k indices is not one (the row is on chip)."""
        return list(dict.fromkeys(m.tensor_args()[0] for m in self.members if m.kind == "gather"
                                  and not self.picks(m)))

    def selections(self) -> list[PrimStep]:
        """The top-k members; one group's all have the same k (their picked level has one shape)."""
        return [m for m in self.members if m.kind == "topk"]

    def picks(self, member: PrimStep) -> bool:
        """A gather from the row at a top-k selection's indices."""
        return member.kind == "gather" and self.levels.get(member.name) == "picked"

    def external(self, level: Level) -> list[str]:
        """Tensors from outside the group that members read elementwise at `level`, in first-use order."""
        found: dict[str, None] = {}
        for member in self.members:
            if member.kind in ("window", "gemm", "segment", "pairwise"):
                continue
            use = "full" if member.kind != "pointwise" else self.levels[member.name]
            use = "reduced" if use == "picked" else use  # a picked value meets per-row operands only
            for arg in member.elementwise_args() + member.tensor_args()[:1] * self.picks(member):
                if arg not in self.levels and use == level:
                    found[arg] = None
        return list(found)

    def tables(self) -> list[str]:
        """Sorted tables the members search, in first-use order."""
        return list(dict.fromkeys(t for m in self.members for t in m.tables()))

    def pieces(self) -> list[str]:
        """Sources of the concatenations the members read, in first-use order."""
        return list(dict.fromkeys(t for m in self.members for t in m.pieces()))

    def scalars(self) -> list[str]:
        """Python expressions passed to the kernel as scalar arguments, in first-use order."""
        found: dict[str, None] = {}
        for member in self.members:
            for arg in member.args:
                if isinstance(arg, Scalar) and not arg.literal:
                    found[arg.expr] = None
        return list(found)


def input_selections(inputs: tuple[str, ...], index: int) -> re.Pattern[str]:
    """`<input>[index]` for any forward input in `inputs` (the input's name captured)."""
    names = "|".join(re.escape(name) for name in inputs) or "(?!)"
    return re.compile(rf"\b({names})\[{index}\]")


def module_reads(containers: tuple[str, ...], index: int) -> re.Pattern[str]:
    """`self.<container>[index]` for any of `containers` (the container's name captured)."""
    names = "|".join(re.escape(container) for container in containers)
    return re.compile(rf"\bself\.({names})\[{index}\]")


@dataclass(frozen=True)
class RolledLoop:
    """The stages `body` (a half-open range of FusedProgram.stages) run for modules `first`.. of `containers`
    (several where a loop walks them together: `zip(self.layers, self.norms)`, `self.gammas[i]`)."""

    containers: tuple[str, ...]
    first: int
    body: tuple[int, int]
    carried: tuple[tuple[str, str], ...]  # (the name the body reads, the name it defines for the next module)
    after: tuple[tuple[str, str], ...]  # (a name the code after the loop reads, the carried name holding it)
    # The traced index of the last module, whose block runs after the loop (its kernel holds what follows the
    # stack), on the container's last module; None when the loop runs to the end.
    trailing: int | None = None
    runs: int = 1  # how many times the body ran at the traced depth
    # (a list the body appends to, the body's value it appends): what a concatenation after the loop joins
    collected: tuple[tuple[str, str], ...] = ()
    # The forward's inputs, whose part for the module (`ids[k]`) a body line may select
    inputs: tuple[str, ...] = ()

    @property
    def modules_before(self) -> int:
        """The modules the forward reads outside the loop: a model with fewer is refused."""
        return self.first + (self.trailing is not None)

    def indexed(self, line: str, index: str) -> str:
        """A body line reading the module of the loop's index (and its part of an input) instead of the traced
        block's."""
        line = module_reads(self.containers, self.first).sub(lambda m: f"self.{m.group(1)}[{index}]", line)
        return input_selections(self.inputs, self.first).sub(lambda m: f"{m.group(1)}[{index}]", line)

    def after_loop(self, line: str) -> str:
        """A line after the loop reading the containers' last module where it read the traced last one, and that
        module's part of an input (the input may have more parts than the container has modules)."""
        if self.trailing is None:
            return line
        line = module_reads(self.containers, self.trailing).sub(lambda m: f"self.{m.group(1)}[-1]", line)
        last = f"len(self.{self.containers[0]}) - 1"
        return input_selections(self.inputs, self.trailing).sub(lambda m: f"{m.group(1)}[{last}]", line)


@dataclass
class FusedProgram:
    program: Program
    stages: list[PyStep | FusionGroup]
    loop: RolledLoop | None = None  # stages run once per module of a container (loop_rolling.py)

    @property
    def groups(self) -> list[FusionGroup]:
        """The kernels, in launch order."""
        return [stage for stage in self.stages if isinstance(stage, FusionGroup)]
