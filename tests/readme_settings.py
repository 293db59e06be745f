"""The model settings the README documents ("Using your own model"), as written: tests run kevolve with
exactly these, so the documented configuration is the tested one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

README = Path(__file__).parents[1] / "README.md"


def readme_llm_settings() -> dict[str, Any]:
    """The `llm:` mapping of the YAML block in the README's "Using your own model"."""
    section = README.read_text().split("### Using your own model", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    if block is None:
        raise AssertionError("the README's model section has no YAML block")
    return yaml.safe_load(block.group(1))["llm"]
