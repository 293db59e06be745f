"""The names the static checks judge by, as data. Each list says why it holds what it holds.

Names are canonical dotted paths (`torch.nn.functional.softmax`), whatever alias the candidate
imported them under; tensor methods are bare names, since a receiver's type is unknown statically.
"""

from __future__ import annotations

# --- torch functions a candidate may call outside its kernels -----------------------------------

# Allocation: a candidate must create its outputs and scratch buffers somewhere.
TORCH_ALLOCATION = frozenset({
    "torch.empty", "torch.empty_like", "torch.empty_strided", "torch.zeros", "torch.zeros_like",
    "torch.ones", "torch.ones_like", "torch.full", "torch.full_like", "torch.arange", "torch.tensor",
    "torch.as_tensor", "torch.as_strided", "torch.from_numpy", "torch.scalar_tensor",
})
# Random draws: parameters must be drawn exactly as the reference draws them (nn.Parameter(torch.randn(n))).
# A draw computes nothing from the inputs, and noise in forward fails the correctness check anyway.
# Draws parameterised by input tensors (bernoulli, poisson, multinomial) are compute and stay out.
TORCH_RANDOM_DRAWS = frozenset({
    "torch.randn", "torch.rand", "torch.randint", "torch.randn_like", "torch.rand_like",
    "torch.randint_like", "torch.randperm", "torch.normal",
})
# Views: they reinterpret strides and move no data, so a launcher may shape its arguments with them.
TORCH_VIEWS = frozenset({
    "torch.reshape", "torch.flatten", "torch.unflatten", "torch.transpose", "torch.swapaxes",
    "torch.swapdims", "torch.permute", "torch.movedim", "torch.moveaxis", "torch.squeeze",
    "torch.unsqueeze", "torch.narrow", "torch.select", "torch.t", "torch.view_as_real",
    "torch.view_as_complex", "torch.split", "torch.chunk", "torch.tensor_split", "torch.unbind",
    "torch.broadcast_to", "torch.broadcast_tensors", "torch.detach",
})
# Metadata, types and autograd modes: they describe tensors or switch off autograd, never compute.
TORCH_METADATA = frozenset({
    "torch", "torch.nn", "torch.cuda", "torch.broadcast_shapes", "torch.Size", "torch.finfo",
    "torch.iinfo", "torch.is_tensor", "torch.is_floating_point", "torch.is_complex", "torch.numel",
    "torch.get_default_dtype", "torch.device", "torch.dtype", "torch.promote_types", "torch.result_type",
    "torch.can_cast", "torch.typename", "torch.is_grad_enabled", "torch.is_inference_mode_enabled",
    "torch.no_grad", "torch.enable_grad", "torch.inference_mode", "torch.set_grad_enabled", "torch.Tensor",
    "torch.Generator", "torch.memory_format", "torch.layout", "torch.is_storage", "torch.__version__",
    # device queries and the host-side wait; a launcher may need the current stream's handle
    "torch.cuda.is_available", "torch.cuda.is_initialized", "torch.cuda.current_device", "torch.cuda.device",
    "torch.cuda.device_count", "torch.cuda.get_device_properties", "torch.cuda.get_device_capability",
    "torch.cuda.get_device_name", "torch.cuda.synchronize", "torch.cuda.current_stream",
    "torch.cuda.default_stream",
    # An asynchronous assertion on a flag a kernel wrote (an id out of range): it computes nothing the output
    # holds, and is how a kernel raises on bad input without making every call wait for the host.
    "torch._assert_async",
})
# dtype and layout constants (references, never calls); low-precision ones are judged by the downcast rule.
TORCH_DTYPE_NAMES = frozenset(
    f"torch.{name}"
    for name in (
        "float", "float32", "float64", "double", "half", "float16", "bfloat16", "int", "int8", "int16",
        "int32", "int64", "long", "short", "uint8", "uint16", "uint32", "uint64", "bool", "complex64",
        "complex128", "cfloat", "cdouble", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
        "float8_e5m2fnuz", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
        "strided",
    )
)
TORCH_ALLOWED_FUNCTIONS = TORCH_ALLOCATION | TORCH_RANDOM_DRAWS | TORCH_VIEWS | TORCH_METADATA | TORCH_DTYPE_NAMES
# Namespaces that build structure, not results: modules and parameters (calling a layer is judged
# separately), initialisers, custom autograd functions and ops, inline extensions, version strings.
TORCH_ALLOWED_PREFIXES = (
    "torch.nn.Module", "torch.nn.Parameter", "torch.nn.parameter", "torch.nn.init", "torch.nn.modules",
    "torch.autograd.Function", "torch.autograd.function", "torch.library", "torch.utils.cpp_extension",
    "torch.version", "torch.types", "torch.cuda.nvtx",
)

