"""Which custom kernels a candidate launched, and the same forward with those launches skipped.

The worker wraps Triton's launch entry point (`run` of the JIT function class, and of the
interpreter's stand-in on a CPU) once, before the integrity snapshot. Outside a recording the
wrapper only forwards; inside one it notes each launch by kernel name, and in a "ghost" recording
it drops the launch instead. Autotuned and heuristic kernels reach the same entry point, so every
Triton launch is seen however the candidate refers to its kernels. CUDA C++ kernels from
`load_inline` do not pass through it; on a GPU the profiler names them instead.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


class _Recording:
    def __init__(self, ghost: bool, protected: frozenset[int]) -> None:
        self.ghost = ghost
        self.protected = protected  # storages (data pointers) a ghost must not overwrite: the model's own
        self.launches: Counter[str] = Counter()

    def spoil(self, args: tuple, kwargs: dict) -> None:
        """What a skipped launch would have written holds garbage: NaN in its floating-point tensors.

        Poisoning the allocator is not enough on its own: a buffer allocated inside the forward may be
        served fresh by the driver, with the correct values a previous call left there.
        """
        import torch

        for value in (*args, *kwargs.values()):
            if isinstance(value, torch.Tensor) and value.is_floating_point() and value.numel() \
                    and value.untyped_storage().data_ptr() not in self.protected:
                value.fill_(float("nan"))


_active: list[_Recording] = []
_installed = False


def _kernel_name(kernel: Any) -> str:
    fn = getattr(kernel, "fn", None)
    return getattr(fn, "__name__", None) or getattr(kernel, "__name__", type(kernel).__name__)


def _wrap(run: Callable) -> Callable:
    @functools.wraps(run)
    def recorded_run(self, *args, **kwargs):
        if not _active or kwargs.get("warmup"):
            return run(self, *args, **kwargs)
        recording = _active[-1]
        recording.launches[_kernel_name(self)] += 1
        if recording.ghost:
            recording.spoil(args, kwargs)
            return None
        return run(self, *args, **kwargs)

    return recorded_run


def _launch_classes() -> list[type]:
    classes: list[type] = []
    try:
        from triton.runtime.jit import JITFunction

        classes.append(JITFunction)
    except ImportError:
        return classes
    try:
        from triton.runtime.interpreter import InterpretedFunction

        classes.append(InterpretedFunction)
    except ImportError:
        pass
    return classes


def install() -> None:
    """Wraps Triton's launch entry points; idempotent. No-op where Triton is not installed."""
    global _installed
    if _installed:
        return
    for cls in _launch_classes():
        cls.run = _wrap(cls.run)
    _installed = True


@contextmanager
def recording(*, ghost: bool = False, protected: Iterable[Any] = ()) -> Iterator[Counter[str]]:
    """Counts Triton launches by kernel name inside the block; with `ghost`, skips them too.

    A ghost fills the skipped launches' floating-point tensors with NaN, except those sharing
    storage with `protected` tensors (the model's parameters and buffers, which later checks reuse).
    """
    if not _installed:
        raise RuntimeError("kernel_launches.install() must run first")
    current = _Recording(ghost, frozenset(t.untyped_storage().data_ptr() for t in protected))
    _active.append(current)
    try:
        yield current.launches
    finally:
        _active.remove(current)
