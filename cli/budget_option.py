"""`--budget rounds=10,wall=3600,tokens=200000,usd=5`: one option for every budget a run can have."""

from __future__ import annotations

from pydantic import ValidationError

from kevolve.graph.configuration import Budget

from .options import UsageError

_KEYS = {"rounds": "max_rounds", "wall": "wall_seconds", "tokens": "max_tokens", "usd": "max_cost_usd"}


def parse_budget(text: str | None, *, default: Budget) -> Budget:
    if not text:
        return default
    values: dict[str, float | int | None] = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        if key.strip() not in _KEYS or not value.strip():
            raise UsageError(f"--budget: {item!r} is not one of {', '.join(k + '=N' for k in _KEYS)}")
        number = value.strip()
        try:
            parsed = None if number == "none" else float(number)
        except ValueError:
            raise UsageError(f"--budget: {key}={number!r} is not a number") from None
        field = _KEYS[key.strip()]
        values[field] = int(parsed) if parsed is not None and field in ("max_rounds", "max_tokens") else parsed
    try:
        return Budget.model_validate(default.model_dump() | values)
    except ValidationError as error:
        names = {field: key for key, field in _KEYS.items()}
        problems = "; ".join(f"{names.get(str(e['loc'][0]), e['loc'][0])}={e['input']}: {e['msg'].lower()}"
                             for e in error.errors())
        raise UsageError(f"--budget: {problems}") from None
