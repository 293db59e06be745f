"""Which suite problems the offline engine writes kernels for, and why not for the others.

    python benchmarks/offline_engine/list_supported.py [--policy hybrid] [--json FILE]

The design comes from tracing the reference on the CPU; it does not depend on the device, so the GPU
run skips the problems listed here as unsupported instead of spending device time to learn it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kevolve.eval_harness.problem import load_problem_dir
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.tools.offline.engine import OfflineEngine


def designs(policy: str) -> dict[str, dict]:
    engine = OfflineEngine()
    found = {}
    for problem in load_problem_dir(SUITE_DIR):
        design = engine.design(problem.source, policy)
        found[problem.name] = {"supported": design.supported, "reason": design.reason, "design": design.describe()}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", default="hybrid")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    found = designs(args.policy)
    if args.json:
        args.json.write_text(json.dumps(found, indent=2))
    print(" ".join(name for name, d in found.items() if d["supported"]))


if __name__ == "__main__":
    main()
