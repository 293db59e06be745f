"""Where `kevolve llm check` keeps its probes: apart from capability_cache, which loads the LLM clients, so
that `kevolve llm --help` can name the folder without loading them."""

from __future__ import annotations

from pathlib import Path


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "kevolve" / "llm"
