"""The embedded backend: one LanceDB table in a folder; BM25 and vector rankings fused by LanceDB's RRF."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import lancedb
import pyarrow as pa
from lancedb.index import FTS
from lancedb.rerankers import RRFReranker

from .base import KnowledgeBase, KnowledgeBaseUnavailable
from .embeddings import Embedder
from .models import EntryKind, KnowledgeStats, Passage, SearchFilters, SearchHit

_TABLE = "passages"
_KEYWORDS = "keywords"  # Passage.searchable_text, stored for the BM25 index: LanceDB indexes one column
_VECTOR = "vector"
_MODEL_KEY = b"kevolve.embedding_model"
_PASSAGE_COLUMNS = list(Passage.model_fields)
# Each ranking looks this far before fusing: a passage second in both lists outranks one first in only
# one, and a leg cut at `limit` would never show it.
_CANDIDATES = 50


def _schema(embedder: Embedder) -> pa.Schema:
    fields = [pa.field(name, pa.string(), nullable=not field.is_required())
              for name, field in Passage.model_fields.items()]
    fields += [pa.field(_KEYWORDS, pa.string(), nullable=False),
               pa.field(_VECTOR, pa.list_(pa.float32(), embedder.dimensions), nullable=False)]
    return pa.schema(fields, metadata={_MODEL_KEY: embedder.name.encode()})


def _sql_literal(value: str) -> str:
    # DataFusion's SQL strings escape a quote by doubling it and take backslashes literally.
    return "'" + value.replace("'", "''") + "'"


def _where_clause(filters: SearchFilters) -> str | None:
    """The filters as a SQL predicate, every value quoted as a literal; None when nothing filters."""
    clauses = [f"({name} IN ({', '.join(map(_sql_literal, values))}) OR {name} IS NULL)" if values
               else f"{name} IS NULL" for name, values in filters.field_values().items()]
    if filters.kinds is not None:
        clauses.append(f"kind IN ({', '.join(_sql_literal(kind) for kind in filters.kinds)})")
    return " AND ".join(clauses) or None


class EmbeddedKnowledgeBase(KnowledgeBase):
    """Passages in `data_dir`, searched in-process; for one user's machine, where no server is wanted."""

    def __init__(self, data_dir: Path, embedder: Embedder) -> None:
        self._data_dir = data_dir
        self._embedder = embedder
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            db = lancedb.connect(data_dir)
            self._table = (db.open_table(_TABLE) if _TABLE in db.list_tables().tables
                           else db.create_table(_TABLE, schema=_schema(embedder)))
        except OSError as exc:
            raise KnowledgeBaseUnavailable(f"no knowledge base can be kept in {data_dir}: {exc}") from exc
        stored_model = (self._table.schema.metadata or {}).get(_MODEL_KEY, b"").decode()
        if stored_model != embedder.name:
            raise KnowledgeBaseUnavailable(f"{data_dir} holds vectors from {stored_model!r}, not {embedder.name!r}: "
                                           "vectors of two models cannot be ranked together; use another data_dir")
        if not any(index.columns == [_KEYWORDS] for index in self._table.list_indices()):
            self._table.create_index(_KEYWORDS, config=FTS())

    def add(self, passages: Sequence[Passage]) -> int:
        # The last of a repeated id wins, as it would over separate calls.
        unique = list({passage.id: passage for passage in passages}.values())
        if not unique:
            return 0
        vectors = self._embedder.embed([passage.searchable_text for passage in unique])
        rows = [passage.model_dump(mode="json") | {_KEYWORDS: passage.searchable_text, _VECTOR: vector}
                for passage, vector in zip(unique, vectors, strict=True)]
        (self._table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()
         .execute(pa.Table.from_pylist(rows, schema=self._table.schema)))
        # Folds the new rows into the BM25 index and compacts the small files each write leaves;
        # unindexed rows are still found, but by a scan that grows with every add.
        self._table.optimize()
        return len(unique)

    def search(self, query: str, *, filters: SearchFilters | None = None, limit: int = 5) -> list[SearchHit]:
        filters = filters or SearchFilters()
        if not query.strip() or limit < 1 or filters.kinds == []:
            return []
        builder = (self._table.search(query_type="hybrid", vector_column_name=_VECTOR, fts_columns=_KEYWORDS)
                   .vector(self._embedder.embed([query])[0]).text(query)
                   .distance_type("cosine").rerank(RRFReranker()).limit(max(limit, _CANDIDATES)))
        if (where := _where_clause(filters)) is not None:
            builder = builder.where(where, prefilter=True)
        # Columns are picked from the fused table, not with `select`: Lance logs a deprecation warning on
        # every query whose projection leaves out the legs' `_score` and `_distance`.
        rows = builder.to_arrow().slice(0, limit).select([*_PASSAGE_COLUMNS, "_relevance_score"]).to_pylist()
        return [SearchHit(passage=_passage(row), score=row["_relevance_score"]) for row in rows]

    def delete(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        return self._table.delete(f"id IN ({', '.join(map(_sql_literal, ids))})").num_deleted_rows

    def passages(self) -> Iterator[Passage]:
        for batch in self._table.search().select(_PASSAGE_COLUMNS).limit(None).to_batches():
            yield from map(_passage, batch.to_pylist())

    def stats(self) -> KnowledgeStats:
        counts = {kind: self._table.count_rows(f"kind = {_sql_literal(kind)}") for kind in EntryKind}
        return KnowledgeStats(backend="embedded", location=str(self._data_dir), passages_by_kind=counts,
                              embedding_model=self._embedder.name)

    def close(self) -> None:
        self._embedder.close()


def _passage(row: dict[str, object]) -> Passage:
    return Passage.model_validate({name: row[name] for name in _PASSAGE_COLUMNS})
