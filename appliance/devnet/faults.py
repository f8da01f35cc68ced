"""Fault switches of the devnet, flipped by tests or the admin API (``POST /admin/faults``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


class FaultError(ValueError):
    pass


@dataclass
class PoetFaults:
    down: bool = False  # connections are dropped without a reply
    error_5xx: bool = False  # every request answers 503
    slow: float = 0.0  # seconds added before every reply
    late_proof: float = 0.0  # seconds the proof becomes available after the round ends
    missing_members: list[str] = dataclasses.field(default_factory=list)  # node ids (hex) left out
    hostile_proof: bool = False  # the proof reply is cut off mid-stream after a wrongly typed member


@dataclass
class GatewayFaults:
    down: bool = False
    error_5xx: bool = False
    slow: float = 0.0


def apply(target: Any, changes: Any) -> None:
    """Sets fields of a faults dataclass from JSON, refusing unknown names and wrong types."""
    if not isinstance(changes, dict):
        raise FaultError("faults must be a JSON object")
    fields = {f.name: f for f in dataclasses.fields(target)}
    for name, value in changes.items():
        if name not in fields:
            raise FaultError(f"unknown fault {name!r}; known: {sorted(fields)}")
        current = getattr(target, name)
        if isinstance(current, bool):
            ok = isinstance(value, bool)
        elif isinstance(current, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 3600
            value = float(value) if ok else value
        else:
            ok = isinstance(value, list) and all(isinstance(x, str) and len(x) <= 64 for x in value)
        if not ok:
            raise FaultError(f"fault {name!r}: bad value {value!r}")
    for name, value in changes.items():
        setattr(target, name, float(value) if isinstance(getattr(target, name), float) else value)
