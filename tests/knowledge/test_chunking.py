"""Markdown documents into passages: front matter, heading paths, stable ids, long sections; the shipped corpus."""

import importlib.util
from pathlib import Path

import pytest
import yaml

from kevolve.hardware_specs import DOCUMENTS_DIR, all_specs
from kevolve.tools.knowledge.chunking import (
    DSLS,
    MAX_WORDS,
    VENDORS,
    DocumentError,
    chunk_markdown,
    load_documents,
    slugify,
)
from kevolve.tools.knowledge.models import EntryKind

REPO = Path(__file__).resolve().parents[2]
ARCHITECTURES = {spec.architecture for spec in all_specs()}

DOC = """---
title: Hopper (H100)
vendor: nvidia
architecture: hopper
dsl: triton
---

# Hopper (H100)

Intro words before any section.

## Memory hierarchy

### Shared memory

Up to 228 KB per SM.

```python
# a comment, not a heading
## nor this
x = 1
```

### Registers

65,536 per SM.

#### A deeper heading

stays inside the Registers passage.

## Tensor cores

wgmma for warpgroups.
"""


def _passages(text: str = DOC):
    return chunk_markdown(text, source="hardware_specs/documents/hopper.md", id_prefix="hopper")


def test_front_matter_becomes_metadata():
    passages = _passages()
    assert passages
    for p in passages:
        assert (p.vendor, p.architecture, p.dsl, p.device, p.operator_family) == ("nvidia", "hopper", "triton", None,
                                                                                 None)
        assert p.kind is EntryKind.DOCUMENT


def test_heading_paths_titles_and_sources():
    by_title = {p.title: p for p in _passages()}
    assert list(by_title) == [
        "Hopper (H100) > Overview",
        "Hopper (H100) > Memory hierarchy > Shared memory",
        "Hopper (H100) > Memory hierarchy > Registers",
        "Hopper (H100) > Tensor cores",
    ]  # "Memory hierarchy" itself has no text of its own, so it gives no passage
    shared = by_title["Hopper (H100) > Memory hierarchy > Shared memory"]
    assert shared.id == "hopper/shared-memory"
    assert shared.source == "hardware_specs/documents/hopper.md#shared-memory"
    # a fenced code block stays whole, `#` lines inside it are code, not headings
    assert "# a comment, not a heading" in shared.text and "## nor this" in shared.text
    registers = by_title["Hopper (H100) > Memory hierarchy > Registers"]
    assert "#### A deeper heading" in registers.text and "stays inside" in registers.text
    assert by_title["Hopper (H100) > Overview"].text == "Intro words before any section."


def test_ids_are_stable_and_unique():
    first = [p.id for p in _passages()]
    assert first == [p.id for p in _passages()]
    assert len(set(first)) == len(first)
    # adding a section elsewhere leaves the other ids alone
    grown = DOC.replace("## Tensor cores", "## Clusters\n\nUp to 8 blocks.\n\n## Tensor cores")
    assert set(first) <= {p.id for p in _passages(grown)}
    # a repeated heading gets GitHub's numbered anchor
    twice = DOC + "\n## Tensor cores\n\nagain.\n"
    ids = [p.id for p in _passages(twice)]
    assert "hopper/tensor-cores" in ids and "hopper/tensor-cores-1" in ids


def test_slugs_follow_github_anchors():
    assert slugify("tl.dot: shapes and `dtype`s") == "tldot-shapes-and-dtypes"
    assert slugify("num_warps and num_stages") == "num_warps-and-num_stages"


