"""A verdict's profile as a few lines of text: short enough for a prompt, complete enough to act on.

The full data stays on disk (profiler traces, ncu CSVs); this says what bounds the kernel, how far
it is from the floor, and where the device time goes.
"""

from __future__ import annotations

from .results import EvalResult, KernelProfile, NcuReport, SpeedOfLight

_KERNELS_SHOWN = 5


def _light_lines(sol: SpeedOfLight, percent: float | None) -> list[str]:
    line = f"work: {sol.flops / 1e9:.3g} GFLOP (matrix), {sol.bytes / 1e6:.4g} MB minimum traffic"
    if sol.arithmetic_intensity is not None:
        line += f", {sol.arithmetic_intensity:.3g} FLOP/byte"
    lines = [line]
    if sol.floor_ms is not None:
        lines.append(
            f"speed of light: {sol.floor_ms:.4g} ms, {sol.bound}-bound "
            f"(bytes {sol.byte_floor_ms:.4g} ms at {sol.bandwidth_gbps:g} GB/s; "
            f"FLOPs {sol.flop_floor_ms:.4g} ms at {sol.peak_tflops:g} TFLOP/s {sol.peak_unit})"
        )
    if percent is not None:
        lines.append(f"achieved: {percent:.1f}% of speed of light")
    return lines


def _kernel_lines(profile: KernelProfile) -> list[str]:
    head = f"kernels ({profile.source}): {profile.launches_per_call:g} launches per call"
    if profile.device_ms_per_call is not None and profile.wall_ms_per_call is not None:
        head += f", device busy {profile.device_ms_per_call:.4g} of {profile.wall_ms_per_call:.4g} ms wall"
    if profile.launch_bound:
        head += "; LAUNCH-BOUND: the device idles between kernels, fuse launches"
    lines = [head]
    for kernel in profile.kernels[:_KERNELS_SHOWN]:
        timing = f", {kernel.device_ms_per_call:.4g} ms ({kernel.share:.0%})" if kernel.device_ms_per_call else ""
        lines.append(f"  {kernel.name[:80]}: x{kernel.launches_per_call:g}{timing}")
    return lines


def _pct(value: float | None) -> str:
    return f"{value:.0f}%" if value is not None else "n/a"


def _ncu_lines(report: NcuReport) -> list[str]:
    if not report.available:
        return [f"hardware counters: not available ({report.reason})"]
    lines = ["hardware counters (ncu):"]
    for kernel in report.kernels[:_KERNELS_SHOWN]:
        stalls = ", ".join(f"{reason} {value:.3g}" for reason, value in kernel.top_stall_reasons)
        spills = {True: "spills", False: "no spills", None: "spills n/a"}[kernel.local_memory_spill]
        lines.append(
            f"  {kernel.name[:60]}: DRAM {_pct(kernel.dram_throughput_pct)}, SM {_pct(kernel.sm_throughput_pct)}, "
            f"occupancy {_pct(kernel.achieved_occupancy_pct)}, {kernel.registers_per_thread} regs, "
            f"{kernel.shared_memory_per_block_bytes} B smem, {spills}; stalls: {stalls or 'n/a'}"
        )
    return lines


def render_profile_summary(result: EvalResult) -> str:
    lines = [f"{result.problem}: {result.status.value}" + (f" ({result.error.kind.value})" if result.error else "")]
    if result.timing is not None:
        lines.append(f"candidate median {result.timing.median_ms:.4g} ms (q1 {result.timing.q1_ms:.4g}, "
                     f"q3 {result.timing.q3_ms:.4g})")
    if result.baselines is not None and result.baselines.eager is not None:
        compiled = result.baselines.compiled
        lines.append(f"eager {result.baselines.eager.median_ms:.4g} ms; torch.compile "
                     + (f"{compiled.median_ms:.4g} ms" if compiled else "n/a"))
    for comparison in result.comparisons:
        lines.append(f"vs {comparison.baseline}: {comparison.speedup:.3g}x ({comparison.verdict})")
    if result.speed_of_light is not None:
        lines += _light_lines(result.speed_of_light, result.percent_of_light)
    if result.profile is not None:
        lines += _kernel_lines(result.profile)
    if result.ncu is not None:
        lines += _ncu_lines(result.ncu)
    lines += [f"review: {reason}" for reason in result.review_required]
    if result.environment is not None and not result.environment.timing_meaningful:
        lines.append("timings on this device are not meaningful (CPU interpreter)")
    return "\n".join(lines)
