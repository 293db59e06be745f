"""Fusion: which primitives share one kernel (the groups themselves are fusion_groups.py).

A group has an iteration shape `S` and, once it holds a reduction or scan, a set of reduced dims
`D`. Its members are *full* (shaped like `S`) or *reduced* (shaped like `S` without `D`): a
softmax's max, sum and division, a layer norm's two means and affine epilogue, all fit. Primitives
are taken in program order and join the group of their latest producer when the shapes fit and no
value they read depends on that group through a Python step (which would make a cycle); otherwise
they start a group. A group's outputs are the members that something outside it reads.

A GEMM's group holds its product and an elementwise epilogue; with `gemm_reductions`, also reductions over
the product's rows (max, sum, logsumexp, softmax: the reduced dim is the output's last of two), so the whole
row is reduced in the kernel that computes it instead of being written out and read back.

A reduction group may select each row's top k (lowering_topk.py): the selection's values and indices, gathers
at those indices from the row, elementwise steps on them and reductions over the k picked are its `picked` level,
so a mixture-of-experts router (softmax, top-k, gather, renormalisation) is one kernel.
"""

from __future__ import annotations

import math
import re

from .fusion_groups import FusedProgram, FusionGroup, Level
from .program import GATHERED, PrimStep, Program, PyStep, Scalar, Shape, names_in
from .view_motion import view_source

# The kernels that read tables, concatenations' pieces and aranges in place (a GEMM's epilogue does not).
ADDRESSING_KERNELS = ("pointwise", "reduction")


def _reduces_gemm_rows(group: FusionGroup, step: PrimStep) -> bool:
    return step.kind == "reduce" and len(group.shape) == 2 and step.dims == (1,)


def _join(group: FusionGroup, step: PrimStep, gemm_reductions: bool, tensors: dict[str, Shape]) -> Level | None:
    """The level `step` would have in `group`, or None when it does not fit; `tensors`: every value's shape."""
    inside = [arg for arg in step.tensor_args() if arg in group.levels]
    # A scatter's output is complete only when every program has added into it, and it has a shape of its own:
    # what reads it, and anything but elementwise steps, belongs to another kernel.
    if set(inside) & set(group.scattered()) or (group.scattered() and step.kind not in ("pointwise", "gather",
                                                                                         "scatter")):
        return None
    if step.kind == "scatter":  # its output starts from its start's values before the kernel runs
        plain = group.kind == "pointwise" and group.head() is None and not group.window_members()
        starts_here = any(start in group.levels for start in step.starts())
        return "full" if plain and step.dims == group.shape and not starts_here else None
    if step.kind in ("gemm", "segment", "pairwise") or group.pairwise() is not None \
            or (group.segment() is not None and step.kind != "pointwise"):
        return None
    if group.gemm() is not None and step.kind != "pointwise" \
            and not (gemm_reductions and _reduces_gemm_rows(group, step)):
        return None
    if step.kind == "window":
        return "full" if step.shape.dims == group.shape and not group.reduced_dims else None
    if step.kind == "topk":
        return "picked" if _joins_selection(group, step, tensors) else None
    if any(group.levels.get(arg) == "picked" for arg in step.tensor_args()):
        return _picked_level(group, step, tensors)
    if step.kind == "gather":  # gathers are generated in elementwise kernels only
        plain = not group.reduced_dims and group.head() is None and not group.window_members()
        return "full" if plain and step.shape.dims == group.shape else None
    if step.kind in ("reduce", "scan") and group.gathered():
        return None
    addressed = step.tables() + step.pieces()
    if addressed and (group.kind not in ADDRESSING_KERNELS or any(arg in group.levels for arg in addressed)):
        return None  # tables and pieces are read from memory, by the kernels that address them
    if step.kind == "pointwise":
        level = group.level_of_shape(step.shape.dims)
        if level is None or (any(group.levels[arg] == "full" for arg in inside) and level == "reduced") \
                or (step.pieces() and level == "reduced"):
            return None
        return level
    operand = step.args[0]
    if operand not in group.levels or group.levels[operand] != "full":
        return None
    if group.reduced_dims and group.reduced_dims != step.dims:
        return None
    if step.kind == "scan" and len(step.dims) != 1:
        return None
    if any(member.kind == "scan" for member in group.members) and step.kind == "reduce":
        return None
    return "reduced" if step.kind == "reduce" else "full"


