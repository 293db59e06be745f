"""`kevolve chat`: what a message is understood to ask, and a conversation that drives a real run on the CPU."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness_helpers import CANDIDATES, FAST_SETTINGS
from kevolve import chat_command, chat_targets
from kevolve.agents.chat import ChatAction, ChatIntent, understand, understand_offline
from kevolve.agents.coder import SeedCandidates
from kevolve.chat_session import ChatSession
from kevolve.eval_harness.precision import Precision
from kevolve.eval_harness.problem import load_problem
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.graph.configuration import Budget, SearchSettings
from kevolve.graph.context import RunServices
from kevolve.graph.review_queue import decisions
from kevolve.graph.run_directory import new_run_id
from kevolve.graph.runner import OptimizationRun
from kevolve.graph.search_tree import StopReason
from kevolve.graph.state import TaskSpec
from kevolve.tools.candidates import Role
from kevolve.tools.evaluation_pool import EvaluationPool
from kevolve.tools.llm.base import LLMUnavailable, MalformedReply, RoleLLM, TokenUsage

GELU = SUITE_DIR / "elementwise_gelu_tanh.py"
A = ChatAction


@pytest.mark.parametrize(
    ("message", "actions", "problem", "device", "comment"),
    [
        ("make this layernorm faster on the H100", [A.OPTIMIZE], "layernorm", "H100", None),
        ("what is the best so far?", [A.STATUS], None, None, None),
        ("stop and show me the kernel", [A.STOP, A.SHOW_KERNEL], None, None, None),
        ("approve it", [A.APPROVE], None, None, None),
        ("speed up the group norm on cuda:1", [A.OPTIMIZE], "group norm", "cuda:1", None),
        ("optimize problems/my_op.py on cpu", [A.OPTIMIZE], "problems/my_op.py", "cpu", None),
        ("tests/x.py", [A.OPTIMIZE], "tests/x.py", None, None),
        ("how is it going?", [A.STATUS], None, None, None),
        ("show me the best kernel", [A.SHOW_KERNEL], None, None, None),
        ("reject it: it falls back to torch for odd sizes", [A.REJECT], None, None,
         "it falls back to torch for odd sizes"),
        ("no, because the loads are not masked", [A.REJECT], None, None, "the loads are not masked"),
        ("reject it because it calls sys.exit()", [A.REJECT], None, None, "it calls sys.exit()"),
        ("reject it", [A.REJECT], None, None, None),
        ("bye!", [A.QUIT], None, None, None),
        ("exit", [A.QUIT], None, None, None),
        ("hello there", [A.HELP], None, None, None),
        ("make it faster", [A.OPTIMIZE], None, None, None),
    ],
)
def test_offline_understanding(message, actions, problem, device, comment):
    intent = understand_offline(message)
    assert (intent.actions, intent.problem, intent.device, intent.comment) == (actions, problem, device, comment)


class ScriptedLLM(RoleLLM):
    role = Role.CHAT
    model_name = "scripted"

    def __init__(self, reply: ChatIntent | Exception) -> None:
        self.reply = reply
        self.prompts = []

    def structured(self, schema, messages):
        assert schema is ChatIntent
        self.prompts.append(messages)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply, TokenUsage(input_tokens=120, output_tokens=20, calls=1)

    def text(self, messages):
        raise AssertionError("the chat role asks for structured replies only")


def test_model_intent_is_used_and_told_the_session():
    wanted = ChatIntent(actions=[A.OPTIMIZE], problem="softmax rows", device="H200")
    llm = ScriptedLLM(wanted)
    intent, usage, _ = understand("could you have a go at the row softmax, on the H200 box",
                               context="No run has been started in this conversation.", llm=llm)
    assert intent == wanted and usage.calls == 1
    system, user = llm.prompts[0]
    assert "kernel" in system.content
    assert "row softmax" in user.content and "No run has been started" in user.content


def test_a_plain_request_a_weak_model_reads_as_help_starts_the_optimization():
    message = "make the softmax in eval_harness/problems/softmax_rows.py faster"
    intent, usage, _ = understand(message, context="", llm=ScriptedLLM(ChatIntent(actions=[A.HELP])))
    assert intent.actions == [A.OPTIMIZE] and intent.problem == "eval_harness/problems/softmax_rows.py"
    assert usage.calls == 1  # the model was asked and paid for; its vaguer reading lost
    # A message the rules cannot read either stays the model's.
    vague, _, _ = understand("hello there", context="", llm=ScriptedLLM(ChatIntent(actions=[A.HELP])))
    assert vague.actions == [A.HELP]
    # A model that read a request keeps its reading, even where the rules read another.
    status = ChatIntent(actions=[A.STATUS])
    assert understand("make it faster", context="", llm=ScriptedLLM(status))[0] == status


def test_what_cannot_be_taken_back_is_done_only_in_the_persons_words():
    # A weak model may read a question as an approval, or as the end of the conversation.
    approve = ScriptedLLM(ChatIntent(actions=[A.APPROVE]))
    intent, _, held = understand("how is it going?", context="", llm=approve)
    assert intent.actions == [A.STATUS] and held == (A.APPROVE,)
    stop_and_show = ScriptedLLM(ChatIntent(actions=[A.STOP, A.SHOW_KERNEL]))
    intent, _, held = understand("show me the kernel", context="", llm=stop_and_show)
    assert intent.actions == [A.SHOW_KERNEL] and held == (A.STOP,)
    # Said in words, the same reading is acted on.
    assert understand("approve it", context="", llm=approve) == (ChatIntent(actions=[A.APPROVE]),
                                                                TokenUsage(input_tokens=120, output_tokens=20,
                                                                           calls=1), ())
    replies = []
    session = ChatSession(_no_runs, say=replies.append, on_event=lambda event: None,
                          llm=ScriptedLLM(ChatIntent(actions=[A.QUIT])))
    assert session.handle("how is it going?")  # the conversation goes on
    assert "'quit'" in replies[0] and "nothing running" in replies[1]
    assert not session.handle("quit")


def test_unreadable_model_reply_falls_back_to_the_rules():
    intent, usage, _ = understand("stop and show me the kernel", context="", llm=ScriptedLLM(MalformedReply("junk")))
    assert intent.actions == [A.STOP, A.SHOW_KERNEL] and usage == TokenUsage()


def test_unreachable_model_is_said_and_the_rules_answer():
    replies = []
    session = ChatSession(_no_runs, say=replies.append, on_event=lambda event: None,
                          llm=ScriptedLLM(LLMUnavailable("connection refused")))
    assert session.handle("what is the best so far?")
    assert "did not answer" in replies[0] and "nothing running" in replies[1]


def _no_runs(problem: Path, devices: list[str]) -> OptimizationRun:
    raise AssertionError(f"no run should start ({problem} on {devices})")


def test_problems_and_devices_resolve_to_files_and_local_devices(monkeypatch):
    assert chat_targets.problem_named("layer norm")[0] == SUITE_DIR / "layernorm_affine.py"
    path, note = chat_targets.problem_named("softmax")
    assert path == SUITE_DIR / "softmax_rows.py" and "softmax_log_rows" in note
    assert chat_targets.problem_named("xyzzy")[0] is None
    assert chat_targets.problem_named("absent/op.py") == (None, "there is no file absent/op.py")
    gpus = [("cuda:0", "NVIDIA H100 80GB HBM3"), ("cuda:1", "NVIDIA H200")]
    assert chat_targets.device_named("H200", default="cpu", gpus=gpus)[0] == "cuda:1"
    assert chat_targets.device_named("h100", default="cpu", gpus=gpus)[0] == "cuda:0"
    assert chat_targets.device_named("cuda:2", default="cpu", gpus=gpus)[0] is None
    assert chat_targets.device_named(None, default="cuda:0", gpus=gpus)[0] == "cuda:0"
    assert chat_targets.device_named("A100", default="cpu", gpus=[]) == (
        None, "there is no A100 here; devices here: cpu")


def test_no_run_starts_for_a_device_this_machine_lacks(monkeypatch):
    monkeypatch.setattr(chat_targets, "local_gpus", list)
    replies = []
    session = ChatSession(_no_runs, say=replies.append, on_event=lambda event: None)
    assert session.handle("make this layernorm faster on the H100")
    assert replies == ["problem: layernorm_affine (suite)", "there is no H100 here; devices here: cpu"]
    for message in ("approve it", "stop", "show me the kernel"):
        session.handle(message)
    assert replies[2:] == ["no run in this conversation, so nothing waits for approval", "nothing is searching",
                           "no kernel yet: no run has got that far"]
    assert not session.handle("quit")


def test_chat_command_takes_run_search_and_evaluation_options(tmp_path):
    parser = argparse.ArgumentParser()
    chat_command.add_arguments(parser.add_subparsers().add_parser("chat"))
    args = parser.parse_args(["chat", "--auto-approve", "--device", "cpu", "--patience", "1",
                              "--runs-dir", str(tmp_path)])
    assert args.run is chat_command.run
    task = chat_command.new_task(args, GELU, devices=["cpu"])
    assert task.search.auto_approve and task.search.patience == 1 and task.devices == ["cpu"]


class BlockingRun:
    """Searches until asked to stop: what a person talks over while a run is in flight."""

    def __init__(self) -> None:
        task = SimpleNamespace(run_id="run-1", problem_name="softmax_rows", devices=["cpu"])
        self.run = SimpleNamespace(run_id="run-1", path=Path("runs/run-1"), task=lambda: task)
        self.stop = threading.Event()
        self.context = SimpleNamespace(services=SimpleNamespace(
            stop_requested=self.stop, pool=SimpleNamespace(close=lambda: None), knowledge=None))
        self.closed = False

    def go(self, on_event):
        on_event({"device": "cpu", "agent": "search", "message": "round 1"})
        assert self.stop.wait(timeout=30)

    def pending(self):
        return []

    def state(self):
        # Before the first step is written, only the summed channels have values.
        return {"usage": TokenUsage(), "elapsed_s": 0.0}

    def finished(self):
        return self.stop.is_set()

    def close(self):
        self.closed = True


def test_one_run_at_a_time_and_stop_ends_it_after_the_round():
    runs, replies, events = [], [], []

    def start(problem, devices, precision=None):
        runs.append(BlockingRun())
        return runs[-1]

    session = ChatSession(start, say=replies.append, on_event=events.append)
    session.handle("make the row softmax faster")
    assert session.busy and replies[-1].startswith("run run-1 started")
    session.handle("how is it going?")
    assert replies[-1] == "the run is starting"
    session.handle("optimize the layernorm")
    assert replies[-1] == "run run-1 is still going: say 'stop' first, or wait for it" and len(runs) == 1
    session.handle("approve it")
    assert replies[-1].startswith("the run is still searching")
    session.handle("stop")
    assert session.wait(timeout=10) and runs[0].stop.is_set()
    assert replies[-1] == "the run is finished" and events[0]["message"] == "round 1"
    assert not session.handle("bye") and runs[0].closed


def test_a_request_can_name_its_precision_regime():
    assert understand_offline("make the layernorm faster in bf16").precision is Precision.BF16
    assert understand_offline("make the layernorm faster in bf16").problem == "layernorm"
    started, replies = [], []

    def start(problem, devices, precision=None):
        started.append(precision)
        return BlockingRun()

    session = ChatSession(start, say=replies.append, on_event=lambda event: None)
    session.handle("make the row softmax faster in tf32")
    assert started == [Precision.TF32] and "precision: tf32" in replies
    session.handle("stop")
    assert session.wait(timeout=10)


@pytest.fixture
def start_cpu_run(tmp_path):
    """Runs as the CLI starts them, with offline agents, a seed kernel and settings that keep the CPU quick."""
    # Two seeds: the second, no faster than the first, makes round 2 a round without gain.
    seeds = tmp_path / "seeds" / load_problem(GELU).name
    seeds.mkdir(parents=True)
    kernel = (CANDIDATES / "correct_triton.py").read_text()
    (seeds / "a.py").write_text(kernel)
    (seeds / "b.py").write_text(kernel.replace("BLOCK=1024", "BLOCK=512").replace("n, 1024", "n, 512"))
    evaluation = FAST_SETTINGS.model_copy(update={"measure_compile_baseline": False})

    def start(problem: Path, devices: list[str], precision: Precision | None = None) -> OptimizationRun:
        name = load_problem(problem).name
        task = TaskSpec(
            run_id=new_run_id(name), problem_path=str(problem.resolve()), problem_name=name, devices=devices,
            policy=evaluation.policy.value, dtype=evaluation.dtype.value, evaluation=evaluation,
            search=SearchSettings(patience=1, budget=Budget(max_rounds=2), auto_approve=False),
        )
        services = RunServices(pool=EvaluationPool(settings=evaluation, cache_dir=tmp_path / "cache"),
                               seeds=SeedCandidates(seeds.parent))
        return OptimizationRun.start(tmp_path / "runs", task, services, library=tmp_path / "library")

    return start


def test_a_conversation_runs_a_search_to_an_approved_kernel(start_cpu_run, tmp_path):
    replies, events = [], []
    session = ChatSession(start_cpu_run, say=replies.append, on_event=events.append, reviewer="tester")

    assert session.handle(f"optimize {GELU} on cpu")
    assert replies[0] == f"problem: {GELU}" and replies[1].startswith("device: cpu")
    assert session.wait(timeout=90)
    assert "waits for you" in replies[-1], replies
    search = session.optimization.state()["searches"]["cpu"]
    assert search.rounds == 2 and search.stop is StopReason.PLATEAU

    replies.clear()
    session.handle("what is the best so far?")
    assert "# Run" in replies[0] and "waits for you" in replies[0]
    node = session.optimization.pending()[0].node_id
    assert node in replies[0]

    replies.clear()
    session.handle("reject it")
    assert replies == ["why reject it? Say 'reject it because ...': the reason guides the next rounds"]
    session.handle("show me the kernel")
    assert "_gelu_tanh_kernel" in replies[-1] and node in replies[-1]

    # A rejection's reason becomes guidance and the search resumes; its next best waits in turn.
    session.handle("no, because the block size was never tuned")
    assert session.wait(timeout=60)
    search = session.optimization.state()["searches"]["cpu"]
    assert search.guidance == ["the block size was never tuned"] and search.rejected == [node]
    second = session.optimization.pending()[0].node_id
    assert second != node and "waits for you" in replies[-1]

    session.handle("approve it")
    assert session.wait(timeout=60)
    assert replies[-1] == "the run is finished"
    # the kernels; the problem's source sits one level up
    assert [path.stem for path in (tmp_path / "library").glob("*/*/*.py")] == [second]
    assert session.optimization.state()["searches"]["cpu"].approved_node == second
    # The same record `kevolve review` and `kevolve serve` keep: the rejection, then the approval.
    recorded = decisions(session.optimization.run)
    assert not recorded[f"{session.optimization.run.run_id}:{node}"].decision.approved
    assert recorded[f"{session.optimization.run.run_id}:{second}"].decision.reviewer == "tester"
    assert not session.handle("quit")
    assert session.optimization is None


def test_the_terminal_loop_answers_until_end_of_input(tmp_path, monkeypatch, capsys):
    lines = iter(["what is the best so far?", "make this layernorm faster on the H100"])

    def next_line(prompt):
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    for name in ("KEVOLVE_LLM_MODEL", "KEVOLVE_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(chat_command.console, "input", next_line)
    monkeypatch.setattr(chat_targets, "local_gpus", list)
    parser = argparse.ArgumentParser()
    chat_command.add_arguments(parser.add_subparsers().add_parser("chat"))
    assert chat_command.run(parser.parse_args(["chat", "--device", "cpu"])) == 0
    out = capsys.readouterr().out
    assert "nothing running" in out and "there is no H100 here; devices here: cpu" in out
