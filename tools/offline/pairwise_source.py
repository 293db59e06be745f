"""A pairwise group (pairwise.py) -> a kernel that computes a triangle of a batched product, and its launcher.

A program takes one sample and one tile of rows by one tile of columns of its product: it multiplies the tile's rows
of A by the tile's columns of B (`tl.dot`, fp32 accumulation, tensor cores as the regime allows) and stores the
products that are pairs of the triangle at their place in the result (`_triangle_position`). A sample's features
are read once per tile, and the [batch, n, m] product is never written.
"""

from __future__ import annotations

from kevolve.eval_harness.precision import MathMode

from .configs import GroupConfig
from .fusion_groups import FusionGroup
from .launcher_source import OUTSIDE_TABLE, keyword_arguments, out_dtype
from .program import Scalar
from .regime import dot_call
from .triton_source import render

# Which pairs: the triangle's row and column counts, its lower offset, its count of pairs and its side.
_SETTINGS = ("n", "m", "offset", "count", "upper")


def _settings(group: FusionGroup) -> dict[str, str]:
    """Each setting as the kernel and the launcher read it: a literal, or the launcher's scalar argument."""
    scalars = group.scalars()
    return {key: arg.expr if arg.literal else f"s{scalars.index(arg.expr)}"
            for key, arg in zip(_SETTINGS, group.pairwise().args[2:], strict=True) if isinstance(arg, Scalar)}


def pairwise_kernel(group: FusionGroup, mode: MathMode) -> str:
    settings = _settings(group)
    scalars = [f"s{i}" for i in range(len(group.scalars()))]
    parameters = ["g0_ptr", "g1_ptr", "o0_ptr", *(f"g{g}_st{d}" for g in (0, 1) for d in range(3)), "os0", "os1",
                  "g0_n1", "g1_n2", "D", *scalars, "BLOCK_N: tl.constexpr", "BLOCK_M: tl.constexpr",
                  "BLOCK_D: tl.constexpr"]
    body = [
        "b = tl.program_id(0).to(tl.int64)",
        "tile = tl.program_id(1)",
        "i = (tile // tl.cdiv(g1_n2, BLOCK_M)) * BLOCK_N + tl.arange(0, BLOCK_N)",
        "j = (tile % tl.cdiv(g1_n2, BLOCK_M)) * BLOCK_M + tl.arange(0, BLOCK_M)",
        "acc = tl.zeros([BLOCK_N, BLOCK_M], tl.float32)",
        "for d0 in range(0, D, BLOCK_D):",
        "    d = d0 + tl.arange(0, BLOCK_D)",
        "    a = tl.load(g0_ptr + b * g0_st0 + i[:, None] * g0_st1 + d[None, :] * g0_st2, "
        "mask=(i[:, None] < g0_n1) & (d[None, :] < D), other=0.0)",
        "    c = tl.load(g1_ptr + b * g1_st0 + d[:, None] * g1_st1 + j[None, :] * g1_st2, "
        "mask=(d[:, None] < D) & (j[None, :] < g1_n2), other=0.0)",
        f"    acc += {dot_call('a', 'c', mode)}",
        "k, inside = _triangle_position(i[:, None], j[None, :], "
        + ", ".join(settings[key] for key in _SETTINGS) + ")",
        "tl.store(o0_ptr + b * os0 + k * os1, acc, mask=inside)",
    ]
    return render(group, f"def _{group.name}({', '.join(parameters)}):", body)


def pairwise_launcher(group: FusionGroup, config: GroupConfig, dtypes: dict[str, str], name: str,
                      kernels: dict[str, dict[str, str]]) -> str:
    """`kernels`: the runtime parameters the group's kernel keeps (kernel_naming.readable_kernels)."""
    settings = _settings(group)
    scalars = [f"s{i}" for i in range(len(group.scalars()))]
    n, m, count = settings["n"], settings["m"], settings["count"]
    step = group.pairwise()
    # A triangle larger than the product has pairs outside it, and B must be A's batch of D-long columns: PyTorch's
    # indexing and bmm raise there, and so does this, before the kernel would read past either operand.
    lines = [f"if {n} > g0.shape[1] or {m} > g1.shape[2] or g1.shape[:2] != (g0.shape[0], g0.shape[2]):",
             f"    raise RuntimeError({(group.name + ': ' + OUTSIDE_TABLE)!r})",
             f"o0 = torch.empty((g0.shape[0], {count}), device=g0.device, dtype={out_dtype(dtypes, step.name)})",
             f"block_n = min({config.tile_m}, max(16, triton.next_power_of_2({n})))",
             f"block_m = min({config.tile_n}, max(16, triton.next_power_of_2({m})))",
             "grid = (g0.shape[0], triton.cdiv(g0.shape[1], block_n) * triton.cdiv(g1.shape[2], block_m))"]
    values = {"g0_ptr": "g0", "g1_ptr": "g1", "o0_ptr": "o0", "os0": "o0.stride(0)", "os1": "o0.stride(1)",
              **{f"g{g}_st{d}": f"g{g}.stride({d})" for g in (0, 1) for d in range(3)},
              "g0_n1": "g0.shape[1]", "g1_n2": "g1.shape[2]", "D": "g0.shape[2]", **{s: s for s in scalars}}
    lines += [f"_{group.name}[grid]({keyword_arguments(kernels[f'_{group.name}'], values)}, BLOCK_N=block_n, "
              f"BLOCK_M=block_m, BLOCK_D={config.tile_k}, num_warps={config.warps})",
              "return o0,"]
    signature = ", ".join(["g0", "g1", *scalars])
    return f"def {name}({signature}):\n" + "\n".join(f"    {line}" for line in lines) + "\n"