# --- Vendor-heavy work that `hybrid` leaves to cuBLAS / cuDNN ------------------------------------

# GEMM, convolution and fused attention (PyTorch's flash / memory-efficient / cuDNN kernels, as cuBLAS is for a
# GEMM), the ops the dynamic check's VENDOR_HEAVY_ATEN_OPS lets through. einsum is not here: `einsum("ij->i", x)`
# is a row sum, and the string decides whether it is a GEMM at all.
VENDOR_HEAVY_FUNCTIONS = frozenset({
    "torch.matmul", "torch.mm", "torch.bmm", "torch.addmm", "torch.baddbmm",
    "torch.conv1d", "torch.conv2d", "torch.conv3d", "torch.conv_transpose1d", "torch.conv_transpose2d",
    "torch.conv_transpose3d", "torch.convolution",
    "torch.nn.functional.linear", "torch.nn.functional.conv1d", "torch.nn.functional.conv2d",
    "torch.nn.functional.conv3d", "torch.nn.functional.conv_transpose1d",
    "torch.nn.functional.conv_transpose2d", "torch.nn.functional.conv_transpose3d",
    "torch.nn.functional.scaled_dot_product_attention",
})
# The same work reached as tensor methods (`x.matmul(w)`, `x @ w` is `__matmul__`).
VENDOR_HEAVY_METHODS = frozenset({"matmul", "mm", "bmm", "addmm", "baddbmm", "__matmul__", "__rmatmul__"})
# nn layers whose forward is one GEMM or convolution (plus a bias the vendor kernel fuses).
NN_VENDOR_LAYERS = frozenset({
    "Linear", "LazyLinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
    "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
    "LazyConvTranspose2d", "LazyConvTranspose3d",
})
# Capitalised names under torch.nn that are not layers: constructing or calling them computes nothing.
NN_NON_LAYERS = frozenset({
    "Module", "Parameter", "Buffer", "ParameterList", "ParameterDict", "UninitializedParameter",
    "UninitializedBuffer", "Identity",
})
# Containers: calling one runs every layer inside it.
NN_CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})

# --- Tensor methods ------------------------------------------------------------------------------

