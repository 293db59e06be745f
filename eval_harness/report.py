"""A bench report as a markdown table, for people and for committing under benchmarks/."""

from __future__ import annotations

from .compare import MIN_EFFECT
from .results import EvalResult, SpeedOfLight, TimingStats
from .roofline import percent_of_light
from .scoring import SuiteScore
from .suite import BenchReport, ProblemRecord


def _ms(stats: TimingStats | None) -> str:
    if stats is None:
        return "-"
    return f"{stats.median_ms:.4g} [{stats.q1_ms:.4g}, {stats.q3_ms:.4g}]"


def _verdict(result: EvalResult | None) -> str:
    if result is None:
        return "-"
    if result.error is not None:
        return f"{result.status.value}: {result.error.kind.value}"
    return result.status.value


def _speedup(result: EvalResult | None, baseline: str) -> str:
    if result is None:
        return "-"
    for comparison in result.comparisons:
        if comparison.baseline == baseline:
            return (
                f"{comparison.speedup:.2f}x ({comparison.ci_low:.2f}-{comparison.ci_high:.2f}, "
                f"{comparison.verdict})"
            )
    return "-"


def _percent(sol: SpeedOfLight, stats: TimingStats | None) -> str:
    percent = percent_of_light(sol, stats.median_ms if stats else None)
    return f"{percent:.0f}" if percent is not None else "-"


def _light(record: ProblemRecord) -> str:
    sol = record.reference.speed_of_light
    if sol is None or sol.floor_ms is None:
        return "- | -"
    baselines = record.reference.baselines
    candidate = record.candidate.timing if record.candidate else None
    percents = " / ".join(_percent(sol, stats) for stats in (
        baselines.eager if baselines else None, baselines.compiled if baselines else None, candidate))
    return f"{sol.floor_ms:.3g} ({sol.bound}) | {percents}"


def _score_lines(title: str, score: SuiteScore, *, timing_meaningful: bool) -> list[str]:
    lines = [f"**{title}**: {score.correct} of {score.problems} correct", ""]
    if not timing_meaningful:
        return [*lines, "No fast_p or speedups: timings on this device are not meaningful.", ""]
    lines.append(f"fast_p: correct and the speedup's 95% lower bound above p by more than {MIN_EFFECT:.0%} "
                 "(run-to-run noise); in brackets, the ratio of medians above p (KernelBench's definition).")
    lines.append("")
    lines.append("| baseline | fast_0 | fast_1 | fast_1.5 | fast_2 | geomean speedup (correct) |")
    lines.append("|---|---|---|---|---|---|")
    for entry in score.scores:
        cells = [f"{entry.fast_p[p]:.3f} ({entry.fast_p_point[p]:.3f})" for p in ("0", "1", "1.5", "2")]
        geomean = f"{entry.geomean_speedup:.3f}x" if entry.geomean_speedup else "-"
        lines.append(f"| {entry.baseline} | {' | '.join(cells)} | {geomean} |")
    return [*lines, ""]


def render_markdown(report: BenchReport) -> str:
    env = report.environment
    lines = [f"# kevolve bench: {report.suite}", ""]
    if not report.complete:
        lines += [f"**Incomplete**: the run stopped after {len(report.records)} problems.", ""]
    if env is not None:
        lines += [
            f"- device: {env.device_name} ({env.device}), spec `{env.hardware_spec}`",
            f"- torch {env.torch_version}, triton {env.triton_version}, CUDA {env.cuda_version}, "
            f"driver {env.driver_version}, Python {env.python_version}",
            f"- timings meaningful: {env.timing_meaningful}",
            *([f"- {env.note}"] if env.note else []),
        ]
    timing = report.settings.timing
    lines += [
        f"- precision regime {report.settings.math.label} (reference, baselines and candidates alike); "
        f"{report.settings.correctness_trials} correctness trials; "
        f"timing: {timing.trials} trials (at least {timing.min_trials_when_slow} past {timing.max_seconds:g} s), "
        f"L2 flushed between trials (GPU only): {timing.flush_l2}, "
        f"up to {timing.input_sets} rotating input sets, CUDA graphs: no",
        f"- created {report.created_at}; wall {report.wall_seconds:.0f} s",
        "",
        "Times are medians in ms with [q1, q3]; speedups are baseline median over candidate median "
        "with a 95% bootstrap interval.",
        "",
        "Speed of light (SOL): the larger of minimum bytes over datasheet bandwidth and matrix FLOPs over "
        "peak; % SOL is that floor over the median (eager / torch.compile / candidate).",
        "",
        "| problem | category | eager ms | compile ms | candidate | candidate ms | vs eager | vs compile "
        "| SOL ms (bound) | % SOL e / c / cand |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for record in report.records:
        baselines = record.reference.baselines
        reference_cell = _verdict(record.reference) if record.reference.error else ""
        eager = _ms(baselines.eager) if baselines else reference_cell or "-"
        compiled = "-"
        if baselines is not None:
            compiled = _ms(baselines.compiled) if baselines.compiled else "skipped"
        candidate = record.candidate
        lines.append(
            f"| {record.problem} | {record.category or '-'} | {eager} | {compiled} | {_verdict(candidate)} | "
            f"{_ms(candidate.timing if candidate else None)} | {_speedup(candidate, 'eager')} | "
            f"{_speedup(candidate, 'compiled')} | {_light(record)} |"
        )
    lines.append("")
    meaningful = env is not None and env.timing_meaningful
    lines += _score_lines("All problems (fast_p counts problems without a candidate as failures)", report.score,
                          timing_meaningful=meaningful)
    if report.score_where_candidate.problems:
        lines += _score_lines("Problems that had a candidate", report.score_where_candidate,
                              timing_meaningful=meaningful)
    throughput = report.throughput
    if throughput.candidates:
        median = throughput.median_seconds_per_candidate
        lines.append(
            f"Harness throughput: {throughput.candidates} candidates; warm-worker median "
            f"{median:.2f} s per candidate (first, with compilation: {throughput.first_candidate_seconds:.2f} s)"
            if median is not None
            else f"Harness throughput: one candidate, {throughput.first_candidate_seconds:.2f} s"
        )
    return "\n".join(lines) + "\n"
