"""Which rules apply under each policy, and how severe each one is there.

The two policies differ in what they let PyTorch keep (hybrid: vendor GEMM / convolution), not in
which escapes they tolerate: every sandbox rule is an error under both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ..results import Severity
from ..settings import Policy

_E, _W = Severity.ERROR, Severity.WARNING

# One table for both policies; the comment on a warning says why it does not refuse the candidate.
_SEVERITIES: Mapping[str, Severity] = MappingProxyType({
    "torch_compute": _E,
    "init_compute": _W,  # runs once on no inputs: it cannot compute outputs, but a person should see it
    "no_custom_kernel": _E,
    "kernel_defined_not_launched": _E,
    "calls_reference_model": _E,
    "try_fallback": _E,
    "concurrency": _E,
    "cuda_graph": _W,  # a legitimate launch-overhead trick; the dynamic checks and a reviewer judge it
    "monkey_patching": _E,
    "rng_state": _E,
    "tensor_subclass": _E,
    "io_access": _E,
    "reference_introspection": _E,
    "timer_access": _E,
    "stateful_forward": _W,  # caches of extensions and configs are legitimate; the fresh-input check decides
    "precision_downcast": _E,
    "implicit_tf32": _W,  # harmless when the operands are already half; the tolerance check decides
    "hidden_characters": _E,
})


@dataclass(frozen=True)
class Preset:
    severities: Mapping[str, Severity]  # the rules that run, in report order
    allow_vendor_heavy: bool  # GEMM / convolution calls may stay with cuBLAS / cuDNN


PRESETS: Mapping[Policy, Preset] = MappingProxyType({
    Policy.STRICT: Preset(_SEVERITIES, allow_vendor_heavy=False),
    Policy.HYBRID: Preset(_SEVERITIES, allow_vendor_heavy=True),
})
