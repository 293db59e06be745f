"""kevolve.tools: what the agents and the graph call: the offline engine, the evaluation pool and executors,
the kernel library, the knowledge base, the LLM clients and candidate helpers (docs/architecture.md)."""
