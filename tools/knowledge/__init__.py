"""The knowledge base: hardware documents and what past searches learned, searched by hybrid
(keyword + vector) retrieval with metadata filters, behind one interface with two backends."""
