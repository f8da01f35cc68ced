"""The durable per-identity state of the smesher: one JSON document, replaced atomically per transition.

Each transition of the epoch state machine (node.md §4.4) is one atomic write of the whole document
(``appliance.system.files``), so a power cut leaves the previous or the next state, never a mix.
Side effects are recorded *before* they are attempted (``intent``), so a restart knows to repeat
them — every one of them is idempotent (same challenge at the PoET, same ATX blob, same proposal).
A document written by a newer version is refused rather than guessed at.

Crash testing: ``SMESHBOX_NODE_CRASH_AT=K`` SIGKILLs the process at the document's K-th transition;
``SMESHBOX_NODE_CRASH_MODE`` = ``before`` (nothing written), ``torn`` (a partial temp file is left
behind, as a power cut inside the write would) or ``after`` (written, then killed).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.system.files import atomic_write_bytes

STATE_VERSION = 1
MAX_STATE_BYTES = 4 << 20


@dataclass(frozen=True)
class PoetRegistrationRecord:
    url: str
    round_id: str
    round_end: float  # unix seconds


@dataclass(frozen=True)
class EpochRecord:
    """One publish epoch as the document has it: ``phase`` is the state machine's (``published``,
    ``expired`` or a step on the way)."""

    epoch: int
    phase: str
    atx_id: str = ""
    grade: str = "good"  # of a published ATX, as the gateway graded it
    published_at: float | None = None
    reason: str = ""  # why an expired epoch expired
    registrations: tuple[PoetRegistrationRecord, ...] = ()


@dataclass(frozen=True)
class SmesherRecords:
    """What others may read of the document (the node's status page), typed; the document's keys
    stay the smesher's own business."""

    epochs: tuple[EpochRecord, ...]  # oldest first
    eligible_layers: tuple[int, ...]  # sorted
    proposals_published: int
    proposals_missed: int


def read_records(doc: dict[str, Any]) -> SmesherRecords:
    epochs = []
    for key in sorted(doc["epochs"], key=int):
        ep = doc["epochs"][key]
        regs = tuple(PoetRegistrationRecord(url, r["round_id"], float(r["round_end"]))
                     for url, r in ep.get("registrations", {}).items() if r.get("round_id"))
        epochs.append(EpochRecord(int(key), str(ep.get("phase", "new")), ep.get("atx_id", ""),
                                  ep.get("grade", "good"), ep.get("published_at"), ep.get("reason", ""),
                                  regs))
    eligible = sorted({int(p[1]) for e in doc["eligibility"].values() for p in e["proofs"]})
    proposals = doc["proposals"].values()
    return SmesherRecords(tuple(epochs), tuple(eligible),
                          sum(1 for p in proposals if p.get("published")),
                          sum(1 for p in proposals if p.get("missed")))


class StateError(Exception):
    pass


class StateVersionError(StateError):
    pass


class StateCorruptError(StateError):
    pass


class _CrashHook:
    """Test hook: SIGKILL at the K-th transition of the *document* (so each restart gets one further)."""

    def __init__(self) -> None:
        at = os.environ.get("SMESHBOX_NODE_CRASH_AT", "")
        self.at = int(at) if at.isdigit() else 0
        self.mode = os.environ.get("SMESHBOX_NODE_CRASH_MODE", "before")

    def step(self, path: Path, transition: int, stage: str) -> None:
        fire_at = "after" if self.mode == "after" else "before"
        if not self.at or transition != self.at or stage != fire_at:
            return
        if self.mode == "torn":
            with open(path.parent / f".{path.name}.crash.tmp", "wb") as handle:
                handle.write(b'{"version": 1, "torn')  # what a power cut in the middle of a write leaves
        os.kill(os.getpid(), signal.SIGKILL)


_HOOK = _CrashHook()


def new_document(node_id: bytes) -> dict[str, Any]:
    return {
        "version": STATE_VERSION,
        "node_id": node_id.hex(),
        "initial_post": None,
        "last_atx": None,
        "epochs": {},
        "eligibility": {},
        "proposals": {},
        "transitions": 0,
    }


class StateStore:
    """``<dir>/<node_id>.json``; ``doc`` is the in-memory copy, ``commit(label)`` makes it durable."""

    def __init__(self, directory: Path, node_id: bytes) -> None:
        self.path = Path(directory) / f"{node_id.hex()}.json"
        self.node_id = node_id
        self.doc = self._load()
        self._lock = asyncio.Lock()

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return new_document(self.node_id)
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read(MAX_STATE_BYTES + 1)
            if len(raw) > MAX_STATE_BYTES:
                raise StateCorruptError(f"{self.path}: larger than {MAX_STATE_BYTES} bytes")
            doc = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise StateCorruptError(f"{self.path}: unreadable node state ({exc}); left in place") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("version"), int):
            raise StateCorruptError(f"{self.path}: not a node state document")
        if doc["version"] > STATE_VERSION:
            raise StateVersionError(
                f"{self.path}: written by a newer version (state v{doc['version']}, this build knows "
                f"v{STATE_VERSION}); refusing to run rather than risk a second ATX"
            )
        if doc.get("node_id") != self.node_id.hex():
            raise StateCorruptError(f"{self.path}: belongs to identity {doc.get('node_id')!r}")
        for key, kind in (("epochs", dict), ("eligibility", dict), ("proposals", dict)):
            if not isinstance(doc.get(key), kind):
                raise StateCorruptError(f"{self.path}: field {key!r} is malformed")
        return doc

    async def commit(self, label: str) -> None:
        """Makes the current document durable (serialised on the loop, written in a thread, in order)."""
        async with self._lock:
            self.doc["transitions"] = int(self.doc.get("transitions", 0)) + 1
            self.doc["last_transition"] = label
            data = json.dumps(self.doc, separators=(",", ":")).encode()
            await asyncio.to_thread(self._write, data, self.doc["transitions"])

    def _write(self, data: bytes, transition: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _HOOK.step(self.path, transition, "before")
        atomic_write_bytes(self.path, data, mode=0o600)
        _HOOK.step(self.path, transition, "after")

    def records(self) -> SmesherRecords:
        """The document's content for readers outside the smesher, as typed records."""
        return read_records(self.doc)

    def epoch(self, publish_epoch: int) -> dict[str, Any]:
        return self.doc["epochs"].setdefault(str(publish_epoch), {"phase": "new"})

    def prune(self, keep: int) -> None:
        for key in ("epochs", "eligibility"):
            numbers = sorted(int(k) for k in self.doc[key])
            for k in numbers[:-keep] if len(numbers) > keep else []:
                del self.doc[key][str(k)]
        layers = sorted(int(k) for k in self.doc["proposals"])
        for k in layers[: -4 * keep] if len(layers) > 4 * keep else []:
            del self.doc["proposals"][str(k)]
