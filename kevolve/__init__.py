"""kevolve: verified, faster GPU kernels from PyTorch references."""
