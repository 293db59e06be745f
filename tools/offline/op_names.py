"""Canonical names for what a forward calls: functions, tensor methods and nn modules.

`torch.add`, `operator.add`, `x.add(...)` and `x + y` are all `add`; an nn module becomes the
functional call it performs, with its tensors as parameters and its settings as attributes, which the
generated `ModelNew` reads from its own copy of the module at run time.
"""

from __future__ import annotations

ALIASES = {
    "truediv": "div", "true_divide": "div", "divide": "div", "multiply": "mul", "subtract": "sub",
    "negative": "neg", "iadd": "add", "imul": "mul", "isub": "sub", "itruediv": "div", "absolute": "abs",
    "clip": "clamp", "arctan": "atan", "special_expit": "sigmoid", "expit": "sigmoid", "relu_": "relu",
    "softmax_": "softmax", "reciprocal_": "reciprocal", "square_": "square", "concat": "cat",
    "swapaxes": "transpose", "swapdims": "transpose", "clamp_min": "clamp_min", "clamp_max": "clamp_max",
    "scaled_dot_product_attention": "sdpa", "__getitem__": "getitem", "_max_pool1d": "max_pool1d",
    "_max_pool2d": "max_pool2d", "_max_pool3d": "max_pool3d", "_threshold": "threshold",
    # `a ^ b`, `a & b`, `a | b`, `~a`, `a << b`, `a >> b`, `a % b` and `a // b` on tensors are these functions.
    "xor": "bitwise_xor", "and": "bitwise_and", "or": "bitwise_or", "invert": "bitwise_not",
    "lshift": "left_shift", "rshift": "right_shift", "bitwise_left_shift": "left_shift",
    "bitwise_right_shift": "right_shift", "mod": "remainder", "floordiv": "floor_divide",
}

# nn module type -> (canonical op, argument spec). In the spec, "input" is the module's input,
# "P:name" a tensor of the module, "A:name" a setting of the module, "I:k:name" the forward's argument at
# position k or named `name` (absent: None).
_CONV = ("input", "P:weight", "P:bias", "A:stride", "A:padding", "A:dilation", "A:groups")
_CONV_TRANSPOSE = ("input", "P:weight", "P:bias", "A:stride", "A:padding", "A:output_padding", "A:groups",
                   "A:dilation")
_STATISTICS = ("input", "P:running_mean", "P:running_var", "P:weight", "P:bias")
_MAX_POOL = ("input", "A:kernel_size", "A:stride", "A:padding", "A:dilation", "A:ceil_mode", "A:return_indices")
_AVG_POOL = ("input", "A:kernel_size", "A:stride", "A:padding", "A:ceil_mode", "A:count_include_pad",
             "A:divisor_override")
# The 1-, 2- and 3-d variants of a layer differ only in their name.
_BY_DIMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Conv{n}d": ("conv{n}d", _CONV),
    "ConvTranspose{n}d": ("conv_transpose{n}d", _CONV_TRANSPOSE),
    "BatchNorm{n}d": ("batch_norm", (*_STATISTICS, "A:training", "A:momentum", "A:eps")),
    "InstanceNorm{n}d": ("instance_norm", (*_STATISTICS, "A:track_running_stats", "A:momentum", "A:eps")),
    "MaxPool{n}d": ("max_pool{n}d", _MAX_POOL),
    "AvgPool{n}d": ("avg_pool{n}d", _AVG_POOL),
}
MODULE_CALLS: dict[str, tuple[str, tuple[str, ...]]] = {
    **{layer.format(n=n): (op.format(n=n), spec) for layer, (op, spec) in _BY_DIMS.items() for n in (1, 2, 3)},
    "Linear": ("linear", ("input", "P:weight", "P:bias")),
    "LayerNorm": ("layer_norm", ("input", "A:normalized_shape", "P:weight", "P:bias", "A:eps")),
    "RMSNorm": ("rms_norm", ("input", "A:normalized_shape", "P:weight", "A:eps")),
    "GroupNorm": ("group_norm", ("input", "A:num_groups", "P:weight", "P:bias", "A:eps")),
    "ReLU": ("relu", ("input",)),
    "ReLU6": ("relu6", ("input",)),
    "GELU": ("gelu", ("input", "A:approximate")),
    "SiLU": ("silu", ("input",)),
    "Sigmoid": ("sigmoid", ("input",)),
    "Tanh": ("tanh", ("input",)),
    "Mish": ("mish", ("input",)),
    "Softplus": ("softplus", ("input", "A:beta", "A:threshold")),
    "LeakyReLU": ("leaky_relu", ("input", "A:negative_slope")),
    "Hardtanh": ("hardtanh", ("input", "A:min_val", "A:max_val")),
    "ELU": ("elu", ("input", "A:alpha")),
    "Hardswish": ("hardswish", ("input",)),
    "Hardsigmoid": ("hardsigmoid", ("input",)),
    "Softsign": ("softsign", ("input",)),
    "LogSigmoid": ("logsigmoid", ("input",)),
    "SELU": ("selu", ("input",)),
    "CELU": ("celu", ("input", "A:alpha")),
    "Hardshrink": ("hardshrink", ("input", "A:lambd")),
    "Softshrink": ("softshrink", ("input", "A:lambd")),
    "Tanhshrink": ("tanhshrink", ("input",)),
    "Threshold": ("threshold", ("input", "A:threshold", "A:value")),
    "PReLU": ("prelu", ("input", "P:weight")),
    "GLU": ("glu", ("input", "A:dim")),
    "Softmax": ("softmax", ("input", "A:dim")),
    "LogSoftmax": ("log_softmax", ("input", "A:dim")),
    "Identity": ("identity", ("input",)),
    "Dropout": ("dropout", ("input", "A:p", "A:training")),
    "Flatten": ("flatten", ("input", "A:start_dim", "A:end_dim")),
    "AdaptiveAvgPool2d": ("adaptive_avg_pool2d", ("input", "A:output_size")),
    "Embedding": ("embedding", ("input", "P:weight", "A:padding_idx", "A:max_norm")),
    # As F.embedding_bag takes them, so that one handler lowers the module and the function.
    "EmbeddingBag": ("embedding_bag", ("input", "P:weight", "I:1:offsets", "A:max_norm", "A:norm_type",
                                       "A:scale_grad_by_freq", "A:mode", "A:sparse", "I:2:per_sample_weights",
                                       "A:include_last_offset", "A:padding_idx")),
}


def canonical(name: str) -> str:
    """`__add__` -> `add`, `relu_` -> `relu`, `truediv` -> `div`."""
    bare = name.strip("_") if name.startswith("__") else name
    if bare.startswith("r") and bare[1:] in ("add", "mul", "sub", "truediv", "div", "pow"):
        bare = "r" + ALIASES.get(bare[1:], bare[1:])
        return bare
    bare = ALIASES.get(bare, bare)
    if bare.endswith("_") and not bare.startswith("_"):
        bare = bare[:-1]
    return ALIASES.get(bare, bare)
