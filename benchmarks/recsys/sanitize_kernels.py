"""Runs every approved recommendation kernel once per edge-case configuration, for compute-sanitizer to watch.

    compute-sanitizer --tool memcheck python benchmarks/recsys/sanitize_kernels.py --library DIR \
        --problems eval_harness/problems

Each kernel runs on the problem's CPU-sized configurations (empty segments, skewed lengths, a single segment, odd
sizes: the cases where an out-of-bounds access would hide) with inputs on the GPU, and its result is compared with
the reference's, so a run that is silent under memcheck is also a correct one. Imports nothing from kevolve.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

import torch

# The kernels to check are found as the regimes' independent timer finds the kernels it times.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "regimes"))
from independent_timer import candidate_files

EDGE_CONFIGS = re.compile(r"^small")


def load(path: Path, name: str, overrides: dict | None = None):
    source = path.read_text()
    for key, value in (overrides or {}).items():
        source = re.sub(rf"^{key} = .*$", f"{key} = {value!r}", source, count=1, flags=re.M)
    folder = Path("/tmp/sanitize-modules")
    folder.mkdir(exist_ok=True)
    target = folder / f"{name}.py"
    target.write_text(source)
    spec = importlib.util.spec_from_file_location(name, target)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Triton reads a kernel's source through its module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, required=True)
    parser.add_argument("--problems", type=Path, required=True)
    args = parser.parse_args()
    failures = 0
    for problem_name, kernel_paths in candidate_files(args.library).items():
        kernel_path = kernel_paths[-1]
        problem_path = args.problems / f"{problem_name}.py"
        configs = load(problem_path, f"configs_{problem_name}").__dict__.get("KEVOLVE_CONFIGS", {})
        for config, overrides in configs.items():
            if not EDGE_CONFIGS.match(config):
                continue
            tag = f"{problem_name}_{config}"
            reference = load(problem_path, f"ref_{tag}", overrides)
            candidate = load(kernel_path, f"kernel_{tag}", overrides)
            torch.manual_seed(0)
            init = reference.get_init_inputs()
            model = reference.Model(*init).cuda().eval()
            kernel = candidate.ModelNew(*init).cuda().eval()
            kernel.load_state_dict(model.state_dict(), strict=False)
            torch.manual_seed(1)
            inputs = [x.cuda() if isinstance(x, torch.Tensor) else x for x in reference.get_inputs()]
            with torch.no_grad():
                want, got = model(*inputs), kernel(*inputs)
            torch.cuda.synchronize()
            want = want if isinstance(want, tuple | list) else [want]
            got = got if isinstance(got, tuple | list) else [got]
            same = all(torch.allclose(w.float(), g.float(), atol=1e-3, rtol=1e-3, equal_nan=True)
                       for w, g in zip(want, got, strict=True))
            failures += not same
            print(f"{tag}: {'correct' if same else 'WRONG'}", flush=True)
    print(f"done: {failures} wrong")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
