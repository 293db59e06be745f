"""Dispatch for the kernels in this package: verified kernels where verified, the reference everywhere else.

`kevolve library export` copies this file, unchanged, into the package it writes (as `_runtime.py`);
it imports only torch (and, through the kernels, Triton), so the package can be shipped on its own.

Each problem is one custom operator, `kevolve_lib::<problem>(Tensor[] inputs, Tensor[] state, str init)`.
`state` is the module's parameters then buffers, `init` its constructor arguments as JSON. A call is
served by a kernel only when (device type, device name, init, every input's and state tensor's shape
and dtype, and the caller's TF32 flags: cuDNN's and the float32 matmul precision) equals a signature
that kernel passed the harness's correctness trials on, in the precision regime it was verified in;
any other call runs the reference PyTorch code, is counted with its reason, and is logged once per
signature. The operator's
fake implementation runs the reference on fake tensors, so torch.compile and torch.export see the
true output shapes without running a kernel.

No file is imported before it hashes to what routes.json records: a reference that was changed
refuses the problem's import, a kernel that was changed is refused (logged, naming the file) and its
calls run the reference.
"""

import functools
import hashlib
import importlib
import json
import logging
import os
import platform
import threading
from collections import Counter
from pathlib import Path

import torch
from torch import nn
from torch.func import functional_call

logger = logging.getLogger(__package__)

REFERENCE = "reference"  # what `dispatch_counts` names the calls that fell back
_SCHEMA = "(Tensor[] inputs, Tensor[] state, str init) -> Tensor[]"


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _tensor_key(tensors) -> tuple:
    return tuple((tuple(t.shape), dtype_name(t.dtype)) for t in tensors)


def _spec_key(specs: list[dict]) -> tuple:
    return tuple((tuple(spec["shape"]), spec["dtype"]) for spec in specs)


def init_key(args: tuple, kwargs: dict) -> str:
    """The constructor's arguments as the operator's `init` string (and the routes' key)."""
    return json.dumps([list(args), kwargs], sort_keys=True)


@functools.cache  # asked on every call; a device's name does not change within a process
def device_name(device: torch.device) -> str:
    """As the harness names devices, so a route's device matches the machine it was verified on."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


class DispatchCounts:
    """Calls per (problem, kernel or REFERENCE); fallback signatures are logged once each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter = Counter()
        self.fallbacks: Counter = Counter()
        self._logged: set = set()

    def served(self, problem: str, kernel: str) -> None:
        with self._lock:
            self.calls[(problem, kernel)] += 1

    def fell_back(self, problem: str, signature: tuple, reason: str) -> None:
        with self._lock:
            self.calls[(problem, REFERENCE)] += 1
            self.fallbacks[(problem, signature, reason)] += 1
            first = (problem, signature, reason) not in self._logged
            self._logged.add((problem, signature, reason))
        if first:
            logger.warning("%s: reference PyTorch code serves %s (%s)", problem, _describe(signature), reason)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.fallbacks.clear()
            self._logged.clear()


COUNTS = DispatchCounts()


def _describe(signature: tuple) -> str:
    device_type, name, init, inputs, _, regime = signature
    shapes = ", ".join(f"{dtype}{list(shape)}" for shape, dtype in inputs)
    return f"inputs ({shapes}), init {init}, on {device_type} {name!r}, {_describe_regime(regime)}"


def _describe_regime(regime: tuple) -> str:
    cudnn_tf32, matmul_precision = regime
    cudnn = "any" if cudnn_tf32 is None else ("on" if cudnn_tf32 else "off")
    return f"cuDNN TF32 {cudnn}, float32 matmul precision {matmul_precision or 'any'}"


def _route_regime(route: dict) -> tuple:
    """The flags a route's caller must have; None: any (it governs none of the reference's operators).
    Routes exported before regimes were verified with TF32 off everywhere."""
    return route.get("cudnn_tf32", False), route.get("matmul_precision", "highest")


def _regime_matches(route_regime: tuple, caller: tuple) -> bool:
    return all(wanted is None or wanted == have for wanted, have in zip(route_regime, caller, strict=True))


