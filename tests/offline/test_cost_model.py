"""The cost model ranks candidates before they are timed: on constructed cases its order is the one the roofline
argues for, the engine drafts in that order, and measured timings correct it."""

from __future__ import annotations

import pytest

from kevolve.eval_harness.precision import Precision, resolve
from kevolve.hardware_specs import load_spec
from kevolve.tools.offline.configs import default_configs
from kevolve.tools.offline.cost_model import (
    LAUNCH_S,
    Calibration,
    KernelWork,
    Trial,
    predict_seconds,
    program_work,
    top_choice_agreement,
)
from kevolve.tools.offline.engine import OfflineEngine
from kevolve.tools.offline.schedules import PLAIN, Schedule, read_schedule
from offline_helpers import FEW_ROWS, MANY_ROWS, fused_program, reference_module

H100 = load_spec("h100_sxm")
EXACT = resolve(Precision.EXACT)
SPLIT = Schedule(split_reductions=True)


def _plain_and_split(reference: str, splits: int) -> tuple[float, float]:
    """Predicted seconds of the plain defaults and of every reduction group split `splits` ways."""
    fused = fused_program(reference)
    plain = default_configs(fused.groups, False, H100.sm_count)
    split = {g.name: plain[g.name].model_copy(update={"splits": splits, "rows": 1, "chunk": 1024})
             if g.kind == "reduction" else plain[g.name] for g in fused.groups}
    return predict_seconds(fused, plain, EXACT, H100), predict_seconds(fused, split, EXACT, H100)


def test_few_long_rows_rank_the_split_first_and_many_short_rows_the_plain_one() -> None:
    plain, split = _plain_and_split(FEW_ROWS, 64)  # 8 rows of 65536
    assert split < plain / 4
    plain, split = _plain_and_split(MANY_ROWS, 4)  # 4096 rows of 1024
    assert plain < split


def test_a_split_costs_a_launch_and_a_read_more_where_the_plain_kernel_fills_the_device() -> None:
    fused = fused_program(MANY_ROWS)
    plain = default_configs(fused.groups, False, H100.sm_count)
    split = {g.name: plain[g.name].model_copy(update={"splits": 2}) if g.kind == "reduction" else plain[g.name]
             for g in fused.groups}
    before, after = program_work(fused, plain, EXACT, H100), program_work(fused, split, EXACT, H100)
    assert len(after) == len(before) + 1
    assert sum(k.bytes for k in after) > sum(k.bytes for k in before)


def test_a_kernel_of_few_programs_is_stretched_and_pays_its_launch() -> None:
    one_wave = KernelWork(what="full", bytes=1e9, flops=0, programs=H100.sm_count * 2)
    one_program = one_wave.model_copy(update={"programs": 1})
    assert one_wave.seconds(H100, EXACT) == pytest.approx(LAUNCH_S + 1e9 / (H100.memory_bandwidth_gbps * 1e9))
    assert one_program.seconds(H100, EXACT) > 100 * one_wave.seconds(H100, EXACT)
    gemm = KernelWork(what="gemm", bytes=0, flops=1e12, programs=1024, tensor_cores=True)
    assert gemm.seconds(H100, EXACT) < gemm.model_copy(update={"tensor_cores": False}).seconds(H100, EXACT) / 4


def test_vendor_calls_are_costed_from_their_shapes() -> None:
    reference = reference_module("""
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = nn.Linear(1024, 2048)

            def forward(self, x):
                return torch.relu(self.linear(x))
        """, "[torch.randn(4096, 1024)]")
    fused = fused_program(reference)
    configs = default_configs(fused.groups, False, H100.sm_count)
    linear = next(k for k in program_work(fused, configs, EXACT, H100) if k.what == "linear")
    assert linear.flops == 2 * 4096 * 2048 * 1024
    assert linear.bytes == 4 * (4096 * 1024 + 2048 * 1024 + 2048 + 4096 * 2048)
    assert not linear.tensor_cores  # fp32 matmuls at "highest" precision
    tf32 = next(k for k in program_work(fused, configs, resolve(Precision("tf32")), H100) if k.what == "linear")
    assert tf32.tensor_cores


def test_top_choice_agreement_counts_trials_with_two_timed_options() -> None:
    trials = [Trial(predicted_s={"a": 1.0, "b": 2.0}, measured_s={"a": 1.0, "b": 3.0}),  # hit
              Trial(predicted_s={"a": 1.0, "b": 2.0}, measured_s={"a": 5.0, "b": 3.0}),  # miss
              Trial(predicted_s={"a": 1.0, "b": 2.0, "c": 0.5}, measured_s={"a": 1.0, "b": 3.0}),  # c untimed: hit
              Trial(predicted_s={"a": 1.0, "b": 2.0}, measured_s={"a": 1.0})]  # one timing: not judged
    assert top_choice_agreement(trials) == pytest.approx(2 / 3)
    assert top_choice_agreement(trials[3:]) is None


def test_calibration_scales_a_schedule_by_its_measured_over_predicted_ratio() -> None:
    calibration = Calibration()
    assert calibration.corrected("split reductions", 2.0) == 2.0
    calibration.observe("split reductions", 1.0, 4.0)
    calibration.observe("split reductions", 1.0, 1.0)
    assert calibration.factor("split reductions") == pytest.approx(2.0)  # geometric mean of 4 and 1
    assert calibration.corrected("plain", 3.0) == 3.0


def test_the_engine_drafts_in_the_models_order_and_the_search_follows_what_was_measured() -> None:
    engine = OfflineEngine()
    drafts = [engine.propose(FEW_ROWS, "hybrid", [], set()) for _ in range(2)]
    assert [read_schedule(d.source) for d in drafts] == [SPLIT, PLAIN]
    assert engine.model_agreement() is None  # nothing timed yet
    # Measured: the split draft ten times slower than the plain one. The model's first choice was wrong, and the
    # walk now starts from the plain schedule's defaults.
    engine.observe(FEW_ROWS, "hybrid", drafts[0].source, 10.0)
    engine.observe(FEW_ROWS, "hybrid", drafts[1].source, 1.0)
    assert engine.model_agreement() == 0.0
    following = engine.propose(FEW_ROWS, "hybrid", [], set())
    assert read_schedule(following.source) == PLAIN
    # A fresh engine, told nothing, walks from the split schedule.
    fresh = OfflineEngine()
    for _ in range(2):
        fresh.propose(FEW_ROWS, "hybrid", [], set())
    assert read_schedule(fresh.propose(FEW_ROWS, "hybrid", [], set()).source) == SPLIT


def test_timings_of_sources_the_engine_did_not_write_are_ignored() -> None:
    engine = OfflineEngine()
    engine.observe(FEW_ROWS, "hybrid", "class ModelNew: pass", 1.0)
    assert engine.model_agreement() is None
