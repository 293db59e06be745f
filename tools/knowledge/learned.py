"""Learned entries: what a search found worked, or failed, written back as retrievable passages.

The text is written for retrieval: the operator signature and the diagnosis come first, so a later
search for a similar operator with a similar bottleneck finds the entry by keyword and by meaning.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field

from .models import EntryKind, Passage


class OperatorSignature(BaseModel):
    model_config = ConfigDict(frozen=True)

    families: list[str] = Field(description="operator families, e.g. ['softmax'] or ['matmul', 'elementwise']")
    shapes: str = Field(description="input shapes as text, e.g. '[4096, 50257] fp32'")
    dtype: str


class LearnedEntry(BaseModel):
    """One outcome of one strategy on one problem and device."""

    model_config = ConfigDict(frozen=True)

    problem: str
    signature: OperatorSignature
    device: str = Field(description="hardware spec name, e.g. h100_sxm")
    vendor: str
    architecture: str
    dsl: str
    strategy: str = Field(description="what was tried, in a sentence")
    succeeded: bool
    speedup: float | None = Field(default=None, description="over the faster baseline, for a win")
    failure_category: str | None = Field(default=None, description="the harness's error kind, for a failure")
    diagnosis_before: str
    diagnosis_after: str | None = None
    kernel_pointer: str | None = Field(default=None, description="where the kernel is: run directory or library")

    def to_passage(self) -> Passage:
        outcome = (
            f"worked: {self.speedup:.2f}x over the faster baseline" if self.succeeded and self.speedup
            else "worked" if self.succeeded
            else f"failed ({self.failure_category or 'unknown'})"
        )
        lines = [
            f"{', '.join(self.signature.families)} on {self.device} ({self.signature.shapes}, {self.signature.dtype}), "
            f"{self.dsl}: {self.strategy} -- {outcome}.",
            f"Diagnosis before: {self.diagnosis_before}",
        ]
        if self.diagnosis_after:
            lines.append(f"Diagnosis after: {self.diagnosis_after}")
        identity = "|".join([self.problem, self.device, self.dsl, self.strategy, str(self.succeeded)])
        return Passage(
            id="learned-" + hashlib.sha256(identity.encode()).hexdigest()[:20],
            kind=EntryKind.LEARNED_WIN if self.succeeded else EntryKind.LEARNED_FAILURE,
            title=f"{'Win' if self.succeeded else 'Failure'}: {self.strategy[:80]} ({self.problem})",
            text="\n".join(lines),
            source=self.kernel_pointer or f"run:{self.problem}",
            vendor=self.vendor,
            device=self.device,
            architecture=self.architecture,
            dsl=self.dsl,
            operator_family=self.signature.families[0] if self.signature.families else None,
        )
