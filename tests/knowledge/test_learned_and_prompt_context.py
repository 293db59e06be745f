"""Learned entries become passages a later search can find; prompts cite what they carry."""

from kevolve.tools.knowledge.learned import LearnedEntry, OperatorSignature
from kevolve.tools.knowledge.models import EntryKind, Passage, SearchFilters, SearchHit
from kevolve.tools.knowledge.prompt_context import format_for_prompt


def _entry(**overrides) -> LearnedEntry:
    values = dict(
        problem="softmax_rows",
        signature=OperatorSignature(families=["softmax"], shapes="[4096, 50257]", dtype="float32"),
        device="h100_sxm", vendor="nvidia", architecture="hopper", dsl="triton",
        strategy="one program per row, whole row in registers, single pass",
        succeeded=True, speedup=1.13,
        diagnosis_before="memory-bound at 77% of speed of light, two passes over the row",
        diagnosis_after="memory-bound at 87%, DRAM 90%",
        kernel_pointer="runs/2026-11-26/softmax_rows/node-7.py",
    )
    values.update(overrides)
    return LearnedEntry(**values)


def test_a_win_becomes_a_searchable_passage_with_its_metadata():
    passage = _entry().to_passage()
    assert passage.kind is EntryKind.LEARNED_WIN
    assert passage.operator_family == "softmax" and passage.device == "h100_sxm" and passage.dsl == "triton"
    assert "1.13x" in passage.text and "77% of speed of light" in passage.text
    assert passage.source == "runs/2026-11-26/softmax_rows/node-7.py"
    assert passage.id == _entry().to_passage().id, "the same outcome maps to the same id (upsert, not duplicate)"


def test_a_failure_keeps_its_category_and_a_distinct_id():
    failure = _entry(succeeded=False, speedup=None, failure_category="output_mismatch").to_passage()
    assert failure.kind is EntryKind.LEARNED_FAILURE
    assert "failed (output_mismatch)" in failure.text
    assert failure.id != _entry().to_passage().id


def _hit(index: int, words: int) -> SearchHit:
    passage = Passage(id=f"p{index}", kind=EntryKind.DOCUMENT, title=f"Doc {index}", text=" ".join(["word"] * words),
                      source=f"hardware_specs/documents/doc.md#s{index}")
    return SearchHit(passage=passage, score=1.0 / (index + 1))


def test_prompt_context_numbers_passages_with_their_sources_and_keeps_them_whole():
    text = format_for_prompt([_hit(0, 100), _hit(1, 450), _hit(2, 100)], max_words=300)
    assert text.startswith("Knowledge base (cite as [n]):")
    assert "[1] Doc 0 (source: hardware_specs/documents/doc.md#s0)" in text
    assert "[2] Doc 2 (source: hardware_specs/documents/doc.md#s2)" in text
    assert "Doc 1" not in text, "a passage over the budget is left out, not cut"
    assert "(1 more passages left out for length)" in text


def test_prompt_context_says_when_nothing_was_found():
    assert format_for_prompt([]) == "Knowledge base: nothing relevant found."


def test_a_later_search_for_a_similar_operator_finds_the_past_win(knowledge_base):
    win = _entry().to_passage()
    failure = _entry(problem="layernorm_affine", succeeded=False, speedup=None, failure_category="output_mismatch",
                     signature=OperatorSignature(families=["norm"], shapes="[8192, 8192]", dtype="float32"),
                     strategy="Welford over two passes with atomics",
                     diagnosis_before="memory-bound, two passes").to_passage()
    knowledge_base.add([win, failure])
    query = "log-softmax over long rows, memory-bound with two passes over each row on the H100"
    hits = knowledge_base.search(query, limit=1)
    assert hits[0].passage.id == win.id
    prompt = format_for_prompt(hits)
    assert f"(source: {win.source})" in prompt and "1.13x" in prompt
    failures = knowledge_base.search("normalization strategy that failed", limit=2,
                                     filters=SearchFilters(kinds=[EntryKind.LEARNED_FAILURE]))
    assert [h.passage.id for h in failures] == [failure.id]
