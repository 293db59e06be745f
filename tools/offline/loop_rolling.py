"""Loops over a module container, unrolled by tracing, rolled back up in the generated forward.

`for layer in self.layers: x = f(layer(x), x0)` is traced as one copy of the body per module, so the program
holds the traced model's depth: other depths would need another program, and every copy is its own kernel to
compile and tune. Where the copies from some module on are one block, the same but for the module index and
the values they take from the block before, the forward runs that block in a loop over the container, from that
module to its end, with the first copies that differ kept before it:

    p_w = self.layers[0].weight ...                         # the copies that differ (here x = x0 for the first)
    for index in range(1, len(self.layers)):                # the block, written once, its kernels once
        p_w_1 = self.layers[index].weight ...
        add = add_1                                         # what the next copy reads from this one
    add_2 = add                                             # what the code after the loop reads

Blocks are compared with every name they define renamed by its place in the block and every name of the block
before by its place there, so two blocks match exactly when they compute the same things from the same places;
their kernels are then one kernel. A forward input indexed by the module's place (`ids[t]` beside
`self.tables[t]`) belongs to that module's block and is compared as `ids[@index]`. Nothing is rolled unless every
block from the first rolled one matches and the code after the loop reads only what the loop carries, or joins
what it collects (loop_collection.py).
"""

from __future__ import annotations

from dataclasses import replace

from .fusion_groups import FusedProgram, FusionGroup, RolledLoop, input_selections, module_reads
from .loop_collection import collected_join
from .program import PrimStep, PyStep, Scalar, names_in, with_names

Stage = PyStep | FusionGroup


def _defines(stage: Stage) -> list[str]:
    if isinstance(stage, PyStep):
        return [stage.name]
    return [member.name for member in stage.members]


def _visible(stage: Stage) -> list[str]:
    return [stage.name] if isinstance(stage, PyStep) else list(stage.outputs)


def _reads(stage: Stage) -> set[str]:
    if isinstance(stage, PyStep):
        return names_in(stage.code)
    found: set[str] = set()
    for member in stage.members:
        found |= set(member.tensor_args())
        found |= {name for arg in member.args if isinstance(arg, Scalar) for name in names_in(arg.expr)}
    return found - set(_defines(stage))


def _canonical(block: list[Stage], previous: list[str], containers: tuple[str, ...], inputs: tuple[str, ...],
               index: int) -> tuple:
    """The block with its own names by place, the block before's by place, and its module index as `@index`
    (in the containers' reads and in `inputs` indexed by it)."""
    own = [name for stage in block for name in _defines(stage)]
    rename = {name: f"@C{place}" for place, name in enumerate(previous)}
    rename |= {name: f"@L{place}" for place, name in enumerate(own)}
    module, selection = module_reads(containers, index), input_selections(inputs, index)

    def code(text: str) -> str:
        text = module.sub(lambda m: f"self.{m.group(1)}[@index]", text)
        return with_names(selection.sub(lambda m: f"{m.group(1)}[@index]", text), rename)

    def arg(value: str | Scalar) -> str | Scalar:
        return rename.get(value, value) if isinstance(value, str) else replace(value, expr=code(value.expr))

    def member(step: PrimStep) -> PrimStep:
        return replace(step, name=rename[step.name], args=tuple(arg(value) for value in step.args))

    forms: list[tuple] = []
    for stage in block:
        if isinstance(stage, PyStep):
            forms.append(("py", rename[stage.name], code(stage.code), stage.shape, stage.vendor))
        else:
            forms.append(("group", stage.shape, stage.reduced_dims, tuple(member(step) for step in stage.members),
                          tuple(sorted((rename.get(name, name), level) for name, level in stage.levels.items())),
                          tuple(rename.get(name, name) for name in stage.outputs),
                          tuple(sorted(rename.get(name, name) for name in stage.inlined)),
                          tuple(sorted(rename.get(name, name) for name in stage.index_inputs))))
    return tuple(forms)


def _selects(stage: Stage, inputs: tuple[str, ...], index: int) -> bool:
    """`stage` is a forward input's part for module `index` alone: `ids[index]`."""
    return isinstance(stage, PyStep) and input_selections(inputs, index).fullmatch(stage.code) is not None


