"""The lowered program: Python steps the forward keeps, and primitive steps that kernels compute.

A `PyStep` is one line of the generated forward (a view, a shape computation, or a vendor-library
call that `hybrid` leaves in place). A `PrimStep` is an elementwise function, a reduction or a scan
over tensors; consecutive compatible primitives become one fused Triton kernel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

_IDENTIFIER = re.compile(r"(?<![.\w])[A-Za-z_]\w*")  # names, not attributes after a dot


def names_in(code: str) -> set[str]:
    """The names a Python expression reads."""
    return set(_IDENTIFIER.findall(code))


def with_names(code: str, renames: dict[str, str]) -> str:
    """`code` with the names in `renames` replaced (attributes after a dot, and longer names, left alone)."""
    return _IDENTIFIER.sub(lambda match: renames.get(match.group(0), match.group(0)), code)

# "window" reads its tensor through a pooling window (out * stride - padding + tap * dilation), masked
# where that falls outside the tensor; its iteration shape is (N, C, outputs..., taps...).
# "gemm" is a matrix product written in Triton (under `strict`): fn "linear" (x @ w.T) or "matmul".
# "segment" reduces runs of rows whose bounds are data (offsets or lengths), over a jagged tensor or over rows
# of a table picked by ids (an embedding bag); its iteration shape is (segments, row width), see SegmentSpec.
# "gather" reads a table at an id (lowering_gather.py): `dims` maps each table dim to the iteration dim it follows.
# "scatter" adds each element of its iteration into an output row picked by an id (lowering_scatter.py): its shape is
# the output's, its `dims` the iteration's (the ids' and the added values'), see ScatterSpec.
# "pairwise" computes the pairs of a triangle of a batched product bmm(A, B) (pairwise.py): args A, B, then the
# triangle's sizes, lower offset, count and side as `triangle` takes them; its shape is (batch, count).
# "topk" selects the k largest (or smallest) elements along its one reduced dim (lowering_topk.py): its args are
# the tensor, k and `largest`; `index` marks the indices' step. Its shape has k along that dim.
PrimKind = Literal["pointwise", "reduce", "scan", "window", "gemm", "segment", "gather", "scatter", "pairwise",
                   "topk"]


@dataclass(frozen=True)
class Shape:
    """A tensor's shape and dtype at the traced configuration: for structural choices only."""

    dims: tuple[int, ...]
    dtype: str = "torch.float32"


@dataclass(frozen=True)
class Scalar:
    """A scalar operand: a literal inlined into the kernel, or a Python expression passed at launch."""

    expr: str
    literal: bool


# Elementwise functions whose second argument is a 1-D table they address (formulas.py).
TABLE_FUNCTIONS = ("bucketize", "segment_start")

# In a gather step's `dims`: the table dim that its id picks (the others follow iteration dims).
GATHERED = -1


@dataclass(frozen=True)
class SegmentSpec:
    """How a segment reduction finds its rows and what it gives for an empty segment.

    Its step's tensor arguments are, in order: the rows (a jagged `(total, width)` tensor, or a table when
    `gathered`), the ids into that table (`gathered`), the bounds (unless `bounds` is "fixed": every segment is a
    row of a 2-D ids tensor), the per-row weights (`weighted`). Scalars after them: the padding id
    (`padded`, rows with that id are skipped and not counted).
    """

    reduce: Literal["sum", "mean", "max", "min"]
    # "offsets": each segment's first row (a final entry, where given, ends the last); "lengths": row counts.
    bounds: Literal["offsets", "lengths", "fixed"]
    gathered: bool
    weighted: bool
    empty: str  # a Triton expression: what an empty segment gives (0 for a bag, NaN or an infinity for segments)
    padded: bool = False
    closed: bool = False  # offsets end with the last segment's end (include_last_offset): one fewer segment
    initial: str | None = None  # segment_reduce's `initial`, which also takes part in every non-empty segment


@dataclass(frozen=True)
class ScatterSpec:
    """Where a scatter's output starts. Its step's args are the ids (shaped like the iteration), the values added
    (a tensor, or a scalar such as bincount's 1) and `start`: a tensor whose values the output starts from
    ("copy", an out-of-place index_add on an input), a tensor whose shape it takes, filled with zeros ("like", an
    index_add on zeros_like), or a scalar: the output's size, filled with zeros ("sized", zeros(n, d), bincount)."""

    start: Literal["copy", "like", "sized"]
    # The ids pick one output row per row of the iteration (index_add's, shaped (rows, 1)): the rows can be sorted
    # by destination and reduced per output row instead of added by atomics (sorted_scatter_source.py).
    per_row: bool = False


