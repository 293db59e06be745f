"""extract_python_source over the shapes LLM replies come in."""

import pytest

from kevolve.tools.code_extraction import extract_python_source

MODULE = "import torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x * 2\n"
HELPER = "def helper(x):\n    return x + 1\n"


@pytest.mark.parametrize("reply", [
    f"```python\n{MODULE}```",
    f"Here is the kernel:\n\n```py\n{MODULE}```\n\nIt fuses the multiply.",
    f"```Python title=model.py\n{MODULE}```",
    f"```\n{MODULE}```",
    f"~~~python\n{MODULE}~~~",
    f"````python\n{MODULE}````",
    f"```python\r\n{MODULE.replace(chr(10), chr(13) + chr(10))}```",
    "1. The module:\n   ```python\n" + "".join(f"   {line}\n" if line else "\n" for line in MODULE.splitlines())
    + "   ```",
    f"<think>\nMaybe ```python\nclass ModelNew: broken(\n```\nno.\n</think>\n```python\n{MODULE}```",
    f"Let me think about memory traffic... one pass is enough.\n</think>\n\n```python\n{MODULE}```",
    f"```python\n{HELPER}```\nand the module:\n```python\n{MODULE}```\nUse it like `ModelNew()(x)`.",
    f"```bash\npip install triton\n```\n```python\n{MODULE}```",
    MODULE,
    f"Sure! Here is the optimized version.\n{MODULE}",
    f"Sure! Here is the optimized version:\n{MODULE}\nThis doubles x in one kernel, without a temporary.",
], ids=["python", "prose-around", "tag-case-and-info", "untagged", "tildes", "four-backticks", "crlf",
        "indented-in-a-list", "thinking-block", "thinking-end-only", "helper-then-module", "bash-then-python",
        "bare", "leading-prose", "prose-both-sides"])
def test_the_module_is_found(reply):
    assert extract_python_source(reply) == MODULE


def test_the_last_block_defining_modelnew_wins():
    first = MODULE.replace("x * 2", "x + x")
    reply = f"First try:\n```python\n{first}```\nWait, that is slower. Corrected:\n```python\n{MODULE}```"
    assert extract_python_source(reply) == MODULE


def test_without_modelnew_the_longest_python_block_wins():
    longer = HELPER + "\n\ndef other(y):\n    return y - 1\n"
    assert extract_python_source(f"```python\n{HELPER}```\n```python\n{longer}```\n```py\nx = 1\n```") == longer


def test_an_unterminated_fence_runs_to_the_end():
    truncated = "import torch\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x *"
    assert extract_python_source(f"Here:\n```python\n{truncated}") == truncated + "\n"
    assert extract_python_source(truncated) == truncated + "\n"  # unfenced and cut off: still the module


def test_an_untagged_block_counts_only_when_it_is_python():
    assert extract_python_source("Output:\n```\nTraceback (most recent call last):\n  boom\n```") is None
    assert extract_python_source(f"```\n{HELPER}```") == HELPER


@pytest.mark.parametrize("reply", [
    "",
    "I cannot help with that.",
    "The kernel should import the input once and def-initely fuse.",
    '```json\n{"approved": true}\n```',
    "```cuda\n__global__ void k(float* x) {}\n```",
    "```python\n```",
    "<think>\n```python\nclass ModelNew: pass\n```\n</think>\nI give up.",
], ids=["empty", "refusal", "prose-with-keywords", "json", "cuda-only", "empty-block", "code-only-in-thinking"])
def test_nothing_that_looks_like_code_gives_none(reply):
    assert extract_python_source(reply) is None
