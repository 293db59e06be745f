"""The contract every knowledge-base backend keeps (base.py), run against each backend alike."""

import math
import re

from kevolve.tools.knowledge.models import EntryKind, Passage, SearchFilters

DOC, WIN, FAILURE = EntryKind.DOCUMENT, EntryKind.LEARNED_WIN, EntryKind.LEARNED_FAILURE

CORPUS = [
    Passage(id="hopper-tma", kind=DOC, title="Hopper > Tensor Memory Accelerator",
            text="The TMA unit copies whole tiles between global and shared memory without the threads' help; "
                 "a tensor map describes the tile's shape and strides.",
            source="docs/hopper.md#tma", vendor="nvidia", device="H100", architecture="hopper", dsl="cuda"),
    Passage(id="smem-banks", kind=DOC, title="Memory hierarchy > Shared memory banks",
            text="Shared memory is divided into 32 banks. When threads of a warp address different words in one "
                 "bank, the accesses are serialised and the warp waits.",
            source="docs/nvidia-memory.md#banks", vendor="nvidia", architecture="ampere"),
    Passage(id="cdna3-lds", kind=DOC, title="CDNA3 > Local data share",
            text="Each compute unit has 64 KiB of LDS, read through 32 banks. The assembler rejects kernels that "
                 "ask for more; build with -mllvm zq-lds-limit=R6025 to see the request.",
            source="docs/cdna3.md#lds", vendor="amd", device="MI300X", architecture="cdna3"),
    Passage(id="runtime-codes", kind=DOC, title="Runtime > Error codes",
            text="Codes R6024, R6026, R6027 and R6028 report launches that ran out of registers.",
            source="docs/runtime.md#codes", vendor="amd", device="MI300X", architecture="cdna3"),
    Passage(id="online-softmax", kind=WIN, title="Softmax > Online normalisation",
            text="Fusing the running max and the running sum into a single pass over each row, rescaling as the "
                 "max grows, cut softmax time by 38% on rows of 4096 elements.",
            source="runs/softmax-h100/node-17", vendor="nvidia", device="H100", architecture="hopper",
            dsl="triton", operator_family="softmax"),
    Passage(id="grouped-order", kind=WIN, title="GEMM > Grouped program order",
            text="Walking the output tiles in grouped order so neighbouring programs reuse the same L2 lines "
                 "raised the 8192-cube matmul from 610 to 702 TFLOP/s.",
            source="runs/gemm-h100/node-9", vendor="nvidia", device="H100", architecture="hopper",
            dsl="triton", operator_family="gemm"),
    Passage(id="split-k", kind=FAILURE, title="GEMM > Split-K on skinny shapes",
            text="Splitting K across four programs made the kernel slower: the fp32 atomic adds into the output "
                 "serialised on the same addresses.",
            source="runs/gemm-a100/node-4", vendor="nvidia", device="A100", architecture="ampere",
            dsl="triton", operator_family="gemm"),
    Passage(id="cuda-graph-capture", kind=FAILURE, title="Launch overhead > Graph capture",
            text="Capturing the three launches in a CUDA graph changed nothing measurable: the kernels ran for "
                 "milliseconds, so launch latency was never the bottleneck.",
            source="runs/layernorm-h100/node-3", vendor="nvidia", device="H100", architecture="hopper",
            dsl="cuda", operator_family="layernorm"),
]
BY_ID = {passage.id: passage for passage in CORPUS}
EVERYTHING = "gpu kernel performance"  # a query every passage is somewhat near


def _ids(hits) -> list[str]:
    return [hit.passage.id for hit in hits]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def test_an_empty_base_finds_nothing_and_counts_zero(knowledge_base):
    assert knowledge_base.search("shared memory banks") == []
    assert list(knowledge_base.passages()) == []
    assert set(knowledge_base.stats().passages_by_kind.values()) == {0}


def test_add_returns_how_many_were_written(knowledge_base):
    assert knowledge_base.add(CORPUS) == len(CORPUS)
    assert knowledge_base.add([]) == 0


def test_passages_round_trip_whole(knowledge_base):
    knowledge_base.add(CORPUS)
    assert sorted(knowledge_base.passages(), key=lambda p: p.id) == sorted(CORPUS, key=lambda p: p.id)


def test_stats_count_by_kind(knowledge_base, embedder):
    knowledge_base.add(CORPUS)
    stats = knowledge_base.stats()
    assert stats.passages_by_kind == {DOC: 4, WIN: 2, FAILURE: 2}
    assert stats.embedding_model == embedder.name


def test_search_returns_whole_passages_with_their_source_best_first(knowledge_base):
    knowledge_base.add(CORPUS)
    hits = knowledge_base.search("online softmax running max and sum in one pass")
    assert hits[0].passage == BY_ID["online-softmax"]
    assert hits[0].passage.source == "runs/softmax-h100/node-17"
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(math.isfinite(score) for score in scores)


def test_a_rare_identifier_is_found_by_keyword_where_meaning_alone_would_miss_it(knowledge_base, embedder):
    knowledge_base.add(CORPUS)
    query = "R6025"
    # The premise: by meaning alone the look-alike codes of another passage are nearer than the one that has it.
    query_vector, target, decoy = embedder.embed([query, BY_ID["cdna3-lds"].searchable_text,
                                                  BY_ID["runtime-codes"].searchable_text])
    assert _dot(query_vector, decoy) > _dot(query_vector, target)
    assert _ids(knowledge_base.search(query))[0] == "cdna3-lds"


def test_a_paraphrase_sharing_no_word_is_found_by_meaning(knowledge_base):
    knowledge_base.add(CORPUS)
    query = "simultaneous lanes colliding at identical scratchpad partitions queue up"
    assert not _words(query) & set().union(*(_words(p.searchable_text) for p in CORPUS))
    assert _ids(knowledge_base.search(query))[0] == "smem-banks"


