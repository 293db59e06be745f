"""The model settings docs/models.md documents ("Using your own model"), as written: tests run kevolve with
exactly these, so the documented configuration is the tested one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

MODELS_PAGE = Path(__file__).parents[1] / "docs" / "models.md"


def documented_llm_settings() -> dict[str, Any]:
    """The `llm:` mapping of the YAML block in docs/models.md's "Using your own model"."""
    section = MODELS_PAGE.read_text().split("## Using your own model", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    if block is None:
        raise AssertionError("docs/models.md's model section has no YAML block")
    return yaml.safe_load(block.group(1))["llm"]
