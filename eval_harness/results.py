"""The one result of an evaluation: a frozen, JSON-serializable record of everything that happened.

Every failure is a status plus an `ErrorKind` chosen from exception types and process exit codes,
never by matching message text, so a search can route "repair" work without parsing strings.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .precision import DType, MathMode, legacy_mode


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvalStatus(StrEnum):
    CORRECT = "correct"
    INCORRECT = "incorrect"  # ran to completion, but an output check failed
    ERROR = "error"  # did not get as far as a verdict: load, build, crash, timeout


class Stage(StrEnum):
    STATIC_CHECK = "static_check"  # in the caller, on the source alone, before any worker time
    LOAD_PROBLEM = "load_problem"
    LOAD_CANDIDATE = "load_candidate"
    CONSTRUCT = "construct"
    CORRECTNESS = "correctness"
    TIMING = "timing"
    DYNAMIC_CHECK = "dynamic_check"
    PROFILE = "profile"
    BASELINE = "baseline"
    DISPATCH = "dispatch"  # in the caller, handing the request to a remote executor (a Ray actor) and waiting


class ErrorKind(StrEnum):
    PROBLEM_INVALID = "problem_invalid"  # the reference itself cannot load, build or run
    SYNTAX_ERROR = "syntax_error"
    IMPORT_ERROR = "import_error"  # the candidate module raised while executing
    MISSING_MODEL_NEW = "missing_model_new"
    CONSTRUCTION_ERROR = "construction_error"
    KERNEL_COMPILE_ERROR = "kernel_compile_error"  # Triton refused to compile a kernel
    EXTENSION_BUILD_ERROR = "extension_build_error"  # a load_inline C++/CUDA build failed (nvcc, the host compiler)
    RUNTIME_ERROR = "runtime_error"  # forward raised
    DEVICE_OUT_OF_MEMORY = "device_out_of_memory"
    HOST_MEMORY_LIMIT = "host_memory_limit"  # the worker outgrew its resident-memory cap
    TIMEOUT = "timeout"
    WORKER_CRASHED = "worker_crashed"  # segfault, abort, os._exit, CUDA context loss
    OUTPUT_STRUCTURE = "output_structure"  # wrong count, type, shape, dtype or device
    NON_FINITE_OUTPUT = "non_finite_output"
    OUTPUT_MISMATCH = "output_mismatch"
    INPUT_MUTATED = "input_mutated"
    NONDETERMINISTIC = "nondeterministic"  # disagrees with itself on identical inputs
    SHAPE_SPECIALISED = "shape_specialised"  # right on the primary shape, wrong on another
    HARNESS_TAMPERED = "harness_tampered"  # replaced a function the harness relies on
    POLICY_VIOLATION = "policy_violation"  # a static check of the source found an error-level rule
    KERNEL_NOT_LAUNCHED = "kernel_not_launched"  # no custom kernel ran during forward
    KERNELS_NOT_LOAD_BEARING = "kernels_not_load_bearing"  # output unchanged with kernels made no-ops
    REFERENCE_OPS_RAN = "reference_ops_ran"  # PyTorch compute ran as ATen operators beyond the policy
    STALE_RESULT = "stale_result"  # wrong on fresh inputs after timing: results reused across calls


class Severity(StrEnum):
    ERROR = "error"  # the candidate is refused
    WARNING = "warning"  # shown to the reviewer, not disqualifying


class CheckFinding(BaseModel):
    """One rule that a candidate's source or behaviour broke: which, where and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    severity: Severity
    reason: str
    line: int | None = None
    origin: str = Field(default="static", description="static (source) or dynamic (worker)")


class CompilerDiagnostic(_Frozen):
    """The first error a C++/CUDA compiler reported: what a repair should fix first."""

    file: str | None = Field(default=None, description="the build's file name: main.cpp (cpp_sources), cuda.cu")
    line: int | None = None
    column: int | None = None
    message: str
    context: str = Field(default="", description="the compiler's quote of the offending source line, if any")


class EvalError(_Frozen):
    kind: ErrorKind
    stage: Stage
    message: str
    output_tail: str = Field(default="", description="last lines the worker printed, bounded")
    compiler_diagnostic: CompilerDiagnostic | None = None


class Tolerance(_Frozen):
    atol: float
    rtol: float


class ArgumentSpec(_Frozen):
    """One positional argument as the harness passed it: a tensor's shape and dtype, or a plain value."""

    shape: list[int] | None = Field(default=None, description="None for a value that is not a tensor")
    dtype: str | None = Field(default=None, description="torch dtype without the `torch.` prefix")
    value: bool | int | float | str | list | None = None