# Methods that compute (arithmetic, reductions, activations, comparisons, indexing that moves data);
# `name_` in-place variants count too. View, allocation and metadata methods (view, reshape,
# contiguous, permute, expand, size, stride, data_ptr, to, clone, copy_, fill_, zero_, new_empty...)
# are absent on purpose: launchers need them.
COMPUTE_METHODS = frozenset({
    "abs", "absolute", "acos", "acosh", "add", "addbmm", "addcdiv", "addcmul", "addmv", "addr", "all",
    "allclose", "amax", "amin", "aminmax", "angle", "any", "apply_", "argmax", "argmin", "argsort", "asin",
    "asinh", "atan", "atan2", "atanh", "bernoulli", "bincount", "bitwise_and", "bitwise_left_shift",
    "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "ceil", "cholesky", "clamp",
    "clamp_max", "clamp_min", "clip", "cos", "cosh", "count_nonzero", "cross", "cummax", "cummin",
    "cumprod", "cumsum", "deg2rad", "det", "diag", "diag_embed", "diff", "digamma", "dist", "div",
    "divide", "dot", "eq", "equal", "erf", "erfc", "erfinv", "exp", "exp2", "expm1", "fill_diagonal",
    "flip", "fliplr", "flipud", "floor", "floor_divide", "fmax", "fmin", "fmod", "frac", "gather", "ge",
    "gelu", "greater", "greater_equal", "gt", "heaviside", "histc", "hypot", "index_add", "index_copy",
    "index_fill", "index_put", "index_reduce", "index_select", "inner", "inverse", "isclose",
    "isfinite", "isinf", "isnan", "kron", "kthvalue", "le", "lerp", "less", "less_equal", "lgamma",
    "log", "log10", "log1p", "log2", "log_softmax", "logaddexp", "logaddexp2", "logcumsumexp", "logdet",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logit", "logsumexp", "lt", "map_", "map2_",
    "masked_fill", "masked_scatter", "masked_select", "matrix_exp", "matrix_power", "max", "maximum",
    "mean", "median", "min", "minimum", "mode", "msort", "mul", "multiply", "mv", "nan_to_num",
    "nanmean", "nanmedian", "nanquantile", "nansum", "ne", "neg", "negative", "nonzero", "norm",
    "not_equal", "outer", "pow", "prod", "put", "quantile", "rad2deg", "reciprocal", "relu",
    "remainder", "renorm", "repeat", "repeat_interleave", "roll", "rot90", "round", "rsqrt", "scatter",
    "scatter_add", "scatter_reduce", "sgn", "sigmoid", "sign", "signbit", "silu", "sin", "sinc", "sinh",
    "slogdet", "softmax", "sort", "sqrt", "square", "std", "sub", "subtract", "sum", "svd", "take",
    "take_along_dim", "tan", "tanh", "tile", "topk", "trace", "tril", "triu", "true_divide", "trunc",
    "unique", "unique_consecutive", "var", "vdot", "where", "xlogy",
    # the operators, called by their dunder names
    "__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__isub__", "__mul__", "__rmul__", "__imul__",
    "__truediv__", "__rtruediv__", "__itruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__",
    "__pow__", "__rpow__", "__ipow__", "__neg__", "__abs__", "__and__", "__or__", "__xor__", "__invert__",
    "__lshift__", "__rshift__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
})
# Methods of an nn layer that run its forward (`self.conv._conv_forward(x, w, b)` is conv2d).
LAYER_FORWARD_METHODS = frozenset({"forward", "__call__", "_conv_forward", "_call_impl", "_wrapped_call_impl"})
# Methods that hand tensor data to the host, where compute escapes this check and the ATen trace.
HOST_TRANSFER_METHODS = frozenset({"cpu", "numpy", "tolist"})
# Methods that downcast to a half type (judged by the precision rule, not as compute).
DOWNCAST_METHODS = frozenset({"half", "bfloat16"})
# Python builtins whose result is never a tensor: a method called on one is not tensor compute
# (`seen.add(k)`, `items.sort()`, `logger.log(...)` are not `Tensor.add`, `Tensor.sort`, `Tensor.log`).
PLAIN_CONSTRUCTORS = frozenset({
    "list", "set", "dict", "tuple", "frozenset", "sorted", "str", "bytearray", "range", "enumerate", "zip",
})
# Roots of module paths whose objects are not tensors (everything outside these is treated so).
TENSOR_LIBRARIES = ("torch", "numpy")

# --- numpy ------------------------------------------------------------------------------------

# numpy calls that only describe dtypes or do shape arithmetic; any other numpy call is host compute.
# np.prod stays: reaching tensor data needs `.numpy()` / `.cpu()`, which are flagged themselves.
NUMPY_ALLOWED = frozenset({
    "numpy.dtype", "numpy.finfo", "numpy.iinfo", "numpy.prod", "numpy.ndarray", "numpy.float16",
    "numpy.float32", "numpy.float64", "numpy.int8", "numpy.int16", "numpy.int32", "numpy.int64",
    "numpy.uint8", "numpy.bool_", "numpy.intp",
})

