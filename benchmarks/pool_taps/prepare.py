"""The pooling problems' candidates with the engine's tap-loop configuration, beside the campaign's best.

For each problem with a pool whose best campaign candidate is in `--before` (as `benchmarks/index_width`
regenerated them: int32 indexing, the campaign's configurations), writes the same module with every
windowed group stepping through its taps one at a time over `--rows` outputs per program, the other
groups unchanged; one folder per rows value (git-ignored: they are rebuilt exactly from the committed
campaign candidates; carry `benchmarks/pool_taps/candidates` to the GPU). Here, then on the GPU:

    python benchmarks/pool_taps/prepare.py --before benchmarks/index_width/candidates --rows 256 512 1024 \
        --out benchmarks/pool_taps/candidates
    python benchmarks/side_by_side.py --form campaign=benchmarks/index_width/candidates \
        --form taps256=benchmarks/pool_taps/candidates/taps256 --form taps512=... --form taps1024=... \
        --repeats 2 --out $OUT/pool-taps
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.tools.offline.configs import default_config
from kevolve.tools.offline.fusion import fuse
from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.module_source import module_source, read_configs
from kevolve.tools.offline.tracing import trace_reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the campaign's best candidates")
    parser.add_argument("--rows", type=int, nargs="+", default=[512], help="outputs per program")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    for candidate in sorted(args.before.glob("*.py")):
        reference = (SUITE_DIR / candidate.name).read_text()
        fused = fuse(lower(trace_reference(reference)))
        windowed = {group.name for group in fused.groups if group.window_members()}
        if not windowed:
            continue
        best = read_configs(candidate.read_text())
        for rows in args.rows:
            configs = {group.name: default_config(group).model_copy(update={"rows": rows}) if group.name in windowed
                       else best[group.name] for group in fused.groups}
            folder = args.out / f"taps{rows}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / candidate.name).write_text(module_source(reference, fused, configs, "pool taps"))
        print(candidate.stem, sorted(windowed))


if __name__ == "__main__":
    main()
