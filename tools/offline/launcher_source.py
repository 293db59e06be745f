"""One fusion group -> the Python function that allocates its outputs and launches its kernel."""

from __future__ import annotations

from .configs import GroupConfig
from .fusion import FusionGroup
from .triton_source import KernelNames

_DTYPE_OF = {"torch.int64": "torch.int64", "torch.bool": "torch.bool"}


def _out_dtype(dtypes: dict[str, str], name: str) -> str:
    return _DTYPE_OF.get(dtypes[name], "torch.float32")


def launcher_name(group: FusionGroup) -> str:
    return f"_launch_{group.name}"


def launcher_arguments(group: FusionGroup) -> list[str]:
    """What the forward passes, in order: tensors read at full then reduced level, then scalars."""
    names = KernelNames(group)
    return [*names.full, *names.reduced, *names.scalars]


def launcher(group: FusionGroup, config: GroupConfig, dtypes: dict[str, str]) -> str:
    names = KernelNames(group)
    full = [f"a{i}" for i in range(len(names.full))]
    reduced = [f"b{i}" for i in range(len(names.reduced))]
    scalars = [f"s{i}" for i in range(len(names.scalars))]
    lines = [f"shape = torch.broadcast_shapes({', '.join(f'{a}.shape' for a in full)}{',' if len(full) == 1 else ''})"]
    if group.kind == "pointwise":
        dense = " and ".join(f"{a}.shape == shape and {a}.is_contiguous()" for a in full)
        lines.append(f"flat = {dense}")
    lines += [f"{a} = {a}.broadcast_to(shape)" for a in full]
    reduced_dims = tuple(group.reduced_dims)
    lines += [f"{b} = _reduced_operand({b}, shape, {reduced_dims!r})" for b in reduced]
    device = f"{full[0]}.device"
    outputs = []
    for i, name in enumerate(names.outputs_full):
        lines.append(f"o{i} = torch.empty(shape, device={device}, dtype={_out_dtype(dtypes, name)})")
        outputs.append(f"o{i}")
    kept_expr = f"[1 if d in {reduced_dims!r} else size for d, size in enumerate(shape)]"
    for i, name in enumerate(names.outputs_reduced):
        member = next(m for m in group.members if m.name == name)
        keep = member.keepdim if member.kind == "reduce" else len(member.shape.dims) == len(group.shape)
        shape = kept_expr if keep else f"[size for d, size in enumerate(shape) if d not in {reduced_dims!r}]"
        lines.append(f"q{i} = torch.empty({shape}, device={device}, dtype={_out_dtype(dtypes, name)})")
        outputs.append(f"q{i}")
    pointers = ", ".join(full + reduced + outputs)
    strides = [f"*{a}.stride()" for a in full] + [f"*[{b}.stride(d) for d in {names.kept!r}]" for b in reduced]
    strides += ["*o0.stride()"] if names.outputs_full else []
    common = ", ".join([pointers, *strides, "*shape"])
    if group.kind == "pointwise":
        lines += ["n = math.prod(shape)",
                  f"grid = (triton.cdiv(n, {config.block}),)",
                  f"_{group.name}[grid]({common}, n, {', '.join(scalars) + ', ' if scalars else ''}"
                  f"BLOCK={config.block}, FLAT=flat, num_warps={config.warps})"]
    else:
        scalar_args = ", ".join(scalars) + ", " if scalars else ""
        launch = (f"[grid]({common}, kept, extent, {scalar_args}BLOCK_K={config.rows}, BLOCK_R={{}}, "
                  f"num_warps={config.warps})")
        lines += [f"kept = math.prod(size for d, size in enumerate(shape) if d not in {reduced_dims!r})",
                  f"extent = math.prod(shape[d] for d in {reduced_dims!r})",
                  f"grid = (triton.cdiv(kept, {config.rows}),)",
                  f"if extent <= {config.single_max}:  # whole rows on chip: every input read once",
                  f"    _{group.name}_single" + launch.format("triton.next_power_of_2(extent)"),
                  "else:",
                  f"    _{group.name}_loop" + launch.format(config.chunk)]
    lines.append(f"return {', '.join(outputs)}{',' if len(outputs) == 1 else ''}")
    signature = ", ".join(full + reduced + scalars)
    return f"def {launcher_name(group)}({signature}):\n" + "\n".join(f"    {line}" for line in lines) + "\n"


REDUCED_OPERAND_SOURCE = '''def _reduced_operand(t, shape, reduced):
    """A per-row operand (shaped like a reduction's result, kept dims or not) broadcast to the kept shape."""
    if t.dim() == len(shape) - len(reduced) and reduced:
        for d in reduced:
            t = t.unsqueeze(d)
    return t.broadcast_to([1 if d in reduced else size for d, size in enumerate(shape)])
'''
