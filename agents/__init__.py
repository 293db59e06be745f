"""kevolve.agents: filled in by later issues (see shared DESIGN)."""