def _no_kernel_reason(regimes: list[tuple]) -> str:
    if not regimes:
        return "no kernel was verified on this signature"
    return "verified only in another precision regime: " + "; ".join(_describe_regime(r) for r in regimes)


def caller_regime() -> tuple:
    """The caller's flags that decide the numerics of float32 convolutions and matrix products."""
    return bool(torch.backends.cudnn.allow_tf32), torch.get_float32_matmul_precision()


def _state(module: nn.Module) -> list[torch.Tensor]:
    return [*module.parameters(), *module.buffers()]


def _state_names(module: nn.Module) -> list[str]:
    return [name for name, _ in module.named_parameters()] + [name for name, _ in module.named_buffers()]


def _single_storage_outputs(outputs, inputs) -> list[torch.Tensor]:
    """Contiguous outputs that share no memory with an input: what a non-mutating op may return."""
    if isinstance(outputs, torch.Tensor):
        outputs = [outputs]
    taken = {t.untyped_storage().data_ptr() for t in inputs}
    result = []
    for out in outputs:
        out = out.contiguous()
        result.append(out.clone() if out.untyped_storage().data_ptr() in taken else out)
    return result


def changed_since_export(file: Path, sha256: str | None) -> str | None:
    """Why `file` must not be imported (it is missing or does not hash to `sha256`), or None when it may."""
    try:
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError as exc:
        return f"{file} cannot be read ({exc})"
    if digest != sha256:
        return f"{file} does not hash to routes.json's sha256 (it was changed after export): refusing to import it"
    return None


