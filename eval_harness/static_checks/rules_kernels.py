"""Rules about the candidate's own kernels: that one runs, and that none is a decoy."""

from __future__ import annotations

from collections.abc import Iterator

from ..results import Severity
from . import cuda_source
from .cuda_source import Match
from .facts import Facts
from .registry import CheckContext, Hit, rule


def launched_kernels(facts: Facts) -> set[str]:
    """Triton kernels launched with `kernel[grid](...)`: directly, through an alias or autotune wrapper,
    through a helper that launches the kernel it is passed, or called from the body of a launched one."""
    launched = {k for launch in facts.launches for k in launch.kernels}
    launched |= {k for callee, kernels in facts.kernel_args if callee in facts.generic_launchers for k in kernels}
    frontier = list(launched)
    while frontier:
        for callee in facts.kernel_calls.get(frontier.pop(), ()):
            if callee in facts.symbols.kernels and callee not in launched:
                launched.add(callee)
                frontier.append(callee)
    return launched


def _cuda_kernels(facts: Facts) -> list[tuple[Match, bool]]:
    """Every `__global__` kernel of every load_inline source, with whether anything refers to it."""
    found = []
    for ext in facts.extensions:
        srcs = cuda_source.sources(ext.sources)
        found += [(k, cuda_source.is_referenced(k.text, srcs)) for k in cuda_source.global_kernels(srcs)]
    return found


@rule("no_custom_kernel", Severity.ERROR)
def no_custom_kernel(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """A module that launches no kernel of its own: neither a Triton `kernel[grid](...)` nor a load_inline function.

    Without one, whatever the module computes, PyTorch computes; a kernel defined for show does not count.
    """
    if launched_kernels(facts):
        return
    cuda = _cuda_kernels(facts)
    if facts.extension_calls and any(used for _, used in cuda):
        return
    model = facts.model_class()
    line = model.where.line if model else 1
    if facts.symbols.kernels:
        found = ", ".join(sorted(facts.symbols.kernels))
        yield Hit(line, f"the @triton.jit kernels ({found}) are never launched with `kernel[grid](...)`; "
                        "launch one from ModelNew.forward")
    elif facts.extensions and not cuda:
        yield Hit(line, "the load_inline source defines no `__global__` kernel; write the computation as one")
    elif facts.extensions:
        yield Hit(line, "no function of the load_inline extension is called (or its kernels are never launched); "
                        "call it from ModelNew.forward")
    else:
        yield Hit(line, "no custom kernel: define a @triton.jit kernel and launch it with `kernel[grid](...)`, or "
                        "build CUDA with load_inline and call it from ModelNew.forward")


@rule("kernel_defined_not_launched", Severity.ERROR)
def kernel_defined_not_launched(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """A kernel that is defined but never launched: a decoy that makes PyTorch code look like kernel code."""
    launched = launched_kernels(facts)
    for name, node in facts.symbols.kernels.items():
        if name not in launched:
            yield Hit(node.lineno, f"Triton kernel `{name}` is never launched (no `{name}[grid](...)` and no launched "
                                   "kernel calls it); launch it or delete it")
    for kernel, used in _cuda_kernels(facts):
        if not used:
            yield Hit(kernel.line, f"CUDA kernel `{kernel.text}` is defined but never launched (`<<<...>>>`); launch "
                                   "it or delete it")
