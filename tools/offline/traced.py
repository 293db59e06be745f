"""The traced reference: what the tracing subprocess reports, validated at the process boundary.

Arguments are tagged values: another node's result, a parameter or buffer of the model, a scalar
attribute of the model (read again at run time, because a problem's configurations change it), or
a plain constant.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TensorMeta(BaseModel):
    model_config = ConfigDict(frozen=True)

    shape: list[int] = Field(description="at the traced configuration; used for choices, never baked into code")
    dtype: str


class TracedNode(BaseModel):
    """One operation of the forward, already named canonically (`add`, `softmax`, `linear`, `view`...)."""

    model_config = ConfigDict(frozen=True)

    name: str
    op: str
    args: list[Any] = Field(default_factory=list, description="tagged values, see the module docstring")
    kwargs: dict[str, Any] = Field(default_factory=dict)
    meta: TensorMeta | None = Field(default=None, description="None when the result is not one tensor")


class TracedProgram(BaseModel):
    model_config = ConfigDict(frozen=True)

    inputs: list[str] = Field(description="forward's parameters, in order")
    input_meta: dict[str, TensorMeta] = Field(default_factory=dict)
    param_meta: dict[str, TensorMeta] = Field(default_factory=dict, description="every parameter and buffer")
    nodes: list[TracedNode]
    output: Any = Field(description="a tagged value, or a list of them")
    unknown: list[str] = Field(default_factory=list, description="operations with no canonical name")
    derived_constants: list[str] = Field(
        default_factory=list, description="constants that depend on a model attribute in a way we cannot re-express"
    )
    unrolled: dict[str, int] = Field(default_factory=dict, description="module containers (ModuleList, Sequential) "
                                     "whose loop tracing unrolled, by path, with the traced length")
    traced_on: str = Field(default="meta", description="where shapes were propagated: the meta device, or real "
                           "CPU tensors at a small configuration when sizes depend on values")


def tag_of(value: Any) -> Literal["node", "param", "attr", "const", "list"] | None:
    if isinstance(value, dict) and len(value) >= 1:
        for tag in ("node", "param", "attr", "const", "list"):
            if tag in value:
                return tag  # type: ignore[return-value]
    return None
