"""A real run that waits for a person's approval, made on the CPU from seed candidates (no model, no engine):
what the review pages, the review command and the hostile run-folder corpus decide on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loop_helpers import GELU_PROBLEM, gelu_kernel

OPTIMIZE_ARGS = ["--device", "cpu", "--trials", "2", "--timing-trials", "5", "--seed", "7", "--no-knowledge",
                 "--no-engine"]
FIRST_KERNEL = "cpu-r01-0"  # what the run waits on: the first seed (accepted ones tie on a CPU; the earliest wins)
EXIT_WAITING = 3  # `kevolve optimize` stopped for a person's approval


def optimize_until_approval(home: Path, baseline_cache: Path) -> Path:
    """Runs `kevolve optimize --patience 1` over four GELU seeds in `home`; returns its runs folder, whose one
    run waits for approval of FIRST_KERNEL."""
    seeds = home / "seeds" / "elementwise_gelu_tanh"
    seeds.mkdir(parents=True)
    for index, block in enumerate((1024, 2048, 512, 256)):
        (seeds / f"{index}_block{block}.py").write_text(gelu_kernel(block=block, fenced=False))
    made = subprocess.run(
        [sys.executable, "-m", "kevolve", "optimize", str(GELU_PROBLEM), *OPTIMIZE_ARGS, "--seeds", str(seeds.parent),
         "--patience", "1", "--runs-dir", str(home / "runs"), "--library", str(home / "library"),
         "--cache-dir", str(baseline_cache)],
        capture_output=True, text=True, timeout=600,
    )
    assert made.returncode == EXIT_WAITING, made.stdout + made.stderr
    return home / "runs"
