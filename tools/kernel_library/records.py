"""The kernel library's records on disk: what was approved, on what, and whether it is still trusted.

    <library>/<problem>/reference-<sha256[:16]>.py                 the problem's source, as verified
    <library>/<problem>/<hardware spec or device>/<node id>.py      the kernel's source
    <library>/<problem>/<hardware spec or device>/<node id>.json    its KernelRecord (written once, at approval)
    <library>/<problem>/<hardware spec or device>/<node id>.status.json   its latest re-validation, if any

The approval record never changes; re-validation writes its verdict beside it, so export and
dispatch can skip a kernel that became wrong or slow without losing why it was approved.

A library is read as untrusted input: a record's names must be safe names that match where it lies,
and its kernel (and problem) source must hash to the record; anything else is refused, naming the file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kevolve.eval_harness.precision import DType, MathMode, legacy_mode
from kevolve.eval_harness.results import EvalResult, InputSignature
from kevolve.tools.safe_names import UnsafeName, checked_name, slug

STATUS_SUFFIX = ".status.json"
# In a folder kevolve made as a library: a run folder naming its library (TaskSpec.sources.library) is
# written to only where this mark is, so a copied run cannot choose where approvals land.
LIBRARY_MARK = ".kevolve-library"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_Model = TypeVar("_Model", bound=BaseModel)


class LibraryError(ValueError):
    """A library folder or record that cannot be read; the message names the file."""


class KernelRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    problem: str
    problem_sha256: str
    source_sha256: str
    device: str
    device_name: str | None
    hardware_spec: str | None
    policy: str
    dtype: str
    math: MathMode = Field(description="the precision regime it was verified in; dispatch serves only callers in it")
    reference_switches: list[str] | None = Field(
        default=None, description="the regime's switches its reference's numerics depend on (EvalResult's); "
        "None where unknown: then every switch must match")
    speedup_eager: float | None
    speedup_compiled: float | None
    percent_of_light: float | None
    torch_version: str | None
    triton_version: str | None
    cuda_version: str | None
    driver_version: str | None
    run_id: str
    node_id: str
    written_by: str | None = Field(default=None, description="the offline engine, a hand-written seed, or the model "
                                   "and its call; None in records written before it was kept")
    approved_by: str
    approved_at: datetime
    automatic_approval: bool = Field(description="true when nobody looked (--auto-approve)")
    comment: str | None = None
    verified_signatures: list[InputSignature] = Field(
        default_factory=list, description="every distinct input signature a passed correctness trial ran on"
    )
    problem_file: str | None = Field(
        default=None, description="the problem's source in the library, relative to the library folder"
    )

    @model_validator(mode="before")
    @classmethod
    def _regime_of_older_records(cls, data: Any) -> Any:
        """Records written before regimes were verified with TF32 off: `exact` for float32 kernels."""
        if isinstance(data, dict) and "math" not in data and "dtype" in data:
            data = {**data, "math": legacy_mode(DType(data["dtype"]))}
        return data


class KernelStatus(BaseModel):
    """The latest re-validation of one kernel, under the software and device named here."""

    model_config = ConfigDict(frozen=True)

    enabled: bool
    reason: str = Field(description="why it was disabled, or what the check found")
    checked_at: datetime
    device: str
    device_name: str | None
    torch_version: str | None
    triton_version: str | None
    driver_version: str | None
    timing_checked: bool = Field(description="false where timings are not meaningful (a CPU)")
    speedup_eager: float | None = None
    speedup_compiled: float | None = None
    verified_signatures: list[InputSignature] = Field(default_factory=list)
    reference_switches: list[str] | None = Field(
        default=None, description="as KernelRecord's, measured again: how a record from before regimes learns them")


@dataclass(frozen=True)
class LibraryEntry:
    """One approved kernel as found on disk, with its latest status."""

    library: Path
    record_path: Path
    record: KernelRecord
    status: KernelStatus | None

    @property
    def source_path(self) -> Path:
        return self.record_path.with_suffix(".py")

    @property
    def status_path(self) -> Path:
        return self.record_path.with_name(self.record_path.stem + STATUS_SUFFIX)

    @property
    def problem_path(self) -> Path | None:
        return self.library / self.record.problem_file if self.record.problem_file else None

    @property
    def placement(self) -> str:
        return self.record_path.parent.name

    @property
    def enabled(self) -> bool:
        return self.status is None or self.status.enabled

    def source(self) -> str:
        """The kernel's source, once it hashes to its record; raises LibraryError naming the file."""
        return _verified_text(self.source_path, self.record.source_sha256, self.record_path)

    def problem_source(self) -> str:
        """The problem's source kept beside the kernels, once it hashes to the record; raises LibraryError."""
        if self.problem_path is None:
            raise LibraryError(f"{self.record_path}: the library does not keep its problem source")
        return _verified_text(self.problem_path, self.record.problem_sha256, self.record_path)

    @property
    def signatures(self) -> list[InputSignature]:
        """Signatures from approval and from the latest re-validation, without repeats."""
        found: list[InputSignature] = []
        for signature in [*self.record.verified_signatures, *(self.status.verified_signatures if self.status else [])]:
            if signature not in found:
                found.append(signature)
        return found


