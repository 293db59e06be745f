"""Nsight Compute profiling: what it says without ncu or a GPU, its CSV parser, and its target program."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from harness_helpers import FIXTURES
from kevolve.eval_harness.ncu import ncu_available, ncu_profile_command, parse_ncu_csv, profile_with_ncu
from kevolve.eval_harness.precision import Precision, resolve
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.eval_harness.results import NcuReport

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CSV = FIXTURES / "ncu" / "sample_raw.csv"
SOFTMAX_PROBLEM = SUITE_DIR / "softmax_rows.py"
SOFTMAX_CANDIDATE = REPO / "benchmarks" / "candidates" / "softmax_rows.py"


def _fake_ncu(tmp_path: Path, body: str) -> str:
    """An executable standing in for ncu: a Python script with `body` after `args = sys.argv[1:]`."""
    script = tmp_path / "ncu"
    script.write_text(f"#!{sys.executable}\nimport os, sys, time\nargs = sys.argv[1:]\n{body}\n")
    script.chmod(0o755)
    return str(script)


# --- no ncu, no GPU ------------------------------------------------------------------------------


@pytest.mark.skipif(ncu_available() is not None, reason="this machine has ncu")
def test_without_ncu_the_report_says_so_and_nothing_raises(tmp_path):
    report = profile_with_ncu(SOFTMAX_PROBLEM, SOFTMAX_CANDIDATE, config="small", math=resolve(Precision.EXACT),
                              device_index=0, timeout_s=30, out_dir=tmp_path, kernel_regex=None)
    assert isinstance(report, NcuReport)
    assert report.available is False
    assert report.reason is not None and "ncu not found" in report.reason
    assert report.kernels == []


def test_a_refused_counter_permission_is_named(tmp_path):
    ncu = _fake_ncu(tmp_path, 'print("==ERROR== ERR_NVGPUCTRPERM - The user does not have permission to access '
                              'NVIDIA GPU Performance Counters on the target device 0."); sys.exit(1)')
    report = profile_with_ncu(SOFTMAX_PROBLEM, None, out_dir=tmp_path / "out", timeout_s=30, ncu=ncu)
    assert report.available is False
    assert report.reason.startswith("permission: counters not accessible (ERR_NVGPUCTRPERM)")


def test_a_failing_ncu_reports_its_exit_code_and_output(tmp_path):
    ncu = _fake_ncu(tmp_path, 'print("==ERROR== something broke"); sys.exit(7)')
    report = profile_with_ncu(SOFTMAX_PROBLEM, None, out_dir=tmp_path / "out", timeout_s=30, ncu=ncu)
    assert report.available is False
    assert report.reason.startswith("ncu failed (exit 7)")
    assert "something broke" in report.reason
    assert report.command[1:4] == ["--clock-control", "none", "--target-processes"]


def test_a_hanging_ncu_is_killed_with_its_children(tmp_path):
    pid_file = tmp_path / "child.pid"
    ncu = _fake_ncu(tmp_path, f'import subprocess\nchild = subprocess.Popen(["sleep", "60"])\n'
                              f'open({str(pid_file)!r}, "w").write(str(child.pid))\ntime.sleep(60)')
    started = time.monotonic()
    report = profile_with_ncu(SOFTMAX_PROBLEM, None, out_dir=tmp_path / "out", timeout_s=2, ncu=ncu)
    assert time.monotonic() - started < 20
    assert report.available is False and report.reason.startswith("ncu timed out after 2 s")
    child = int(pid_file.read_text())
    for _ in range(50):  # the orphan is reaped by init shortly after the kill
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the hanging ncu's child survived the kill")


def test_the_whole_path_through_a_stand_in_ncu_parses_the_fixture(tmp_path):
    ncu = _fake_ncu(tmp_path, (
        'if "--import" in args:\n'
        f'    print(open({str(SAMPLE_CSV)!r}).read()); sys.exit(0)\n'
        'open(args[args.index("--export") + 1] + ".ncu-rep", "w").write("report")'
    ))
    report = profile_with_ncu(SOFTMAX_PROBLEM, SOFTMAX_CANDIDATE, out_dir=tmp_path / "out", timeout_s=30, ncu=ncu,
                              kernel_regex="softmax")
    assert report.available, report.reason
    assert report.kernels == parse_ncu_csv(SAMPLE_CSV.read_text())
    assert Path(report.csv_path).is_file() and Path(report.report_path).is_file()
    assert report.command[report.command.index("--kernel-name") + 1] == "regex:softmax"


def test_the_command_line_profiles_only_the_marked_forward_without_touching_clocks(tmp_path):
    command = ncu_profile_command("ncu", ["python", "-m", "x"], report_base=tmp_path / "r", kernel_regex=None,
                                  max_kernels=4)
    text = " ".join(command)
    assert "--clock-control none" in text
    assert "--target-processes all" in text
    assert "--nvtx --nvtx-include kevolve_profiled/" in text
    assert "--launch-count 4" in text
    assert command[-3:] == ["python", "-m", "x"]
    for section in ("SpeedOfLight", "Occupancy", "LaunchStats", "WarpStateStats", "MemoryWorkloadAnalysis"):
        assert f"--section {section}" in text
    assert "--kernel-name" not in command


# --- the CSV parser ------------------------------------------------------------------------------


def test_the_parser_reads_real_ncu_output():
    """The fixture is ncu 2025.3.1's raw page on an H100 (`--import --csv --page raw --print-units base`),
    cut to the columns around what the parser reads; its three rows come from three profiled forwards
    (Triton softmax, Triton RMSNorm, PyTorch's softmax) that printed identical headers."""
    kernels = parse_ncu_csv(SAMPLE_CSV.read_text())
    assert [k.name for k in kernels][:2] == ["_softmax_fused_kernel", "_rmsnorm_fused_kernel"]
    assert "cunn_SoftMaxForward" in kernels[2].name
    softmax = kernels[0]
    assert softmax.duration_ms == pytest.approx(1.423872)  # "1,423,872" ns
    assert softmax.block_size == 512 and softmax.grid_size == 32768
    assert softmax.dram_throughput_pct == pytest.approx(89.52)
    assert softmax.dram_bandwidth_gbps == pytest.approx(3001.04, abs=0.01)
    assert softmax.memory_throughput_pct == pytest.approx(89.52)
    assert softmax.sm_throughput_pct == pytest.approx(18.70)
    assert softmax.achieved_occupancy_pct == pytest.approx(46.41)
    assert softmax.theoretical_occupancy_pct == pytest.approx(50)
    assert softmax.registers_per_thread == 57
    assert softmax.shared_memory_per_block_bytes == 64  # static 0 + dynamic 64, "byte/block"
    assert softmax.local_memory_bytes == 0 and softmax.register_spill_instructions == 0
    assert softmax.local_memory_spill is False
    assert softmax.top_stall_reasons == [("long_scoreboard", 14.85), ("drain", 5.39), ("short_scoreboard", 5.12)]
    for kernel in kernels:
        assert kernel.duration_ms is not None and 0 < kernel.duration_ms < 10
        for pct in (kernel.dram_throughput_pct, kernel.sm_throughput_pct, kernel.memory_throughput_pct,
                    kernel.achieved_occupancy_pct):
            assert pct is not None and 0 <= pct <= 100.5
        assert kernel.registers_per_thread is not None and 0 < kernel.registers_per_thread <= 255
        assert kernel.shared_memory_per_block_bytes is not None
        assert len(kernel.top_stall_reasons) == 3
        values = [value for _, value in kernel.top_stall_reasons]
        assert values == sorted(values, reverse=True)
        assert all(reason != "selected" for reason, _ in kernel.top_stall_reasons)


_SYNTHETIC_COLUMNS = [
    ("ID", ""), ("Process ID", ""), ("Kernel Name", ""), ("gpu__time_duration.sum", "usecond"),
    ("dram__throughput.avg.pct_of_peak_sustained_elapsed", "%"), ("launch__registers_per_thread", "register/thread"),
    ("launch__shared_mem_per_block_static", "byte"), ("launch__shared_mem_per_block_dynamic", "Kbyte"),
    ("smsp__average_warp_latency_issue_stalled_long_scoreboard.ratio", ""),
    ("smsp__average_warp_latency_issue_stalled_selected.ratio", ""),
    ("smsp__average_warp_latency_issue_stalled_barrier.ratio", ""),
    ("smsp__average_warp_latency_issue_stalled_wait.ratio", ""),
    ("smsp__average_warp_latency_issue_stalled_drain.ratio", ""),
    ("l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum", "byte"),
]
_SYNTHETIC_ROWS = [
    ["0", "123", "my_kernel(float*)", "1,234.50", "87.5", "40", "0", "1.5", "12.5", "1.0", "n/a", "3.25", "0.5", "0"],
    ["1", "123", "other_kernel", "2", "not-a-number", "", "", "", "", "", "", "", "", "1,024"],
]


def _csv_line(cells) -> str:
    return ",".join(f'"{cell}"' for cell in cells)


SYNTHETIC = "\n".join([
    "==PROF== Connected to process 123 (/usr/bin/python3)",
    _csv_line(name for name, _ in _SYNTHETIC_COLUMNS),
    _csv_line(unit for _, unit in _SYNTHETIC_COLUMNS),
    *(_csv_line(row) for row in _SYNTHETIC_ROWS),
    "==PROF== Disconnected from process 123",
])


def test_the_parser_converts_units_and_separators_and_tolerates_missing_metrics():
    first, second = parse_ncu_csv(SYNTHETIC)
    assert first.name == "my_kernel(float*)"
    assert first.duration_ms == pytest.approx(1.2345)
    assert first.dram_throughput_pct == 87.5
    assert first.registers_per_thread == 40
    assert first.shared_memory_per_block_bytes == 1500
    assert first.local_memory_bytes == 0 and first.local_memory_spill is False
    assert first.top_stall_reasons == [("long_scoreboard", 12.5), ("wait", 3.25), ("drain", 0.5)]
    assert first.register_spill_instructions is None
    assert first.sm_throughput_pct is None and first.achieved_occupancy_pct is None
    assert second.duration_ms == pytest.approx(0.002)
    assert second.dram_throughput_pct is None and second.registers_per_thread is None
    assert second.shared_memory_per_block_bytes is None
    assert second.local_memory_spill is True and second.local_memory_bytes == 1024
    assert second.top_stall_reasons == []


@pytest.mark.parametrize("text", ["", "garbage\n", '"ID","Kernel Name"\n', "==PROF== nothing\n"])
def test_the_parser_returns_no_kernels_for_output_without_any(text):
    assert parse_ncu_csv(text) == []


# --- the target program --------------------------------------------------------------------------


def _target(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    return subprocess.run([sys.executable, "-m", "kevolve.eval_harness.ncu_target", *args],
                          capture_output=True, text=True, timeout=120, env=env, cwd=REPO)


def test_the_target_runs_a_triton_candidate_on_the_cpu():
    done = _target("--problem", str(SOFTMAX_PROBLEM), "--candidate", str(SOFTMAX_CANDIDATE), "--config", "small",
                   "--math", resolve(Precision.TF32).model_dump_json(), "--seed", "3", "--warmup", "1")
    assert done.returncode == 0, done.stderr
    assert "profiled one forward of the candidate" in done.stdout


def test_the_target_refuses_a_regime_that_is_not_a_math_mode():
    done = _target("--problem", str(SOFTMAX_PROBLEM), "--reference", "--math", '{"precision": "fp8"}')
    assert done.returncode == 1 and "precision" in done.stderr and "Traceback" not in done.stderr


def test_the_target_runs_the_reference_on_the_cpu():
    done = _target("--problem", str(SOFTMAX_PROBLEM), "--reference", "--config", "small", "--warmup", "0")
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_the_target_says_no_gpu_when_cuda_is_asked_for_and_absent():
    done = _target("--problem", str(SOFTMAX_PROBLEM), "--reference", "--config", "small", "--device", "cuda:0")
    assert done.returncode == 3
    assert "no GPU" in done.stderr


def test_the_target_fails_cleanly_on_an_unknown_config():
    done = _target("--problem", str(SOFTMAX_PROBLEM), "--reference", "--config", "nope")
    assert done.returncode == 1
    assert "nope" in done.stderr