# --- Escapes from the sandbox's assumptions -------------------------------------------------------

# Not a custom kernel: a compiler or tracer that turns PyTorch into someone else's kernels.
COMPILER_PREFIXES = ("torch.compile", "torch.jit", "torch._dynamo", "torch._inductor", "torch.export", "torch.fx")
# Process-wide PyTorch state: flags the harness and the reference share (slowing the baseline by
# disabling cuDNN, changing default dtypes, freeing the allocator's cache between timings).
# PyTorch's private bindings of its public ops (torch._C._nn.linear is F.linear): compute, not state.
TORCH_PRIVATE_COMPUTE_PREFIXES = ("torch._C._nn", "torch._C._VariableFunctions", "torch._C._linalg",
                                  "torch._C._special", "torch._C._fft", "torch._VF")
GLOBAL_STATE_PREFIXES = (
    "torch.backends", "torch.set_", "torch.use_deterministic_algorithms", "torch._C", "torch.cuda",
    "torch.default_generator",
)
# Seeding or reading the global generators: the harness draws inputs from them, so a candidate that
# seeds or reads them can predict the next inputs (or replay the reference's draws).
RNG_STATE_NAMES = frozenset({
    "torch.manual_seed", "torch.seed", "torch.initial_seed", "torch.get_rng_state", "torch.set_rng_state",
    "torch.cuda.manual_seed", "torch.cuda.manual_seed_all", "torch.cuda.seed", "torch.cuda.seed_all",
    "torch.cuda.initial_seed", "torch.cuda.get_rng_state", "torch.cuda.get_rng_state_all",
    "torch.cuda.set_rng_state", "torch.cuda.set_rng_state_all", "numpy.random.seed", "numpy.random.get_state",
    "numpy.random.set_state", "random.seed", "random.getstate", "random.setstate",
})
RNG_STATE_PREFIXES = ("torch.random", "torch.cuda.random")
# Mixed precision and TF32 switches: they lower fp32 accuracy behind the candidate's back.
PRECISION_NAMES = frozenset({
    "torch.backends.cuda.matmul.allow_tf32", "torch.backends.cudnn.allow_tf32",
    "torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction",
    "torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction",
    "torch.backends.cuda.matmul.fp32_precision", "torch.backends.cudnn.fp32_precision",
    "torch.backends.cudnn.conv.fp32_precision", "torch.backends.cudnn.rnn.fp32_precision",
    "torch.backends.fp32_precision", "torch.set_float32_matmul_precision", "torch.autocast",
})
PRECISION_PREFIXES = ("torch.amp", "torch.cuda.amp", "torch.cpu.amp")
LOW_PRECISION_TORCH_DTYPES = frozenset({
    "torch.float16", "torch.half", "torch.bfloat16", "torch.float8_e4m3fn", "torch.float8_e5m2",
    "torch.float8_e4m3fnuz", "torch.float8_e5m2fnuz",
})
# Triton dtypes below fp32 (fp8 variants are matched by prefix).
LOW_PRECISION_TRITON_DTYPES = frozenset({"triton.language.float16", "triton.language.bfloat16"})
LOW_PRECISION_TRITON_PREFIX = "triton.language.float8"
# Concurrency: work outside the timed stream, or outside the process, hides its cost from the timer.
CONCURRENCY_MODULES = frozenset({
    "threading", "_thread", "multiprocessing", "concurrent", "asyncio", "subprocess", "signal",
    "torch.multiprocessing", "torch.distributed",
})
CONCURRENCY_NAMES = frozenset({
    "os.fork", "os.forkpty", "os.kill", "os.killpg", "os.posix_spawn", "os.posix_spawnp", "os.spawnl",
    "os.spawnle", "os.spawnlp", "os.spawnlpe", "os.spawnv", "os.spawnve", "os.spawnvp", "os.spawnvpe",
    "torch.cuda.Stream", "torch.cuda.stream", "torch.cuda.set_stream", "torch.cuda.ExternalStream",
    "torch.cuda.StreamContext", "torch.Stream", "torch.nn.DataParallel", "torch.nn.parallel",
})
CONCURRENCY_PREFIXES = ("torch.multiprocessing", "torch.distributed", "torch.nn.parallel")
# CUDA graph capture: a legitimate launch-overhead trick, but the replay hides which work ran.
CUDA_GRAPH_NAMES = frozenset({
    "torch.cuda.graph", "torch.cuda.graphs", "torch.cuda.CUDAGraph", "torch.cuda.make_graphed_callables",
    "torch.cuda.graph_pool_handle",
})
# Clocks and profilers: a candidate that reads time can tell when it is being timed.
TIMER_MODULES = frozenset({"time", "timeit", "datetime", "resource"})
TIMER_NAMES = frozenset({"torch.cuda.Event", "torch.Event", "torch.profiler", "torch.autograd.profiler",
                         "torch.cuda.profiler", "torch.utils.benchmark", "triton.testing"})
