"""`kevolve kb`: ingest the shipped documents, search them, move learned entries between bases."""

import json
import subprocess
import sys

from kevolve.main import main
from kevolve.tools.knowledge.learned import LearnedEntry, OperatorSignature


def kb(data_dir, *args):
    return subprocess.run(
        [sys.executable, "-m", "kevolve", "kb", "--backend", "embedded", "--data-dir", str(data_dir), *map(str, args)],
        capture_output=True, text=True, timeout=600,
    )


def test_ingest_search_stats_export_import(tmp_path, capsys):
    base = tmp_path / "base"
    ingest = kb(base, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    assert "added" in ingest.stdout

    found = kb(base, "search", "tl.dot runs fp32 inputs in TF32 by default", "--json", "--limit", "3")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert 0 < len(hits) <= 3
    assert all(hit["passage"]["source"].startswith("hardware_specs/documents") or hit["passage"]["source"]
               for hit in hits)

    hopper = json.loads(kb(base, "search", "memory hierarchy", "--architecture", "hopper", "--json").stdout)
    assert any(hit["passage"]["architecture"] == "hopper" for hit in hopper)
    assert all(hit["passage"]["architecture"] in ("hopper", None) for hit in hopper)  # None: any architecture

    stats = kb(base, "stats")
    assert "document" in stats.stdout and "embedded" in stats.stdout

    signature = OperatorSignature(families=["softmax"], shapes="[4096, 50257]", dtype="float32")
    learned = LearnedEntry(
        problem="softmax_rows", signature=signature,
        device="h100_sxm", vendor="nvidia", architecture="hopper", dsl="triton", strategy="single pass per row",
        succeeded=True, speedup=1.1, diagnosis_before="two passes over each row",
    ).to_passage()
    exported = tmp_path / "learned.jsonl"
    exported.write_text(learned.model_dump_json() + "\n")
    other = tmp_path / "other"
    assert kb(other, "import", exported).returncode == 0
    back = tmp_path / "back.jsonl"
    assert kb(other, "export", back).returncode == 0
    assert [json.loads(line)["id"] for line in back.read_text().splitlines()] == [learned.id]
    win = json.loads(kb(other, "search", "softmax row single pass", "--kind", "learned_win", "--json").stdout)
    assert win[0]["passage"]["id"] == learned.id
    # The same command in this process (the embedding model loads once, not per subprocess): a device named as
    # --device is named elsewhere finds the entry, another device does not.
    for device, expected in (("h100", [learned.id]), ("h100_sxm", [learned.id]),
                             ("NVIDIA H100 80GB HBM3", [learned.id]), ("a100", [])):
        code = main(["kb", "--backend", "embedded", "--data-dir", str(other), "search", "softmax row single pass",
                     "--device", device, "--json"])
        assert code == 0
        assert [hit["passage"]["id"] for hit in json.loads(capsys.readouterr().out)] == expected, device


def test_a_bad_import_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    run = kb(tmp_path / "base", "import", bad)
    assert run.returncode == 2
    assert "not a kevolve knowledge-base export" in run.stderr
    assert "Traceback" not in run.stderr


def test_search_prints_a_shared_bases_text_as_data(tmp_path):
    """Passages in a shared base are written by others: Rich markup stays literal and terminal escapes are marked."""
    signature = OperatorSignature(families=["softmax"], shapes="[8, 8]", dtype="float32")
    hostile = LearnedEntry(
        problem="[link=https://example.invalid]softmax[/link]", signature=signature,
        device="h100_sxm", vendor="nvidia", architecture="hopper", dsl="triton",
        strategy="single pass \x1b[2J[bold red]per row[/]", succeeded=True, speedup=1.1,
        diagnosis_before="two passes",
    ).to_passage()
    exported = tmp_path / "hostile.jsonl"
    exported.write_text(hostile.model_dump_json() + "\n")
    base = tmp_path / "base"
    assert kb(base, "import", exported).returncode == 0
    found = kb(base, "search", "softmax single pass per row")
    assert found.returncode == 0, found.stderr
    assert "[link=https://example.invalid]" in found.stdout
    assert "\x1b" not in found.stdout and "<U+001B>" in found.stdout
