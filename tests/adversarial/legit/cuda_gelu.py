"""Legitimate under strict: the kernel is CUDA C++ through load_inline (GPU only)."""
from torch import nn
from torch.utils.cpp_extension import load_inline

_CUDA = r"""
#include <torch/extension.h>

__global__ void gelu_tanh_kernel(const float* __restrict__ x, float* __restrict__ y, long n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float v = x[i];
        float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
        y[i] = 0.5f * v * (1.0f + tanhf(inner));
    }
}

torch::Tensor gelu_tanh(torch::Tensor x) {
    auto y = torch::empty_like(x);
    long n = x.numel();
    gelu_tanh_kernel<<<(n + 255) / 256, 256>>>(x.data_ptr<float>(), y.data_ptr<float>(), n);
    return y;
}
"""

_extension = load_inline(
    name="kevolve_test_gelu_tanh",
    cpp_sources="torch::Tensor gelu_tanh(torch::Tensor x);",
    cuda_sources=_CUDA,
    functions=["gelu_tanh"],
    extra_cuda_cflags=["-O3"],
)


class ModelNew(nn.Module):
    def forward(self, x):
        return _extension.gelu_tanh(x.contiguous())