# Files, environment, code loading: a candidate's result must come from its inputs, not from disk,
# the environment or code fetched at run time.
IO_MODULES = frozenset({
    "os", "io", "pathlib", "shutil", "pickle", "marshal", "shelve", "tempfile", "ctypes", "importlib",
    "glob", "fcntl", "mmap", "zipfile", "tarfile", "sqlite3", "cffi", "dill", "joblib",
})
IO_NAMES = frozenset({
    "sys.argv", "sys.stdin", "sys.path", "torch.save", "torch.load", "torch.utils.cpp_extension.load",
    "torch.ops.load_library", "torch.classes.load_library", "numpy.load", "numpy.save", "numpy.savez",
    "numpy.fromfile", "numpy.loadtxt", "numpy.savetxt", "numpy.memmap", "numpy.genfromtxt",
})
IO_PREFIXES = ("torch.hub", "torch.serialization")
IO_BUILTINS = frozenset({"open", "eval", "exec", "compile", "__import__", "input", "breakpoint"})
# Network modules are refused at import: no candidate has a reason to import them.
NETWORK_MODULES = frozenset({
    "socket", "ssl", "urllib", "urllib3", "http", "requests", "httpx", "aiohttp", "ftplib", "smtplib",
    "xmlrpc", "telnetlib", "websocket", "websockets", "paramiko",
})
# Ways to reach the reference model, its outputs or the harness's frames from inside the candidate.
INTROSPECTION_MODULES = frozenset({"gc", "inspect", "traceback", "__main__"})
INTROSPECTION_NAMES = frozenset({
    "sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile", "sys.gettrace",
    "sys.getprofile", "sys.exc_info", "sys.last_traceback", "sys.modules",
})
INTROSPECTION_BUILTINS = frozenset({"globals", "locals", "vars"})
INTROSPECTION_ATTRIBUTES = frozenset({
    "f_back", "f_locals", "f_globals", "f_builtins", "f_code", "tb_frame", "tb_next", "gi_frame",
    "cr_frame", "ag_frame", "__globals__", "__closure__", "__code__", "__subclasses__",
})
# Tensor subclassing and dispatch modes: a subclass can fake comparisons or intercept the
# reference's own ops.
TENSOR_BASES = frozenset({
    "torch.Tensor", "torch._C.TensorBase", "torch._C._TensorBase", "torch.nn.Parameter",
    "torch.nn.parameter.Parameter", "torch.nn.Buffer",
})
SUBCLASS_PREFIXES = ("torch.utils._python_dispatch", "torch.overrides", "torch._subclasses")
SUBCLASS_METHODS = frozenset({"as_subclass", "_make_subclass", "_make_wrapper_subclass"})
SUBCLASS_HOOKS = frozenset({"__torch_function__", "__torch_dispatch__"})
SUBCLASS_NAME_SUFFIXES = ("TorchDispatchMode", "TorchFunctionMode")
# Modules whose attributes a candidate must never rebind (any imported module counts; these are
# also refused by name, because importing them at all is the first step of a patch).
PATCH_MODULES = frozenset({"builtins"})
SYS_MODULES_MUTATORS = frozenset({"update", "pop", "setdefault", "clear", "__setitem__", "__delitem__", "popitem"})
# Modules a candidate must not import: the problem (reference) and the harness itself.
REFERENCE_MODULE_ROOTS = frozenset({"kevolve", "eval_harness", "__main__", "reference", "problem", "harness_helpers"})
REFERENCE_MODULE_PREFIX = "kevolve_src_"
REFERENCE_NAME = "Model"

