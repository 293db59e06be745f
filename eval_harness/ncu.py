"""Hardware counters for one forward, from Nsight Compute (ncu), parsed into `NcuReport`.

`profile_with_ncu` runs `ncu` on `python -m kevolve.eval_harness.ncu_target` (which builds the
model as the worker does and marks one forward with the NVTX range `kevolve_profiled`), the way a
worker is run: its own process session, the allow-listed environment, killed as a group past its
time limit, only its output's tail read. ncu writes a report (`.ncu-rep`); a second `ncu --import`
turns it into the raw CSV (one row per kernel) that `parse_ncu_csv` reads.

GPU clocks are left alone (`--clock-control none`): the counters then describe the kernel at the
clocks it runs at in a benchmark, and ncu needs no right to change them.

Nothing here raises for want of ncu, a GPU or counter permissions: the report says so instead
(`available` False and a `reason`), so a caller on a CPU-only machine can ask unconditionally.
"""

from __future__ import annotations

import csv
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from .precision import MathMode, Precision, resolve
from .results import NcuKernel, NcuReport
from .worker_client import run_in_session, worker_environment

# Shared with ncu_target (imported from here, so the caller never imports torch for them).
NVTX_RANGE = "kevolve_profiled"
EXIT_NO_GPU = 3
DEFAULT_NCU_PATHS = ("/usr/local/cuda/bin/ncu",)
SECTIONS = ("SpeedOfLight", "Occupancy", "LaunchStats", "WarpStateStats", "MemoryWorkloadAnalysis")
# Local-memory traffic (register spills, local arrays), which no section above reports.
EXTRA_METRICS = ("l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum", "l1tex__t_bytes_pipe_lsu_mem_local_op_st.sum")
_REASON_TAIL_CHARS = 2000
_IMPORT_TIMEOUT_S = 120.0

# Metric names per field, first present wins (names moved between ncu versions).
_DURATION = ("gpu__time_duration.sum",)
_DRAM = ("gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed", "dram__throughput.avg.pct_of_peak_sustained_elapsed")
_DRAM_BYTES_PER_S = ("dram__bytes.sum.per_second",)
_MEMORY = ("gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed",)
_SM = ("sm__throughput.avg.pct_of_peak_sustained_elapsed",)
_ACHIEVED = ("sm__warps_active.avg.pct_of_peak_sustained_active",)
_THEORETICAL = ("sm__maximum_warps_per_active_cycle_pct",)
_REGISTERS = ("launch__registers_per_thread",)
_SHARED_STATIC = ("launch__shared_mem_per_block_static",)
_SHARED_DYNAMIC = ("launch__shared_mem_per_block_dynamic",)
_BLOCK = ("launch__block_size",)
_GRID = ("launch__grid_size",)
_SPILL_INSTRUCTIONS = ("sass__inst_executed_register_spilling",)
# Stall families in order of preference: cycles per issued instruction (WarpStateStats), then
# PC-sampling counts (SourceCounters). `selected` is a warp issuing, not a stall.
_STALL_FAMILIES = (
    re.compile(r"^smsp__average_warp_latency_issue_stalled_(?P<reason>\w+?)\.ratio$"),
    re.compile(r"^smsp__average_warps_issue_stalled_(?P<reason>\w+?)_per_issue_active\.ratio$"),
    re.compile(r"^smsp__pcsamp_warps_issue_stalled_(?P<reason>\w+?)$"),
)
_NOT_STALLS = {"selected"}
_TIME_TO_MS = {"nsecond": 1e-6, "ns": 1e-6, "usecond": 1e-3, "us": 1e-3, "msecond": 1.0, "ms": 1.0,
               "second": 1e3, "s": 1e3}