@dataclass(frozen=True)
class PyStep:
    name: str
    code: str
    shape: Shape | None = None
    vendor: str | None = None  # the vendor-library call it makes (cuBLAS / cuDNN), if any


@dataclass(frozen=True)
class PrimStep:
    name: str
    kind: PrimKind
    fn: str
    args: tuple[str | Scalar, ...]
    shape: Shape
    dims: tuple[int, ...] = ()
    keepdim: bool = False
    # True for an argmax whose result is an index (int64) rather than a value
    index: bool = False
    segment: SegmentSpec | None = None
    scatter: ScatterSpec | None = None

    def tensor_args(self) -> list[str]:
        return [arg for arg in self.args if isinstance(arg, str)]

    def tables(self) -> list[str]:
        """A 1-D table read by address (bucketize's sorted boundaries, the segment ends a segment's start is read
        from), not elementwise."""
        return [self.args[1]] if self.fn in TABLE_FUNCTIONS else []

    def pieces(self) -> list[str]:
        """A concatenation's sources along `dims[0]`, each read where it holds the element."""
        return self.tensor_args() if self.fn == "cat" else []

    def starts(self) -> list[str]:
        """A scatter's starting tensor (copied, or giving its shape): the launcher reads it, not the kernel."""
        return [self.args[2]] if self.kind == "scatter" and isinstance(self.args[2], str) else []

    def elementwise_args(self) -> list[str]:
        """Tensors read at the element the step computes, broadcast to its shape (a gather's table is read at its
        ids: only the ids are)."""
        if self.kind == "scatter":  # its ids and values (its start may be one of them too)
            return [arg for arg in self.args[:2] if isinstance(arg, str)]
        addressed = set(self.tables()) | set(self.pieces())
        args = self.tensor_args()[1:] if self.kind == "gather" else self.tensor_args()
        return [arg for arg in args if arg not in addressed]


Step = PyStep | PrimStep


def readers_of(steps: list[Step], output: str) -> dict[str, set[str]]:
    """Who reads each value: the names of the steps that read it, and "" where the program's output does."""
    found: dict[str, set[str]] = {name: {""} for name in names_in(output)}
    for step in steps:
        if isinstance(step, PyStep):
            read = names_in(step.code)
        else:
            read = set(step.tensor_args()) | {n for a in step.args if isinstance(a, Scalar) for n in names_in(a.expr)}
        for name in read:
            found.setdefault(name, set()).add(step.name)
    return found


def new_tensor(base: str, shape: Shape, tensors: dict[str, Shape]) -> str:
    """A value a rewrite adds, recorded in `tensors` with its shape: named `base`, or `base_1`, `base_2`, ..., the
    first that names no tensor yet."""
    name, n = base, 1
    while name in tensors:
        name, n = f"{base}_{n}", n + 1
    tensors[name] = shape
    return name


@dataclass
class Program:
    inputs: list[str]
    steps: list[Step]
    output: str
    tensors: dict[str, Shape]
    unsupported: list[str] = field(default_factory=list)
    # Constants computed from a model attribute in a way the trace could not re-express: they keep the
    # traced configuration's value, which the harness's other configurations then check.
    baked: list[str] = field(default_factory=list)
    # Stand-ins for `torch.arange` and its views: meta tensors whose element at an offset is that offset, so
    # kernels compute the index instead of loading it (lowering_index.py).
    index_tensors: set[str] = field(default_factory=set)
    # Module containers whose loop tracing unrolled, with the traced length: the forward checks it (trace_containers).
    unrolled: dict[str, int] = field(default_factory=dict)
    # Steps that must be computed in another step's kernel, though neither reads the other: the loads of a pooling
    # window's producers at its taps, each from its own tensor (tap_producers.py), share the pool's kernel.
    kernel_mates: dict[str, str] = field(default_factory=dict)

    @property
    def kept_at_trace(self) -> list[str]:
        """What keeps its traced value: the baked constants, and the length of each container left unrolled."""
        return [*self.baked, *(f"len(self.{path}) = {length} (its loop unrolled)"
                               for path, length in self.unrolled.items())]

    @property
    def vendor_calls(self) -> list[str]:
        return [step.vendor for step in self.steps if isinstance(step, PyStep) and step.vendor]
