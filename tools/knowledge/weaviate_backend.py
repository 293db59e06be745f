"""The shared backend: a Weaviate server, one collection, searched by Weaviate's own hybrid query."""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances
from weaviate.classes.data import DataObject
from weaviate.classes.init import Auth
from weaviate.classes.query import Filter, FilterReturn, HybridFusion, MetadataQuery
from weaviate.collections import Collection
from weaviate.exceptions import WeaviateBaseError
from weaviate.util import generate_uuid5

from .base import KnowledgeBase, KnowledgeBaseUnavailable
from .embeddings import Embedder
from .models import EntryKind, KnowledgeStats, Passage, SearchFilters, SearchHit
from .settings import WeaviateMode, WeaviateSettings

_ID = "passage_id"  # Weaviate reserves `id` for the object's UUID
_RANKED = ("title", "text")  # what BM25 reads, as the embedded backend's keyword column holds
# Keyword and meaning weigh the same, as in the embedded backend's reciprocal rank fusion.
_ALPHA = 0.5


class WeaviateWriteError(RuntimeError):
    """The server refused some of the passages of one `add`."""


def collection_name(prefix: str) -> str:
    return f"{prefix}Passage"


def connect(settings: WeaviateSettings) -> weaviate.WeaviateClient:
    auth = Auth.api_key(settings.api_key.get_secret_value()) if settings.api_key else None
    url = urlsplit(settings.url)
    match settings.mode:
        case WeaviateMode.LOCAL:
            return weaviate.connect_to_local(host=url.hostname or "localhost", port=url.port or 8080,
                                             grpc_port=settings.grpc_port, auth_credentials=auth)
        case WeaviateMode.CUSTOM:
            if url.hostname is None:
                raise ValueError(f"a custom Weaviate connection needs a URL with a host, not {settings.url!r}")
            secure = url.scheme == "https"
            return weaviate.connect_to_custom(
                http_host=url.hostname, http_port=url.port or (443 if secure else 80), http_secure=secure,
                grpc_host=url.hostname, grpc_port=settings.grpc_port, grpc_secure=secure, auth_credentials=auth)
        case WeaviateMode.CLOUD:
            if auth is None:
                raise ValueError("Weaviate Cloud needs an api_key")
            return weaviate.connect_to_weaviate_cloud(cluster_url=settings.url, auth_credentials=auth)


def _schema() -> list[Property]:
    # Ranked text is split into words for BM25; metadata is indexed whole, so a filter is an exact match
    # ("H100" never matches "H100 SXM") and case-sensitive, as in the embedded backend.
    return [Property(name=name, data_type=DataType.TEXT, tokenization=Tokenization.WORD, index_searchable=True)
            if name in _RANKED else
            Property(name=_ID if name == "id" else name, data_type=DataType.TEXT, tokenization=Tokenization.FIELD,
                     index_searchable=False, index_filterable=True)
            for name in Passage.model_fields]


def _field_clause(name: str, values: list[str]) -> FilterReturn:
    # An empty field is stored as no value (see _properties): is_none finds it, which needs the collection's
    # null state indexed (made so in _open_collection).
    by_name = Filter.by_property(name)
    return functools.reduce(operator.or_, [by_name.equal(value) for value in values], by_name.is_none(True))


def _where(filters: SearchFilters) -> FilterReturn | None:
    clauses = [_field_clause(name, values) for name, values in filters.field_values().items()]
    if filters.kinds is not None:
        clauses.append(Filter.by_property("kind").contains_any([kind.value for kind in filters.kinds]))
    return functools.reduce(operator.and_, clauses) if clauses else None


def _uuid(passage_id: str) -> str:
    # Deterministic, so re-adding a passage writes over its object instead of adding a twin.
    return generate_uuid5(passage_id)


def _passage(properties: dict[str, Any]) -> Passage:
    fields = {name: value for name, value in properties.items() if name != _ID}
    return Passage.model_validate(fields | {"id": properties[_ID]})