def _joins_selection(group: FusionGroup, step: PrimStep, tensors: dict[str, Shape]) -> bool:
    """A top-k of a row of the group (computed in it or read), in a kernel that holds whole rows (and other
    selections of the same k)."""
    operand = step.args[0]
    row = group.levels.get(operand, "full" if tensors[operand].dims == group.shape else None)
    plain = group.head() is None and not group.window_members() and not group.gathered() \
        and not any(m.kind == "scan" for m in group.members)
    same_k = all(m.args[1] == step.args[1] and m.shape.dims == step.shape.dims for m in group.selections())
    return plain and same_k and row == "full" and len(step.dims) == 1 \
        and group.reduced_dims in ((), step.dims)


def _per_row(group: FusionGroup, shape: tuple[int, ...]) -> bool:
    """An operand from outside that a picked value reads: one value per kept row (it broadcasts over the k)."""
    kept = group.kept_shape(True)
    tail = kept[len(kept) - len(shape):]  # broadcasting aligns the trailing dims
    return len(shape) <= len(kept) and all(s in (1, k) for s, k in zip(shape, tail, strict=True))


def _picked_level(group: FusionGroup, step: PrimStep, tensors: dict[str, Shape]) -> Level | None:
    """How `step`, which reads a value of the group's picked level, joins it."""
    inside = {arg: group.levels[arg] for arg in step.tensor_args() if arg in group.levels}
    picked_shape = group.selections()[0].shape.dims
    if step.kind == "gather":
        ids = next((m for m in group.selections() if m.name == step.args[1] and m.index), None)
        along = tuple(GATHERED if d in group.reduced_dims else d for d in range(len(group.shape)))
        table = step.args[0]
        return "picked" if ids is not None and step.dims == along and step.shape.dims == picked_shape \
            and inside.get(table, "full") == "full" and tensors[table].dims == group.shape \
            and "float" in tensors[table].dtype else None
    if step.kind == "reduce":
        return "reduced" if step.dims == group.reduced_dims and step.fn in ("sum", "mean", "amax", "amin") else None
    outside = [arg for arg in step.tensor_args() if arg not in group.levels]
    fits = step.kind == "pointwise" and step.shape.dims == picked_shape and "full" not in inside.values() \
        and not step.tables() and not step.pieces() and all(_per_row(group, tensors[arg].dims) for arg in outside)
    return "picked" if fits else None


def _relabels(step: PrimStep, program: Program) -> bool:
    """An identity that drops a reduction's kept size-1 dims (see _Lowering.reduced_view)."""
    return step.fn == "identity" and bool(step.dims) and step.shape.dims != program.tensors[step.args[0]].dims


# Elements of a value of the model's parameters small enough to recompute in every kernel that reads it (a batch
# norm's per-channel rsqrt(running_var + eps)): a few extra operations per element cost less than the launch and
# the write that computing it once would take.
RECOMPUTED_ELEMENTS = 4096
_ATTRIBUTE = re.compile(r"self(\.\w+|\[\d+\])+")


def _parameter_values(program: Program) -> set[str]:
    """Python steps that are a model attribute (`self.bn.running_var`), another name for one, or a view of one:
    their sizes are the model's, the same at every input size."""
    found: set[str] = set()
    for step in program.steps:
        if isinstance(step, PyStep) and step.shape is not None and not step.vendor and (
                _ATTRIBUTE.fullmatch(step.code) or step.code in found or view_source(step, slices=False) in found):
            found.add(step.name)
    return found


def _recomputed(step: PrimStep, program: Program, parameters: set[str], pending: dict[str, PrimStep]) -> bool:
    """A function of aranges alone (and of tables it searches, such as segment ends: a row's segment), or of small
    parameters alone: recomputing it in each kernel that reads it is cheaper than a kernel that writes it and
    reads of it."""
    args = step.elementwise_args()
    if step.kind != "pointwise" or step.pieces() or not args:
        return False
    if all(arg in program.index_tensors or arg in pending for arg in args):
        return True
    return not step.tables() and all(arg in parameters or arg in pending for arg in args) \
        and all(math.prod(program.tensors[n].dims) <= RECOMPUTED_ELEMENTS for n in [*args, step.name])