def verified_signatures(result: EvalResult) -> list[InputSignature]:
    """The distinct signatures of an evaluation's passed trials, in the order they ran."""
    found: list[InputSignature] = []
    for trial in result.correctness.trials if result.correctness else []:
        if trial.passed and trial.signature is not None and trial.signature not in found:
            found.append(trial.signature)
    return found


def mark_library(library: Path) -> None:
    """Makes `library` (if needed) and marks it as a folder kevolve keeps kernels in."""
    library.mkdir(parents=True, exist_ok=True)
    (library / LIBRARY_MARK).touch()


def is_marked_library(library: Path) -> bool:
    return (library / LIBRARY_MARK).is_file()


def problem_file_name(problem_sha256: str) -> str:
    return f"reference-{problem_sha256[:16]}.py"


def placement_name(hardware_spec: str | None, device_name: str | None) -> str:
    """The folder a kernel's device gets: its hardware spec's name, else its model name made a safe name."""
    if hardware_spec:
        return checked_name("hardware spec", hardware_spec)
    return checked_name("device name", slug(device_name or "") or "unknown-device")


def kernel_file(result: EvalResult, node_id: str) -> Path:
    """Where the kernel `result` verified lies, relative to the library: <problem>/<placement>/<node id>.py.
    Raises UnsafeName for a name (from a run folder) that could not be one path component."""
    environment = result.environment
    placement = placement_name(environment.hardware_spec, environment.device_name) if environment else "unknown-device"
    return Path(checked_name("problem name", result.problem), placement, f"{checked_name('node id', node_id)}.py")


def _verified_text(path: Path, expected_sha256: str, record_path: Path) -> str:
    # The file's bytes, as approval wrote them: their sha256 is the harness's sha256 of the source text.
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LibraryError(f"{path}: cannot be read ({exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise LibraryError(f"{path} does not hash to its record {record_path.name} (sha256 {digest}, recorded "
                           f"{expected_sha256 or 'none'}): it was changed after approval; refusing it")
    return data.decode()


def _check_names(record_path: Path, record: KernelRecord) -> None:
    """A record's names are safe and say where it lies: nothing in it can point a read or an import elsewhere."""
    try:
        checked_name("problem name", record.problem)
        checked_name("node id", record.node_id)
        checked_name("placement", record_path.parent.name)
    except UnsafeName as exc:
        raise LibraryError(f"{record_path}: {exc}") from None
    if record_path.stem != record.node_id or record_path.parent.parent.name != record.problem:
        raise LibraryError(f"{record_path}: records kernel {record.node_id} of {record.problem}, which is not "
                           "where it lies")
    if not (_SHA256.fullmatch(record.source_sha256) and _SHA256.fullmatch(record.problem_sha256)):
        raise LibraryError(f"{record_path}: its source_sha256 and problem_sha256 are not both sha256 digests")
    kept_at = f"{record.problem}/{problem_file_name(record.problem_sha256)}"
    if record.problem_file is not None and record.problem_file != kept_at:
        raise LibraryError(f"{record_path}: its problem file {record.problem_file!r} is not where the library keeps it")


def _read_model(path: Path, model: type[_Model]) -> _Model:
    try:
        return model.model_validate_json(path.read_text())
    except (OSError, ValidationError) as exc:
        raise LibraryError(f"{path}: not a readable {model.__name__} ({exc})") from None


def read_library(library: Path) -> list[LibraryEntry]:
    """Every kernel in `library`, sorted by problem, placement and node, each source checked against its
    record; raises LibraryError naming the first file that is missing, unreadable, misplaced or changed."""
    if not library.is_dir():
        raise LibraryError(f"{library}: no such library folder")
    entries = []
    for record_path in sorted(library.glob("*/*/*.json")):
        if record_path.name.endswith(STATUS_SUFFIX):
            continue
        entry = LibraryEntry(library, record_path, _read_model(record_path, KernelRecord), None)
        _check_names(record_path, entry.record)
        if not entry.source_path.is_file():
            raise LibraryError(f"{record_path}: its kernel source {entry.source_path.name} is missing")
        entry.source()
        status = _read_model(entry.status_path, KernelStatus) if entry.status_path.is_file() else None
        entries.append(LibraryEntry(library, record_path, entry.record, status))
    return entries


def write_status(entry: LibraryEntry, status: KernelStatus) -> LibraryEntry:
    entry.status_path.write_text(status.model_dump_json(indent=2))
    return LibraryEntry(entry.library, entry.record_path, entry.record, status)
