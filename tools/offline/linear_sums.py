"""A sum over a linear layer's outputs taken through its weight (the `linear_sums` schedule).

`linear(x, W, b).sum(-1)` is `x @ W.sum(0) + b.sum()`: summing the outputs of a linear map is the map of the summed
weight rows, so a GEMM of `rows x in x out` multiply-adds becomes a column sum of the weight (`in x out` adds, a
read of W the GEMM makes anyway) and one dot product per row (`rows x in`), and the product is never written. The
same holds for `x @ M` summed over its columns (`x @ M.sum(1)`), for a mean (the sum over the outputs' count), and
through steps that are linear in the product on their own (a scale or a division by a number, a negation), which
move after the sum. It reassociates a sum of products: the result differs from the GEMM's by rounding, as two
GEMM algorithms do, and the harness judges it in the regime's tolerance. Offered beside the plain schedule
where a sum or mean over the last dim of a 2-D weight's linear layer or matmul is the product's only reader;
the harness's timings choose.
"""

from __future__ import annotations

import ast
from dataclasses import replace

from .lowering import live_steps
from .program import PrimStep, Program, PyStep, Scalar, Shape, Step, new_tensor, readers_of

_LINEAR = "torch.nn.functional.linear"
_MATMULS = ("torch.matmul", "torch.mm")
# Elementwise steps linear in their one tensor operand: f(sum(y)) == sum(f(y)).
_LINEAR_STEPS = {"mul", "div", "neg"}


def linear_sums_program(program: Program) -> Program | None:
    """`program` with each sum over a linear map's outputs taken through its weight; None where it has none."""
    steps, tensors, changed = list(program.steps), dict(program.tensors), False
    for reduction in [s for s in program.steps if isinstance(s, PrimStep) and s.kind == "reduce"]:
        rewritten = _through_weight(reduction, steps, program, tensors)
        if rewritten is not None:
            at = steps.index(reduction)
            steps[at:at + 1] = rewritten
            changed = True
    if not changed:
        return None
    return replace(program, steps=live_steps(steps, program.output), tensors=tensors)


def _product(step: Step | None, by_name: dict[str, Step], tensors: dict[str, Shape]
             ) -> tuple[str, str, str | None, int] | None:
    """A linear layer or matmul of a 2-D weight, a vendor call or the engine's GEMM (with its bias added after it,
    as `strict` lowers one): (x, weight, bias or None, the weight's dim that the outputs run along)."""
    if isinstance(step, PrimStep) and step.kind == "gemm":
        (x, weight), bias = step.tensor_args()[:2], None
        along = 0 if step.fn == "linear" else 1
    elif isinstance(step, PrimStep) and step.fn == "add" and len(step.tensor_args()) == 2 \
            and isinstance(gemm := by_name.get(step.args[0]), PrimStep) and gemm.kind == "gemm" \
            and len(tensors[step.args[1]].dims) == 1:
        (x, weight), bias = gemm.tensor_args()[:2], step.args[1]
        along = 0 if gemm.fn == "linear" else 1
    elif isinstance(step, PyStep) and step.vendor in (_LINEAR, *_MATMULS):
        call = ast.parse(step.code, mode="eval").body
        if not isinstance(call, ast.Call) or call.keywords or not all(isinstance(a, ast.Name) for a in call.args):
            return None
        names = [a.id for a in call.args]
        if step.vendor == _LINEAR and len(names) in (2, 3):
            x, weight, bias, along = names[0], names[1], names[2] if len(names) == 3 and names[2] != "None" else None, 0
        elif step.vendor in _MATMULS and len(names) == 2:
            (x, weight), bias, along = names, None, 1
        else:
            return None
    else:
        return None
    shapes = [tensors.get(n) for n in (x, weight, bias) if n is not None]
    if any(s is None or "float" not in s.dtype for s in shapes) or len(tensors[weight].dims) != 2 \
            or len(tensors[x].dims) < 2:
        return None
    return x, weight, bias, along


def _through_weight(reduction: PrimStep, steps: list[Step], program: Program, tensors: dict[str, Shape]
                    ) -> list[Step] | None:
    """The steps that replace a sum or mean over a linear map's outputs, or None where it is not one."""
    by_name = {step.name: step for step in steps}
    if reduction.fn not in ("sum", "mean") or reduction.index or not isinstance(reduction.args[0], str):
        return None
    rank = len(tensors[reduction.args[0]].dims)
    if reduction.dims != (rank - 1,):
        return None
    # Back from the reduction through steps linear in the product, each the only reader of what it reads.
    readers = readers_of(steps, program.output)
    value, reader, scalings = reduction.args[0], reduction.name, []
    while readers.get(value) == {reader}:
        step = by_name.get(value)
        if not (isinstance(step, PrimStep) and step.kind == "pointwise" and step.fn in _LINEAR_STEPS
                and step.tensor_args() == [step.args[0]] and (step.fn != "div" or len(step.args) == 2)
                and step.shape.dims == tensors[step.args[0]].dims):
            break
        scalings.insert(0, step)
        reader, value = step.name, step.args[0]
    else:
        return None
    found = _product(by_name.get(value), by_name, tensors)
    if found is None:
        return None
    x, weight, bias, along = found
    dtype = reduction.shape.dtype
    summed_weight = new_tensor(f"{weight}_summed", Shape((tensors[weight].dims[1 - along],), tensors[weight].dtype),
                               tensors)
    new: list[Step] = [PrimStep(summed_weight, "reduce", "sum", (weight,), tensors[summed_weight], dims=(along,))]
    weighted = new_tensor(f"{x}_weighted", Shape(tensors[x].dims, dtype), tensors)
    new.append(PrimStep(weighted, "pointwise", "mul", (x, summed_weight), tensors[weighted]))
    total = new_tensor(f"{reduction.name}_dot", reduction.shape, tensors)
    new.append(PrimStep(total, "reduce", "sum", (weighted,), reduction.shape, dims=(rank - 1,),
                        keepdim=reduction.keepdim))
    if bias is not None:
        summed_bias = new_tensor(f"{bias}_summed", Shape((1,), tensors[bias].dtype), tensors)
        new.append(PrimStep(summed_bias, "reduce", "sum", (bias,), tensors[summed_bias], dims=(0,), keepdim=True))
        total = _then(new, tensors, "add", total, summed_bias, shape=reduction.shape)
    if reduction.fn == "mean":
        outputs = Scalar(f"{weight}.shape[{along}]", literal=False)
        total = _then(new, tensors, "div", total, outputs, shape=reduction.shape)
    for scaling in scalings:
        total = _then(new, tensors, scaling.fn, total, *scaling.args[1:], shape=reduction.shape)
    new[-1] = replace(new[-1], name=reduction.name)
    tensors[reduction.name] = reduction.shape
    return new


def _then(new: list[Step], tensors: dict[str, Shape], fn: str, value: str, *rest: str | Scalar,
          shape: Shape) -> str:
    name = new_tensor(f"{value}_{fn}", shape, tensors)
    new.append(PrimStep(name, "pointwise", fn, (value, *rest), shape))
    return name
