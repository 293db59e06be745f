"""Writes the replayed transcripts for the agent-system evidence run (benchmarks/agent_runs/README.md).

Each transcript is what a planner and a coder might have said over one search: a plain first draft,
an improvement, one wrong on purpose and its repair, then tuning steps around the best. The kernels
are the hand-written candidates in benchmarks/candidates/ with module constants changed, so every
reply is a real Triton kernel; the harness on the GPU decides which are correct and which are fast.
The reviewer and the analyst run their offline policies.

    python benchmarks/agent_runs/make_transcripts.py   # rewrites benchmarks/agent_runs/transcripts/
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

HERE = Path(__file__).parent
CANDIDATES = HERE.parent / "candidates"
DEVICE = "cuda0"

# (operator, parent rounds, strategy, expected gain, [(text in the hand-written kernel, replacement)])
Step = tuple[str, list[int], str, float, list[tuple[str, str]]]

SCRIPTS: dict[str, list[Step]] = {
    "softmax_rows": [
        ("draft", [], "two-pass online softmax over 2048-column blocks", 1.0,
         [("MAX_FUSED_COLS = 16384", "MAX_FUSED_COLS = 1024"), ("LOOP_BLOCK = 16384", "LOOP_BLOCK = 2048"),
          ("LOOP_NUM_WARPS = 32", "LOOP_NUM_WARPS = 4")]),
        ("improve", [1], "keep the whole row in registers: one read, one write", 1.5,
         [("    y = e / denom\n", "    y = e / (denom + 1.0)\n")]),  # wrong on purpose
        ("repair", [2], "divide by the row sum itself", 1.5, []),
        ("improve", [3], "32 warps for 16K-column rows", 1.05, [("    return 16\n", "    return 32\n")]),
        ("explore", [3], "8 warps per row, more rows in flight", 1.05, [("    return 16\n", "    return 8\n")]),
        ("improve", [3], "4 warps for 1K to 4K columns too", 1.02, [("    return 8\n", "    return 4\n")]),
        ("explore", [3], "two-pass path with 16K blocks", 1.0, [("MAX_FUSED_COLS = 16384", "MAX_FUSED_COLS = 8192")]),
    ],
    "layernorm_affine": [
        ("draft", [], "looped two-pass layer norm over 512-column blocks", 1.0,
         [("MAX_FUSED_COLS = 16384", "MAX_FUSED_COLS = 256"), ("LOOP_BLOCK = 2048", "LOOP_BLOCK = 512")]),
        ("improve", [1], "whole row in registers, one pass for mean and variance", 1.6,
         [("    y = d * rstd * w + b\n", "    y = d * rstd * w\n")]),  # wrong on purpose: no bias
        ("repair", [2], "add the bias back", 1.6, []),
        ("improve", [3], "16 warps for 4K-wide rows", 1.05, [("    return 8\n", "    return 16\n")]),
        ("explore", [3], "4 warps for 4K-wide rows", 1.05, [("    return 8\n", "    return 4\n")]),
        ("improve", [3], "looped path with 4096-column blocks", 1.0,
         [("MAX_FUSED_COLS = 16384", "MAX_FUSED_COLS = 2048"), ("LOOP_BLOCK = 2048", "LOOP_BLOCK = 4096")]),
        ("explore", [3], "32 warps for 4K-wide rows", 1.0, [("    return 8\n", "    return 32\n")]),
    ],
    "fused_bias_gelu_scale": [
        ("draft", [], "one fused kernel, 1024-element tiles, 4 warps", 1.0,
         [("TILE = 4096", "TILE = 1024"), ("num_warps=8,", "num_warps=4,")]),
        ("improve", [1], "4096-element tiles, 8 warps: four 128-bit accesses per thread", 1.3, []),
        ("explore", [2], "8192-element tiles", 1.05, [("TILE = 4096", "TILE = 8192")]),
        ("improve", [2], "16 warps per tile", 1.03, [("num_warps=8,", "num_warps=16,")]),
        ("explore", [2], "narrower 512-column tiles, more rows per tile", 1.02,
         [("MAX_BLOCK_C = 1024", "MAX_BLOCK_C = 512")]),
        ("improve", [2], "2048-element tiles with 8 warps", 1.0, [("TILE = 4096", "TILE = 2048")]),
    ],
}


def _source(problem: str, edits: list[tuple[str, str]]) -> str:
    source = (CANDIDATES / f"{problem}.py").read_text()
    for old, new in edits:
        if old not in source:
            raise SystemExit(f"{problem}: {old!r} is not in the hand-written kernel")
        source = source.replace(old, new)
    return source


def transcript(problem: str, steps: list[Step]) -> dict[str, list[str]]:
    planner, coder = [], []
    for operator, parents, strategy, gain, edits in steps:
        plan = {"operator": operator, "parent_ids": [f"{DEVICE}-r{r:02d}-0" for r in parents], "strategy": strategy,
                "description": f"{strategy}; keep the launch and the ModelNew interface as they are",
                "expected_gain": gain}
        planner.append(json.dumps({"plans": [plan]}))
        coder.append(f"Plan: {strategy}.\n\n```python\n{_source(problem, edits)}```\n")
    return {"planner": planner, "coder": coder}


def main() -> None:
    out = HERE / "transcripts"
    out.mkdir(exist_ok=True)
    for problem, steps in SCRIPTS.items():
        (out / f"{problem}.yaml").write_text(yaml.safe_dump(transcript(problem, steps), sort_keys=False, width=200))
        print(f"{problem}: {len(steps)} rounds")


if __name__ == "__main__":
    main()
