"""The graph's nodes, one module each; the function name is the node name."""
