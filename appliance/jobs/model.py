"""Plain typed job state for the web API and the node (JSON via ``dataclasses.asdict``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class JobState(StrEnum):
    PLANNING = "planning"  # measuring this CPU and sizing the dataset from free space
    CHECKING = "checking"  # sampled data check of adopted data
    INITIALIZING = "initializing"
    PAUSED = "paused"  # ``paused_by`` lists why; resumes by itself when they clear
    READY = "ready"  # data complete: eligible for proving
    PROVING = "proving"
    ERROR = "error"  # needs a person: ``reason`` says what to do; nothing was lost


@dataclass(frozen=True)
class Plan:
    """How much PoST data fits a drive and how long it takes on this CPU."""

    num_units: int
    labels_per_unit: int
    bytes_total: int
    free_bytes: int
    margin_bytes: int
    labels_per_second: float | None  # measured on this CPU with this scrypt N
    eta_seconds: float | None
    shared_with: int = 0  # other drives being prepared at the same time (they share the CPU)


@dataclass
class JobSnapshot:
    drive_id: str
    state: JobState
    reason: str = ""
    identity: str = ""
    node_id: str = ""
    datadir: str = ""
    scrypt_n: int = 0
    num_units: int = 0
    labels_per_unit: int = 0
    position: int = 0  # durable labels written
    total: int = 0
    labels_per_second: float = 0.0
    eta_seconds: float | None = None
    paused_by: list[str] = field(default_factory=list)
    check: str = ""  # outcome of the sampled data check of complete data, in words
    check_at: float | None = None  # unix seconds of that check
    check_labels: int = 0  # labels recomputed
    check_bad: int = 0  # of which wrong
    max_bytes: int = 0  # a person's cap on the dataset size (0: all free space)
    plan: Plan | None = None


class DatasetListener(Protocol):
    """Told when a drive's dataset becomes able to prove (complete and plugged in) and when it stops
    being able (unplugged, an I/O error, re-planned) — and nothing else: init progress is not news
    to it. The node's supervisor is one; it re-reads keys and the network only then."""

    def dataset_ready(self, drive_id: str, node_id: bytes) -> None: ...

    def dataset_lost(self, drive_id: str) -> None: ...
