"""The interface both backends implement; `tests/knowledge/` holds the contract they are tested by."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from types import TracebackType

from .models import KnowledgeStats, Passage, SearchFilters, SearchHit


class KnowledgeBaseUnavailable(RuntimeError):
    """The base cannot be opened (no server at the URL, bad credentials, unreadable folder)."""


class KnowledgeBase(ABC):
    """Hybrid search over passages: BM25 keyword ranking and vector similarity, fused by rank.

    Semantics every backend keeps: `add` upserts by passage id; `search` returns at most `limit`
    hits, best first, each passage whole with its source; filters are exact matches combined with
    AND; an empty base or no match gives an empty list, never an error.
    """

    @abstractmethod
    def add(self, passages: Sequence[Passage]) -> int:
        """Adds or replaces passages (by id); returns how many were written."""

    @abstractmethod
    def search(self, query: str, *, filters: SearchFilters | None = None, limit: int = 5) -> list[SearchHit]:
        """The passages that best match `query`, keyword and meaning together."""

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> int:
        """Removes passages by id; returns how many existed."""

    @abstractmethod
    def passages(self) -> Iterator[Passage]:
        """Every stored passage (for export and stats), in no particular order."""

    @abstractmethod
    def stats(self) -> KnowledgeStats: ...

    def close(self) -> None:  # noqa: B027  (backends without connections need nothing here)
        """Releases connections; the base may not be used afterwards."""

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
