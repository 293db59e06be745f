"""The tampering check sees replaced harness functions and does not mistake torch.compile for one."""

import time

import torch

from kevolve.eval_harness.integrity import IntegritySnapshot
from kevolve.eval_harness.worker import preload_compiler


def test_torch_compile_after_the_snapshot_is_not_tampering():
    preload_compiler()
    snapshot = IntegritySnapshot()
    compiled = torch.compile(lambda x: x * 2 + 1, backend="eager")
    assert torch.equal(compiled(torch.ones(4)), torch.full((4,), 3.0))
    assert snapshot.replaced() == []


def test_a_replaced_timer_is_named(monkeypatch):
    snapshot = IntegritySnapshot()
    monkeypatch.setattr(time, "perf_counter", lambda: 0.0)
    monkeypatch.setattr(torch.Tensor, "__eq__", lambda self, other: True)
    assert set(snapshot.replaced()) == {"time.perf_counter", "torch.Tensor.__eq__"}
