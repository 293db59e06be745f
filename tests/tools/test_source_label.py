"""Labels read from a candidate's source say what it does, whatever its plan asked for."""

from kevolve.tools.source_label import describe_source
from loop_helpers import gelu_kernel

AUTOTUNED = '''
import triton
import triton.language as tl

@triton.autotune(configs=[triton.Config({"BLOCK": b}, num_warps=w) for b in (256, 512) for w in (4, 8)],
                 key=["n"])
@triton.jit
def _scale(x_ptr, n, BLOCK: tl.constexpr):
    pass

def launch(x):
    _scale[(1,)](x, x.numel())
'''

CUDA = '''
from torch.utils.cpp_extension import load_inline
module = load_inline(name="m", cpp_sources="", cuda_sources="")
'''


def test_a_triton_kernel_is_labelled_by_its_fixed_launch_settings():
    label = describe_source(gelu_kernel(block=2048, fenced=False))
    assert label.startswith("triton: 1 kernel") and "2048" in label and "autotun" not in label


def test_autotuning_is_named_only_where_the_source_autotunes():
    assert describe_source(AUTOTUNED).startswith("triton: 1 kernel, autotuned")


def test_cuda_pytorch_and_broken_sources():
    assert describe_source(CUDA) == "cuda through load_inline"
    plain = "import torch\nclass ModelNew(torch.nn.Module):\n    pass\n"
    assert describe_source(plain) == "pytorch only: no custom kernel"
    assert describe_source("def (") == "does not parse"
