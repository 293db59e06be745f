"""Markdown documents cut into passages at their headings, with metadata from a YAML front matter.

A document looks like this:

    ---
    title: Hopper (H100, H200)
    vendor: nvidia
    architecture: hopper
    dsl: triton            # optional, like device and operator_family
    ---
    ## Memory hierarchy
    ...
    ### Shared memory
    ...

Each `##` section and each `###` subsection becomes one passage titled by its heading path
("Hopper (H100, H200) > Memory hierarchy > Shared memory"); deeper headings stay inside their
subsection's text. Text before the first `##` becomes an "Overview" passage. A section longer than
`MAX_WORDS` is cut at paragraph boundaries into numbered parts. Ids are the id prefix plus the
heading's anchor, so they stay the same as long as the heading does: re-ingesting a document
replaces its passages instead of duplicating them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .models import EntryKind, Passage

MAX_WORDS = 350  # a section above this is split into parts
TARGET_WORDS = 250  # the size the parts of a split section aim for

VENDORS = frozenset({"nvidia", "amd", "cpu"})
DSLS = frozenset({"triton", "cuda"})
# The values filters use are the hardware specs' own; a document naming another would never match.
_SLUG_VALUE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
_FRONT_MATTER_KEYS = frozenset({"title", "vendor", "architecture", "device", "dsl", "operator_family"})

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


class DocumentError(ValueError):
    """A document whose front matter or structure cannot become passages."""


def _spec_vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """The architectures and device names the hardware specs define (what filters are matched against)."""
    from kevolve.hardware_specs import all_specs

    specs = all_specs()
    return frozenset(s.architecture for s in specs), frozenset(s.name for s in specs)


def parse_front_matter(text: str, *, source: str) -> tuple[dict[str, Any], str]:
    """The validated front matter and the body after it."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise DocumentError(f"{source}: no YAML front matter (a '---' block at the top with at least `title`)")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(f"{source}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise DocumentError(f"{source}: front matter must be a mapping of keys to values")
    unknown = set(meta) - _FRONT_MATTER_KEYS
    if unknown:
        raise DocumentError(f"{source}: unknown front matter keys {sorted(unknown)}; "
                            f"allowed: {sorted(_FRONT_MATTER_KEYS)}")
    if not isinstance(meta.get("title"), str) or not meta["title"].strip():
        raise DocumentError(f"{source}: front matter needs a non-empty `title`")
    for key in _FRONT_MATTER_KEYS - {"title"}:
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            raise DocumentError(f"{source}: front matter `{key}` must be a string, got {value!r}")
    architectures, devices = _spec_vocabulary()
    checks = {"vendor": VENDORS, "architecture": architectures, "device": devices, "dsl": DSLS}
    for key, allowed in checks.items():
        value = meta.get(key)
        if value is not None and value not in allowed:
            raise DocumentError(f"{source}: `{key}: {value}` is not one of {sorted(allowed)}")
    family = meta.get("operator_family")
    if family is not None and not _SLUG_VALUE.match(family):
        raise DocumentError(f"{source}: `operator_family: {family}` must be a lowercase name like `softmax`")
    return meta, text.lstrip("\ufeff")[match.end():]


