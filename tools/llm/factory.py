"""Settings in, a provider out: the one place that decides what answers the agents."""

from __future__ import annotations

from pathlib import Path

from .base import LLMProvider
from .openai_chat import OpenAIProvider
from .settings import LLMSettings
from .transcript import TranscriptProvider


def make_llm_provider(settings: LLMSettings, *, transcript: Path | None = None,
                      capabilities_dir: Path | None = None) -> LLMProvider | None:
    """A transcript replay when one is given, else the configured models; None: every role runs offline.

    `capabilities_dir` (the run's folder) keeps what `structured_output: auto` found by probing.
    """
    if transcript is not None:
        return TranscriptProvider(transcript, max_repairs=settings.max_repairs)
    if settings.configured:
        return OpenAIProvider(settings, capabilities_dir=capabilities_dir)
    return None
