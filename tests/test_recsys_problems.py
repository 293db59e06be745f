"""The suite's recommendation-model problems (issue 17): they load, their references run on the CPU at every small
configuration, and their length generators give what each configuration promises (empty segments, a long tail,
a single segment)."""

import pytest
import torch

from kevolve.eval_harness import load_problem
from kevolve.eval_harness.module_loader import module_from_source
from kevolve.eval_harness.problems import SUITE_DIR

# Problems with a jagged or lengths-driven structure: name -> (the generator of lengths, the module-level size
# its `max`-like cap is read from).
JAGGED = {
    "recsys_dlrm_bag_mean": ("_lengths", "max_len"),
    "recsys_embedding_bag_mean_padding": ("_lengths", "max_len"),
    "recsys_user_broadcast_concat": ("_lengths", "max_len"),
    "recsys_jagged_segment_max": ("_lengths", "max_len"),
    "recsys_jagged_to_padded": ("_lengths", "longest"),
    "recsys_padded_to_jagged": ("_lengths", "max_len"),
    "recsys_jagged_softmax": ("_lengths", "max_len"),
    "recsys_gnn_scatter_mean": ("_degrees", "max_deg"),
    "recsys_din_target_attention": ("_lengths", "max_len"),
    "recsys_kjt_hash_bucketize": ("_lengths", "max_len"),
    "recsys_hstu_jagged_attention": ("_lengths", "max_len"),
}
# Problems without segments: their skew (if any) is in the ids or the routing.
FIXED = ["recsys_embedding_sum_fixed", "recsys_rerank_take_along", "recsys_dcn_cross", "recsys_moe_top2_routing",
         "recsys_sparse_pairwise_dots"]
NEW = sorted([*JAGGED, *FIXED])
ORIGINAL = ["recsys_bucketize_hash", "recsys_dot_interaction", "recsys_embedding_bag", "recsys_jagged_mean"]


def _problem(name):
    return load_problem(SUITE_DIR / f"{name}.py")


def _module(name, config, tmp_path):
    problem = _problem(name)
    return module_from_source(problem.source, stem=problem.name, workdir=tmp_path, overrides=problem.overrides(config))


def _run(module, seed=0):
    torch.manual_seed(seed + 1_000_003)
    inputs = module.get_inputs()
    torch.manual_seed(seed)
    model = module.Model(*module.get_init_inputs())
    with torch.no_grad():
        out = model(*inputs)
    return inputs, list(out) if isinstance(out, tuple) else [out]


def _segment_lengths(name, module, inputs):
    """The per-segment lengths a problem's inputs encode."""
    if name in ("recsys_dlrm_bag_mean", "recsys_jagged_to_padded", "recsys_hstu_jagged_attention"):
        offsets = inputs[1] if name != "recsys_hstu_jagged_attention" else inputs[3]
        return (offsets[1:] - offsets[:-1]).long()
    if name == "recsys_embedding_bag_mean_padding":
        indices, offsets = inputs
        return torch.diff(offsets.long(), append=torch.tensor([indices.shape[0]]))
    if name == "recsys_gnn_scatter_mean":
        return torch.bincount(inputs[2], minlength=inputs[0].shape[0])
    index = {"recsys_user_broadcast_concat": 2, "recsys_din_target_attention": 1}.get(name, 1)
    return inputs[index]


def _small_configs(name):
    return [c for c in ["default", *_problem(name).configs] if c.startswith("small")]


def test_the_original_recsys_problems_are_kept_and_twelve_new_ones_join_them():
    assert all((SUITE_DIR / f"{name}.py").is_file() for name in ORIGINAL)
    assert len(NEW) >= 12
    assert {*ORIGINAL, *NEW} <= {p.stem for p in SUITE_DIR.glob("recsys_*.py")}


@pytest.mark.parametrize("name", NEW)
def test_each_problem_loads_with_cpu_and_gpu_configs(name):
    problem = _problem(name)
    assert problem.category == "recsys"
    assert problem.primary_config(on_cpu=True) == "small"
    assert "small_odd" in problem.extra_configs(on_cpu=True)
    assert "odd" in problem.extra_configs(on_cpu=False)
    assert "single" in problem.configs and "small_single" in problem.configs
    if name in JAGGED:
        for config in ("skewed", "empty", "small_skewed", "small_empty"):
            assert config in problem.configs, f"{name} has no {config} config"
    source = (SUITE_DIR / f"{name}.py").read_text()
    assert 'device="cpu"' in source, "inputs are drawn on the CPU from the default generator"


