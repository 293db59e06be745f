"""The `kevolve` command line."""
