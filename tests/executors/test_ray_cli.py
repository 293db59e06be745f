"""`kevolve optimize --executor ray` end to end on the CPU: a search through a local Ray, then the same
search again, whose verdicts all come from the results cache."""

import json
import subprocess
import sys

import pytest

from loop_helpers import GELU_PROBLEM, gelu_kernel

pytest.importorskip("ray", reason="Ray is not installed (pip install 'kevolve[ray]')")


def optimize(tmp_path, seeds, results_db):
    command = [sys.executable, "-m", "kevolve", "optimize", str(GELU_PROBLEM), "--runs-dir", str(tmp_path / "runs"),
               "--library", str(tmp_path / "library"), "--device", "cpu_interpreter", "--executor", "ray",
               "--ray-cpu-actors", "1", "--results-db", str(results_db), "--cache-dir", str(tmp_path / "baselines"),
               "--trials", "2", "--timing-trials", "5", "--seed", "7", "--no-knowledge", "--no-engine",
               "--seeds", str(seeds), "--auto-approve", "--patience", "9"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_search_through_ray_and_its_repeat_from_the_cache(tmp_path):
    seeds = tmp_path / "seeds" / "elementwise_gelu_tanh"
    seeds.mkdir(parents=True)
    (seeds / "block1024.py").write_text(gelu_kernel(block=1024, fenced=False))
    results_db = tmp_path / "results.sqlite"

    first = optimize(tmp_path, seeds.parent, results_db)
    assert first.returncode == 0, first.stderr
    second = optimize(tmp_path, seeds.parent, results_db)
    assert second.returncode == 0, second.stderr

    first_run, second_run = sorted((tmp_path / "runs").iterdir())
    judged = [json.loads(p.read_text()) for p in sorted((first_run / "evaluations").glob("*.json"))]
    repeated = [json.loads(p.read_text()) for p in sorted((second_run / "evaluations").glob("*.json"))]
    assert len(judged) == len(repeated) == 1
    assert all(r["environment"]["hardware_spec"] == "cpu_interpreter" and not r["from_cache"] for r in judged)
    assert all(r["from_cache"] for r in repeated) and "cached" in second.stdout