@pytest.mark.parametrize(("name", "config"), [(n, c) for n in NEW for c in _small_configs(n)])
def test_each_small_config_runs_on_cpu_to_finite_outputs_of_a_stable_shape(name, config, tmp_path):
    module = _module(name, config, tmp_path)
    inputs, out = _run(module)
    assert out and all(isinstance(t, torch.Tensor) for t in out)
    for tensor in out:
        assert tensor.numel() > 0
        assert torch.isfinite(tensor.double()).all(), f"{name}/{config} gave NaN or Inf"
    _, again = _run(module)
    assert [t.shape for t in again] == [t.shape for t in out]
    for first, second in zip(out, again, strict=True):
        torch.testing.assert_close(first, second, rtol=1e-6, atol=1e-6)
    _, other = _run(module, seed=7)
    assert [t.dtype for t in other] == [t.dtype for t in out]
    if name in JAGGED:
        lengths = _segment_lengths(name, module, inputs)
        assert lengths.min() >= 0
        if name in ("recsys_user_broadcast_concat", "recsys_padded_to_jagged", "recsys_jagged_softmax"):
            assert out[0].shape[0] == int(lengths.sum()), "one output row per jagged row"
        if name == "recsys_kjt_hash_bucketize":
            assert out[0].shape == (int(lengths.sum()),)


@pytest.mark.parametrize("name", sorted(JAGGED))
def test_small_empty_config_has_empty_segments(name, tmp_path):
    module = _module(name, "small_empty", tmp_path)
    inputs, _ = _run(module)
    lengths = _segment_lengths(name, module, inputs)
    assert (lengths == 0).float().mean() >= 0.2, f"{name}: only {(lengths == 0).sum()} empty of {lengths.numel()}"
    assert (lengths > 0).any()


@pytest.mark.parametrize("name", sorted(JAGGED))
def test_small_skewed_config_has_one_long_segment_and_many_short_ones(name, tmp_path):
    generator, cap_name = JAGGED[name]
    module = _module(name, "small_skewed", tmp_path)
    cap = getattr(module, cap_name)
    inputs, _ = _run(module)
    lengths = _segment_lengths(name, module, inputs)
    if name != "recsys_gnn_scatter_mean":  # in-degrees are counted back from dst; the generator's are checked below
        assert int(lengths.max()) == cap
    assert float(lengths.float().median()) * 8 <= cap, "most segments are short"
    torch.manual_seed(0)
    drawn = getattr(module, generator)()
    assert int(drawn.max()) == cap and float(drawn.float().median()) * 8 <= cap


@pytest.mark.parametrize("name", sorted(JAGGED))
def test_gpu_length_configs_keep_their_promises(name, tmp_path):
    """Only the lengths are drawn (cheap); the tensors would be GPU-sized."""
    generator, cap_name = JAGGED[name]
    torch.manual_seed(0)
    skewed = _module(name, "skewed", tmp_path)
    lengths = getattr(skewed, generator)()
    cap = getattr(skewed, cap_name)
    assert int(lengths.max()) == cap and int((lengths == cap).sum()) <= 3
    assert float(lengths.float().median()) * 50 <= cap, "a heavy tail: the median is far below the longest"
    torch.manual_seed(0)
    default = getattr(_module(name, "default", tmp_path), generator)()
    assert lengths.sum() <= 2 * default.sum(), "the skewed config moves about as many rows as the default"
    torch.manual_seed(0)
    empty = getattr(_module(name, "empty", tmp_path), generator)()
    assert (empty == 0).float().mean() >= 0.3
    torch.manual_seed(0)
    single = getattr(_module(name, "single", tmp_path), generator)()
    assert single.numel() == 1 and int(single[0]) > 0


