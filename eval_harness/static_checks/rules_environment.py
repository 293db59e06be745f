"""Rules about what the candidate touches beyond its inputs: processes, clocks, files, frames, globals."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..results import Severity
from . import cuda_source
from . import names as n
from .classify import Category, classify
from .facts import Facts, Where
from .registry import CheckContext, Hit, rule


def _imports_of(facts: Facts, category: Category) -> Iterator[tuple[str, Where]]:
    return facts.imports_matching(lambda name: classify(name) is category)


def _uses_of(facts: Facts, category: Category, *, loads_only: bool = False) -> Iterator[tuple[str, Where]]:
    for name, where, ctx in facts.named_uses():
        if not where.kernel and classify(name) is category and (ctx == "load" or not loads_only):
            yield name, where


def _cuda(facts: Facts, pattern: str) -> Iterator[cuda_source.Match]:
    for ext in facts.extensions:
        yield from cuda_source.search(cuda_source.sources(ext.sources), pattern)


def _builtin_uses(facts: Facts, builtins: frozenset[str]) -> Iterator[tuple[str, Where]]:
    for name, where in facts.bare_names:
        if name in builtins and name not in facts.symbols.defined:
            yield name, where


@rule("concurrency", Severity.ERROR)
def concurrency(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """Threads, processes, async tasks and extra CUDA streams.

    Work on another thread, process or stream escapes the timer, which measures the caller's stream,
    and can keep computing (or tamper) after the harness thinks forward returned.
    """
    why = "work off the timed stream or process escapes the measurement; run everything on the current stream"
    for name, where in _imports_of(facts, Category.CONCURRENCY):
        yield Hit(where.line, f"imports `{name}`: {why}")
    for name, where in _uses_of(facts, Category.CONCURRENCY):
        yield Hit(where.line, f"uses `{name}`: {why}")
    for match in _cuda(facts, n.CUDA_CONCURRENCY_PATTERN):
        yield Hit(match.line, f"the C++ source uses `{match.text}`: {why}")


@rule("cuda_graph", Severity.WARNING)
def cuda_graph(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """CUDA graph capture and replay.

    A legitimate way to cut launch overhead, but a replayed graph hides which work ran and on what
    data (a graph captured on one input replays on that input's buffers): a person should look.
    """
    why = "graph replay hides which work runs on which buffers; a reviewer must check it recomputes per call"
    for name, where in _uses_of(facts, Category.CUDA_GRAPH):
        yield Hit(where.line, f"uses `{name}`: {why}")
    for match in _cuda(facts, n.CUDA_GRAPH_PATTERN):
        yield Hit(match.line, f"the C++ source uses `{match.text}`: {why}")


@rule("monkey_patching", Severity.ERROR)
def monkey_patching(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """Rebinding attributes of imported modules or classes, builtins, sys.modules, or global PyTorch state.

    Replacing `time.perf_counter`, `torch.allclose` or `torch.Tensor.__eq__` fools the harness;
    flipping process-wide flags (cuDNN, deterministic mode, the allocator) slows the baseline.
    """
    for name, where, ctx_ in facts.named_uses():
        if ctx_ != "load" and classify(name) is not Category.PRECISION:  # the precision rule owns TF32 switches
            yield Hit(where.line, f"assigns `{name}`, an attribute of an imported module or class; never patch "
                                  "libraries (the harness shares them)")
    for call in facts.calls:
        if call.where.kernel:
            continue
        patcher = call.local in ("setattr", "delattr") and call.local not in facts.symbols.defined
        if (patcher or call.method in ("__setattr__", "__delattr__")) and call.node.args and (
                target := facts.symbols.canonical(call.node.args[0])):
            yield Hit(call.where.line, f"`{call.local or call.method}` on `{target}` patches an imported module or "
                                       "class; never patch libraries")
        elif call.name and call.name.startswith("sys.modules.") and call.name.rsplit(".", 1)[-1] in (
                n.SYS_MODULES_MUTATORS):
            yield Hit(call.where.line, "changes `sys.modules`: the harness resolves its own imports through it")
        elif call.name and classify(call.name) is Category.GLOBAL_STATE:
            yield Hit(call.where.line, f"`{call.name}` changes process-wide PyTorch / CUDA state that the harness "
                                       "and the reference share; leave it alone")
        elif call.name and call.name.startswith("torch.library.") and _targets_aten(call.node):
            yield Hit(call.where.line, "registers an implementation for an `aten` operator: that replaces PyTorch's "
                                       "own op (the reference's too); register ops in your own namespace")
    for imp in facts.imports:
        if imp.module.split(".")[0] in n.PATCH_MODULES:
            yield Hit(imp.where.line, f"imports `{imp.module}`: the first step of patching Python's builtins")
    for name, where in facts.bare_names:
        if name == "__builtins__":
            yield Hit(where.line, "touches `__builtins__`: never patch Python's builtins")


def _targets_aten(call: ast.Call) -> bool:
    values = [*call.args, *(k.value for k in call.keywords)]
    return any(isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value.startswith("aten") for v in values)


@rule("rng_state", Severity.ERROR)
def rng_state(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """Seeding or reading the global random generators.

    The harness draws inputs from them: a candidate that seeds them makes the next inputs predictable
    (and cacheable); one that reads the seed can replay the reference's draws. Drawing numbers is fine.
    """
    for name, where in _uses_of(facts, Category.RNG_STATE):
        yield Hit(where.line, f"`{name}` seeds or reads the global RNG the harness draws inputs from; use a "
                              "private torch.Generator if you need one")


@rule("io_access", Severity.ERROR)
def io_access(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """Files, the environment, the network and code loaded at run time (open, os, pickle, eval, importlib...).

    A result read from disk, the environment or a socket was not computed; `eval` / `importlib`
    load code that no check has read. Importing `os` is fine; using it is not.
    """
    why = "a candidate computes from its inputs only: no files, environment, network or dynamic code"
    for name, where in _imports_of(facts, Category.NETWORK):
        yield Hit(where.line, f"imports network module `{name}`: {why}")
    for category in (Category.IO, Category.NETWORK):
        for name, where in _uses_of(facts, category):
            yield Hit(where.line, f"uses `{name}`: {why}")
    for name, where in _builtin_uses(facts, n.IO_BUILTINS):
        yield Hit(where.line, f"uses the builtin `{name}`: {why}")


@rule("reference_introspection", Severity.ERROR)
def reference_introspection(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """Reaching other objects through the interpreter: gc, inspect, frames, sys.modules, globals()/vars().

    From a frame or the garbage collector a candidate can find the reference model, its outputs or
    the harness's expected tensors, and return those.
    """
    why = "it can reach the reference model or the harness's tensors; compute from your inputs"
    for name, where in _uses_of(facts, Category.INTROSPECTION, loads_only=True):
        yield Hit(where.line, f"uses `{name}`: {why}")
    for name, where in _builtin_uses(facts, n.INTROSPECTION_BUILTINS):
        yield Hit(where.line, f"calls `{name}()`: {why}")
    for attr, where in facts.attributes:
        if attr in n.INTROSPECTION_ATTRIBUTES and not where.kernel:
            yield Hit(where.line, f"reads `.{attr}`: {why}")


@rule("timer_access", Severity.ERROR)
def timer_access(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """Reading clocks or profilers (time, timeit, torch.cuda.Event, torch.profiler, device clocks).

    A candidate that can read time can tell when it is being timed and do less work then.
    `torch.cuda.synchronize()` is fine.
    """
    why = "a candidate has no use for clocks, and one that reads them can detect the timing loop"
    for name, where in _uses_of(facts, Category.TIMER):
        yield Hit(where.line, f"uses `{name}`: {why}")
    for call in facts.calls:
        if call.where.kernel and call.name and call.name.endswith(n.TRITON_TIMER_SUFFIXES):
            yield Hit(call.where.line, f"the kernel reads a clock with `{call.name}`: {why}")
    for match in _cuda(facts, n.CUDA_TIMER_PATTERN):
        yield Hit(match.line, f"the C++ source reads a clock with `{match.text}`: {why}")
