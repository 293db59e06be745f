"""The offline engine: kernels written without any LLM, from the reference's traced operator graph.

The reference is traced in a subprocess (`trace_program`), lowered to kernel-level operations
(`lowering`), partitioned into fusion groups (`fusion`), and each group becomes one Triton kernel
from a template (`triton_source`) inside a standalone `ModelNew` module (`module_source`). Each
template's configuration space (`configs`) is explored by the same search loop as LLM candidates.
"""
