"""`kevolve optimize` and `kevolve review` as a person runs them: offline search, kill -9 and resume,
approval from the command line, and one clear line (exit 2) for bad input."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loop_helpers import GELU_PROBLEM, gelu_kernel

FAST = ["--device", "cpu", "--trials", "2", "--timing-trials", "5", "--seed", "7", "--no-knowledge", "--no-engine"]
SEED_BLOCKS = (1024, 2048, 512, 256)


def kevolve_command(command: str, *args: object, home: Path) -> list[str]:
    """The run options go right after the command: `review`'s verbs take their own arguments."""
    return [sys.executable, "-m", "kevolve", command, "--runs-dir", str(home / "runs"),
            "--library", str(home / "library"), *map(str, args)]


def kevolve(*args: object, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(kevolve_command(*args, home=home), capture_output=True, text=True, timeout=600)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """Hand-written candidates the offline coder proposes one per round, in file order."""
    folder = tmp_path / "seeds" / "elementwise_gelu_tanh"
    folder.mkdir(parents=True)
    for index, block in enumerate(SEED_BLOCKS):
        (folder / f"{index}_block{block}.py").write_text(gelu_kernel(block=block, fenced=False))
    return folder.parent


def _only_run(home: Path) -> Path:
    [run] = list((home / "runs").iterdir())
    return run


def test_offline_search_with_auto_approval(tmp_path, seeds):
    done = kevolve("optimize", GELU_PROBLEM, *FAST, "--seeds", seeds, "--auto-approve", "--patience", "9",
                   home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no_proposals" in done.stdout  # every seed tried, nothing left offline
    evaluations = list((_only_run(tmp_path) / "evaluations").glob("*.json"))
    assert len(evaluations) == len(SEED_BLOCKS)
    [record] = (tmp_path / "library").glob("*/*/*.json")
    assert json.loads(record.read_text())["approved_by"] == "nobody (--auto-approve)"


def test_a_run_killed_mid_search_resumes_where_it_stopped(tmp_path, seeds):
    reference = tmp_path / "problems" / Path(GELU_PROBLEM).name
    reference.parent.mkdir()
    reference.write_text(Path(GELU_PROBLEM).read_text())
    command = kevolve_command("optimize", reference, *FAST, "--seeds", seeds, "--auto-approve",
                              "--patience", "9", home=tmp_path)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        runs = list((tmp_path / "runs").glob("*/evaluations/*.json"))
        if len(runs) >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, f"finished before it could be killed: {process.stderr.read()}"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    run = _only_run(tmp_path)
    killed_with = {path.name for path in (run / "evaluations").glob("*.json")}
    # The run keeps the reference it started with: it resumes where the file is gone (another host, a moved
    # checkout) and is never judged against an edited one.
    reference.unlink()

    resumed = kevolve("optimize", "--resume", run.name, home=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    evaluations = sorted(path.name for path in (run / "evaluations").glob("*.json"))
    # Nothing judged before the kill was judged again beyond the candidate in flight; every seed once.
    assert len(evaluations) == len(SEED_BLOCKS)
    assert killed_with <= set(evaluations)
    sources = {path.read_text() for path in (run / "candidates").glob("*.py")}
    assert len(sources) == len(SEED_BLOCKS)
    assert list((tmp_path / "library").glob("*/*/*.py"))


def test_review_lists_shows_and_approves_a_waiting_kernel(tmp_path, seeds):
    waiting = kevolve("optimize", GELU_PROBLEM, *FAST, "--seeds", seeds, "--patience", "1", home=tmp_path)
    assert waiting.returncode == 3, waiting.stderr  # stopped for a person's approval
    listed = kevolve("review", home=tmp_path)
    assert listed.returncode == 0 and "cpu-r01-0" in listed.stdout
    review_id = f"{_only_run(tmp_path).name}:cpu-r01-0"
    shown = kevolve("review", "show", review_id, home=tmp_path)
    assert shown.returncode == 0 and "ModelNew" in shown.stdout and "correctness" in shown.stdout
    shown_sha256 = re.search(r"source sha256 ([0-9a-f]{64})", shown.stdout).group(1)
    approved = kevolve("review", "--no-knowledge", "approve", review_id, "--reviewer", "ada", home=tmp_path)
    assert approved.returncode == 0, approved.stderr
    [record] = (tmp_path / "library").glob("*/*/*.json")
    assert json.loads(record.read_text())["approved_by"] == "ada"
    assert hashlib.sha256(record.with_suffix(".py").read_bytes()).hexdigest() == shown_sha256
    again = kevolve("review", "approve", review_id, home=tmp_path)
    assert again.returncode == 2 and "not waiting" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["optimize", "--device", "cpu"], "give a problem file"),
        (["optimize", "--resume", "no-such-run"], "no run 'no-such-run'"),
        (["optimize", GELU_PROBLEM, "--budget", "rounds=two"], "--budget"),
        (["optimize", GELU_PROBLEM, "--budget", "laps=3"], "--budget"),
        (["optimize", GELU_PROBLEM, "--budget", "rounds=-1"], "--budget: rounds=-1: input should be greater than"),
        (["optimize", GELU_PROBLEM, "--patience", "0", "--device", "cpu"], "--patience"),
        (["optimize", GELU_PROBLEM, "--device", "cpu", "--transcript", "/nonexistent.yaml"], "nonexistent"),
        (["review", "show", "nothing"], "not waiting"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, args, message):
    run = kevolve(*args, home=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert message in run.stderr


def test_a_run_remembers_its_library_for_the_approval(tmp_path, seeds):
    kept = tmp_path / "kept-library"
    waiting = subprocess.run(
        [sys.executable, "-m", "kevolve", "optimize", "--runs-dir", str(tmp_path / "runs"), "--library", str(kept),
         GELU_PROBLEM, *FAST, "--seeds", str(seeds), "--patience", "1"],
        capture_output=True, text=True, timeout=600)
    assert waiting.returncode == 3, waiting.stderr
    review_id = f"{_only_run(tmp_path).name}:cpu-r01-0"
    approved = subprocess.run(
        [sys.executable, "-m", "kevolve", "review", "--runs-dir", str(tmp_path / "runs"), "--no-knowledge",
         "approve", review_id], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert approved.returncode == 0, approved.stderr
    assert str(kept) in approved.stdout.replace("\n", "")  # the command says where the kernel went
    assert list(kept.glob("*/*/*.json"))
    assert not (tmp_path / "kevolve-library").exists()


def test_a_search_that_finds_no_kernel_does_not_exit_like_a_success(tmp_path):
    nothing = kevolve("optimize", GELU_PROBLEM, *FAST, home=tmp_path)  # no seeds, no engine, no model
    assert nothing.returncode == 4, nothing.stdout + nothing.stderr


def test_a_device_this_machine_lacks_is_refused_before_a_run_folder_is_made(tmp_path):
    refused = kevolve("optimize", GELU_PROBLEM, "--devices", "cpu", "cuda:7", "--no-knowledge", home=tmp_path)
    assert refused.returncode == 2 and "cuda:7" in refused.stderr, refused.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_the_readme_command_needs_no_library_option(tmp_path):
    """As the README's first command runs it: no --library, no --runs-dir, in a fresh folder (the default library
    is this command's own, not a run folder's choice, so it is made and marked, never refused)."""
    done = subprocess.run([sys.executable, "-m", "kevolve", "optimize", GELU_PROBLEM, *FAST],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr  # no seeds, no engine, no model: nothing to approve
    assert (tmp_path / "kevolve-library" / ".kevolve-library").is_file()
