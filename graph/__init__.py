"""kevolve.graph: the LangGraph search as a state machine (plan, write, review, evaluate, analyze, select), its
run folders and checkpoints, the review queue and approval into the library, campaigns and reports
(docs/architecture.md)."""
