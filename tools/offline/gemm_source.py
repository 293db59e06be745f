"""A GEMM group -> a tiled Triton matrix product with its elementwise epilogue fused, and its launcher.

Used under `strict`, where the product must be a kernel of ours. Tiles are grouped along M so that
programs running together share the other operand's tiles in L2. The product accumulates in fp32; fp32
operands go through TF32 tensor cores only in a regime that allows TF32 matmuls (regime.py), half
operands are multiplied as they are. A linear layer's weight is read transposed through its strides,
with no copy.
"""

from __future__ import annotations

from kevolve.eval_harness.precision import MathMode

from .configs import GroupConfig
from .fusion_groups import FusionGroup
from .launcher_source import keyword_arguments, out_dtype
from .regime import dot_call
from .triton_source import KernelNames, expression_of, load_of, render

_OUT = "rm[:, None] * {s}0 + rn[None, :] * {s}1"


def gemm_kernel(group: FusionGroup, dtypes: dict[str, str], mode: MathMode) -> str:
    names = KernelNames(group)
    product = group.gemm()
    epilogue = [m for m in group.members if m is not product]
    ptrs = ["x_ptr", "w_ptr", *(f"a{i}_ptr" for i in range(len(names.full))),
            *(f"o{i}_ptr" for i in range(len(names.outputs_full)))]
    strides = ["x_s0", "x_s1", "w_s0", "w_s1", *(f"a{i}_st{d}" for i in range(len(names.full)) for d in (0, 1)),
               "os0", "os1"]
    scalars = [f"s{i}" for i in range(len(names.scalars))]
    constants = ["BLOCK_M: tl.constexpr", "BLOCK_N: tl.constexpr", "BLOCK_K: tl.constexpr", "GROUP_M: tl.constexpr"]
    body = [
        "pid = tl.program_id(0)",
        "tiles_m = tl.cdiv(M, BLOCK_M)",
        "tiles_n = tl.cdiv(N, BLOCK_N)",
        "band = GROUP_M * tiles_n",
        "first_m = (pid // band) * GROUP_M",
        "band_m = tl.minimum(tiles_m - first_m, GROUP_M)",
        "pid_m = first_m + (pid % band) % band_m",
        "pid_n = (pid % band) // band_m",
        "rm = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)).to(tl.int64)",
        "rn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)).to(tl.int64)",
        "acc = tl.zeros([BLOCK_M, BLOCK_N], tl.float32)",
        "for k0 in range(0, K, BLOCK_K):",
        "    rk = k0 + tl.arange(0, BLOCK_K)",
        "    a = tl.load(x_ptr + rm[:, None] * x_s0 + rk[None, :] * x_s1, "
        "mask=(rm[:, None] < M) & (rk[None, :] < K), other=0.0)",
        "    b = tl.load(w_ptr + rk[:, None] * w_s0 + rn[None, :] * w_s1, "
        "mask=(rk[:, None] < K) & (rn[None, :] < N), other=0.0)",
        f"    acc += {dot_call('a', 'b', mode)}",
        f"v_{product.name} = acc",
        "mask = (rm[:, None] < M) & (rn[None, :] < N)",
    ]
    body += [f"x{i} = {load_of(f'a{i}_ptr', _OUT.format(s=f'a{i}_st'), 'mask', dtypes[t])}"
             for i, t in enumerate(names.full)]
    body += [f"v_{m.name} = {expression_of(names, m, dtypes)}" for m in epilogue]
    body += [f"tl.store(o{i}_ptr + {_OUT.format(s='os')}, v_{o}, mask=mask)" for i, o in enumerate(names.outputs_full)]
    header = f"def _{group.name}({', '.join(ptrs + strides + ['M', 'N', 'K'] + scalars + constants)}):"
    return render(group, header, body)


def gemm_launcher(group: FusionGroup, config: GroupConfig, dtypes: dict[str, str], name: str,
                  kernels: dict[str, dict[str, str]]) -> str:
    """`kernels`: the runtime parameters the group's kernel keeps (kernel_naming.readable_kernels)."""
    names = KernelNames(group)
    product = group.gemm()
    full = [f"a{i}" for i in range(len(names.full))]
    scalars = [f"s{i}" for i in range(len(names.scalars))]
    # A linear layer's weight is (N, K): its transpose is read through swapped strides.
    w_dims = (1, 0) if product.fn == "linear" else (0, 1)
    n_size = "w.shape[0]" if product.fn == "linear" else "w.shape[1]"
    outputs = [f"o{i}" for i in range(len(names.outputs_full))]
    lines = [f"M, K, N = x.shape[0], x.shape[1], {n_size}", "shape = (M, N)"]
    lines += [f"{a} = {a}.broadcast_to(shape)" for a in full]
    lines += [f"o{i} = torch.empty(shape, device=x.device, dtype={out_dtype(dtypes, o)})"
              for i, o in enumerate(names.outputs_full)]
    values = {"x_ptr": "x", "w_ptr": "w", "x_s0": "x.stride(0)", "x_s1": "x.stride(1)",
              "w_s0": f"w.stride({w_dims[0]})", "w_s1": f"w.stride({w_dims[1]})", "os0": "o0.stride(0)",
              "os1": "o0.stride(1)", "M": "M", "N": "N", "K": "K", **{f"{o}_ptr": o for o in outputs},
              **{f"{a}_ptr": a for a in full}, **{f"{a}_st{d}": f"{a}.stride({d})" for a in full for d in (0, 1)},
              **{s: s for s in scalars}}
    lines += [f"grid = (triton.cdiv(M, {config.tile_m}) * triton.cdiv(N, {config.tile_n}),)",
              f"_{group.name}[grid]({keyword_arguments(kernels[f'_{group.name}'], values)}, "
              f"BLOCK_M={config.tile_m}, BLOCK_N={config.tile_n}, BLOCK_K={config.tile_k}, GROUP_M={config.group_m}, "
              f"num_warps={config.warps}, num_stages={config.stages})",
              f"return {', '.join(outputs)},"]
    signature = ", ".join(["x", "w", *full, *scalars])
    return f"def {name}({signature}):\n" + "\n".join(f"    {line}" for line in lines) + "\n"
