"""The expected gain per dollar, on constructed histories: the formula in numbers, and the allocation it makes."""

from __future__ import annotations

import math

import pytest

from kevolve.graph.campaign.device_clock import busy_seconds
from kevolve.graph.campaign.expectation import (
    DeviceProgress,
    cost_per_round_usd,
    expected_log_gain,
    gain_per_usd,
    headroom,
    log_gains,
    mean_log_gain,
    worth_another_round,
)
from kevolve.graph.campaign.spec import Stopping
from kevolve.graph.campaign.store import EvaluationInterval

STOPPING = Stopping(min_gain_per_usd=5.0, gpu_usd_per_hour=3.6, smoothing=0.5, prior_log_gain=0.2, min_rounds=2)


def value_of(history: list[float], *, percent_of_light: float | None, gpu_seconds: float, llm_usd: float = 0.0,
             stopping: Stopping = STOPPING) -> float:
    expected = expected_log_gain([DeviceProgress(best_history=history, percent_of_light=percent_of_light)], stopping)
    cost = cost_per_round_usd(gpu_seconds=gpu_seconds, llm_usd=llm_usd, rounds=len(history), stopping=stopping)
    return gain_per_usd(expected, cost)


def test_the_formula_by_hand():
    # Rounds: first kernel at 1.5x, then nothing better: g = [ln 1.5, 0].
    assert log_gains([1.5, 1.5]) == pytest.approx([math.log(1.5), 0.0])
    m1 = 0.5 * math.log(1.5) + 0.5 * 0.2
    assert mean_log_gain([1.5, 1.5], STOPPING) == pytest.approx(0.5 * m1)
    # Half-way to the floor: half the headroom left. 20 GPU-seconds at $3.60/h over 2 rounds: $0.01 a round.
    assert value_of([1.5, 1.5], percent_of_light=50.0, gpu_seconds=20.0) == pytest.approx(0.5 * m1 * 0.5 / 0.01)


def test_slower_than_the_baseline_gains_nothing_and_a_failed_round_loses_nothing():
    assert log_gains([0.0, 0.6, 0.9]) == [0.0, 0.0, 0.0]
    assert log_gains([2.0, 0.0, 2.0]) == pytest.approx([math.log(2.0), -math.log(2.0), math.log(2.0)])
    assert headroom(None) == 1.0 and headroom(100.0) == 0.0 and headroom(130.0) == 0.0


def test_headroom_and_recent_gains_get_the_budget_a_flat_or_saturated_problem_does_not():
    cost = {"gpu_seconds": 40.0}  # $0.01 a round over four rounds
    climbing = value_of([1.1, 1.3, 1.6, 2.0], percent_of_light=30.0, **cost)
    flat = value_of([1.8, 1.8, 1.8, 1.8], percent_of_light=30.0, **cost)  # gained in round 1, never since
    near_light = value_of([1.1, 1.3, 1.6, 2.0], percent_of_light=97.0, **cost)  # same gains, at the floor
    assert climbing > flat and climbing > near_light
    assert worth_another_round(climbing, rounds=4, stopping=STOPPING)
    assert not worth_another_round(flat, rounds=4, stopping=STOPPING)
    assert not worth_another_round(near_light, rounds=4, stopping=STOPPING)


def test_the_same_gain_is_worth_less_when_it_costs_more():
    cheap = value_of([1.2, 1.4], percent_of_light=None, gpu_seconds=10.0)
    pricey = value_of([1.2, 1.4], percent_of_light=None, gpu_seconds=10.0, llm_usd=2.0)
    assert cheap > pricey > 0


def test_a_problem_gets_its_first_rounds_whatever_it_is_expected_to_gain():
    assert gain_per_usd(0.0, cost_per_round_usd(gpu_seconds=0, llm_usd=0, rounds=0, stopping=STOPPING)) == math.inf
    assert worth_another_round(0.0, rounds=1, stopping=STOPPING)
    assert not worth_another_round(0.0, rounds=2, stopping=STOPPING)
    assert gain_per_usd(0.0, 0.0) == 0.0 and gain_per_usd(0.1, 0.0) == math.inf


def test_the_best_device_still_searching_sets_the_expectation():
    stopped = DeviceProgress(best_history=[1.0, 3.0], active=False)
    flat = DeviceProgress(best_history=[1.0, 1.0])
    assert expected_log_gain([stopped, flat], STOPPING) == pytest.approx(mean_log_gain([1.0, 1.0], STOPPING))
    assert expected_log_gain([stopped], STOPPING) == 0.0


def test_busy_time_is_the_union_of_the_evaluations():
    def interval(start: float, end: float) -> EvaluationInterval:
        return EvaluationInterval(run_id="r", device="cuda:0", name="n", started_at=start, ended_at=end)

    assert busy_seconds([interval(0, 2), interval(1, 3), interval(5, 6), interval(5.5, 5.8)]) == pytest.approx(4.0)
    assert busy_seconds([]) == 0.0
