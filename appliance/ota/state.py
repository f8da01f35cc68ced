"""The OTA records on the data partition, written atomically (a power cut leaves the old or the new
record): the stored security epoch, the install in progress (so the next boot knows what to check)
and the last result (from, to, outcome, reason) that the UI shows."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from appliance.system.files import atomic_write_json


@dataclass(frozen=True)
class Pending:
    from_version: str
    to_version: str
    from_slot: str
    to_slot: str
    phase: str  # "installing" (rauc running) | "installed" (rebooting into to_slot)
    security_epoch: int
    drives: tuple[str, ...] = ()  # drive mount points before the update, checked by the gate
    started: float = 0.0


@dataclass(frozen=True)
class OtaResult:
    from_version: str
    to_version: str
    outcome: str  # "success" | "rolled-back" | "failed" | "refused"
    reason: str
    at: float = field(default_factory=time.time)


@dataclass
class OtaRecord:
    security_epoch: int = 0
    pending: Pending | None = None
    last_result: OtaResult | None = None
    history: list[OtaResult] = field(default_factory=list)


class OtaStore:
    HISTORY = 20

    def __init__(self, folder: Path) -> None:
        self.path = folder / "state.json"

    def load(self) -> OtaRecord:
        try:
            value: Any = json.loads(self.path.read_text())
            pending = value.get("pending")
            if pending:
                pending = Pending(**{**pending, "drives": tuple(pending.get("drives", ()))})
            last = value.get("last_result")
            return OtaRecord(
                security_epoch=int(value.get("security_epoch", 0)),
                pending=pending or None,
                last_result=OtaResult(**last) if last else None,
                history=[OtaResult(**r) for r in value.get("history", [])],
            )
        except FileNotFoundError:
            return OtaRecord()
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            # Never lose the box over a bad record: keep the broken file aside, start clean.
            aside = self.path.with_name(f"state.broken-{int(time.time())}.json")
            self.path.rename(aside)
            reason = f"OTA record was unreadable ({exc}); kept as {aside.name}"
            return OtaRecord(last_result=OtaResult("", "", "failed", reason))

    def save(self, record: OtaRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(
            self.path,
            {
                "security_epoch": record.security_epoch,
                "pending": asdict(record.pending) if record.pending else None,
                "last_result": asdict(record.last_result) if record.last_result else None,
                "history": [asdict(r) for r in record.history[-self.HISTORY :]],
            },
        )

    def record_result(self, record: OtaRecord, result: OtaResult) -> OtaRecord:
        record.last_result = result
        record.history.append(result)
        record.pending = None
        self.save(record)
        return record
