"""The campaign's choice between rounds, on constructed problems: the free slots go to headroom and recent
gains; a flat or saturated problem, or one whose budget is spent, is stopped instead."""

from __future__ import annotations

import math

from kevolve.graph.campaign.allocation import Step, next_step, take
from kevolve.graph.campaign.snapshot import DeviceRow, ProblemRow
from kevolve.graph.campaign.spec import CampaignSpec, Limits, Stopping
from kevolve.graph.campaign.store import ProblemState
from kevolve.graph.search_tree import StopReason

SPEC = CampaignSpec(name="t", problems=["x.py"], devices=["cuda:0"], per_problem=Limits(gpu_hours=0.1),
                    stopping=Stopping(min_gain_per_usd=5.0, gpu_usd_per_hour=3.6, min_rounds=2))


def problem(name: str, history: list[float], *, light: float | None = 30.0, gpu_s: float = 40.0,
            active: bool = True) -> ProblemRow:
    device = DeviceRow(device="cuda:0", rounds=len(history), best_history=history, best_fitness=history[-1],
                       speedup_eager=None, speedup_compiled=None, percent_of_light=light, active=active,
                       stop=None if active else "plateau", approval="not_asked")
    return ProblemRow(name=name, state=ProblemState.SEARCHING, run_id=f"run-{name}", devices=[device], gpu_s=gpu_s)


def test_rounds_go_to_headroom_and_recent_gains_and_the_rest_stop():
    climbing = next_step(problem("climbing", [1.1, 1.3, 1.6, 2.0]), 2, SPEC, spent_out=None)
    flat = next_step(problem("flat", [1.8, 1.8, 1.8, 1.8]), 0, SPEC, spent_out=None)
    saturated = next_step(problem("saturated", [1.1, 1.3, 1.6, 2.0], light=97.0), 1, SPEC, spent_out=None)
    young = next_step(problem("young", [1.0]), 3, SPEC, spent_out=None)  # one round: not judged yet
    assert climbing.stop is None and young.stop is None
    assert flat.stop is saturated.stop is StopReason.LOW_EXPECTED_GAIN
    # Three free slots: the stops are carried out first (they free theirs soon), then the best round.
    assert [step.name for step in take([young, climbing, flat, saturated], 3)] == ["flat", "saturated", "climbing"]


def test_a_new_problem_goes_before_one_already_searching():
    new = Step("new", 5, math.inf)
    searching = next_step(problem("searching", [1.2, 1.5, 1.9]), 0, SPEC, spent_out=None)
    assert take([searching, new], 1) == [new]


def test_a_spent_budget_stops_a_problem_but_lets_a_stopped_one_reach_its_approval():
    spent = next_step(problem("hungry", [1.1, 1.3, 1.6, 2.0], gpu_s=400.0), 0, SPEC, spent_out=None)
    assert spent.stop is StopReason.CAMPAIGN_BUDGET  # 400 s is past its share of 0.1 GPU-hours
    campaign_spent = next_step(problem("any", [1.1, 1.3]), 0, SPEC, spent_out="GPU-hours")
    assert campaign_spent.stop is StopReason.CAMPAIGN_BUDGET
    finishing = next_step(problem("done", [1.5, 1.5], active=False), 0, SPEC, spent_out="GPU-hours")
    assert finishing.stop is None and finishing.value == math.inf


def test_a_round_expected_to_overrun_the_problems_share_is_not_started():
    # Share 0.1 GPU-hours = 360 s; a low bar on gain, so only the share can stop it. Two rounds so far:
    # 200 s (mean 100) leaves room for a third, 250 s (mean 125) does not, although 250 s is not past the share.
    spec = SPEC.model_copy(update={"stopping": SPEC.stopping.model_copy(update={"min_gain_per_usd": 0.01})})
    room = next_step(problem("room", [1.1, 1.3], gpu_s=200.0), 0, spec, spent_out=None)
    overrun = next_step(problem("overrun", [1.1, 1.3], gpu_s=250.0), 0, spec, spent_out=None)
    assert room.stop is None
    assert overrun.stop is StopReason.CAMPAIGN_BUDGET
