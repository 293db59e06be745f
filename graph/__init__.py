"""kevolve.graph: filled in by later issues (see shared DESIGN)."""
