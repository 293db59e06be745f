"""kevolve.tools: filled in by later issues (see shared DESIGN)."""
