"""Settings from the environment, the factory's choices, and the errors a base that cannot open gives."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from kevolve.tools.knowledge.base import KnowledgeBaseUnavailable
from kevolve.tools.knowledge.embedded import EmbeddedKnowledgeBase
from kevolve.tools.knowledge.embeddings import LocalMiniLM, OpenAICompatibleEmbeddings
from kevolve.tools.knowledge.factory import make_embedder, open_knowledge_base
from kevolve.tools.knowledge.settings import (
    Backend,
    EmbeddingProvider,
    EmbeddingSettings,
    KnowledgeSettings,
    WeaviateMode,
    WeaviateSettings,
)


def test_defaults_need_no_environment():
    settings = KnowledgeSettings.from_environment({})
    assert settings.backend is Backend.EMBEDDED
    assert settings.data_dir == Path.home() / ".local/share/kevolve/knowledge"
    assert settings.embeddings.provider is EmbeddingProvider.LOCAL


def test_environment_fills_in_and_explicit_values_win():
    environ = {"XDG_DATA_HOME": "/data", "KEVOLVE_KB_BACKEND": "weaviate", "KEVOLVE_WEAVIATE_URL": "https://kb:8443",
               "KEVOLVE_WEAVIATE_GRPC_PORT": "50052", "KEVOLVE_WEAVIATE_API_KEY": "secret",
               "KEVOLVE_EMBEDDINGS_BASE_URL": "http://emb:8000/v1", "KEVOLVE_EMBEDDINGS_MODEL": "bge-small"}
    settings = KnowledgeSettings.from_environment(environ)
    assert settings.data_dir == Path("/data/kevolve/knowledge")
    assert settings.backend is Backend.WEAVIATE
    assert (settings.weaviate.mode, settings.weaviate.url, settings.weaviate.grpc_port) == \
        (WeaviateMode.CUSTOM, "https://kb:8443", 50052)
    assert settings.weaviate.api_key.get_secret_value() == "secret"
    assert "secret" not in repr(settings)
    assert (settings.embeddings.provider, settings.embeddings.model) == (EmbeddingProvider.OPENAI, "bge-small")
    assert KnowledgeSettings.from_environment(environ, backend="embedded").backend is Backend.EMBEDDED


def test_openai_embeddings_need_an_endpoint_and_a_model():
    with pytest.raises(ValidationError, match="base_url and model"):
        EmbeddingSettings(provider=EmbeddingProvider.OPENAI, base_url="http://emb:8000/v1")


def test_the_factory_maps_settings_to_embedders_and_backends(tmp_path):
    assert isinstance(make_embedder(EmbeddingSettings()), LocalMiniLM)
    remote = make_embedder(EmbeddingSettings(provider=EmbeddingProvider.OPENAI, base_url="http://e/v1", model="m"))
    assert isinstance(remote, OpenAICompatibleEmbeddings)
    remote.close()
    with pytest.raises(ValueError, match="all-MiniLM-L6-v2 only"):
        make_embedder(EmbeddingSettings(model="bge-small"))
    with open_knowledge_base(KnowledgeSettings(data_dir=tmp_path)) as base:
        assert isinstance(base, EmbeddedKnowledgeBase)
        assert base.stats().location == str(tmp_path)


def test_an_unreachable_weaviate_is_unavailable_not_a_traceback(embedder):
    from kevolve.tools.knowledge.weaviate_backend import WeaviateKnowledgeBase

    # Nothing listens on these low loopback ports, so the connection is refused at once.
    settings = WeaviateSettings(mode=WeaviateMode.CUSTOM, url="http://127.0.0.1:9", grpc_port=10)
    with pytest.raises(KnowledgeBaseUnavailable, match=r"127\.0\.0\.1:9"):
        WeaviateKnowledgeBase(settings, embedder)


def test_an_embedded_base_in_a_file_is_unavailable(tmp_path, embedder):
    occupied = tmp_path / "a-file"
    occupied.write_text("")
    with pytest.raises(KnowledgeBaseUnavailable, match="a-file"):
        EmbeddedKnowledgeBase(occupied, embedder)


class _OtherModel:
    """Another model's name: what a base must refuse to mix with the vectors it holds."""

    name = "other-model"
    dimensions = 384

    def embed(self, texts):
        return [[1.0] + [0.0] * 383 for _ in texts]

    def close(self) -> None:
        pass


def test_an_embedded_base_refuses_a_second_embedding_model(tmp_path, embedder):
    EmbeddedKnowledgeBase(tmp_path, embedder).close()
    with pytest.raises(KnowledgeBaseUnavailable, match="all-MiniLM-L6-v2"):
        EmbeddedKnowledgeBase(tmp_path, _OtherModel())
