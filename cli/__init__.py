"""kevolve: verified, faster GPU kernels from PyTorch references. This package is the command line."""
