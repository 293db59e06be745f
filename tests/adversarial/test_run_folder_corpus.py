"""Hostile run folders against approval: what lands in the library is exactly what the reviewer saw, or nothing.

Beside the adversarial kernel corpus, one crafted run folder per way a run folder was found to fool
approval (issue 20), each made from a real run that waits for approval (tests/waiting_run.py) and
decided through `kevolve review approve`, as a person would:

    node id that leaves the library   a checkpoint whose node id is ../../…/sitecustomize
    approved node is not the best     a search tree whose best is not the node the request shows
    source edited while waiting       candidates/<node>.py changed after the request was made
    source shown but never verified   a request whose source is not the one the harness verified
    problem name made of code         a problem name holding \"\"\" and code, or \\N, in the run or the library

Each asserts the safe outcome: a clear refusal with nothing written (no library, no decision recorded,
nothing outside the library), or the approved node's verified source, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from checkpoint_edits import edit_request, edit_searches
from kevolve.eval_harness.problem import load_problem
from kevolve.graph import review_queue
from kevolve.graph.approval import ApprovalDecision, EvidenceMismatch
from kevolve.graph.library import write_kernel
from kevolve.graph.run_directory import RunDirectory, list_runs
from kevolve.main import main
from kevolve.tools.kernel_library.export import export_library
from kevolve.tools.kernel_library.records import LibraryError
from kevolve.tools.safe_names import UnsafeName
from loop_helpers import GELU_PROBLEM
from waiting_run import FIRST_KERNEL

EXIT_USAGE = 2
ESCAPE = "../../../outside/sitecustomize"
CODE_NAMES = ['gelu"""\nopen("PWNED", "w")\n"""', "gelu\\N{BOM}", "../gelu"]


@pytest.fixture
def run(home: Path) -> RunDirectory:
    [run] = list_runs(home / "runs")
    return run


def _approve(home: Path, review_id: str, capsys: pytest.CaptureFixture[str], baseline_cache: Path) -> tuple[int, str]:
    code = main(["review", "--runs-dir", str(home / "runs"), "--library", str(home / "library"), "--no-knowledge",
                 "--cache-dir", str(baseline_cache), "approve", review_id, "--reviewer", "ada"])
    return code, " ".join(capsys.readouterr().err.split())  # the console wraps long lines


def _waiting(home: Path) -> list[str]:
    return [request.review_id for _, request in review_queue.waiting(home / "runs")]


def _assert_refused_and_untouched(home: Path, run: RunDirectory, review_id: str) -> None:
    assert not (home / "library").exists()
    assert not (run.path / review_queue.DECISIONS_FILE).exists()
    assert _waiting(home) == [review_id]  # it still waits, for a person to look again


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_node_id_that_leaves_the_library_is_refused(home, run, capsys, baseline_cache):
    def rename(searches):
        search = searches["cpu"]
        nodes = {(ESCAPE if key == FIRST_KERNEL else key): node.model_copy(update={"id": ESCAPE} if
                                                                          key == FIRST_KERNEL else {})
                 for key, node in search.nodes.items()}
        return {**searches, "cpu": search.model_copy(update={"nodes": nodes})}

    edit_searches(run.path, rename)
    edit_request(run.path, lambda request: request.update(node_id=ESCAPE, review_id=f"{run.run_id}:{ESCAPE}"))
    review_id = f"{run.run_id}:{ESCAPE}"
    code, err = _approve(home, review_id, capsys, baseline_cache)
    assert code == EXIT_USAGE and "node id '../../../outside/sitecustomize' is not a safe name" in err
    _assert_refused_and_untouched(home, run, review_id)
    assert not list(home.rglob("sitecustomize*"))


def test_a_library_the_run_folder_names_is_not_written_unless_kevolve_made_it(home, run, capsys, tmp_path):
    # What the run folder asks for: approvals into a folder another program runs files from.
    startup = tmp_path / ".ipython" / "profile_default"
    startup.mkdir(parents=True)
    task = json.loads((run.path / "task.json").read_text())
    task["sources"]["library"] = str(startup)
    (run.path / "task.json").write_text(json.dumps(task))
    [(_, shown)] = review_queue.waiting(home / "runs")
    code = main(["review", "--runs-dir", str(home / "runs"), "--no-knowledge", "approve", shown.review_id,
                 "--reviewer", "ada"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_USAGE and "a folder kevolve did not make" in err and "--library" in err
    assert not list(startup.iterdir())
    _assert_refused_and_untouched(home, run, shown.review_id)


@pytest.mark.parametrize(("field", "value"), [("node_id", ESCAPE), ("problem", CODE_NAMES[0]),
                                               ("hardware_spec", "../../lib")])
def test_the_library_writer_refuses_every_name_that_could_leave_it(home, run, field, value):
    # Beneath the approval's own checks: write_kernel itself refuses, before a byte is written.
    [(_, request)] = review_queue.waiting(home / "runs")
    result = run.read_evaluation(f"evaluations/{FIRST_KERNEL}.json")
    node_id = value if field == "node_id" else FIRST_KERNEL
    if field == "problem":
        result = result.model_copy(update={"problem": value})
    if field == "hardware_spec":
        result = result.model_copy(update={"environment": result.environment.model_copy(update={field: value})})
    decision = ApprovalDecision.on(request, approved=True, reviewer="ada").model_copy(update={"node_id": node_id})
    with pytest.raises(UnsafeName, match="is not a safe name"):
        write_kernel(home / "library", source=request.source, result=result, problem=load_problem(GELU_PROBLEM),
                     decision=decision, policy="strict", run_id=run.run_id, node_id=node_id)
    assert not (home / "library").exists()


def test_a_library_folder_linked_elsewhere_is_not_written_through(home, run, tmp_path):
    [(_, shown)] = review_queue.waiting(home / "runs")
    result = run.read_evaluation(f"evaluations/{FIRST_KERNEL}.json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (home / "library").mkdir()
    (home / "library" / result.problem).symlink_to(elsewhere)
    with pytest.raises(UnsafeName, match="resolves outside the library"):
        write_kernel(home / "library", source=shown.source, result=result, problem=load_problem(GELU_PROBLEM),
                     decision=ApprovalDecision.on(shown, approved=True, reviewer="ada"), policy="strict",
                     run_id=run.run_id, node_id=FIRST_KERNEL)
    assert not list(elsewhere.iterdir())


@pytest.mark.parametrize("path", ["../task.json", "/etc/hostname", "candidates/../../x.py", ""])
def test_a_run_file_named_by_a_checkpoint_cannot_leave_the_run(run, path):
    with pytest.raises(UnsafeName, match="run file"):
        run.read_text(path)


def test_the_node_approved_is_the_node_shown_not_the_recomputed_best(home, run, capsys, baseline_cache):
    [(_, shown)] = review_queue.waiting(home / "runs")
    later = next(node_id for node_id in run_nodes(run) if node_id != FIRST_KERNEL)

    def promote(searches):  # the other accepted node now ranks first: the search's best is no longer the one shown
        search = searches["cpu"]
        node = search.nodes[later]
        node = node.model_copy(update={"outcome": node.outcome.model_copy(update={"fitness": 50.0})})
        return {**searches, "cpu": search.model_copy(update={"nodes": {**search.nodes, later: node}})}

    edit_searches(run.path, promote)
    code, err = _approve(home, shown.review_id, capsys, baseline_cache)
    assert code == 0, err
    [kernel] = (home / "library").glob("*/*/*.py")
    assert kernel.name == f"{FIRST_KERNEL}.py" and _sha256(kernel) == shown.source_sha256
    assert json.loads(kernel.with_suffix(".json").read_text())["node_id"] == FIRST_KERNEL


def test_a_source_edited_while_waiting_does_not_reach_the_library(home, run, capsys, baseline_cache, tmp_path):
    [(_, shown)] = review_queue.waiting(home / "runs")
    candidate = run.path / "candidates" / f"{FIRST_KERNEL}.py"
    candidate.write_text(candidate.read_text() + f"\nopen({str(tmp_path / 'PWNED')!r}, 'w')\n")
    code, err = _approve(home, shown.review_id, capsys, baseline_cache)
    assert code == 0, err
    [kernel] = (home / "library").glob("*/*/*.py")
    assert kernel.read_text() == shown.source and _sha256(kernel) == shown.source_sha256
    exported = export_library(home / "library", tmp_path / "export", package="shipped", namespace="shipped_ops")
    [module] = exported.problems[0].kernels
    shipped = tmp_path / "export" / "shipped" / exported.problems[0].module / "kernels" / f"{module}.py"
    assert shipped.read_text() == shown.source


def test_a_source_shown_but_never_verified_is_refused(home, run, capsys, baseline_cache):
    [(_, shown)] = review_queue.waiting(home / "runs")
    edit_request(run.path, lambda request: request.update(source=request["source"] + "\nprint('never verified')\n"))
    code, err = _approve(home, shown.review_id, capsys, baseline_cache)
    assert code == EXIT_USAGE and "is not the one the harness verified" in err and "nothing was written" in err
    _assert_refused_and_untouched(home, run, shown.review_id)


def test_a_decision_on_other_evidence_is_refused_before_it_is_recorded(home, run):
    [(_, shown)] = review_queue.waiting(home / "runs")
    honest = ApprovalDecision.on(shown, approved=True, reviewer="ada")
    for forged in ({"source_sha256": "0" * 64}, {"node_id": "cpu-r02-0"}, {"review_id": f"{run.run_id}:cpu-r02-0"},
                   {"source_sha256": None}):
        with review_queue.claim(run, shown.review_id) as claimed, pytest.raises(EvidenceMismatch, match="nothing"):
            review_queue.record(claimed, honest.model_copy(update=forged))
    _assert_refused_and_untouched(home, run, shown.review_id)


@pytest.mark.parametrize("name", CODE_NAMES, ids=["triple-quote-code", "named-escape", "parent-folder"])
def test_a_problem_name_made_of_code_is_refused_at_approval(home, run, capsys, baseline_cache, name):
    [(_, shown)] = review_queue.waiting(home / "runs")
    evaluation = run.path / "evaluations" / f"{FIRST_KERNEL}.json"
    evaluation.write_text(json.dumps({**json.loads(evaluation.read_text()), "problem": name}))
    code, err = _approve(home, shown.review_id, capsys, baseline_cache)
    assert code == EXIT_USAGE and "problem name" in err and "is not a safe name" in err
    _assert_refused_and_untouched(home, run, shown.review_id)


@pytest.mark.parametrize("name", CODE_NAMES[:2], ids=["triple-quote-code", "named-escape"])
def test_a_library_whose_problem_name_is_code_is_not_exported(home, run, tmp_path, name, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where the crafted name's open("PWNED") would write
    [(_, shown)] = review_queue.waiting(home / "runs")
    library = home / "library"
    kernel = write_kernel(library, source=shown.source, result=run.read_evaluation(f"evaluations/{FIRST_KERNEL}.json"),
                          problem=load_problem(GELU_PROBLEM), decision=ApprovalDecision.on(shown, approved=True,
                                                                                           reviewer="ada"),
                          policy="strict", run_id=run.run_id, node_id=FIRST_KERNEL)
    # The library as a hostile copy would hold it: the name in the record and in the folders.
    problem_folder = kernel.parent.parent
    record = json.loads(kernel.with_suffix(".json").read_text())
    record["problem"] = name
    record["problem_file"] = record["problem_file"].replace(problem_folder.name, name)
    kernel.with_suffix(".json").write_text(json.dumps(record))
    problem_folder.rename(library / name)
    with pytest.raises(LibraryError, match="is not a safe name") as refused:
        export_library(library, tmp_path / "export")
    assert str(library / name) in str(refused.value)
    assert not (tmp_path / "export").exists() and not (tmp_path / "PWNED").exists()


def run_nodes(run: RunDirectory) -> list[str]:
    return sorted(path.stem for path in (run.path / "candidates").glob("*.py"))
