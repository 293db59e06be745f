"""A scatter member of an elementwise kernel, and the launcher lines that give it a started output.

The kernel iterates over the values a scatter adds (lowering_scatter.py): each element is added with
`tl.atomic_add` into the output row its id picks, so the values (and whatever elementwise steps made them) are
never written. The output is started by a Triton kernel (zeros, or a copy of the base) before the scatter runs.

Atomics add in an order that changes from run to run, so fp32 sums may differ in their last bits between runs
(integer counts are exact). An id outside the output is masked and clears the `ok` flag, which the launcher turns
into PyTorch's asynchronous assertion, as a gather's bad id is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .dtypes import converted, kernel_type
from .program import PrimStep, Scalar

if TYPE_CHECKING:
    from .triton_source import KernelNames

LARGER_VALUES = "the values added are larger than the tensor they are added into, along a dim other than 0"
OUTSIDE_OUTPUT = "an index outside the tensor it adds into (bincount: an id that is negative or not below minlength)"
# The output's starting values: zeros, or the base's (contiguous, as index_add's base is the output's shape).
SCATTER_START_SOURCE = '''@triton.jit
def _scatter_start_kernel(out_ptr, base_ptr, count, COPY: tl.constexpr, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    inside = offsets < count
    if COPY:
        values = tl.load(base_ptr + offsets, mask=inside, other=0).to(out_ptr.dtype.element_ty)
    else:
        values = tl.zeros([BLOCK], dtype=out_ptr.dtype.element_ty)
    tl.store(out_ptr + offsets, values, mask=inside)


def _scatter_start(shape, dtype, device, base=None):
    out = torch.empty(shape, device=device, dtype=dtype)
    if base is not None and tuple(base.shape) != tuple(out.shape):
        raise RuntimeError(f"the tensor added into has shape {tuple(base.shape)}, the result {tuple(out.shape)}")
    if out.numel():
        source = out if base is None else base.contiguous()
        _scatter_start_kernel[(triton.cdiv(out.numel(), 1024),)](out, source, out.numel(), COPY=base is not None,
                                                                 BLOCK=1024)
    return out
'''


def scatter_lines(names: KernelNames, member: PrimStep, dtypes: dict[str, str]) -> list[str]:
    """The atomic addition of a scatter member: the iteration's element at (i0, i1, ...) goes to output row
    `ids` at the same trailing coordinates (index_add's and scatter_add's rule along dim 0)."""
    c = names.scattered.index(member.name)
    ids, valid = f"ids_{member.name}", f"ok_{member.name}"
    accumulator = kernel_type(member.shape.dtype)
    values = member.args[1]
    if isinstance(values, Scalar):
        value = f"tl.full([BLOCK], {values.expr}, {accumulator})"
    else:
        value = converted(names.operand(values), dtypes[values], accumulator)
    address = " + ".join([f"{ids} * c{c}_st0", *[f"i{d} * c{c}_st{d}" for d in range(1, names.rank)]])
    return [f"{ids} = {names.operand(member.args[0])}.to(tl.int64)",
            f"{valid} = ({ids} >= 0) & ({ids} < c{c}_n0)",
            f"bad = bad | (mask & ({valid} == 0))",
            f"tl.atomic_add(c{c}_ptr + {address}, {value}, mask=mask & {valid})"]


def scatter_starts(names: KernelNames, device: str) -> list[str]:
    """The launcher's lines that allocate and start each scatter's output `c{i}`; the starting tensors are the
    launcher's `u{k}` (names.starts), sizes its scalars."""
    lines = []
    for c, name in enumerate(names.scattered):
        member = next(m for m in names.group.members if m.name == name)
        start = member.args[2]
        spec = member.scatter
        if spec is None:
            raise ValueError(f"{name} is not a scatter")
        if isinstance(start, Scalar):
            shape, base = names.operand(start), "None"
        else:
            shape = f"u{names.starts.index(start)}.shape"
            base = f"u{names.starts.index(start)}" if spec.start == "copy" else "None"
        dtype = member.shape.dtype.removeprefix("torch.")
        lines += [f"c{c} = _scatter_start({shape}, torch.{dtype}, {device}, {base})",
                  # Checked on the shapes, on the host: the kernel writes at the iteration's trailing coordinates.
                  f"if c{c}.dim() != len(shape) or any(shape[d] > c{c}.shape[d] for d in range(1, len(shape))):",
                  f"    raise RuntimeError({(names.group.name + ': ' + LARGER_VALUES)!r})"]
    return lines