class WeaviateKnowledgeBase(KnowledgeBase):
    """Passages on a Weaviate server, shared by a team; vectors are computed here, never by the server.

    All kinds share one collection, with `kind` as a filtered property: Weaviate fuses keyword and
    vector ranks within one collection's query only, and the contract wants one ranking across kinds.
    """

    def __init__(self, settings: WeaviateSettings, embedder: Embedder) -> None:
        self._settings = settings
        self._embedder = embedder
        try:
            self._client = connect(settings)
        except WeaviateBaseError as exc:
            raise KnowledgeBaseUnavailable(f"no Weaviate knowledge base at {settings.url}: {exc}") from exc
        try:
            self._collection = self._open_collection()
        except BaseException:
            self._client.close()
            raise

    def _open_collection(self) -> Collection:
        name = collection_name(self._settings.collection_prefix)
        # The model's name is kept in the description: vectors of two models cannot be ranked together.
        description = f"kevolve knowledge passages embedded by {self._embedder.name}"
        if not self._client.collections.exists(name):
            return self._client.collections.create(
                name, description=description, properties=_schema(),
                inverted_index_config=Configure.inverted_index(index_null_state=True),
                vector_config=Configure.Vectors.self_provided(
                    vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE)))
        collection = self._client.collections.get(name)
        if (stored := collection.config.get().description) != description:
            raise KnowledgeBaseUnavailable(f"collection {name} was made as {stored!r}, not {description!r}: "
                                           "use another collection_prefix for this embedding model")
        return collection

    def add(self, passages: Sequence[Passage]) -> int:
        # The last of a repeated id wins, as it would over separate calls.
        unique = list({passage.id: passage for passage in passages}.values())
        if not unique:
            return 0
        vectors = self._embedder.embed([passage.searchable_text for passage in unique])
        objects = [DataObject(properties=_properties(passage), uuid=_uuid(passage.id), vector=vector)
                   for passage, vector in zip(unique, vectors, strict=True)]
        # A batch write of an existing UUID replaces that object: this is the upsert.
        result = self._collection.data.insert_many(objects)
        if result.has_errors:
            first = next(iter(result.errors.values()))
            raise WeaviateWriteError(f"{len(result.errors)} of {len(objects)} passages were refused; "
                                     f"the first: {first.message}")
        return len(objects)

    def search(self, query: str, *, filters: SearchFilters | None = None, limit: int = 5) -> list[SearchHit]:
        filters = filters or SearchFilters()
        if not query.strip() or limit < 1 or filters.kinds == []:
            return []
        # Ranked fusion is Weaviate's reciprocal rank fusion: each leg adds its weight over (60 + rank),
        # the embedded backend's formula halved at alpha 0.5, so both backends order hits alike.
        response = self._collection.query.hybrid(
            query, vector=self._embedder.embed([query])[0], alpha=_ALPHA, query_properties=list(_RANKED),
            fusion_type=HybridFusion.RANKED, filters=_where(filters), limit=limit,
            return_metadata=MetadataQuery(score=True))
        return [SearchHit(passage=_passage(obj.properties), score=obj.metadata.score or 0.0)
                for obj in response.objects]

    def delete(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        where = Filter.by_id().contains_any([_uuid(passage_id) for passage_id in ids])
        return self._collection.data.delete_many(where=where).successful

    def passages(self) -> Iterator[Passage]:
        for obj in self._collection.iterator():
            yield _passage(obj.properties)

    def stats(self) -> KnowledgeStats:
        counts = {kind: self._collection.aggregate.over_all(
                      filters=Filter.by_property("kind").equal(kind.value), total_count=True).total_count or 0
                  for kind in EntryKind}
        return KnowledgeStats(backend="weaviate", location=self._settings.url, passages_by_kind=counts,
                              embedding_model=self._embedder.name)

    def drop(self) -> None:
        """Deletes this base's collection and every passage in it; the base may not be used afterwards."""
        self._client.collections.delete(self._collection.name)

    def close(self) -> None:
        self._client.close()
        self._embedder.close()


def _properties(passage: Passage) -> dict[str, Any]:
    # Missing rather than null: Weaviate stores no value for an absent property, and filters skip it.
    fields = {name: value for name, value in passage.model_dump(mode="json").items() if value is not None}
    fields[_ID] = fields.pop("id")
    return fields
