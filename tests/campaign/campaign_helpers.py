"""Campaign specs, seeds and command lines the campaign tests share: offline searches on the CPU."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.main import main
from loop_helpers import gelu_kernel

GELU_BLOCKS = (1024, 2048, 512)
SOFTMAX_SEED = Path(__file__).resolve().parents[2] / "benchmarks" / "candidates" / "softmax_rows.py"
# Correctness as the harness tests run it; timing cut to a few calls (CPU timings mean nothing).
FAST_EVALUATION = {
    "correctness_trials": 2, "seed": 7,
    "timing": {"trials": 5, "min_trials_when_slow": 5, "warmup_calls": 1, "warmup_ms": 0, "max_seconds": 1.0},
}


def write_seeds(folder: Path) -> Path:
    """Three GELU kernels (one a round) and one softmax kernel, as the offline coder reads them."""
    gelu = folder / "elementwise_gelu_tanh"
    gelu.mkdir(parents=True)
    for index, block in enumerate(GELU_BLOCKS):
        (gelu / f"{index}_block{block}.py").write_text(gelu_kernel(block=block, fenced=False))
    (folder / "softmax_rows.py").write_text(SOFTMAX_SEED.read_text())
    return folder


def write_spec(home: Path, **overrides: Any) -> Path:
    """Two problems on the CPU, the GELU one searched for as long as it has seeds."""
    spec = {
        "name": "cpu-test",
        "problems": [str(SUITE_DIR / "elementwise_gelu_tanh.py"), str(SUITE_DIR / "softmax_rows.py")],
        "devices": ["cpu"],
        "search": {"patience": 9, "budget": {"max_rounds": 6}},
        "evaluation": FAST_EVALUATION,
        "seeds": "seeds",
        "knowledge": False,
        "offline_engine": False,  # the seeds alone: a known number of candidates per problem
        "scheduling": {"problems_in_flight": 2},
    } | overrides
    write_seeds(home / "seeds")
    path = home / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def campaign_args(*args: object, home: Path) -> list[str]:
    """`campaign VERB ...` with every folder inside `home`."""
    verb, *rest = map(str, args)
    # The baselines and the results cache in `home` too: a verdict from another test is not this test's.
    caches = ["--cache-dir", str(home / "cache")] if verb in ("run", "resume") else []
    return ["campaign", verb, *rest, "--campaigns-dir", str(home / "campaigns"), "--runs-dir", str(home / "runs"),
            "--library", str(home / "library"), *caches]


def campaign_command(*args: object, home: Path) -> list[str]:
    return [sys.executable, "-m", "kevolve", *campaign_args(*args, home=home)]


def kevolve_here(*args: object) -> tuple[int, str, str]:
    """The command in this process (no interpreter start-up): exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in args])
    return code, out.getvalue(), err.getvalue()


def campaign(*args: object, home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # Wide enough that the status table shows problem names whole.
    env = (env or dict(os.environ)) | {"COLUMNS": "200"}
    return subprocess.run(campaign_command(*args, home=home), capture_output=True, text=True, timeout=600,
                          env=env, cwd=home)


def only_campaign(home: Path) -> str:
    [folder] = (home / "campaigns").iterdir()
    return folder.name


def evaluations(home: Path) -> set[Path]:
    return set((home / "runs").glob("*/evaluations/*.json"))


def kill_when(home: Path, process: subprocess.Popen, *, evaluated: int) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None and len(evaluations(home)) < evaluated:
        time.sleep(0.05)
    assert process.poll() is None, f"finished before it could be killed: {process.stderr.read()}"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
