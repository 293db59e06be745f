"""Where the knowledge base lives and how it embeds: one typed object, built once by the command line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class Backend(StrEnum):
    EMBEDDED = "embedded"  # LanceDB files in data_dir: one user, no server
    WEAVIATE = "weaviate"  # a Weaviate server a team shares


class WeaviateMode(StrEnum):
    LOCAL = "local"  # a server on this host, e.g. from Docker, at the standard ports
    CUSTOM = "custom"  # any host and ports, http or https
    CLOUD = "cloud"  # Weaviate Cloud: the cluster URL and an API key


class EmbeddingProvider(StrEnum):
    LOCAL = "local"  # all-MiniLM-L6-v2 shipped inside a PyPI package, on the CPU
    OPENAI = "openai"  # any server that answers OpenAI's /v1/embeddings


def default_data_dir(data_home: Path | None = None) -> Path:
    """The XDG data folder's `kevolve/knowledge` (`~/.local/share/kevolve/knowledge` when unset)."""
    return (data_home or Path.home() / ".local" / "share") / "kevolve" / "knowledge"


class WeaviateSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    mode: WeaviateMode = WeaviateMode.LOCAL
    url: str = Field(default="http://localhost:8080", description="REST endpoint; the cluster URL in cloud mode")
    grpc_port: int = Field(default=50051, description="the gRPC port on the same host (not used in cloud mode)")
    api_key: SecretStr | None = None
    collection_prefix: str = Field(default="Kevolve", pattern=r"^[A-Z][A-Za-z0-9_]*$",
                                   description="names the collection {prefix}Passage; Weaviate wants a capital first")


class EmbeddingSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: EmbeddingProvider = EmbeddingProvider.LOCAL
    model: str | None = Field(default=None, description="the server's model name; the local provider has one")
    base_url: str | None = Field(default=None, description="as the OpenAI client takes it, e.g. http://host:8000/v1")
    api_key: SecretStr | None = None

    @model_validator(mode="after")
    def _openai_needs_an_endpoint(self) -> Self:
        if self.provider is EmbeddingProvider.OPENAI and (self.base_url is None or self.model is None):
            raise ValueError("OpenAI-compatible embeddings need both base_url and model")
        return self


class KnowledgeSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    backend: Backend = Backend.EMBEDDED
    data_dir: Path = Field(default_factory=default_data_dir, description="the embedded backend's files")
    weaviate: WeaviateSettings = WeaviateSettings()
    embeddings: EmbeddingSettings = EmbeddingSettings()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ, **explicit: object) -> KnowledgeSettings:
        """Explicit values first, then the environment, then the defaults; only the command line calls this.

        Reads XDG_DATA_HOME, KEVOLVE_KB_BACKEND, KEVOLVE_WEAVIATE_URL, KEVOLVE_WEAVIATE_GRPC_PORT,
        KEVOLVE_WEAVIATE_API_KEY, KEVOLVE_EMBEDDINGS_BASE_URL, KEVOLVE_EMBEDDINGS_MODEL and KEVOLVE_EMBEDDINGS_API_KEY.
        A Weaviate URL from the environment means a custom connection, and an embeddings URL an
        OpenAI-compatible provider.
        """
        values: dict[str, object] = {}
        if data_home := environ.get("XDG_DATA_HOME"):
            values["data_dir"] = default_data_dir(Path(data_home))
        if backend := environ.get("KEVOLVE_KB_BACKEND"):
            values["backend"] = backend
        if url := environ.get("KEVOLVE_WEAVIATE_URL"):
            values["weaviate"] = WeaviateSettings(mode=WeaviateMode.CUSTOM, url=url,
                                                  grpc_port=int(environ.get("KEVOLVE_WEAVIATE_GRPC_PORT", "50051")),
                                                  api_key=environ.get("KEVOLVE_WEAVIATE_API_KEY"))
        if base_url := environ.get("KEVOLVE_EMBEDDINGS_BASE_URL"):
            values["embeddings"] = EmbeddingSettings(provider=EmbeddingProvider.OPENAI, base_url=base_url,
                                                     model=environ.get("KEVOLVE_EMBEDDINGS_MODEL"),
                                                     api_key=environ.get("KEVOLVE_EMBEDDINGS_API_KEY"))
        return cls.model_validate(values | explicit)
