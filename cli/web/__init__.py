"""`kevolve serve`: the review queue and each waiting kernel's evidence as server-rendered pages."""