class _Fuser:
    """Places primitives into groups in program order; index values wait until something reads them."""

    def __init__(self, program: Program, gemm_reductions: bool) -> None:
        self.program, self.gemm_reductions = program, gemm_reductions
        self.order = {step.name: i for i, step in enumerate(program.steps)}
        self.stages: list[PyStep | FusionGroup] = []
        self.group_of: dict[str, FusionGroup] = {}
        # A step may join a group only if nothing it reads from outside depends on that group, or launching the
        # group would need its own result. Dependencies are tracked exactly (not as program order), so a step that
        # reads a small value computed after the group began (a segment's count from its lengths) still joins
        # it, and the scheduler launches that value's kernel first.
        self.reads_groups: dict[str, set[int]] = {}  # value -> the groups it reads (through Python steps too)
        self.group_reads: dict[int, set[int]] = {}  # group -> the groups its members read
        self.pending: dict[str, PrimStep] = {}
        self.parameters = _parameter_values(program)

    def add(self, step: PyStep | PrimStep) -> None:
        if isinstance(step, PyStep):
            self.materialise(names_in(step.code))
            self.reads_groups[step.name] = set().union(*(self.reads_groups.get(n, set()) for n in names_in(step.code)))
            self.stages.append(step)
        elif _recomputed(step, self.program, self.parameters, self.pending):
            self.pending[step.name] = step
        else:
            # A table, a concatenation's piece, or a reduction's operand is read from memory.
            addressed = step.tensor_args() if step.kind not in ("pointwise", "gather") else \
                [arg for arg in step.tensor_args() if arg not in step.elementwise_args()]
            self.materialise(set(addressed))
            self.place(step)

    def materialise(self, names: set[str]) -> None:
        """Pending index values that something reads from memory: each gets a kernel that writes it."""
        for name in sorted(names & self.pending.keys(), key=self.order.__getitem__):
            self.place(self.pending.pop(name))

    def inlined_cone(self, step: PrimStep) -> list[PrimStep]:
        """The pending index values `step` reads, directly or through each other, in program order."""
        found: dict[str, PrimStep] = {}
        stack = [arg for arg in step.tensor_args() if arg in self.pending]
        while stack:
            name = stack.pop()
            if name not in found:
                found[name] = self.pending[name]
                stack += [arg for arg in found[name].tensor_args() if arg in self.pending]
        return sorted(found.values(), key=lambda s: self.order[s.name])

    def place(self, step: PrimStep) -> None:
        inlined = self.inlined_cone(step)
        reads = [arg for m in [step, *inlined] for arg in m.tensor_args()]
        reads += [name for m in [step, *inlined] for a in m.args
                  if isinstance(a, Scalar) and not a.literal for name in names_in(a.expr)]
        producers = [self.group_of[arg] for arg in [*step.tensor_args(), self.program.kernel_mates.get(step.name)]
                     if arg in self.group_of]
        if step.kind == "topk":  # a selection's values and indices share its kernel, whatever they select from
            producers += [self.group_of[m.name] for m in self.program.steps if m.name in self.group_of
                          and m.kind == "topk" and (m.args, m.dims) == (step.args, step.dims)]
        target = max(producers, key=lambda g: g.index, default=None) or self.sibling(step, reads)
        level = _join(target, step, self.gemm_reductions, self.program.tensors) if target is not None else None
        if target is not None and level is not None:
            outside = [arg for arg in reads if arg not in target.levels]
            if any(self.reaches(self.reads_groups.get(arg, set()), target.index) for arg in outside) \
                    or (inlined and target.kind not in ADDRESSING_KERNELS) \
                    or any(table in target.levels for m in inlined for table in m.tables()):
                level = None
        if (target is None or level is None) and _relabels(step, self.program):
            # Outside the kernel that reduced it, dropping size-1 dims is a view, not a kernel.
            self.materialise({step.args[0]})
            stage = PyStep(step.name, f"{step.args[0]}.squeeze({step.dims!r})", step.shape)
            self.reads_groups[step.name] = self.reads_groups.get(step.args[0], set())
            self.stages.append(stage)
            return
        if target is None or level is None:
            full = step.dims if step.kind == "scatter" else self.program.tensors[step.args[0]].dims \
                if step.kind in ("reduce", "scan", "topk") else step.shape.dims
            target = FusionGroup(index=sum(isinstance(s, FusionGroup) for s in self.stages), shape=full)
            self.stages.append(target)
            level = {"reduce": "reduced", "topk": "picked"}.get(step.kind, "full")
        for value in inlined:
            if value.name not in target.levels:
                target.members.append(value)
                target.levels[value.name] = level
                target.inlined.add(value.name)
        if step.kind in ("reduce", "scan", "topk"):
            target.reduced_dims = step.dims
        self.group_reads.setdefault(target.index, set()).update(
            *(self.reads_groups.get(arg, set()) for arg in reads if arg not in target.levels))
        target.members.append(step)
        target.levels[step.name] = level
        self.group_of[step.name] = target
        self.reads_groups[step.name] = {target.index}

    def sibling(self, step: PrimStep, reads: list[str]) -> FusionGroup | None:
        """For an elementwise step that reads no value a kernel computes, the latest elementwise kernel of its shape
        that nothing it reads depends on: `relu(x) + sigmoid(x)` is one kernel reading x once, not two kernels and
        a read of the first one's output."""
        if step.kind != "pointwise":
            return None
        for group in reversed([stage for stage in self.stages if isinstance(stage, FusionGroup)]):
            if group.kind == "pointwise" and group.shape == step.shape.dims and group.head() is None \
                    and not group.window_members() and not group.scattered() and not group.gathered() \
                    and not any(self.reaches(self.reads_groups.get(arg, set()), group.index) for arg in reads):
                return group
        return None

    def reaches(self, start: set[int], target: int) -> bool:
        """Whether a value that reads the groups `start` depends, through them, on group `target`."""
        pending, seen = list(start), set()
        while pending:
            group = pending.pop()
            if group == target:
                return True
            if group not in seen:
                seen.add(group)
                pending += self.group_reads.get(group, set())
        return False

    def finish(self) -> FusedProgram:
        self.materialise(names_in(self.program.output))
        groups = [stage for stage in self.stages if isinstance(stage, FusionGroup)]
        for group in groups:
            reads = group.external("full") + group.external("reduced")
            group.index_inputs = {t for t in reads if t in self.program.index_tensors}
            real = set(reads + group.windowed() + group.tables() + group.pieces() + group.gathered()) \
                - group.index_inputs
            if not real and group.head() is None:
                raise ValueError(f"{group.name} computes from aranges alone: no tensor gives its device")
        _mark_outputs(self.program, self.stages, self.group_of)
        return FusedProgram(self.program, _scheduled(self.stages))


