"""Building blocks for tests that run the whole optimization graph on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from harness_helpers import FAST_SETTINGS
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.graph.configuration import Budget, SearchSettings
from kevolve.graph.context import RunServices
from kevolve.graph.run_directory import new_run_id
from kevolve.graph.state import TaskSpec
from kevolve.tools.evaluation_pool import EvaluationPool

GELU_PROBLEM = SUITE_DIR / "elementwise_gelu_tanh.py"

# A GELU (tanh form) kernel; `half` is the 0.5 factor, which the wrong-on-purpose draft leaves out.
GELU_KERNEL = '''
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def _gelu(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask)
    inner = 0.7978845608028654 * (x + 0.044715 * x * x * x)
    tanh = 2.0 / (1.0 + tl.exp(-2.0 * inner)) - 1.0
    tl.store(y_ptr + offsets, HALF * x * (1.0 + tanh), mask=mask)


class ModelNew(nn.Module):
    def forward(self, x):
        x = x.contiguous()
        y = torch.empty_like(x)
        _gelu[(triton.cdiv(x.numel(), BLOCK),)](x, y, x.numel(), BLOCK=BLOCK)
        return y
'''


def gelu_kernel(*, block: int, half: float = 0.5, fenced: bool = True) -> str:
    source = GELU_KERNEL.replace("HALF", repr(half)).replace("BLOCK=BLOCK", f"BLOCK={block}")
    source = source.replace("cdiv(x.numel(), BLOCK)", f"cdiv(x.numel(), {block})")
    return f"Here is the kernel.\n```python\n{source}```\n" if fenced else source


def plan_reply(operator: str, strategy: str, parents: list[str] | None = None, gain: float = 1.0) -> str:
    plan = {"operator": operator, "parent_ids": parents or [], "strategy": strategy,
            "description": f"{strategy}, as a Triton kernel", "expected_gain": gain}
    return json.dumps({"plans": [plan]})


def write_transcript(path: Path, replies: dict[str, list[str]]) -> Path:
    path.write_text(yaml.safe_dump(replies, sort_keys=False))
    return path


def gelu_task(*, patience: int = 2, max_rounds: int = 8, auto_approve: bool = False) -> TaskSpec:
    return TaskSpec(
        run_id=new_run_id("elementwise_gelu_tanh"),
        problem_path=str(GELU_PROBLEM),
        problem_name="elementwise_gelu_tanh",
        devices=["cpu"],
        policy=FAST_SETTINGS.policy.value,
        dtype=FAST_SETTINGS.dtype.value,
        search=SearchSettings(patience=patience, budget=Budget(max_rounds=max_rounds), auto_approve=auto_approve),
        evaluation=FAST_SETTINGS,
    )


def cpu_services(cache_dir: Path, **extra: object) -> RunServices:
    return RunServices(pool=EvaluationPool(FAST_SETTINGS, cache_dir=cache_dir), **extra)