def test_segment_max_pools_empty_segments_to_zeros(tmp_path):
    module = _module("recsys_jagged_segment_max", "small_empty", tmp_path)
    (values, lengths), [out] = _run(module)
    assert (out[lengths == 0] == 0).all()
    start = 0
    for i, n in enumerate(lengths.tolist()):
        if n:
            torch.testing.assert_close(out[i], values[start:start + n].max(0).values)
        start += n


def test_jagged_softmax_sums_to_one_within_each_segment(tmp_path):
    module = _module("recsys_jagged_softmax", "small_empty", tmp_path)
    (scores, lengths), [out] = _run(module)
    start = 0
    for n in lengths.tolist():
        if n:
            torch.testing.assert_close(out[start:start + n], torch.softmax(scores[start:start + n], dim=0))
        start += n


@pytest.mark.parametrize("config", ["small", "small_skewed", "small_empty", "small_single"])
def test_jagged_padded_round_trip_and_pytorchs_own_operator(config, tmp_path):
    module = _module("recsys_jagged_to_padded", config, tmp_path)
    (values, offsets), [padded] = _run(module)
    lengths = (offsets[1:] - offsets[:-1]).clamp(max=module.max_len)
    if hasattr(torch.ops.aten, "_jagged_to_padded_dense_forward"):
        expected = torch.ops.aten._jagged_to_padded_dense_forward(values, [offsets], [module.max_len], 0.0)
        torch.testing.assert_close(padded, expected)
    back = _problem("recsys_padded_to_jagged")
    inverse = module_from_source(back.source, stem=back.name, workdir=tmp_path).Model()
    rows = inverse(padded, lengths)
    keep = torch.cat([torch.arange(int(s), int(s) + int(n)) for s, n in zip(offsets[:-1], lengths, strict=True)]
                     or [torch.zeros(0, dtype=torch.long)])
    torch.testing.assert_close(rows, values[keep])


def test_dlrm_bags_are_means_over_a_shared_int32_layout(tmp_path):
    module = _module("recsys_dlrm_bag_mean", "small_empty", tmp_path)
    torch.manual_seed(1_000_003)
    indices, offsets = module.get_inputs()
    assert indices.dtype == offsets.dtype == torch.int32 and offsets[0] == 0
    assert offsets.shape[0] == module.bags + 1 and offsets[-1] == indices.shape[1]
    model = module.Model(*module.get_init_inputs())
    with torch.no_grad():
        out = model(indices, offsets)
    dim = module.dim
    for t, table in enumerate(model.tables):
        for b in range(module.bags):
            rows = table.weight[indices[t, offsets[b]:offsets[b + 1]].long()]
            expected = rows.mean(0) if rows.shape[0] else torch.zeros(dim)
            torch.testing.assert_close(out[b, t * dim:(t + 1) * dim], expected)


@pytest.mark.parametrize("config", ["small_empty", "small_skewed"])
def test_padding_ids_are_skipped_and_not_counted(config, tmp_path):
    module = _module("recsys_embedding_bag_mean_padding", config, tmp_path)
    module.pad_frac = 0.5
    (indices, offsets), [out] = _run(module)
    assert indices.dtype == offsets.dtype == torch.int32 and offsets.shape == (module.bags,)
    torch.manual_seed(0)
    weight = module.Model(*module.get_init_inputs()).bag.weight
    ends = [*offsets[1:].tolist(), indices.shape[0]]
    for b, (start, end) in enumerate(zip(offsets.tolist(), ends, strict=True)):
        ids = indices[start:end].long()
        ids = ids[ids != 0]
        expected = weight[ids].mean(0) if ids.numel() else torch.zeros(module.dim)
        torch.testing.assert_close(out[b], expected)


@pytest.mark.parametrize("config", ["small", "small_odd", "small_skewed", "small_empty", "small_single"])
def test_hstu_grouped_reference_matches_one_sequence_at_a_time(config, tmp_path):
    module = _module("recsys_hstu_jagged_attention", config, tmp_path)
    (q, k, v, offsets), [out] = _run(module)
    for s, e in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
        if e == s:
            continue
        scores = torch.einsum("ihd,jhd->hij", q[s:e], k[s:e]) * module.alpha
        weights = torch.nn.functional.silu(scores) / module.max_len * torch.ones(e - s, e - s).tril()
        torch.testing.assert_close(out[s:e], torch.einsum("hij,jhd->ihd", weights, v[s:e]))


