"""Settings in, a knowledge base out: the one place that maps configuration to a backend and an embedder."""

from __future__ import annotations

from .base import KnowledgeBase
from .embeddings import Embedder, LocalMiniLM, OpenAICompatibleEmbeddings
from .settings import Backend, EmbeddingProvider, EmbeddingSettings, KnowledgeSettings


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    match settings.provider:
        case EmbeddingProvider.LOCAL:
            if settings.model not in (None, LocalMiniLM.name):
                raise ValueError(f"local embeddings ship {LocalMiniLM.name} only, not {settings.model!r}")
            return LocalMiniLM()
        case EmbeddingProvider.OPENAI:
            assert settings.base_url is not None and settings.model is not None  # EmbeddingSettings checks both
            api_key = settings.api_key.get_secret_value() if settings.api_key else None
            return OpenAICompatibleEmbeddings(base_url=settings.base_url, model=settings.model, api_key=api_key)


def open_knowledge_base(settings: KnowledgeSettings) -> KnowledgeBase:
    """The configured backend, which owns the embedder it is given and closes it with itself."""
    embedder = make_embedder(settings.embeddings)
    try:
        return _open_backend(settings, embedder)
    except BaseException:
        embedder.close()
        raise


def _open_backend(settings: KnowledgeSettings, embedder: Embedder) -> KnowledgeBase:
    # Each backend's client library takes 0.5 to 1 s to import: only the chosen one is paid for.
    match settings.backend:
        case Backend.EMBEDDED:
            from .embedded import EmbeddedKnowledgeBase

            return EmbeddedKnowledgeBase(settings.data_dir, embedder)
        case Backend.WEAVIATE:
            from .weaviate_backend import WeaviateKnowledgeBase

            return WeaviateKnowledgeBase(settings.weaviate, embedder)