def test_upsert_by_id_replaces_the_passage(knowledge_base):
    knowledge_base.add(CORPUS)
    rewritten = BY_ID["split-k"].model_copy(update={"text": "Split-K with a semaphore-ordered reduction was "
                                                    "still slower than one program per tile."})
    assert knowledge_base.add([rewritten]) == 1
    stored = [p for p in knowledge_base.passages() if p.id == "split-k"]
    assert stored == [rewritten]
    assert knowledge_base.search("semaphore-ordered reduction", limit=1)[0].passage == rewritten
    assert knowledge_base.stats().passages_by_kind[FAILURE] == 2


def test_upsert_may_change_the_kind(knowledge_base):
    knowledge_base.add(CORPUS)
    knowledge_base.add([BY_ID["split-k"].model_copy(update={"kind": DOC})])
    assert knowledge_base.stats().passages_by_kind == {DOC: 5, WIN: 2, FAILURE: 1}
    assert [p.kind for p in knowledge_base.passages() if p.id == "split-k"] == [DOC]


def test_the_last_of_a_repeated_id_in_one_add_wins(knowledge_base):
    first = BY_ID["hopper-tma"]
    second = first.model_copy(update={"title": "Hopper > TMA, revised"})
    assert knowledge_base.add([first, second]) == 1
    assert list(knowledge_base.passages()) == [second]


def test_each_filter_field_is_an_exact_match_or_left_empty(knowledge_base):
    knowledge_base.add(CORPUS)
    no_dsl = {"smem-banks", "cdna3-lds", "runtime-codes"}  # documents that apply to any language
    cases = [
        (SearchFilters(vendor="amd"), {"cdna3-lds", "runtime-codes"}),
        (SearchFilters(device="H100"),
         {"hopper-tma", "online-softmax", "grouped-order", "cuda-graph-capture", "smem-banks"}),
        (SearchFilters(device=["H100", "A100"]),
         {"hopper-tma", "online-softmax", "grouped-order", "cuda-graph-capture", "smem-banks", "split-k"}),
        (SearchFilters(architecture="ampere"), {"smem-banks", "split-k"}),
        (SearchFilters(dsl="cuda"), {"hopper-tma", "cuda-graph-capture", *no_dsl}),
        (SearchFilters(operator_family="gemm"), {"grouped-order", "split-k", "hopper-tma", *no_dsl}),
        (SearchFilters(kinds=[WIN, FAILURE]), {"online-softmax", "grouped-order", "split-k", "cuda-graph-capture"}),
        (SearchFilters(kinds=[FAILURE]), {"split-k", "cuda-graph-capture"}),
        (SearchFilters(device="h100"), {"smem-banks"}),  # exact: case matters
        (SearchFilters(device="H10"), {"smem-banks"}),  # exact: no prefixes
    ]
    for filters, expected in cases:
        assert set(_ids(knowledge_base.search(EVERYTHING, filters=filters, limit=20))) == expected, filters


def test_filters_combine_with_and(knowledge_base):
    knowledge_base.add(CORPUS)
    filters = SearchFilters(vendor="nvidia", dsl="triton", operator_family="gemm", kinds=[FAILURE])
    assert _ids(knowledge_base.search(EVERYTHING, filters=filters, limit=20)) == ["split-k"]
    disjoint = SearchFilters(vendor="amd", architecture="hopper")
    assert knowledge_base.search(EVERYTHING, filters=disjoint) == []


def test_filter_values_are_data_not_query_syntax(knowledge_base):
    odd = BY_ID["smem-banks"].model_copy(update={"id": "odd", "device": "it's \\ an ' OR 1=1 --"})
    knowledge_base.add([*CORPUS, odd])
    by_odd = knowledge_base.search(EVERYTHING, filters=SearchFilters(device=odd.device), limit=20)
    assert set(_ids(by_odd)) == {"odd", "smem-banks"}  # smem-banks names no device
    assert _ids(knowledge_base.search(EVERYTHING, filters=SearchFilters(device="it's"), limit=20)) == ["smem-banks"]


def test_no_kinds_listed_matches_nothing(knowledge_base):
    knowledge_base.add(CORPUS)
    assert knowledge_base.search(EVERYTHING, filters=SearchFilters(kinds=[])) == []


def test_limit_is_respected(knowledge_base):
    knowledge_base.add(CORPUS)
    assert len(knowledge_base.search(EVERYTHING)) == 5  # the default
    assert len(knowledge_base.search(EVERYTHING, limit=2)) == 2
    assert len(knowledge_base.search(EVERYTHING, limit=100)) == len(CORPUS)


def test_a_blank_query_finds_nothing(knowledge_base):
    knowledge_base.add(CORPUS)
    assert knowledge_base.search("   ") == []


def test_delete_removes_by_id_and_counts_what_existed(knowledge_base):
    knowledge_base.add(CORPUS)
    assert knowledge_base.delete(["split-k", "never-added"]) == 1
    assert knowledge_base.delete([]) == 0
    assert "split-k" not in {p.id for p in knowledge_base.passages()}
    assert "split-k" not in _ids(knowledge_base.search("Split-K on skinny shapes", limit=20))
    assert knowledge_base.stats().passages_by_kind[FAILURE] == 1


def test_a_reopened_base_finds_the_same_passages(open_base):
    with open_base() as first:
        first.add(CORPUS)
        before = _ids(first.search("TMA tensor map tiles"))
    with open_base() as again:
        assert _ids(again.search("TMA tensor map tiles")) == before
        assert before[0] == "hopper-tma"
        assert len(list(again.passages())) == len(CORPUS)


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))
