"""The approved-kernel library in production: listing, exporting as PyTorch ops, re-validating."""
