"""Settings and fixture files shared by the harness tests."""

import os
from pathlib import Path

from kevolve.eval_harness import EvalSettings, TimingSettings
from kevolve.eval_harness.settings import StageTimeouts

FIXTURES = Path(__file__).parent / "fixtures"
# CI runs everything on the CPU (Triton's interpreter); on a GPU box, KEVOLVE_TEST_DEVICE=cuda:0
# runs the adversarial corpus through the CUDA paths too (poisoned allocator, events, profiler).
TEST_DEVICE = os.environ.get("KEVOLVE_TEST_DEVICE", "cpu")
CANDIDATES = FIXTURES / "candidates"

# Correctness as in production (several trials, extra shapes); timing cut to a few calls, because
# CPU timings are not meaningful and CI time is better spent on verdicts.
FAST_SETTINGS = EvalSettings(
    correctness_trials=3,
    seed=1234,
    timing=TimingSettings(warmup_calls=1, warmup_ms=0, trials=5, min_trials_when_slow=5, max_seconds=1.0),
    timeouts=StageTimeouts(correctness_s=20.0, timing_s=20.0, baseline_s=60.0),
    host_memory_limit_bytes=3 << 30,
)


# The worker's own defences (crashes, hangs, tampering, wrong outputs), tested without the static
# checks in front of them: each layer must hold even where another misses something.
WORKER_ONLY_SETTINGS = FAST_SETTINGS.model_copy(update={"static_checks": False})


def candidate_source(name: str) -> str:
    return (CANDIDATES / f"{name}.py").read_text()