def test_din_attention_ignores_padding_and_gives_zeros_for_empty_histories(tmp_path):
    module = _module("recsys_din_target_attention", "small_empty", tmp_path)
    (history, lengths, target), [out] = _run(module)
    assert (out[lengths == 0] == 0).all()
    noisy = history.clone()
    for b, n in enumerate(lengths.tolist()):
        noisy[b, n:] = 1e3
    torch.manual_seed(0)
    model = module.Model(*module.get_init_inputs())
    with torch.no_grad():
        torch.testing.assert_close(model(noisy, lengths, target), out)


@pytest.mark.parametrize("config", ["small", "small_skewed"])
def test_moe_routing_weights_sum_to_one_over_distinct_experts(config, tmp_path):
    module = _module("recsys_moe_top2_routing", config, tmp_path)
    (logits,), [weights, ids] = _run(module)
    torch.testing.assert_close(weights.sum(-1), torch.ones(logits.shape[0]))
    assert (ids[:, 0] != ids[:, 1]).all() and ids.dtype == torch.int64
    ranked = logits.sort(dim=1, descending=True).values
    assert (ranked[:, 1] - ranked[:, 2]).min() > 1e-2, "no near-ties: the top k is unambiguous under rounding"


def test_skewed_routing_makes_a_few_experts_hot(tmp_path):
    module = _module("recsys_moe_top2_routing", "small_skewed", tmp_path)
    _, [_, ids] = _run(module)
    counts = torch.bincount(ids[:, 0], minlength=module.num_experts)
    assert counts.max() >= 4 * ids.shape[0] / module.num_experts


@pytest.mark.parametrize("config", ["small", "small_skewed", "small_single"])
def test_hashed_ids_are_in_range_and_bucket_ids_match_bucketize(config, tmp_path):
    module = _module("recsys_kjt_hash_bucketize", config, tmp_path)
    (values, _, dense, boundaries), [hashed, buckets] = _run(module)
    assert hashed.dtype == buckets.dtype == torch.int64
    assert hashed.min() >= 0 and hashed.max() < module.table_size
    assert values.min() >= 0 and int(values.max()) < 2**62
    assert torch.equal(buckets, torch.bucketize(dense, boundaries))


def test_hash_depends_on_the_feature_salt(tmp_path):
    module = _module("recsys_kjt_hash_bucketize", "small", tmp_path)
    model = module.Model(2, module.table_size)
    ids = torch.arange(1, 200, dtype=torch.int64)
    hashed, _ = model(torch.cat([ids, ids]), torch.tensor([199, 199]), torch.zeros(1, 1), torch.zeros(1))
    assert (hashed[:199] != hashed[199:]).float().mean() > 0.9


def test_gnn_aggregation_is_the_mean_of_incoming_messages(tmp_path):
    module = _module("recsys_gnn_scatter_mean", "small_empty", tmp_path)
    (x, src, dst, w), [out] = _run(module)
    for node in range(x.shape[0]):
        incoming = (dst == node).nonzero().squeeze(1)
        expected = (x[src[incoming]] * w[incoming, None]).mean(0) if incoming.numel() else torch.zeros(x.shape[1])
        torch.testing.assert_close(out[node], expected)


def test_skewed_ids_concentrate_on_hot_rows(tmp_path):
    module = _module("recsys_embedding_sum_fixed", "small_skewed", tmp_path)
    torch.manual_seed(0)
    (ids,) = module.get_inputs()
    counts = torch.bincount(ids.reshape(-1), minlength=module.num_rows)
    assert counts.max() >= 10 * ids.numel() / module.num_rows
    assert ids.min() >= 0 and ids.max() < module.num_rows


def test_sparse_pairwise_dots_are_the_strict_lower_triangle(tmp_path):
    module = _module("recsys_sparse_pairwise_dots", "small_odd", tmp_path)
    (emb,), [out] = _run(module)
    n = emb.shape[0]
    assert out.shape == (emb.shape[1], n * (n - 1) // 2)
    column = 0
    for i in range(n):
        for j in range(i):
            torch.testing.assert_close(out[:, column], (emb[i] * emb[j]).sum(-1))
            column += 1