def fuse(program: Program, *, gemm_reductions: bool = False) -> FusedProgram:
    fuser = _Fuser(program, gemm_reductions)
    for step in program.steps:
        fuser.add(step)
    return fuser.finish()


def _produces(stage: PyStep | FusionGroup) -> set[str]:
    return {stage.name} if isinstance(stage, PyStep) else {m.name for m in stage.members} - stage.inlined


def _reads(stage: PyStep | FusionGroup) -> set[str]:
    if isinstance(stage, PyStep):
        return names_in(stage.code)
    head = stage.head()
    names = set(stage.external("full") + stage.external("reduced") + stage.windowed() + stage.gathered()
                + stage.tables() + stage.pieces() + stage.starts())
    names |= set(head.tensor_args()) if head is not None else set()
    for expr in stage.scalars():
        names |= names_in(expr)
    return names


def _scheduled(stages: list[PyStep | FusionGroup]) -> list[PyStep | FusionGroup]:
    """Stages in an order where each comes after what it reads, as close to program order as possible.

    A group launches once for all its members, so it must wait for inputs that later Python steps
    make (a parameter read after the group's first member); whatever reads the group waits for it.
    """
    producer = {name: i for i, stage in enumerate(stages) for name in _produces(stage)}
    needs = [{producer[n] for n in _reads(stage) if n in producer and producer[n] != i}
             for i, stage in enumerate(stages)]
    done: set[int] = set()
    order: list[PyStep | FusionGroup] = []
    while len(order) < len(stages):
        ready = next(i for i in range(len(stages)) if i not in done and needs[i] <= done)
        done.add(ready)
        order.append(stages[ready])
    return order


def _mark_outputs(program: Program, stages: list[PyStep | FusionGroup], group_of: dict[str, FusionGroup]) -> None:
    """A group writes the members it owns that a Python step, the output or another group reads (a group that
    recomputes an index value reads it from no one)."""
    used_outside: set[str] = set(names_in(program.output))
    for stage in stages:
        if isinstance(stage, PyStep):
            used_outside |= names_in(stage.code)
            continue
        for member in stage.members:
            for arg in member.args:
                names = [arg] if isinstance(arg, str) else names_in(arg.expr)
                used_outside |= {name for name in names if name not in stage.levels}
    for stage in stages:
        if isinstance(stage, FusionGroup):
            stage.outputs = [m.name for m in stage.members if m.name in used_outside and group_of.get(m.name) is stage]
