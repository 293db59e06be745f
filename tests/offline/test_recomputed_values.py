"""Small values of the model's parameters (a batch norm's per-channel factor) are recomputed in the kernels that read
them, with no launch of their own; values of the inputs are not, whatever their traced size."""

import torch

from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

FROZEN_BATCH_NORM = reference_module("""
    class Model(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.register_buffer("mean", torch.randn(channels))
            self.register_buffer("var", torch.rand(channels) + 0.5)
            self.weight = nn.Parameter(torch.randn(channels))
            self.bias = nn.Parameter(torch.randn(channels))

        def forward(self, x, y):
            normed = F.batch_norm(x, self.mean, self.var, self.weight, self.bias, training=False)
            return torch.relu(normed), y.sum(0, keepdim=True) * 2.0 + x.mean()
    """, "[torch.randn(2, 3, 5, 7), torch.randn(4, 6)]", "[3]")


def test_a_per_channel_factor_is_recomputed_and_an_input_value_is_not(tmp_path) -> None:
    fused = fused_program(FROZEN_BATCH_NORM)
    norm = next(g for g in fused.groups if any(m.fn == "relu" for m in g.members))
    assert {"rsqrt", "sub", "relu"} <= {m.fn for m in norm.members}, "the factor is not computed in the norm's kernel"
    recomputed = {m.fn for g in fused.groups for m in g.members if m.name in g.inlined}
    assert recomputed == {"add", "rsqrt"}, recomputed  # the factor, and nothing computed from the inputs
    reference = load(FROZEN_BATCH_NORM, tmp_path, "ref_frozen_bn")
    candidate = load(candidate_source(FROZEN_BATCH_NORM, fused, looping=False), tmp_path, "gen_frozen_bn")
    for shape in [(2, 3, 5, 7), (1, 3, 1, 1)]:
        torch.manual_seed(shape[0])
        assert_same(reference, candidate, [3], [torch.randn(*shape), torch.randn(5, 6)])