_BYTE_SCALE = {"byte": 1, "B": 1, "Kbyte": 1e3, "KB": 1e3, "Mbyte": 1e6, "MB": 1e6, "Gbyte": 1e9, "GB": 1e9,
               "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
# Per-launch-entity units ("byte/block") measure the same quantity as the bare unit.
_BYTE_SCALE |= {f"{unit}/{per}": scale for unit, scale in list(_BYTE_SCALE.items()) for per in ("block", "thread")}
_TO_GB_PER_S = {f"{unit}/s": scale / 1e9 for unit, scale in _BYTE_SCALE.items() if "/" not in unit}
_MISSING = {"", "n/a", "na", "-", "nan", "none", "(none)", "no data"}


def ncu_available() -> str | None:
    """The path of an `ncu` executable: on PATH, else CUDA's default place; None where there is none."""
    found = shutil.which("ncu")
    if found:
        return found
    return next((p for p in DEFAULT_NCU_PATHS if Path(p).is_file() and shutil.which(p)), None)


# --- the CSV -------------------------------------------------------------------------------------


def _number(text: str | None) -> float | None:
    """A number from ncu's CSV ("1,234.5" included); None for blanks, n/a and anything unparsable."""
    if text is None:
        return None
    cleaned = text.strip().replace(",", "").replace("\u202f", "").replace(" ", "")
    if cleaned.lower() in _MISSING:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value else None  # NaN is no measurement


def _split_table(text: str) -> tuple[list[str], list[str], list[list[str]]]:
    """Header, units row (maybe empty) and kernel rows of ncu's raw CSV; ncu's own `==` lines skipped."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("==")]
    rows = list(csv.reader(lines))
    start = next((i for i, row in enumerate(rows) if row and row[0].strip() == "ID"), None)
    if start is None:
        return [], [], []
    header, rest = [cell.strip() for cell in rows[start]], rows[start + 1:]
    units: list[str] = []
    if rest and len(rest[0]) == len(header) and not rest[0][0].strip():
        units, rest = [cell.strip() for cell in rest[0]], rest[1:]
    return header, units, [row for row in rest if len(row) == len(header) and row[0].strip()]


class _Row:
    def __init__(self, header: list[str], units: list[str], cells: list[str]) -> None:
        self.values = dict(zip(header, cells, strict=True))
        self.units = dict(zip(header, units, strict=False)) if units else {}

    def text(self, names: Sequence[str]) -> str | None:
        for name in names:
            value = self.values.get(name)
            if value is not None and value.strip():
                return value.strip()
        return None

    def number(self, names: Sequence[str], scales: dict[str, float] | None = None) -> float | None:
        for name in names:
            value = _number(self.values.get(name))
            if value is None:
                continue
            unit = self.units.get(name, "")
            if scales is not None and unit:
                if unit not in scales:
                    return None  # a unit we cannot convert: no figure rather than a wrong one
                value *= scales[unit]
            return value
        return None

    def integer(self, names: Sequence[str], scales: dict[str, float] | None = None) -> int | None:
        value = self.number(names, scales)
        return None if value is None else round(value)

    def stalls(self, top: int = 3) -> list[tuple[str, float]]:
        for family in _STALL_FAMILIES:
            found: list[tuple[str, float]] = []
            for name, raw in self.values.items():
                match = family.match(name)
                if match is None or name.endswith("_not_issued"):
                    continue
                reason, value = match.group("reason"), _number(raw)
                if reason in _NOT_STALLS or value is None:
                    continue
                found.append((reason, value))
            if found:
                found.sort(key=lambda item: item[1], reverse=True)
                return [(reason, value) for reason, value in found[:top] if value > 0]
        return []


def _kernel(row: _Row) -> NcuKernel:
    static = row.integer(_SHARED_STATIC, _BYTE_SCALE)
    dynamic = row.integer(_SHARED_DYNAMIC, _BYTE_SCALE)
    shared = None if static is None and dynamic is None else (static or 0) + (dynamic or 0)
    local_parts = [row.number((name,), _BYTE_SCALE) for name in EXTRA_METRICS]
    local = None if all(p is None for p in local_parts) else sum(p or 0.0 for p in local_parts)
    spills = row.integer(_SPILL_INSTRUCTIONS)
    return NcuKernel(
        name=row.text(("Kernel Name", "Function Name", "Name")) or "?",
        block_size=row.integer(_BLOCK),
        grid_size=row.integer(_GRID),
        duration_ms=row.number(_DURATION, _TIME_TO_MS),
        dram_throughput_pct=row.number(_DRAM),
        dram_bandwidth_gbps=row.number(_DRAM_BYTES_PER_S, _TO_GB_PER_S),
        memory_throughput_pct=row.number(_MEMORY),
        sm_throughput_pct=row.number(_SM),
        achieved_occupancy_pct=row.number(_ACHIEVED),
        theoretical_occupancy_pct=row.number(_THEORETICAL),
        registers_per_thread=row.integer(_REGISTERS),
        shared_memory_per_block_bytes=shared,
        local_memory_bytes=local,
        register_spill_instructions=spills,
        local_memory_spill=None if local is None and spills is None else bool(local or spills),
        top_stall_reasons=row.stalls(),
    )


def parse_ncu_csv(text: str) -> list[NcuKernel]:
    """Kernels from `ncu --csv --page raw` output: a header of metric names, a units row, a row per kernel.

    Metrics that are absent, blank, `n/a` or in a unit we do not know come back as None.
    """
    header, units, rows = _split_table(text)
    return [_kernel(_Row(header, units, cells)) for cells in rows]


# --- running ncu ---------------------------------------------------------------------------------


def _tail(text: str) -> str:
    return text[-_REASON_TAIL_CHARS:].strip()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:60]


def ncu_profile_command(
    ncu: str, target: Sequence[str], *, report_base: Path, kernel_regex: str | None, max_kernels: int,
    extra_metrics: bool = True,
) -> list[str]:
    """The ncu command line that profiles `target`'s marked forward into `report_base`.ncu-rep."""
    command = [
        ncu, "--clock-control", "none", "--target-processes", "all",
        "--nvtx", "--nvtx-include", f"{NVTX_RANGE}/",
        "--launch-count", str(max_kernels),
    ]
    for section in SECTIONS:
        command += ["--section", section]
    if extra_metrics:
        command += ["--metrics", ",".join(EXTRA_METRICS)]
    if kernel_regex:
        command += ["--kernel-name", f"regex:{kernel_regex}"]
    command += ["--export", str(report_base), "--force-overwrite", *target]
    return command


def _failure_reason(returncode: int | None, tail: str) -> str:
    if "ERR_NVGPUCTRPERM" in tail:
        return "permission: counters not accessible (ERR_NVGPUCTRPERM): " + _tail(tail)
    if returncode == EXIT_NO_GPU or "kevolve ncu_target: no GPU" in tail:
        return "no GPU: " + _tail(tail)
    if "No kernels were profiled" in tail:
        return f"no kernels were profiled in the NVTX range {NVTX_RANGE!r}: " + _tail(tail)
    return f"ncu failed (exit {returncode}): " + _tail(tail)


def _metric_refused(tail: str) -> bool:
    lowered = tail.lower()
    return any(text in lowered for text in ("failed to find metric", "invalid metric", "unknown metric"))


def profile_with_ncu(
    problem_path: str | Path,
    candidate_path: str | Path | None,
    *,
    config: str = "default",
    math: MathMode | None = None,
    device_index: int = 0,
    timeout_s: float = 300.0,
    out_dir: str | Path,
    kernel_regex: str | None = None,
    max_kernels: int = 8,
    warmup: int = 3,
    seed: int = 0,
    ncu: str | None = None,
) -> NcuReport:
    """Profiles one forward of the candidate (or, with `candidate_path` None, of the reference).

    Writes `<name>.ncu-rep`, `<name>.csv` (ncu's raw page) and `<name>.log` (ncu's and the
    program's output) into `out_dir`. `kernel_regex` narrows which kernels are profiled,
    `max_kernels` caps how many. Never raises for a missing ncu or GPU, a refused counter or a
    failed program: the report's `reason` says what happened.
    """
    ncu = ncu or ncu_available()
    if ncu is None:
        return NcuReport(available=False, reason="ncu not found (not on PATH, nor at /usr/local/cuda/bin/ncu)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    which = Path(candidate_path).stem if candidate_path is not None else "reference"
    name = _safe(f"{Path(problem_path).stem}-{which}-{config}")
    report_base, csv_path, log_path = out / name, out / f"{name}.csv", out / f"{name}.log"
    report_path = out / f"{name}.ncu-rep"
    device = f"cuda:{device_index}"
    target = [sys.executable, "-m", "kevolve.eval_harness.ncu_target", "--problem", str(Path(problem_path).resolve()),
              "--config", config, "--math", (math or resolve(Precision.EXACT)).model_dump_json(), "--seed", str(seed),
              "--warmup", str(warmup), "--device", device]
    target += ["--reference"] if candidate_path is None else ["--candidate", str(Path(candidate_path).resolve())]
    env = worker_environment(device)

    command: list[str] = []
    for extra_metrics in (True, False):
        command = ncu_profile_command(ncu, target, report_base=report_base, kernel_regex=kernel_regex,
                                      max_kernels=max_kernels, extra_metrics=extra_metrics)
        report_path.unlink(missing_ok=True)
        try:
            run = run_in_session(command, env=env, timeout_s=timeout_s, log_path=log_path)
        except OSError as exc:
            return NcuReport(available=False, reason=f"ncu could not start: {exc}", command=command)
        if run.timed_out:
            return NcuReport(available=False, command=command,
                             reason=f"ncu timed out after {timeout_s:.0f} s; it was killed: " + _tail(run.output_tail))
        if extra_metrics and run.returncode != 0 and _metric_refused(run.output_tail):
            continue  # this ncu lacks the local-memory metrics: profile with the sections alone
        break
    if run.returncode != 0 or "ERR_NVGPUCTRPERM" in run.output_tail or not report_path.is_file():
        return NcuReport(available=False, reason=_failure_reason(run.returncode, run.output_tail), command=command)

    imported = run_in_session(
        [ncu, "--import", str(report_path), "--csv", "--page", "raw", "--print-units", "base"],
        env=env, timeout_s=_IMPORT_TIMEOUT_S, log_path=csv_path,
    )
    text = csv_path.read_text(errors="replace") if csv_path.is_file() else ""
    if imported.returncode != 0 or imported.timed_out:
        return NcuReport(available=False, reason=f"ncu --import failed (exit {imported.returncode}): "
                         + _tail(imported.output_tail), command=command, report_path=str(report_path))
    kernels = parse_ncu_csv(text)
    if not kernels:
        return NcuReport(available=False, reason="ncu's CSV holds no kernels: " + _tail(run.output_tail),
                         command=command, csv_path=str(csv_path), report_path=str(report_path))
    return NcuReport(available=True, kernels=kernels, csv_path=str(csv_path), report_path=str(report_path),
                     command=command)
