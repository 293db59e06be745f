"""Moves reshapes across elementwise steps so that the steps on either side of a view can share a kernel.

A fusion group iterates over one shape, so a view between two steps cuts the chain: a group norm's normalised
output viewed back to (N, C) and then passed through SiLU becomes two kernels, and the second reads back what the
first wrote. An elementwise function commutes with any reshape or permutation of its operands (each output element
depends only on the operand elements at the same place), so the view can move instead:

- *hoisting* (a reduction reads a view of an elementwise result, perhaps through more views): `view(f(a, b))`
  becomes `f(view(a), view(b))`, so the elementwise step joins the reduction's kernel in the view's shape (a scaled
  GEMM output grouped for a logsumexp, an activation before a pooling written as a reduction over reshaped
  windows). Only where `f`'s result has no other reader, so nothing is computed twice. Basic slicing is a view
  here too.
- *sinking* (elementwise steps read a view of a kernel's value): `g(view(s))` becomes `view(g(s))`, so `g` joins
  the kernel that computes `s`, in `s`'s shape; `g(view(s), view(t))` too, where both views are one code. Not
  where `g` feeds a reduction: that reduction needs the view's shape, and sinking would only move the cut (and
  hoisting would move it back).

Both require every tensor operand of the elementwise step to have its full shape, so one view expression, with its
source renamed, fits each; hoisting also takes an operand that broadcasts (a per-channel bias, `[1, C, 1, 1]`) by
first expanding it to the full shape (`expand_as`, stride 0: no copy), where the views it then passes through
never merge dims (a merge of a stride-0 dim would copy it out in full). A shape read (`y.shape`) of an elementwise
result is answered from an operand of the same shape, so asking for a size does not keep a value alive; a step that
only renames a value (`b = a`, a cast to the dtype it has) is read through.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from .program import PrimStep, PyStep, Shape, Step, names_in, with_names

# Methods whose result holds every element of the source, re-indexed: an elementwise function commutes with them.
REINDEXING_VIEWS = {"view", "reshape", "flatten", "unflatten", "unsqueeze", "squeeze", "view_as", "reshape_as",
                    "permute", "transpose", "movedim", "t", "contiguous"}
# Views that never merge two dims into one: an expanded (stride-0) operand passes them as a view, never a copy.
UNMERGING_VIEWS = {"unflatten", "unsqueeze", "squeeze", "permute", "transpose", "movedim", "t"}
# Stands for a view's source in a view's code compared across operands (no identifier of a program has it).
_SOURCE = "__view_source__"
_SHAPE_READ = re.compile(r"(?<![.\w])([A-Za-z_]\w*)(?=\.(?:shape\b|size\(|dim\(|numel\())")


def view_source(step: Step, *, slices: bool) -> str | None:
    """The tensor a view step views (`s` in `s.reshape(...)`), if it is one; `slices`: basic slicing (`s[:, :n]`)
    counts too, for hoisting only (an elementwise function of a slice is the slice of it computed on fewer
    elements; sinking past a slice would compute more)."""
    if not isinstance(step, PyStep) or step.vendor or step.shape is None:
        return None
    try:
        view = ast.parse(step.code, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(view, ast.Call) and isinstance(view.func, ast.Attribute) and view.func.attr in REINDEXING_VIEWS \
            and isinstance(view.func.value, ast.Name):
        return view.func.value.id
    if slices and isinstance(view, ast.Subscript) and isinstance(view.value, ast.Name):
        items = view.slice.elts if isinstance(view.slice, ast.Tuple) else [view.slice]
        if all(isinstance(item, ast.Slice) for item in items):
            return view.value.id
    return None


def _plain_elementwise(step: Step, tensors: dict[str, Shape], index_tensors: set[str], *, broadcast: bool = False
                       ) -> bool:
    """An elementwise step whose tensor operands all have its own shape (no addressing); `broadcast`: or one of its
    rank whose dims are 1 where they differ, beside at least one that has its shape."""
    if not isinstance(step, PrimStep) or step.kind != "pointwise" or step.dims or step.tables() or step.pieces():
        return False
    args = step.tensor_args()
    full = [arg for arg in args if tensors[arg].dims == step.shape.dims]
    fits = all(arg in full or (broadcast and len(tensors[arg].dims) == len(step.shape.dims)
                               and all(size == 1 for size, whole in zip(tensors[arg].dims, step.shape.dims, strict=True)
                                       if size != whole)) for arg in args)
    return bool(full) and fits and not set(args) & index_tensors


def _unmerging(view: Step) -> bool:
    """A view step that never merges dims: basic slicing, or one of UNMERGING_VIEWS."""
    body = ast.parse(view.code, mode="eval").body
    return isinstance(body, ast.Subscript) or (isinstance(body, ast.Call) and isinstance(body.func, ast.Attribute)
                                               and body.func.attr in UNMERGING_VIEWS)


class _Motion:
    def __init__(self, steps: list[Step], output: str, tensors: dict[str, Shape], index_tensors: set[str]) -> None:
        self.steps, self.output, self.tensors, self.index_tensors = list(steps), output, tensors, index_tensors
        self.taken = {step.name for step in steps} | set(tensors)
        self.expanded: set[str] = set()  # views of operands expanded by hoisting (stride 0 somewhere)

    def fresh(self, base: str) -> str:
        count = 0
        while f"{base}_{count}" in self.taken:
            count += 1
        self.taken.add(f"{base}_{count}")
        return f"{base}_{count}"

    def by_name(self) -> dict[str, Step]:
        return {step.name: step for step in self.steps}

    def readers(self, name: str) -> list[Step]:
        found = []
        for step in self.steps:
            reads = names_in(step.code) if isinstance(step, PyStep) else set(step.tensor_args())
            if name in reads:
                found.append(step)
        return found

    def value_read_outside(self, name: str, reader: str) -> bool:
        """Whether anything but `reader` (or the output) reads `name`'s values."""
        return name in names_in(self.output) or any(step.name != reader for step in self.readers(name))

    def feeds_reduction(self, name: str, seen: set[str] | None = None) -> bool:
        """Whether `name`'s values reach a reduction (or another step that reads in its own shape) through
        elementwise steps alone. A pooling window reads its tensor from memory, through strides, in whatever kernel
        wrote it: it needs no shape of that kernel's."""
        seen = set() if seen is None else seen
        seen.add(name)
        for step in self.readers(name):
            if isinstance(step, PrimStep) and step.kind == "window":
                continue
            if isinstance(step, PrimStep) and step.kind != "pointwise":
                return True
            passes = isinstance(step, PrimStep) or view_source(step, slices=True) == name
            if passes and step.name not in seen and self.feeds_reduction(step.name, seen):
                return True
        return False

    def same_shaped_operand(self, name: str) -> str | None:
        """An operand of the elementwise step `name` with its shape (an arange's stand-in will do: only its shape
        is read), if it has one."""
        step = self.by_name().get(name)
        if not isinstance(step, PrimStep) or step.kind != "pointwise":
            return None
        return next((arg for arg in step.tensor_args() if self.tensors[arg].dims == step.shape.dims), None)

    def redirect_shape_reads(self) -> None:
        """`y.shape` for an elementwise `y` becomes its same-shaped operand's `.shape` (repeatedly)."""
        for i, step in enumerate(self.steps):
            if not isinstance(step, PyStep):
                continue
            code = step.code
            for _ in range(len(self.steps)):
                targets = [(n, self.same_shaped_operand(n)) for n in _SHAPE_READ.findall(code)]
                targets = [(n, operand) for n, operand in targets if operand is not None]
                if not targets:
                    break
                name, operand = targets[0]
                code = re.sub(rf"(?<![.\w]){re.escape(name)}(?=\.(?:shape\b|size\(|dim\(|numel\())", operand, code)
            self.steps[i] = replace(step, code=code)

    def hoist(self, index: int) -> bool:
        view = self.steps[index]
        source = self.by_name().get(view_source(view, slices=True) or "")
        if source is None or not _plain_elementwise(source, self.tensors, self.index_tensors, broadcast=True) \
                or self.value_read_outside(source.name, view.name) or not self.feeds_reduction(view.name):
            return False
        args = list(dict.fromkeys(source.tensor_args()))
        narrow = [arg for arg in args if self.tensors[arg].dims != source.shape.dims]
        if (narrow or set(args) & self.expanded) and not _unmerging(view):
            return False
        whole = next(arg for arg in args if arg not in narrow)
        new_views: list[Step] = []
        renames: dict[str, str] = {}
        for arg in args:
            viewed = arg
            if arg in narrow:  # the full shape first, as a stride-0 view
                viewed = self.fresh(f"{arg}_expanded")
                self.tensors[viewed] = Shape(source.shape.dims, self.tensors[arg].dtype)
                new_views.append(PyStep(viewed, f"{arg}.expand_as({whole})", self.tensors[viewed]))
            name = self.fresh(f"{arg}_view")
            renames[arg] = name
            if arg in narrow or arg in self.expanded:
                self.expanded.add(name)
            shape = Shape(view.shape.dims, self.tensors[arg].dtype)
            self.tensors[name] = shape
            new_views.append(PyStep(name, with_names(view.code, {source.name: viewed}), shape))
        args = tuple(renames.get(a, a) if isinstance(a, str) else a for a in source.args)
        moved = replace(source, name=view.name, args=args, shape=Shape(view.shape.dims, source.shape.dtype))
        self.tensors[view.name] = moved.shape
        self.steps[index:index + 1] = [*new_views, moved]
        self.steps.remove(source)
        return True

    def common_view(self, step: PrimStep) -> tuple[str, dict[str, str]] | None:
        """Where every tensor operand of `step` is the same view (one code but for its source) of a value of one
        shape: that code, with `_SOURCE` for the source, and each operand's source."""
        code, sources = None, {}
        for arg in dict.fromkeys(step.tensor_args()):
            view = self.by_name().get(arg)
            source = view_source(view, slices=False) if view is not None else None
            if view is None or source is None:
                return None
            form = with_names(view.code, {source: _SOURCE})
            if code is not None and form != code:
                return None
            code, sources[arg] = form, source
        if code is None or len({self.tensors[source].dims for source in sources.values()}) != 1:
            return None
        return code, sources

    def sink(self, index: int) -> bool:
        step = self.steps[index]
        if not _plain_elementwise(step, self.tensors, self.index_tensors) or self.feeds_reduction(step.name):
            return False
        common = self.common_view(step)
        if common is None:
            return False
        code, sources = common
        # A source may be an input: one computed source is enough for the step to have a kernel to join.
        producers = [made for made in map(self.by_name().get, sources.values()) if isinstance(made, PrimStep)]
        if not producers or any(set(producer.tensor_args()) & self.index_tensors for producer in producers) \
                or set(sources.values()) & self.index_tensors:
            return False
        inner = self.fresh(f"{step.name}_unviewed")
        computed = replace(step, name=inner, args=tuple(sources.get(a, a) if isinstance(a, str) else a
                                                        for a in step.args),
                           shape=Shape(self.tensors[producers[0].name].dims, step.shape.dtype))
        self.tensors[inner] = computed.shape
        self.steps[index:index + 1] = [computed, PyStep(step.name, with_names(code, {_SOURCE: inner}), step.shape)]
        return True

    def resolve_aliases(self) -> None:
        """`b = a` of a computed `a` (a cast to the dtype it has, as `.to(torch.float32)` of fp32 is): b's readers
        read a, so that an elementwise step after it can join a's kernel. Liveness drops the alias once nothing
        reads it. (An alias of an input or a parameter cuts no kernel, and keeps its name in the kernels.)"""
        computed = {step.name for step in self.steps if isinstance(step, PrimStep)}
        for alias in [step for step in self.steps if isinstance(step, PyStep) and not step.vendor]:
            target = alias.code.strip()
            if target not in computed or self.tensors.get(target) != alias.shape or alias.name in names_in(self.output):
                continue
            for i, step in enumerate(self.steps):
                if isinstance(step, PrimStep) and alias.name in step.args:
                    self.steps[i] = replace(step, args=tuple(target if a == alias.name else a for a in step.args))
                elif isinstance(step, PyStep) and step is not alias and alias.name in names_in(step.code):
                    self.steps[i] = replace(step, code=with_names(step.code, {alias.name: target}))

    def run(self) -> list[Step]:
        self.resolve_aliases()
        self.redirect_shape_reads()
        for move in (self.hoist, self.sink):
            for _ in range(4 * len(self.steps)):
                if not any(move(i) for i in range(len(self.steps))):
                    break
        return self.steps


def move_views(steps: list[Step], output: str, tensors: dict[str, Shape], index_tensors: set[str]) -> list[Step]:
    """The steps with views moved across elementwise steps (see the module's docstring); `tensors` gains the new
    values' shapes. Steps left unread are for the caller's liveness pass to drop."""
    return _Motion(steps, output, tensors, index_tensors).run()
