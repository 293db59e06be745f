"""Retrieved passages as a prompt section that cites its sources, within a word budget."""

from __future__ import annotations

from collections.abc import Sequence

from .models import SearchHit


def format_for_prompt(hits: Sequence[SearchHit], *, max_words: int = 600) -> str:
    """Numbered passages, each headed by its title and source, best first; whole passages only.

    A passage that would overflow `max_words` is left out rather than cut mid-sentence; the
    section says how many were left out so a reader knows the list is not complete.
    """
    if not hits:
        return "Knowledge base: nothing relevant found."
    blocks, used, left_out = [], 0, 0
    for hit in hits:
        words = len(hit.passage.text.split())
        if blocks and used + words > max_words:
            left_out += 1
            continue
        used += words
        blocks.append(f"[{len(blocks) + 1}] {hit.passage.title} (source: {hit.passage.source})\n{hit.passage.text}")
    footer = f"\n({left_out} more passages left out for length)" if left_out else ""
    return "Knowledge base (cite as [n]):\n\n" + "\n\n".join(blocks) + footer
