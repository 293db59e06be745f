"""Loops over module containers that tracing unrolled.

`for layer in self.layers: x = layer(x)` over an `nn.ModuleList` (or an `nn.Sequential`'s own loop) is traced
as one call per module, so the program holds as many steps as the traced model had modules. A model built
with another count (`num_layers` is often an init input) would need another program: the generated module
checks the count it was written for and says so, rather than failing on a missing index or skipping a layer.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .lowering import self_path

_SEQUENCES = (nn.ModuleList, nn.Sequential, nn.ParameterList)


def unrolled_containers(graph: torch.fx.Graph, model: nn.Module) -> dict[str, int]:
    """Each outermost ModuleList or Sequential whose modules the graph calls or reads, by path, with its length.
    (A container inside one of its modules, `nn.Sequential(...)` per layer, is part of that module's block: the
    outer container's check or loop covers it.)"""
    found: dict[str, int] = {}
    for node in graph.nodes:
        if node.op not in ("call_module", "get_attr"):
            continue
        parts = str(node.target).split(".")
        end = next((end for end in range(1, len(parts)) if parts[end].isdigit()
                    and isinstance(model.get_submodule(".".join(parts[:end])), _SEQUENCES)), None)
        if end is not None:
            path = ".".join(parts[:end])
            found[path] = len(model.get_submodule(path))
    return found


def _refused(condition: str, wanted: str, has: str) -> list[str]:
    return [f"if {condition}:",
            f"    raise ValueError(f'kevolve generated this module for {wanted}; this model has {has}: "
            "generate it again for this model')"]


def container_guard(path: str, length: int, *, at_least: bool = False) -> list[str]:
    """Forward lines that refuse a model whose container at `path` has another length than the traced one (or,
    `at_least`, fewer modules than the forward reads before its loop over the rest: loop_rolling.py)."""
    attribute = self_path(path)
    wanted = f"at least {length}" if at_least else f"{length}"
    return _refused(f"len({attribute}) {'<' if at_least else '!='} {length}", f"{wanted} modules in {attribute}",
                    f"{{len({attribute})}}")


def same_length_guard(path: str, other: str) -> list[str]:
    """Forward lines that refuse a model whose containers at `path` and `other`, which one loop walks in step,
    have different lengths."""
    attribute, walked = self_path(path), self_path(other)
    return _refused(f"len({attribute}) != len({walked})", f"{attribute} and {walked} of one length",
                    f"{{len({attribute})}} and {{len({walked})}}")