def test_a_long_section_is_split_at_paragraphs_into_numbered_parts():
    paragraphs = [f"Paragraph {i} " + " ".join(f"w{i}_{j}" for j in range(60)) for i in range(10)]
    doc = "---\ntitle: Long\n---\n\n## Big section\n\n" + "\n\n".join(paragraphs) + "\n\n## Small\n\nshort text.\n"
    passages = chunk_markdown(doc, source="long.md", id_prefix="long")
    parts = [p for p in passages if p.id.startswith("long/big-section")]
    assert len(parts) >= 2
    numbers = range(1, len(parts) + 1)
    assert [p.id for p in parts] == [f"long/big-section/part-{n}" for n in numbers]
    assert [p.title for p in parts] == [f"Long > Big section (part {n} of {len(parts)})" for n in numbers]
    assert all(p.source == "long.md#big-section" for p in parts)
    assert all(len(p.text.split()) <= MAX_WORDS for p in parts)
    # whole paragraphs, in order, nothing lost
    assert "\n\n".join(p.text for p in parts) == "\n\n".join(paragraphs)
    assert [p.id for p in passages if not p.id.startswith("long/big-section")] == ["long/small"]


@pytest.mark.parametrize("front_matter, message", [
    ("", "no YAML front matter"),
    ("---\nvendor: nvidia\n---\n", "title"),
    ("---\ntitle: X\nvendor: intel\n---\n", "vendor: intel"),
    ("---\ntitle: X\narchitecture: volta\n---\n", "architecture: volta"),
    ("---\ntitle: X\ndsl: cutlass\n---\n", "dsl: cutlass"),
    ("---\ntitle: X\ndevice: h100\n---\n", "device: h100"),
    ("---\ntitle: X\ntags: [a]\n---\n", "unknown front matter keys"),
    ("---\ntitle: [unclosed\n---\n", "not valid YAML"),
])
def test_bad_front_matter_is_refused(front_matter, message):
    with pytest.raises(DocumentError, match=message):
        chunk_markdown(front_matter + "## Section\n\ntext\n", source="bad.md", id_prefix="bad")


def test_load_documents_reads_every_markdown_file(tmp_path):
    (tmp_path / "b.md").write_text("---\ntitle: B\n---\n## One\n\nb text\n")
    (tmp_path / "a.md").write_text("---\ntitle: A\nvendor: amd\narchitecture: cdna3\n---\n## One\n\na text\n")
    (tmp_path / "README.md").write_text("# about this folder\n")
    (tmp_path / "notes.txt").write_text("ignored")
    passages = load_documents(tmp_path)
    assert [p.id for p in passages] == ["a/one", "b/one"]
    assert passages[0].architecture == "cdna3" and passages[1].architecture is None
    assert passages[0].source == f"{tmp_path.name}/a.md#one"


# --- the shipped documents ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return load_documents(DOCUMENTS_DIR)


def test_shipped_documents_give_enough_passages_with_valid_metadata(shipped):
    assert len(shipped) >= 40
    assert len({p.id for p in shipped}) == len(shipped)
    for p in shipped:
        assert p.vendor in VENDORS | {None}, p.id
        assert p.architecture in ARCHITECTURES | {None}, p.id
        assert p.dsl in DSLS | {None}, p.id
        assert p.source.startswith("hardware_specs/documents/") and "#" in p.source, p.id
        words = len(p.text.split())
        assert 50 <= words <= MAX_WORDS, f"{p.id}: {words} words"
    for architecture in ("hopper", "ampere", "ada", "cdna3"):
        assert sum(p.architecture == architecture for p in shipped) >= 4, architecture
    vendors_of = {p.architecture: p.vendor for p in shipped if p.architecture}
    assert vendors_of["cdna3"] == "amd" and vendors_of["hopper"] == "nvidia"


def test_every_front_matter_parses_with_known_keys():
    for file in sorted(DOCUMENTS_DIR.glob("*.md")):
        head = file.read_text().split("---")[1]
        meta = yaml.safe_load(head)
        assert set(meta) <= {"title", "vendor", "architecture", "device", "dsl", "operator_family"}, file.name


def test_the_retrieval_evaluation_set_names_existing_passages(shipped):
    path = REPO / "benchmarks" / "retrieval" / "evaluate.py"
    spec = importlib.util.spec_from_file_location("kevolve_retrieval_evaluate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    queries = module.load_queries(REPO / "benchmarks" / "retrieval" / "queries.yaml")
    assert len(queries) >= 30
    assert module.check_queries(queries, shipped) == []