class InputSignature(_Frozen):
    """Exactly what a trial ran on: constructor values, input tensors and the reference's state.

    A library kernel is routed only calls with a signature it was verified on (see
    kevolve.tools.kernel_library), so this is recorded by the worker, not inferred afterwards.
    """

    init: list[ArgumentSpec] = Field(description="get_init_inputs(), the constructor's arguments")
    inputs: list[ArgumentSpec] = Field(description="get_inputs() after placement on the device and dtype")
    state: list[ArgumentSpec] = Field(description="the reference's parameters then buffers, in module order")
    returns_tensor: bool = Field(description="forward returns one tensor, not a tuple or list")


class TrialOutcome(_Frozen):
    config: str = Field(description="input configuration: 'default', or a KEVOLVE_CONFIGS name")
    seed: int
    passed: bool
    signature: InputSignature | None = None
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    mismatched_elements: int = 0
    total_elements: int = 0


class CorrectnessReport(_Frozen):
    passed: bool
    tolerance: Tolerance
    trials: list[TrialOutcome]
    worst_abs_error: float | None = None
    worst_rel_error: float | None = None
    configs_checked: list[str]


class TimingStats(_Frozen):
    """Per-call device time in milliseconds; `samples_ms` keeps the raw trials unrounded."""

    method: str = Field(description="cuda_events or cpu_wall")
    trials: int
    median_ms: float
    q1_ms: float
    q3_ms: float
    min_ms: float
    max_ms: float
    mean_ms: float
    std_ms: float
    samples_ms: list[float]
    l2_flushed: bool
    input_sets: int = Field(description="inputs rotated among this many independent sets")
    wall_median_ms: float | None = Field(
        default=None, description="host clock around call + device sync; catches off-stream work"
    )


class SpeedComparison(_Frozen):
    """Baseline over candidate; >1 means the candidate is faster."""

    baseline: str
    speedup: float = Field(description="ratio of medians")
    ci_low: float
    ci_high: float
    verdict: str = Field(description="faster, slower or indistinguishable, at the CI level")


class BaselineTimings(_Frozen):
    eager: TimingStats | None = None
    compiled: TimingStats | None = None
    compile_skipped_reason: str | None = None
    from_cache: bool = False


class MeasuredCeilings(_Frozen):
    """Roofline ceilings measured on a device that has no hardware spec."""

    copy_bandwidth_gbps: float = Field(description="device-to-device copy, bytes read plus written")
    matmul_tflops: dict[str, float] = Field(description="square matrix product, dense, per dtype")
    l2_cache_bytes: int | None = None
    multiprocessor_count: int | None = None


class Environment(_Frozen):
    device: str
    device_name: str
    hardware_spec: str | None
    torch_version: str
    triton_version: str | None
    cuda_version: str | None
    driver_version: str | None
    python_version: str
    timing_meaningful: bool
    measured_ceilings: MeasuredCeilings | None = Field(
        default=None, description="measured instead of read from a spec, for a device with no spec"
    )
    note: str | None = None


class SpeedOfLight(_Frozen):
    """Floors for one problem on one device (see roofline.py); times only where a spec has them."""

    flops: int = Field(description="matrix FLOPs of one reference forward, from PyTorch's flop counter")
    bytes: int = Field(description="inputs, parameters and buffers read once, outputs written once")
    peak_tflops: float | None = None
    peak_unit: str | None = None
    bandwidth_gbps: float | None = None
    flop_floor_ms: float | None = None
    byte_floor_ms: float | None = None
    floor_ms: float | None = None
    bound: str | None = Field(default=None, description="memory or compute")
    arithmetic_intensity: float | None = Field(default=None, description="FLOPs per byte")


class KernelStat(_Frozen):
    name: str
    launches_per_call: float
    device_ms_per_call: float
    share: float = Field(description="fraction of the device time of one call")


class KernelProfile(_Frozen):
    """What one forward launched, from torch.profiler (GPU) or the Triton launch hook (CPU)."""

    source: str = Field(description="torch.profiler or triton_launch_hook")
    calls_profiled: int
    kernels: list[KernelStat]
    launches_per_call: float
    device_ms_per_call: float | None = None
    wall_ms_per_call: float | None = None
    launch_bound: bool | None = Field(default=None, description="the device idles between many short kernels")
    trace_file: str | None = None


class ProblemSanity(_Frozen):
    """Whether the reference's outputs depend on what they should; a degenerate problem rewards cheats."""

    degenerate_reasons: list[str] = Field(default_factory=list)


