"""What the knowledge base stores and returns; the contract every backend keeps."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class EntryKind(StrEnum):
    DOCUMENT = "document"  # hardware documents and guides, written by people
    LEARNED_WIN = "learned_win"  # a verified improvement found by a search
    LEARNED_FAILURE = "learned_failure"  # a strategy that failed, and how


class Passage(BaseModel):
    """One retrievable chunk with the metadata filters act on and the source a prompt cites."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="stable: re-adding a passage with the same id replaces it")
    kind: EntryKind
    title: str = Field(description="the heading path, e.g. 'Hopper > Memory hierarchy'")
    text: str
    source: str = Field(description="where it comes from: a document path with anchor, or a run's kernel")
    vendor: str | None = None
    device: str | None = None
    architecture: str | None = None
    dsl: str | None = Field(default=None, description="triton, cuda, or None where it applies to any")
    operator_family: str | None = None

    @property
    def searchable_text(self) -> str:
        """What both rankings read, keyword and vector alike: the heading path matters as much as the body."""
        return f"{self.title}\n{self.text}"


class SearchFilters(BaseModel):
    """Metadata filters. A field matches a passage holding exactly one of its values (case matters), or a
    passage that leaves that field empty: a document that names no device applies to every device. A None
    field does not filter. `kinds` matches any of the listed kinds, and every passage has a kind."""

    model_config = ConfigDict(frozen=True)

    vendor: list[str] | None = None
    device: list[str] | None = None
    architecture: list[str] | None = None
    dsl: list[str] | None = None
    operator_family: list[str] | None = None
    kinds: list[EntryKind] | None = None

    @field_validator("vendor", "device", "architecture", "dsl", "operator_family", mode="before")
    @classmethod
    def _one_value_is_a_list_of_one(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def field_values(self) -> dict[str, list[str]]:
        """The set metadata fields by name (every field but `kinds`), as each backend's query wants them."""
        return {name: value for name, value in self if name != "kinds" and value is not None}


class SearchHit(BaseModel):
    model_config = ConfigDict(frozen=True)

    passage: Passage
    score: float = Field(description="fused rank score, larger is better; comparable within one result list")


class KnowledgeStats(BaseModel):
    model_config = ConfigDict(frozen=True)

    backend: str
    location: str
    passages_by_kind: dict[EntryKind, int]
    embedding_model: str
