"""`kevolve kb ...`: fill, search and move the knowledge base from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.table import Table
from rich.text import Text

from kevolve.hardware_specs import DOCUMENTS_DIR
from kevolve.tools.knowledge.base import KnowledgeBase
from kevolve.tools.knowledge.chunking import chunk_markdown, load_documents
from kevolve.tools.knowledge.device_filter import with_device
from kevolve.tools.knowledge.factory import open_knowledge_base
from kevolve.tools.knowledge.models import EntryKind, Passage, SearchFilters
from kevolve.tools.knowledge.settings import KnowledgeSettings

from .console import console, shown
from .options import UsageError
from .verb_options import add_verbs_with_options

LEARNED_KINDS = (EntryKind.LEARNED_WIN, EntryKind.LEARNED_FAILURE)


def _add_base_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=["embedded", "weaviate"], default=None,
                        help="default: the settings (KEVOLVE_KB_BACKEND), else embedded")
    parser.add_argument("--data-dir", type=Path, default=None, help="the embedded base's folder")
    parser.add_argument("--weaviate-url", default=None, help="a Weaviate server for the team's shared base")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_verb = add_verbs_with_options(parser, _add_base_options, required=True)
    ingest = add_verb("ingest", help="chunk Markdown documents by heading and add them")
    ingest.add_argument("path", type=Path, nargs="?", default=DOCUMENTS_DIR, help="a .md file or a folder of them")
    search = add_verb("search", help="hybrid (keyword + meaning) search")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=5)
    for field in ("vendor", "architecture", "dsl", "operator-family"):
        search.add_argument(f"--{field}", default=None, help="exact value; passages that leave it empty match too")
    search.add_argument("--device", default=None, help="a hardware spec (h100_sxm), a short name (h100: every "
                        "H100), a CUDA device name, cpu or cuda:N; passages for its architecture or no device match")
    search.add_argument("--kind", action="append", choices=[k.value for k in EntryKind], default=None)
    search.add_argument("--json", action="store_true")
    add_verb("stats", help="passages per kind, backend and embedding model")
    export = add_verb("export", help="write passages as JSON lines (learned entries unless --all)")
    export.add_argument("file", type=Path)
    export.add_argument("--all", action="store_true", help="documents too")
    imported = add_verb("import", help="add passages from a JSON-lines export")
    imported.add_argument("file", type=Path)
    parser.set_defaults(run=run)


def _settings(args: argparse.Namespace) -> KnowledgeSettings:
    settings = KnowledgeSettings.from_environment()
    update = {}
    if args.backend:
        update["backend"] = args.backend
    if args.data_dir:
        update["data_dir"] = args.data_dir
    if args.weaviate_url:
        update["backend"] = "weaviate"
        update["weaviate"] = settings.weaviate.model_copy(update={"mode": "custom", "url": args.weaviate_url})
    return settings.model_copy(update=update)


def _ingest(kb: KnowledgeBase, path: Path) -> None:
    if path.is_dir():
        passages = load_documents(path)
    elif path.is_file() and path.suffix == ".md":
        passages = chunk_markdown(path.read_text(), source=str(path), id_prefix=path.stem)
    else:
        raise UsageError(f"{path}: not a Markdown file or a folder of them")
    if not passages:
        raise UsageError(f"{path}: no passages found (are there ## headings?)")
    console.print(f"added {kb.add(passages)} passages from {path}")


def _search(kb: KnowledgeBase, args: argparse.Namespace) -> None:
    filters = SearchFilters(
        vendor=args.vendor, architecture=args.architecture, dsl=args.dsl,
        operator_family=args.operator_family, kinds=[EntryKind(k) for k in args.kind] if args.kind else None,
    )
    if args.device:
        filters = with_device(filters, args.device)
    hits = kb.search(args.query, filters=filters, limit=args.limit)
    if args.json:
        print(json.dumps([hit.model_dump(mode="json") for hit in hits], indent=1))
        return
    if not hits:
        console.print("no passages match")
    for rank, hit in enumerate(hits, 1):
        # A shared knowledge base is written by others: its text is data, never markup or terminal control.
        console.print(Text.assemble(shown(f"{rank}. {hit.passage.title}", "bold"),
                                    shown(f"  ({hit.passage.source}, score {hit.score:.3f})")), highlight=False)
        console.print(shown(hit.passage.text), highlight=False)
        console.print()


def _stats(kb: KnowledgeBase) -> None:
    stats = kb.stats()
    table = Table(show_header=False, box=None)
    table.add_row("backend", f"{stats.backend} at {stats.location}")
    table.add_row("embeddings", stats.embedding_model)
    for kind in EntryKind:
        table.add_row(kind.value, str(stats.passages_by_kind.get(kind, 0)))
    console.print(table)


def _export(kb: KnowledgeBase, file: Path, everything: bool) -> None:
    chosen = [p for p in kb.passages() if everything or p.kind in LEARNED_KINDS]
    file.write_text("".join(p.model_dump_json() + "\n" for p in chosen))
    console.print(f"wrote {len(chosen)} passages to {file}")


def _import(kb: KnowledgeBase, file: Path) -> None:
    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    try:
        passages = [Passage.model_validate_json(line) for line in file.read_text().splitlines() if line.strip()]
    except ValueError as exc:
        raise UsageError(f"{file}: not a kevolve knowledge-base export ({str(exc).splitlines()[0]})") from None
    console.print(f"added {kb.add(passages)} passages from {file}")


def run(args: argparse.Namespace) -> int:
    with open_knowledge_base(_settings(args)) as kb:
        if args.verb == "ingest":
            _ingest(kb, args.path)
        elif args.verb == "search":
            _search(kb, args)
        elif args.verb == "stats":
            _stats(kb)
        elif args.verb == "export":
            _export(kb, args.file, args.all)
        else:
            _import(kb, args.file)
    return 0