def _blocks(stages: list[Stage], containers: tuple[str, ...], inputs: tuple[str, ...], length: int
            ) -> list[int] | None:
    """Where each module's block starts: at the first stage that reads `self.<container>[k]`, in module order, or
    at the selections of its part of an input (`ids[k]`) just before it."""
    starts: list[int] = []
    for index in range(length):
        module = module_reads(containers, index)
        at = next((i for i, stage in enumerate(stages) if isinstance(stage, PyStep) and module.search(stage.code)),
                  None)
        if at is None or (starts and at <= starts[-1]):
            return None
        while at - 1 > (starts[-1] if starts else -1) and _selects(stages[at - 1], inputs, index):
            at -= 1
        starts.append(at)
    return starts


def roll_loops(fused: FusedProgram) -> FusedProgram:
    """`fused` with its first rollable container loop rolled (see the module's docstring), else as it is. The
    containers of one length are tried together first (a loop may walk them in step), then each alone."""
    unrolled = fused.program.unrolled
    together = [tuple(path for path in unrolled if unrolled[path] == length)
                for length in dict.fromkeys(unrolled.values())]
    for containers in [*(group for group in together if len(group) > 1), *((path,) for path in unrolled)]:
        length = unrolled[containers[0]]
        starts = _blocks(fused.stages, containers, fused.program.inputs, length) if length >= 2 else None
        for trailing in (False, True) if starts is not None else ():
            rolled = _rolled(fused, containers, starts, trailing=trailing)
            if rolled is not None:
                return rolled
    return fused


def _rolled(fused: FusedProgram, containers: tuple[str, ...], starts: list[int], *, trailing: bool
            ) -> FusedProgram | None:
    """`starts`: where each module's block starts (_blocks). `trailing`: the last module's block differs (what
    follows the stack joined its kernel), so it runs after the loop, on the container's last module."""
    stages = fused.stages
    length = len(starts)
    if trailing:
        starts, ends = starts[:-1], starts[1:]
    else:
        ends = [*starts[1:], 2 * starts[-1] - starts[-2]]
    if len(starts) < 2 or ends[-1] > len(stages):
        return None
    blocks = [stages[start:end] for start, end in zip(starts, ends, strict=True)]
    defined = [[name for stage in block for name in _visible(stage)] for block in blocks]
    inputs = tuple(fused.program.inputs)
    forms = [_canonical(block, defined[k - 1] if k else [], containers, inputs, k) for k, block in enumerate(blocks)]
    first = next((k for k in range(len(blocks) - 1) if all(form == forms[k] for form in forms[k + 1:])), None)
    if first is None:
        return None
    previous = defined[first - 1] if first else []
    read = set().union(*(_reads(stage) for stage in blocks[first]))
    carried = [place for place, name in enumerate(previous) if name in read]
    # After the loop, a value of the looped blocks may be read only where the loop carries it (the last module's)
    # or where a concatenation joins what the loop collects from every module.
    after, collected = list(stages[ends[-1]:]), []
    dtypes = {name: shape.dtype for name, shape in fused.program.tensors.items()}
    for position, stage in enumerate(after):
        pieces = f"{_visible(stage)[0]}_pieces"
        join = collected_join(stage, defined[first:], pieces, dtypes)
        if join is not None:
            after[position], place = join
            collected.append((pieces, defined[first][place]))
    read_after = set().union(*(_reads(stage) for stage in after)) | names_in(fused.program.output)
    looped = {name for block in blocks[first:] for stage in block for name in _defines(stage)}
    last = defined[-1]
    if any(name not in last or last.index(name) not in carried for name in read_after & looped):
        return None
    loop = RolledLoop(containers, first, (starts[first], ends[first]),
                      carried=tuple((previous[place], defined[first][place]) for place in carried),
                      after=tuple((name, previous[last.index(name)]) for name in sorted(read_after & looped)),
                      trailing=length - 1 if trailing else None, runs=len(blocks) - first,
                      collected=tuple(collected), inputs=inputs)
    program = replace(fused.program, unrolled={k: v for k, v in fused.program.unrolled.items() if k not in containers})
    return FusedProgram(program, stages[:ends[first]] + after, loop)
