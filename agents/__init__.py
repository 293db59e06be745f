"""kevolve.agents: the planner, coder, reviewer and profiler-analyst roles and the chat, each with a model
behind it or a deterministic offline policy; prompts live in agents/prompts/ (docs/architecture.md)."""