class ExportedProblem:
    """One problem's reference, kernels and routes, and its custom operator."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.folder = Path(importlib.import_module(package).__file__).parent
        self.manifest = json.loads((self.folder / "routes.json").read_text())
        self.name = self.manifest["problem"]
        self.returns_tensor = self.manifest["returns_tensor"]
        refused = changed_since_export(self.folder / "reference.py", self.manifest.get("reference_sha256"))
        if refused:
            raise ImportError(refused)
        self.reference = importlib.import_module(f"{package}.reference")
        # Per call, the kernels verified on it with the regime each was verified in.
        self.routes: dict[tuple, list[tuple[tuple, str]]] = {}
        for r in self.manifest["routes"]:
            call = (r["device_type"], r["device_name"], r["init"], _spec_key(r["inputs"]), _spec_key(r["state"]))
            self.routes.setdefault(call, []).append((_route_regime(r), r["kernel"]))
        self._skeletons: dict[str, nn.Module] = {}
        self._kernels: dict[tuple, nn.Module | None] = {}
        self._lock = threading.Lock()
        self.op = torch.library.custom_op(self.manifest["op"], self._run, mutates_args=(), schema=_SCHEMA)
        self.op.register_fake(self._fake)

    def prepare(self, args: tuple, kwargs: dict) -> str:
        """Called by the module's constructor: the `init` string, and its skeleton built outside any tracing."""
        init = init_key(args, kwargs)
        self.skeleton(init)
        return init

    def skeleton(self, init: str) -> nn.Module:
        """The reference on the meta device: its structure, to run with the caller's own state tensors."""
        with self._lock:
            if init not in self._skeletons:
                args, kwargs = json.loads(init)
                with torch.device("meta"):
                    self._skeletons[init] = self.reference.Model(*args, **kwargs)
            return self._skeletons[init]

    def serves(self, module: nn.Module, inputs: tuple) -> bool:
        """Whether a forward call can go through the operator: plain tensors, and no autograd graph wanted.

        The kernels were verified for inference; a call that needs gradients runs the reference.
        """
        if not all(isinstance(x, torch.Tensor) for x in inputs) or not inputs:
            return False
        if not torch.is_grad_enabled():
            return True
        return not any(t.requires_grad for t in (*inputs, *_state(module)))

    def state(self, module: nn.Module) -> list[torch.Tensor]:
        return _state(module)

    def _call_reference(self, inputs: list[torch.Tensor], state: list[torch.Tensor], init: str):
        skeleton = self.skeleton(init)
        return functional_call(skeleton, dict(zip(_state_names(skeleton), state, strict=True)), tuple(inputs))

    def _run_reference(self, inputs: list[torch.Tensor], state: list[torch.Tensor], init: str) -> list[torch.Tensor]:
        return _single_storage_outputs(self._call_reference(inputs, state, init), [*inputs, *state])

    def _fake(self, inputs: list[torch.Tensor], state: list[torch.Tensor], init: str) -> list[torch.Tensor]:
        """Output shapes from the reference run on fake tensors; contiguous, as the real outputs are made."""
        outputs = self._call_reference(inputs, state, init)
        outputs = [outputs] if isinstance(outputs, torch.Tensor) else outputs
        return [torch.empty_like(out, memory_format=torch.contiguous_format) for out in outputs]

    def _run(self, inputs: list[torch.Tensor], state: list[torch.Tensor], init: str) -> list[torch.Tensor]:
        device = inputs[0].device
        call = (device.type, device_name(device), init, _tensor_key(inputs), _tensor_key(state))
        signature = (*call, caller_regime())
        verified = self.routes.get(call, [])
        if verified and device.type == "cpu" and os.environ.get("TRITON_INTERPRET") != "1":
            # Verified through Triton's interpreter; without it Triton looks for a GPU driver and fails.
            COUNTS.fell_back(self.name, signature, "its kernels run on the CPU only through Triton's interpreter: "
                             "set TRITON_INTERPRET=1 before the first call to use them")
            return self._run_reference(inputs, state, init)
        kernel_name = next((kernel for regime, kernel in verified if _regime_matches(regime, signature[-1])), None)
        if kernel_name is None:
            COUNTS.fell_back(self.name, signature, _no_kernel_reason([regime for regime, _ in verified]))
            return self._run_reference(inputs, state, init)
        kernel = self._kernel(kernel_name, init, device, state)
        if kernel is None:
            COUNTS.fell_back(self.name, signature, f"kernel {kernel_name} could not be set up (logged above)")
            return self._run_reference(inputs, state, init)
        COUNTS.served(self.name, kernel_name)
        outputs = functional_call(kernel, dict(zip(_state_names(kernel), state, strict=True)), tuple(inputs))
        return _single_storage_outputs(outputs, [*inputs, *state])

    def _kernel(self, name: str, init: str, device: torch.device, state: list[torch.Tensor]) -> nn.Module | None:
        """The kernel's ModelNew for these constructor arguments on `device`, built once; None if unusable."""
        key = (name, init, str(device))
        with self._lock:
            if key not in self._kernels:
                self._kernels[key] = self._build_kernel(name, init, device, state)
            return self._kernels[key]

    def _build_kernel(self, name: str, init: str, device: torch.device, state: list[torch.Tensor]):
        refused = changed_since_export(self.folder / "kernels" / f"{name}.py",
                                       self.manifest.get("kernel_sha256", {}).get(name))
        if refused:
            logger.error("%s: kernel %s refused: %s", self.name, name, refused)
            return None
        try:
            module = importlib.import_module(f"{self.package}.kernels.{name}")
            args, kwargs = json.loads(init)
            with torch.device(device):
                kernel = module.ModelNew(*args, **kwargs)
        except Exception:
            logger.exception("%s: kernel %s failed to load or construct", self.name, name)
            return None
        # The harness built ModelNew with the reference's parameters in the same order (KernelBench's
        # convention); the caller's state is swapped in by position, so the shapes must line up.
        own = [tuple(t.shape) for t in _state(kernel)]
        given = [tuple(t.shape) for t in state]
        if own != given:
            logger.error("%s: kernel %s holds state of shapes %s, the module %s", self.name, name, own, given)
            return None
        return kernel.eval()


def dispatch_counts() -> dict[str, dict[str, int]]:
    """Calls so far per problem: per kernel name, and REFERENCE for the calls that fell back."""
    summary: dict[str, dict[str, int]] = {}
    for (problem, served_by), count in sorted(COUNTS.calls.items()):
        summary.setdefault(problem, {})[served_by] = count
    return summary


def fallback_signatures() -> dict[str, int]:
    """Each signature that fell back to the reference, described with the reason, and its call count."""
    return {f"{problem}: {_describe(signature)}: {reason}": count
            for (problem, signature, reason), count in COUNTS.fallbacks.items()}


def reset_counts() -> None:
    COUNTS.reset()