# --- Triton -------------------------------------------------------------------------------------

# Decorators whose function body is kernel code (exempt from the PyTorch rules).
KERNEL_DECORATORS = frozenset({
    "triton.jit", "triton.autotune", "triton.heuristics", "triton.runtime.jit", "triton.runtime.autotune",
    "triton.runtime.heuristics", "triton.runtime.jit.jit", "triton.runtime.autotuner.autotune",
    "triton.runtime.autotuner.heuristics", "triton.experimental.gluon.jit",
})
LOAD_INLINE = "torch.utils.cpp_extension.load_inline"
TRITON_DOT = "triton.language.dot"
# tl.dot input precisions that keep fp32 accuracy; plain "tf32" (the default on tensor-core GPUs)
# keeps 10 mantissa bits.
FP32_DOT_PRECISIONS = frozenset({"ieee", "tf32x3", "bf16x6"})

# --- C++ / CUDA sources passed to load_inline -------------------------------------------------------

# torch:: / at:: functions a C++ wrapper may call: allocation, streams, guards and types.
CPP_ALLOWED = frozenset({
    "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like",
    "arange", "from_blob", "tensor", "TensorOptions", "Tensor", "Scalar", "IntArrayRef", "ArrayRef", "Device",
    "device", "dtype", "elementSize", "toString", "cuda::getCurrentCUDAStream", "cuda::getDefaultCUDAStream",
    "cuda::getCurrentDeviceProperties", "cuda::getDeviceProperties", "cuda::CUDAGuard",
    "cuda::OptionalCUDAGuard", "cuda::current_device", "cuda::device_count", "DeviceGuard",
    "OptionalDeviceGuard", "MemoryFormat", "ScalarType", "typeMetaToScalarType", "ceil_div",
})
# Explicit float -> half / bfloat16 / TF32 conversions in CUDA code (mentioning `__half` alone is not
# flagged: dtype-generic code names it in its dispatch even when it runs in fp32).
CUDA_DOWNCAST_PATTERN = (
    r"\b(__float2half\w*|__float2bfloat16\w*|__floats2half2\w*|__float22half2\w*|__floats2bfloat162\w*|"
    r"__float22bfloat162\w*|__float_to_tf32|wmma::precision::tf32|precision::tf32|"
    r"CUBLAS_COMPUTE_32F_FAST_\w+|CUBLAS_TF32_TENSOR_OP_MATH)\b"
)
# Host threads and extra streams in C++ (concurrency), graph capture (cuda_graph), device clocks (timer).
CUDA_CONCURRENCY_PATTERN = r"\b(std::thread|std::async|std::jthread|pthread_create|cudaStreamCreate\w*|fork)\b"
CUDA_GRAPH_PATTERN = r"\b(cudaStreamBeginCapture\w*|cudaGraphLaunch|cudaGraphInstantiate\w*)\b"
CUDA_TIMER_PATTERN = r"\b(clock64|clock|globaltimer|cudaEventElapsedTime|std::chrono)\b"
# Clock reads inside Triton kernels (tl.extra.cuda.globaltimer and friends).
TRITON_TIMER_SUFFIXES = (".globaltimer", ".clock", ".clock64")
