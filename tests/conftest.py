import os

# Triton reads TRITON_INTERPRET when a kernel is decorated, and the machines that run this suite have
# no GPU: set it before any test module imports triton (directly or through a candidate module), so
# @triton.jit kernels run on the CPU through Triton's interpreter. setdefault keeps an explicit
# TRITON_INTERPRET=0 from a GPU machine's environment.
os.environ.setdefault("TRITON_INTERPRET", "1")
