"""A fused program and its configurations -> one standalone candidate module (`ModelNew`).

The module keeps the reference's own constructor (class body without `forward`, renamed), so it
builds the same parameters in the same order from the same seed, and reads every setting (`self.eps`,
`self.groups`) from them at run time: one source serves every configuration of the problem.
"""

from __future__ import annotations

import ast
import json

from kevolve.eval_harness.precision import MathMode

from .configs import GroupConfig
from .fusion_groups import FusedProgram, FusionGroup
from .gemm_source import gemm_kernel, gemm_launcher
from .kernel_naming import readable_kernels
from .launcher_source import (
    INDEX_WIDTH_SOURCE,
    MEMORY_ORDER_SOURCE,
    REDUCED_OPERAND_SOURCE,
    launcher,
    launcher_arguments,
    launcher_name,
)
from .loop_collection import CONCATENATE_SOURCE
from .pairwise_source import pairwise_kernel, pairwise_launcher
from .program import PyStep
from .reduction_source import reduction_kernels
from .regime import EXACT
from .scatter_source import SCATTER_START_SOURCE
from .schedules import PLAIN, Schedule, schedule_line
from .segment_source import SEGMENT_ENDS_SOURCE, segment_kernel, segment_launcher
from .sorted_scatter_source import SORT_SOURCE, sortable, sorted_kernel
from .split_reduction import plan as split_plan
from .split_source import split_kernels
from .trace_containers import container_guard, same_length_guard
from .triton_helpers import helpers_used
from .triton_source import pointwise_kernel
from .window_source import ADAPTIVE_WINDOW_SOURCE, ADAPTIVE_WINDOWS, WINDOW_SOURCE

CONFIG_MARKER = "# kevolve-offline: "
_DROPPED_FUNCTIONS = {"get_inputs", "get_init_inputs"}
# What a generated module may import, each with the name it binds; a module keeps those its code reads.
_IMPORTS = [("import math", "math"), ("import torch", "torch"), ("import torch.nn as nn", "nn"),
            ("import torch.nn.functional as F", "F"), ("import triton", "triton"),
            ("import triton.language as tl", "tl")]