class NcuKernel(_Frozen):
    """One kernel as Nsight Compute measured it; a metric the sections did not give is None."""

    name: str
    block_size: int | None = Field(default=None, description="threads per block")
    grid_size: int | None = Field(default=None, description="blocks in the grid")
    duration_ms: float | None = Field(default=None, description="gpu__time_duration.sum")
    dram_throughput_pct: float | None = Field(default=None, description="DRAM bandwidth, % of peak")
    dram_bandwidth_gbps: float | None = Field(default=None, description="DRAM bytes read and written per second")
    memory_throughput_pct: float | None = Field(default=None, description="memory speed of light, % of peak")
    sm_throughput_pct: float | None = Field(default=None, description="compute (SM) speed of light, % of peak")
    achieved_occupancy_pct: float | None = None
    theoretical_occupancy_pct: float | None = None
    registers_per_thread: int | None = None
    shared_memory_per_block_bytes: int | None = Field(default=None, description="static plus dynamic")
    local_memory_bytes: float | None = Field(default=None, description="local-memory bytes loaded plus stored")
    register_spill_instructions: int | None = Field(default=None, description="executed register-spill instructions")
    local_memory_spill: bool | None = Field(
        default=None, description="spill instructions or local-memory traffic seen; None: neither measured"
    )
    top_stall_reasons: list[tuple[str, float]] = Field(
        default_factory=list, description="up to 3 (reason, warp cycles per issued instruction), largest first"
    )


class NcuReport(_Frozen):
    """Hardware counters for one profiled forward, or why there are none (`available` False)."""

    available: bool
    reason: str | None = None
    kernels: list[NcuKernel] = Field(default_factory=list)
    csv_path: str | None = None
    report_path: str | None = Field(default=None, description="the .ncu-rep, for the Nsight Compute GUI")
    command: list[str] = Field(default_factory=list, description="the ncu command line that was run")


class EvalResult(_Frozen):
    problem: str
    problem_sha256: str
    candidate_sha256: str | None
    dtype: str
    math: MathMode = Field(description="the regime every figure here holds for: reference, baselines and candidate")
    reference_switches: list[str] | None = Field(
        default=None, description="the regime's switches that govern the reference's operators (cudnn_tf32 for "
        "convolutions, matmul_precision for matrix products): the only flags its numerics depend on; None where "
        "not measured (the reference did not get that far, or results from before regimes)")
    status: EvalStatus
    error: EvalError | None = None
    environment: Environment | None = None
    correctness: CorrectnessReport | None = None
    timing: TimingStats | None = None
    baselines: BaselineTimings | None = None
    comparisons: list[SpeedComparison] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list, description="suspicious but not disqualifying")
    findings: list[CheckFinding] = Field(default_factory=list, description="static and dynamic check results")
    review_required: list[str] = Field(
        default_factory=list, description="reasons a person must clear this result before it earns fitness"
    )
    speed_of_light: SpeedOfLight | None = None
    percent_of_light: float | None = Field(default=None, description="floor over the candidate's median, in %")
    profile: KernelProfile | None = None
    ncu: NcuReport | None = Field(default=None, description="hardware counters, when `kevolve profile` ran ncu")
    problem_sanity: ProblemSanity | None = None
    stage_seconds: dict[str, float] = Field(default_factory=dict)
    worker_seconds: float = 0.0
    from_cache: bool = Field(
        default=False, description="read from the results cache: this verdict was reached by an earlier evaluation"
    )

    @model_validator(mode="before")
    @classmethod
    def _regime_of_older_results(cls, data: Any) -> Any:
        """Results stored before regimes (caches, run folders) ran with TF32 off in their dtype."""
        if isinstance(data, dict) and "math" not in data and "dtype" in data:
            data = {**data, "math": legacy_mode(DType(data["dtype"]))}
        return data

    @property
    def correct(self) -> bool:
        return self.status is EvalStatus.CORRECT

    @property
    def accepted(self) -> bool:
        """Correct, clean of error-level findings, and nothing waiting for a person's review."""
        return (
            self.correct
            and not self.review_required
            and not any(f.severity is Severity.ERROR for f in self.findings)
        )

    @property
    def fitness(self) -> float | None:
        """0 unless accepted; then the faster baseline's median over the candidate's.

        None where timings are not meaningful (the CPU interpreter): no figure, rather than a fake one.
        """
        if not self.accepted:
            return 0.0
        speedups = [c.speedup for c in self.comparisons]
        return min(speedups) if speedups else None

    def comparison_with(self, baseline: str) -> SpeedComparison | None:
        """The comparison with `eager` or `compiled`, or None when there is no meaningful figure."""
        return next((c for c in self.comparisons if c.baseline == baseline), None)

    def speedup_over(self, baseline: str) -> float | None:
        comparison = self.comparison_with(baseline)
        return comparison.speedup if comparison else None
