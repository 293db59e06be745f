"""The report written three ways into one folder: report.html (self-contained: styles and plots inline, no
script, nothing fetched), report.md and report.json."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from kevolve.eval_harness.scoring import FAST_P_THRESHOLDS

from ..summary import format_percent, format_ratio
from .figures import all_plots
from .model import DeviceResult, ProblemResult, Report, Speedup

CAPTIONS = {
    "speedups": "Speedup of the best kernel per problem, over eager PyTorch and over torch.compile",
    "fitness": "Best fitness over rounds, per problem and device",
    "roofline": "Roofline: the final kernels, achieved against attainable",
    "cost": "Cost against gain, per problem",
}
THRESHOLDS = [f"{p:g}" for p in FAST_P_THRESHOLDS]

_TEMPLATES = Environment(loader=PackageLoader("kevolve.graph.report", "templates"), undefined=StrictUndefined,
                         autoescape=select_autoescape(["html", "j2"]))


def format_speedup(speedup: Speedup | None) -> str:
    if speedup is None:
        return "n/a"
    return f"{speedup.median:.3g}x ({speedup.low:.3g} to {speedup.high:.3g})"


def format_duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{seconds / 60:.1f} min"


def format_minutes(minutes: float | None) -> str:
    return "n/a" if minutes is None else f"{minutes:.2f}"


def approval_text(problem: ProblemResult, device: DeviceResult) -> str:
    author = f"; best by the {device.best_written_by}" if device.best_written_by else ""
    if problem.state == "waiting" and device.approval == "not_asked" and device.stop is not None:
        return f"waiting: kevolve review ({problem.run_id}:{device.best_node}){author}"
    return device.approval.replace("_", " ") + author


def render_html(report: Report) -> str:
    return _TEMPLATES.get_template("report.html.j2").render(
        report=report, totals=report.totals, plots=all_plots(report), captions=CAPTIONS, thresholds=THRESHOLDS,
        speedup=format_speedup, percent=format_percent, ratio=format_ratio, duration=format_duration,
        minutes=format_minutes, approval=approval_text,
    )


def render_markdown(report: Report) -> str:
    totals = report.totals
    lines = [
        f"# {report.title}", "",
        f"generated {report.generated_at}; {format_duration(report.wall_s)} of wall time; {len(report.problems)} "
        f"problems; {totals['gpu_hours']:.3g} GPU-hours; {totals['tokens']:.0f} tokens; ${totals['cost_usd']:.2f}"
        + ("; approved automatically (--auto-approve)" if report.auto_approve else ""),
        *([f"- precision regime of every figure: {report.regime}"] if report.regime else []),
        *([f"- GPU-minutes to the best kernel, median over problems: {report.median_gpu_minutes_to_best:.2f}"]
          if report.median_gpu_minutes_to_best is not None else []),
    ]
    for use in report.device_use:
        lines.append(f"- {use.label}: busy {use.busy_fraction:.0%} of the wall time, {use.candidates} candidates, "
                     f"{use.candidates_per_gpu_hour:.0f} per GPU-hour")
    lines += ["", "| problem | device | vs eager (95% CI) | vs torch.compile (95% CI) | % of light | rounds "
              "| GPU-min to best | tokens | $ | GPU-h | approval |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for problem in report.problems:
        if not problem.devices:
            lines.append(f"| {problem.name} | | {problem.state} | | | 0 | | 0 | 0 | 0 | |")
        for device in problem.devices:
            lines.append(
                f"| {problem.name} | {device.device} | {format_speedup(device.over_eager)} | "
                f"{format_speedup(device.over_compiled)} | {format_percent(device.percent_of_light)} | "
                f"{device.rounds} | {format_minutes(device.gpu_minutes_to_best)} | {problem.tokens} | "
                f"{problem.cost_usd:.2f} | {problem.gpu_hours:.3g} | "
                f"{approval_text(problem, device)} |")
    lines += ["", "## fast_p (95% lower bound of the speedup)", "",
              "| device | baseline | " + " | ".join(f"fast_{p}" for p in THRESHOLDS) + " | geomean |",
              "|---|---|" + "---|" * (len(THRESHOLDS) + 1)]
    for device, score in report.fast_p.items():
        for baseline in score.scores:
            cells = " | ".join(f"{baseline.fast_p[p]:.0%}" for p in THRESHOLDS)
            lines.append(f"| {device} | {baseline.baseline} | {cells} | {format_ratio(baseline.geomean_speedup)} |")
    return "\n".join(lines) + "\n"


def write_report(report: Report, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"html": out / "report.html", "markdown": out / "report.md", "json": out / "report.json"}
    files["html"].write_text(render_html(report))
    files["markdown"].write_text(render_markdown(report))
    files["json"].write_text(report.model_dump_json(indent=1))
    return files
