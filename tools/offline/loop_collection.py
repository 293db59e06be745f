"""What a rolled loop hands to the code after it besides its carried values: every module's result, collected.

`torch.cat([table(ids[t], offsets) for t, table in enumerate(self.tables)], 1)` is traced as one block per module
and a concatenation of the blocks' results. The blocks roll into one loop over the container as any others do
(loop_rolling.py); the concatenation after it reads one value of every looped block, so the loop appends that
value to a list and the concatenation joins the list, whatever the container's length:

    cat_pieces = []
    for index in range(len(self.tables)):
        ...
        cat_pieces.append(tables_0)
    cat = _concatenate([*cat_pieces], 1)

The join copies each piece into its place with `Tensor.copy_`, as the traced concatenation kernel copied them: the
same bytes moved, one copy per module instead of one kernel for all.
"""

from __future__ import annotations

from .fusion_groups import FusionGroup
from .program import PyStep

CONCATENATE_SOURCE = '''def _concatenate(pieces, dim):
    """torch.cat of same-dtype pieces, written by copies into one allocation."""
    shape = list(pieces[0].shape)
    shape[dim] = sum(piece.shape[dim] for piece in pieces)
    joined = pieces[0].new_empty(shape)
    at = 0
    for piece in pieces:
        joined.narrow(dim, at, piece.shape[dim]).copy_(piece)
        at += piece.shape[dim]
    return joined'''


def _concatenation(stage: object) -> tuple[tuple[str, ...], int] | None:
    """The pieces and dim of a group that is one concatenation and nothing else."""
    if not isinstance(stage, FusionGroup) or len(stage.members) != 1:
        return None
    member = stage.members[0]
    if member.fn != "cat" or len(member.dims) != 1 or stage.outputs != [member.name]:
        return None
    return tuple(member.tensor_args()), member.dims[0]


def collected_join(stage: object, looped: list[list[str]], list_name: str, dtypes: dict[str, object]
                   ) -> tuple[PyStep, int] | None:
    """`stage` as a join of the list the loop collects, and the place (in each looped block's values) of what the
    loop appends; None unless `stage` concatenates one value of every looped block, in module order, with
    nothing between them, all of one dtype. `looped`: each looped block's values, by place."""
    found = _concatenation(stage)
    if found is None or len(looped) < 2:
        return None
    pieces, dim = found
    if len({dtypes.get(piece) for piece in pieces}) != 1:
        return None
    for place, name in enumerate(looped[0]):
        if name not in pieces:
            continue
        at = pieces.index(name)
        run = [block[place] if place < len(block) else None for block in looped]
        if list(pieces[at:at + len(run)]) != run:
            continue
        joined = [*pieces[:at], f"*{list_name}", *pieces[at + len(run):]]
        member = stage.members[0]
        return PyStep(member.name, f"_concatenate([{', '.join(joined)}], {dim})", member.shape), place
    return None
