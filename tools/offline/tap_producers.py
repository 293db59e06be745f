"""Elementwise producers of a pooling window recomputed at its taps (the `tap_producers` schedule).

A pool whose windows overlap (`max_pool2d(relu(conv(x) + b), 3, stride=2)`) cannot be a reduction over a view
(lowering_pool's reshaped form), so in the plain schedule the activation before it is one kernel that writes its
output and the pool another that reads it back. Here the pool's kernel computes the activation itself, at every
tap, from what the activation reads (the convolution's output, a per-channel bias or a norm's statistics), each
loaded through the same window: the activation's output is never written nor read back, at the cost of evaluating
it at every tap (kernel² / stride² times per element: 2.25 for a 3/2 pool). A step of the activation that
something else also reads stays where it is and is computed again here (recompute rather than store), so a batch
norm's normalisation moves into the pool's kernel while its statistics stay in theirs. Taps outside the input take
the pool's padding value after the activation ran, as PyTorch pads the activation's output, and a half-precision
value is rounded as it would have been stored. The harness's timings choose between this and the plain schedule.
"""

from __future__ import annotations

from dataclasses import replace

from .formulas import ROUNDED_TO
from .lowering import live_steps
from .program import PrimStep, Program, PyStep, Scalar, Shape, Step, new_tensor, readers_of

# Elementwise functions whose value depends on where it is computed or on another step's window, not only on
# their operands' values: they cannot move to the taps.
_PLACED = {"index", "window_valid"}
_EXPANDED = ".expand("


def stored_as(program: Program, name: str) -> str:
    """The tensor whose memory `name` reads: a broadcast operand expanded to the pooled shape here is a view of
    its own smaller tensor (what its loads cost)."""
    step = next((s for s in program.steps if s.name == name), None)
    if isinstance(step, PyStep) and _EXPANDED in step.code and step.code.split(_EXPANDED)[0] in program.tensors:
        return step.code.split(_EXPANDED)[0]
    return name


def producers_at_taps(program: Program) -> Program | None:
    """`program` with each pooling window's elementwise producers computed at its taps; None where no window's
    operand is an elementwise value that only the window reads."""
    steps, mates, tensors = list(program.steps), dict(program.kernel_mates), dict(program.tensors)
    first_loads: dict[str, str] = {}  # a rewritten window -> its first load at the taps
    for window in [s for s in program.steps if isinstance(s, PrimStep) and s.kind == "window"]:
        rewritten = _at_taps(window, steps, program, tensors)
        if rewritten is not None:
            at = steps.index(window)
            steps[at:at + 1], first_loads[window.name], new_mates = rewritten
            mates |= new_mates
    if not first_loads:
        return None
    steps = [_valid_from_loads(step, first_loads) for step in steps]
    return replace(program, steps=live_steps(steps, program.output), tensors=tensors, kernel_mates=mates)


def _broadcasts_to(dims: tuple[int, ...], full: tuple[int, ...]) -> bool:
    return len(dims) <= len(full) and all(d in (1, f) for d, f in zip(dims[::-1], full[::-1], strict=False))


def _movable(step: Step | None, full: tuple[int, ...]) -> bool:
    """An elementwise step whose value is a function of its operands' values alone, broadcast to `full`."""
    return isinstance(step, PrimStep) and step.kind == "pointwise" and step.fn not in _PLACED \
        and not step.tables() and not step.pieces() and not (step.fn == "identity" and step.dims) \
        and _broadcasts_to(step.shape.dims, full)


def _at_taps(window: PrimStep, steps: list[Step], program: Program, tensors: dict[str, Shape]
             ) -> tuple[list[Step], str, dict[str, str]] | None:
    """The steps that replace `window`: its producers' operands loaded at the taps (broadcast ones expanded to the
    pooled tensor's shape first), the producers computed there, and the padding; with the first load and the
    others, which must share its kernel."""
    by_name = {step.name: step for step in steps}
    pooled = window.args[0]
    full = tensors[pooled].dims
    if not _movable(by_name.get(pooled), full) or readers_of(steps, program.output).get(pooled) != {window.name}:
        return None
    chain: list[PrimStep] = []  # the producers, in program order
    leaves: list[str] = []  # what they read from memory, in first-use order
    pending = [pooled]
    while pending:
        name = pending.pop()
        step = by_name.get(name)
        if any(m.name == name for m in chain) or name in leaves:
            continue
        if _movable(step, full):
            chain.append(step)
            pending += step.tensor_args()
        else:
            leaves.append(name)
    chain.sort(key=steps.index)
    leaves.sort(key=lambda leaf: min(i for i, m in enumerate(chain) if leaf in m.tensor_args()))
    anchor = next((leaf for leaf in leaves if tensors[leaf].dims == full), None)
    if anchor is None or any(leaf in program.index_tensors or "float" not in tensors[leaf].dtype
                             or not _broadcasts_to(tensors[leaf].dims, full) for leaf in leaves):
        return None
    leaves.remove(anchor)
    new_steps: list[Step] = []
    at_taps: dict[str, str] = {}
    for leaf in [anchor, *leaves]:
        source = leaf
        if tensors[leaf].dims != full:
            source = new_tensor(f"{leaf}_expanded", Shape(full, tensors[leaf].dtype), tensors)
            new_steps.append(PyStep(source, f"{leaf}{_EXPANDED}{anchor}.shape)", tensors[source]))
        at_taps[leaf] = new_tensor(f"{leaf}_taps", Shape(window.shape.dims, tensors[leaf].dtype), tensors)
        new_steps.append(replace(window, name=at_taps[leaf], args=(source, *window.args[1:]),
                                 shape=tensors[at_taps[leaf]]))
    first_load = at_taps[anchor]
    mates = {at_taps[leaf]: first_load for leaf in leaves}
    for member in chain:
        at_taps[member.name] = new_tensor(f"{member.name}_taps", Shape(window.shape.dims, member.shape.dtype),
                                          tensors)
        args = tuple(at_taps[a] if isinstance(a, str) else a for a in member.args)
        new_steps.append(replace(member, name=at_taps[member.name], args=args, shape=tensors[at_taps[member.name]]))
    value = at_taps[pooled]
    rounding = ROUNDED_TO.get(tensors[pooled].dtype)
    if rounding is not None:  # the plain schedule stores the producer's value in its dtype before pooling it
        rounded = new_tensor(f"{pooled}_rounded", tensors[value], tensors)
        new_steps.append(PrimStep(rounded, "pointwise", rounding, (value,), tensors[rounded]))
        value = rounded
    padding = Scalar('float("-inf")' if window.fn.endswith("_max") else "0.0", literal=True)
    new_steps.append(PrimStep(window.name, "pointwise", "window_pad", (value, first_load, padding), window.shape))
    return new_steps, first_load, mates


def _valid_from_loads(step: Step, first_loads: dict[str, str]) -> Step:
    """Which taps are inside the input is known where a window loads: a `window_valid` of a window that became
    loads at the taps (an average pool that does not count the padding) reads it from the first of them."""
    if not isinstance(step, PrimStep) or step.fn != "window_valid" or step.args[0] not in first_loads:
        return step
    return replace(step, args=(first_loads[step.args[0]],))