class _RenameReference(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        # super(Model, self).__init__() -> super().__init__()
        if isinstance(node.func, ast.Name) and node.func.id == "super":
            node.args = []
        return self.generic_visit(node)


def _drop_forward(cls: ast.ClassDef) -> None:
    """The traced graph already inlines every submodule's forward; keeping them would keep PyTorch compute."""
    cls.body = [s for s in cls.body if not (isinstance(s, ast.FunctionDef) and s.name == "forward")] or [ast.Pass()]


def _keep_construction(cls: ast.ClassDef) -> None:
    """Only `__init__` and the methods it calls: the forward and its helpers are what the kernels replace."""
    methods = {s.name: s for s in cls.body if isinstance(s, ast.FunctionDef)}
    keep, pending = set(), ["__init__"]
    while pending:
        name = pending.pop()
        if name in keep or name not in methods:
            continue
        keep.add(name)
        pending += [n.attr for n in ast.walk(methods[name])
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"]
    cls.body = [s for s in cls.body if not isinstance(s, ast.FunctionDef) or s.name in keep] or [ast.Pass()]


def _reference_parts(reference: str) -> tuple[list[str], str]:
    """The reference's module-level code to keep, and its Model class as `ModelNew` without forward."""
    tree = ast.parse(reference)
    model_class = next((s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == "Model"), None)
    if model_class is None:
        raise ValueError("the reference defines no class Model")
    # Imports are the header's; size constants and other helpers stay only when the class uses them.
    # Names the class reads that it does not bind itself (a constructor's `features` parameter is not the
    # module's `features = 4096`, which only sizes the reference's inputs).
    bound = {arg.arg for node in ast.walk(model_class) if isinstance(node, ast.arguments)
             for arg in [*node.posonlyargs, *node.args, *node.kwonlyargs]}
    bound |= {node.id for node in ast.walk(model_class)
              if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    defaults = {name.id for node in ast.walk(model_class) if isinstance(node, ast.arguments)
                for default in [*node.defaults, *node.kw_defaults] if default is not None
                for name in ast.walk(default) if isinstance(name, ast.Name)}
    used = ({node.id for node in ast.walk(model_class) if isinstance(node, ast.Name)} - bound) | defaults
    kept: list[str] = []
    for statement in tree.body:
        if statement is model_class or isinstance(statement, ast.Import | ast.ImportFrom):
            continue
        if isinstance(statement, ast.FunctionDef) and statement.name in _DROPPED_FUNCTIONS:
            continue
        defined = {t.id for t in ast.walk(statement) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)}
        if isinstance(statement, ast.FunctionDef | ast.ClassDef):
            defined.add(statement.name)
        if defined & used:
            if isinstance(statement, ast.ClassDef):
                _drop_forward(statement)
            kept.append(ast.unparse(statement))
    _keep_construction(model_class)
    body = model_class.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    docstring = ast.Expr(ast.Constant("The reference's computation in fused Triton kernels (kevolve offline engine)."))
    model_class.body = [docstring, *body]
    model_class.name = "ModelNew"
    _RenameReference().visit(model_class)
    return kept, ast.unparse(ast.fix_missing_locations(model_class))


def _stage_line(stage: PyStep | FusionGroup) -> str:
    if isinstance(stage, PyStep):
        return f"{stage.name} = {stage.code}"
    targets = ", ".join(stage.outputs) + ("," if len(stage.outputs) == 1 else "")  # as the launcher returns them
    call = f"{launcher_name(stage)}({', '.join(launcher_arguments(stage))})"
    return f"{targets} = {call}" if stage.outputs else call


def _forward(fused: FusedProgram) -> str:
    program, loop = fused.program, fused.loop
    lines = [line for path, length in program.unrolled.items() for line in container_guard(path, length)]
    if loop is not None:
        walked = loop.containers[0]
        lines += container_guard(walked, loop.modules_before, at_least=True) if loop.modules_before else []
        lines += [line for other in loop.containers[1:] for line in same_length_guard(other, walked)]
    index = "_module_" + (loop.containers[0].replace(".", "_") if loop is not None else "")
    for position, stage in enumerate(fused.stages):
        if loop is None or position < loop.body[0]:
            lines.append(_stage_line(stage))
            continue
        if position >= loop.body[1]:
            lines.append(loop.after_loop(_stage_line(stage)))
            continue
        if position == loop.body[0]:
            lines += [f"{pieces} = []" for pieces, _ in loop.collected]
            end = f"len(self.{loop.containers[0]})" + (" - 1" if loop.trailing is not None else "")
            lines.append(f"for {index} in range({loop.first}, {end}):")
        lines.append("    " + loop.indexed(_stage_line(stage), index))
        if position == loop.body[1] - 1:
            lines += [f"    {pieces}.append({value})" for pieces, value in loop.collected]
            if loop.carried:  # what the next module's block reads from this one's
                lines.append("    " + ", ".join(read for read, _ in loop.carried) + " = "
                             + ", ".join(made for _, made in loop.carried))
            lines += [f"{name} = {holder}" for name, holder in loop.after]
    lines.append(f"return {program.output}")
    parameters = ", ".join(["self", *program.inputs])
    return f"    def forward({parameters}):\n" + "\n".join(f"        {line}" for line in lines) + "\n"


def module_source(reference: str, fused: FusedProgram, configs: dict[str, GroupConfig], summary: str,
                  mode: MathMode = EXACT, schedule: Schedule = PLAIN) -> str:
    """`mode`: the regime the program was traced in, which decides how its GEMMs use tensor cores; `schedule`:
    the one `fused` was built with, recorded so that the search's next step starts from it."""
    groups = fused.groups

    def sorted_form(group: FusionGroup) -> bool:
        return schedule.sorted_scatters and sortable(group)

    dtypes = {name: shape.dtype for name, shape in fused.program.tensors.items()}
    kept, model_class = _reference_parts(reference)
    header = [
        f"# Generated by kevolve's offline engine: {summary}",
        CONFIG_MARKER + json.dumps({name: config.model_dump() for name, config in configs.items()}, sort_keys=True),
        schedule_line(schedule),
    ]
    kernels: list[str] = []
    generated: list[str] = []
    for group in groups:
        if group.kind == "gemm":
            kernel, names = readable_kernels(group, gemm_kernel(group, dtypes, mode))
            launch = gemm_launcher(group, configs[group.name], dtypes, launcher_name(group), names)
        elif group.kind == "segment":
            kernel, names = readable_kernels(group, segment_kernel(group, dtypes))
            launch = segment_launcher(group, configs[group.name], dtypes, names)
        elif group.kind == "pairwise":
            kernel, names = readable_kernels(group, pairwise_kernel(group, mode))
            launch = pairwise_launcher(group, configs[group.name], dtypes, launcher_name(group), names)
        else:
            config = configs[group.name]
            if sorted_form(group):
                source = sorted_kernel(group, dtypes)
            elif group.kind == "pointwise":
                source = pointwise_kernel(group, dtypes)
            elif config.splits:
                source = split_kernels(group, dtypes, mode, split_plan(group))
            else:
                source = reduction_kernels(group, dtypes, mode)
            kernel, names = readable_kernels(group, source)
            launch = launcher(group, config, dtypes, names, follow_layout=schedule.channels_last,
                              sorted_scatter=sorted_form(group))
        kernels.append(kernel)
        generated += [kernel, launch]
    parts = [*kept, *helpers_used(kernels)]
    if any(group.reduced_dims and group.external("reduced") for group in groups):
        parts.append(REDUCED_OPERAND_SOURCE)
    # Pooling settings read from the model are per-dim tuples for window kernels and for reshaped pools' views.
    if any(group.window_members() for group in groups) \
            or any(isinstance(step, PyStep) and "_window(" in step.code for step in fused.program.steps):
        parts.append(WINDOW_SOURCE)
    if any(m.fn in ADAPTIVE_WINDOWS for group in groups for m in group.window_members()):
        parts.append(ADAPTIVE_WINDOW_SOURCE)
    if any(g.segment() is not None and g.segment().segment.bounds == "lengths" for g in groups) \
            or any(isinstance(stage, PyStep) and "_segment_ends(" in stage.code for stage in fused.stages):
        parts.append(SEGMENT_ENDS_SOURCE)
    if any(group.scattered() for group in groups):
        parts.append(SCATTER_START_SOURCE)
    if fused.loop is not None and fused.loop.collected:
        parts.append(CONCATENATE_SOURCE)
    if any(sorted_form(group) for group in groups):
        parts.append(SORT_SOURCE)
    if any(group.kind not in ("gemm", "segment", "pairwise") for group in groups):
        parts.append(INDEX_WIDTH_SOURCE)
    if schedule.channels_last and any(group.kind == "pointwise" for group in groups):
        parts.append(MEMORY_ORDER_SOURCE)
    parts += generated
    parts.append(model_class + "\n\n" + _forward(fused))
    body = "\n\n".join(parts)
    return "\n".join([*header, *_imports_used(body)]) + "\n\n" + body


def _imports_used(body: str) -> list[str]:
    """The header's imports that `body` (kernels, launchers and the kept reference code) refers to."""
    read = {node.id for node in ast.walk(ast.parse(body)) if isinstance(node, ast.Name)}
    return [line for line, name in _IMPORTS if name in read]


def read_configs(source: str) -> dict[str, GroupConfig] | None:
    """The configurations a generated module was written with; None for any other module."""
    for line in source.splitlines()[:3]:
        if line.startswith(CONFIG_MARKER):
            raw = json.loads(line[len(CONFIG_MARKER):])
            return {name: GroupConfig.model_validate(value) for name, value in raw.items()}
    return None
