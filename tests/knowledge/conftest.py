import itertools
import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from kevolve.tools.knowledge.base import KnowledgeBase
from kevolve.tools.knowledge.embedded import EmbeddedKnowledgeBase
from kevolve.tools.knowledge.embeddings import LocalMiniLM
from kevolve.tools.knowledge.settings import KnowledgeSettings

# One prefix per test run, so runs that share a server never see each other's collections.
RUN_PREFIX = f"KevolveTest{uuid.uuid4().hex[:8]}"
_TEST_NUMBER = itertools.count()


@pytest.fixture(scope="session")
def embedder() -> LocalMiniLM:
    # The real model: it loads offline in about half a second, once per process.
    return LocalMiniLM()


@pytest.fixture(params=["embedded", "weaviate"])
def open_base(request: pytest.FixtureRequest, tmp_path, embedder) -> Iterator[Callable[[], KnowledgeBase]]:
    """Opens the same base, empty at first, as often as a test asks; closed and removed afterwards."""
    opened: list[KnowledgeBase] = []
    if request.param == "embedded":
        def open_one() -> KnowledgeBase:
            return EmbeddedKnowledgeBase(tmp_path / "knowledge", embedder)
    else:
        if not os.environ.get("KEVOLVE_WEAVIATE_URL"):
            pytest.skip("set KEVOLVE_WEAVIATE_URL to run the Weaviate contract tests against a server")
        from kevolve.tools.knowledge.weaviate_backend import WeaviateKnowledgeBase

        # Each test gets collections of its own under the run's prefix.
        settings = KnowledgeSettings.from_environment().weaviate.model_copy(
            update={"collection_prefix": f"{RUN_PREFIX}N{next(_TEST_NUMBER)}"})

        def open_one() -> KnowledgeBase:
            return WeaviateKnowledgeBase(settings, embedder)

    def open_tracked() -> KnowledgeBase:
        base = open_one()
        opened.append(base)
        return base

    yield open_tracked
    for base in opened:
        base.close()
    if request.param == "weaviate":
        with WeaviateKnowledgeBase(settings, embedder) as base:
            base.drop()


@pytest.fixture
def knowledge_base(open_base: Callable[[], KnowledgeBase]) -> KnowledgeBase:
    return open_base()