def slugify(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@dataclass
class _Section:
    path: list[str]  # headings below the document title
    anchor: str
    lines: list[str] = field(default_factory=list)


def _sections(body: str) -> list[_Section]:
    """The body cut at `##` / `###` headings outside code fences; a `#` heading is the document's own."""
    sections = [_Section([], "overview")]
    seen: dict[str, int] = {"overview": 1}
    h2: str | None = None
    fence: str | None = None
    for line in body.splitlines():
        marker = _FENCE.match(line)
        if marker:
            fence = None if fence == marker.group(1) else (fence or marker.group(1))
        heading = None if fence or marker else _HEADING.match(line)
        if heading and len(heading.group(1)) == 1:
            continue  # the document's own title: the front matter's title names it
        if heading and len(heading.group(1)) in (2, 3):
            text = heading.group(2).strip()
            if len(heading.group(1)) == 2:
                h2, path = text, [text]
            else:
                path = [h2, text] if h2 else [text]
            base = slugify(text) or "section"
            count = seen.get(base, 0)
            seen[base] = count + 1
            sections.append(_Section(path, base if count == 0 else f"{base}-{count}"))
            continue
        sections[-1].lines.append(line)
    return sections


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs; a fenced code block stays whole with its neighbours' rules."""
    paragraphs, current, fence = [], [], None
    for line in text.splitlines():
        marker = _FENCE.match(line)
        if marker:
            fence = None if fence == marker.group(1) else (fence or marker.group(1))
        if not line.strip() and fence is None:
            if current:
                paragraphs.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


def _words(text: str) -> int:
    return len(text.split())


def split_long(text: str, *, max_words: int = MAX_WORDS, target_words: int = TARGET_WORDS) -> list[str]:
    """`text` itself when it is short enough, else parts cut at paragraph boundaries of about equal size."""
    total = _words(text)
    if total <= max_words:
        return [text]
    paragraphs = _paragraphs(text)
    parts_wanted = max(2, -(-total // target_words))
    size = total / parts_wanted
    parts: list[list[str]] = [[]]
    used = 0
    for paragraph in paragraphs:
        n = _words(paragraph)
        # close the current part when this paragraph would carry it past its share
        if parts[-1] and used + n / 2 > size * len(parts) and len(parts) < parts_wanted:
            parts.append([])
        parts[-1].append(paragraph)
        used += n
    return ["\n\n".join(p) for p in parts if p]


def chunk_markdown(text: str, *, source: str, id_prefix: str) -> list[Passage]:
    """Passages of one Markdown document (see the module docstring for the format)."""
    meta, body = parse_front_matter(text, source=source)
    title = meta["title"].strip()
    metadata = {key: meta.get(key) for key in ("vendor", "device", "architecture", "dsl", "operator_family")}
    passages: list[Passage] = []
    for section in _sections(body):
        content = "\n".join(section.lines).strip()
        if not content:
            continue
        heading_path = " > ".join([title, *section.path]) if section.path else f"{title} > Overview"
        parts = split_long(content)
        for number, part in enumerate(parts, start=1):
            numbered = len(parts) > 1
            passages.append(Passage(
                id=f"{id_prefix}/{section.anchor}" + (f"/part-{number}" if numbered else ""),
                kind=EntryKind.DOCUMENT,
                title=heading_path + (f" (part {number} of {len(parts)})" if numbered else ""),
                text=part,
                source=f"{source}#{section.anchor}",
                **metadata,
            ))
    return passages


def _default_source_root() -> Path:
    from kevolve.hardware_specs import DOCUMENTS_DIR

    return DOCUMENTS_DIR.parent.parent  # the repository root in a checkout


def load_documents(folder: Path, *, source_root: Path | None = None) -> list[Passage]:
    """Every `*.md` in `folder` (sorted by name), as passages; a file's stem is its id prefix.

    Sources are paths relative to `source_root` (default: the repository root, when the folder is
    inside it), so a prompt can cite `hardware_specs/documents/hopper.md#memory-hierarchy`.
    """
    folder = Path(folder).resolve()
    root = (source_root or _default_source_root()).resolve()
    passages: list[Passage] = []
    for file in sorted(folder.glob("*.md")):
        if file.name.lower() == "readme.md":
            continue  # a folder's README describes the folder, it is not knowledge
        source = file.relative_to(root).as_posix() if file.is_relative_to(root) else f"{folder.name}/{file.name}"
        passages.extend(chunk_markdown(file.read_text(encoding="utf-8"), source=source, id_prefix=file.stem))
    ids = [p.id for p in passages]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise DocumentError(f"{folder}: passage ids are not unique: {duplicates}")
    return passages
