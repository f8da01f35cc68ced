"""What the web layer needs from the rest of the appliance: small typed Protocols, the plain view
dataclasses they return, and the :class:`AppServices` bundle kept under an aiohttp ``AppKey``.

The web layer validates input and delegates to these; it holds no logic of its own. The daemon wires
the real managers (drives/jobs, node, hw, ota, ...) into an :class:`AppServices`, adapting their
snapshots to the view dataclasses below (their fields are exactly the JSON the OpenAPI document
describes, see ``openapi.py``). Rules every implementation must follow:

* ``snapshot()``-style methods are synchronous and return *cached* state: they must never block
  (no I/O, no locks held by worker threads). The web layer calls them straight from the loop.
* ``async`` methods may take time; the web layer bounds each with a timeout.
* Refusals are raised as :class:`ServiceError` (``kind`` picks the HTTP status) with a sentence a
  person can act on; anything else is a bug and becomes a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from aiohttp import web

from appliance.chain import MAINNET

# The refusal the web layer maps to HTTP statuses; defined below every domain (appliance.errors).
from appliance.errors import ErrorKind as ErrorKind
from appliance.errors import ServiceError as ServiceError
from appliance.events import EventBus
from appliance.health.model import HealthReport
from appliance.notify.service import NotifyService
from appliance.status.summary import SummaryProvider

if TYPE_CHECKING:  # the node-mode routes import this module for SERVICES
    from appliance.web.nodemode import NodeModeService

# ---- drives and jobs (daemon engineer: appliance/drives, appliance/jobs) ----------------------

# The vocabularies of appliance.drives.model.DriveState and appliance.jobs.model.JobState.
DriveState = Literal["offered", "formatting", "checking", "active", "missing", "error"]
JobState = Literal["checking", "initializing", "paused", "ready", "proving", "error"]
DRIVE_STATES: tuple[str, ...] = DriveState.__args__  # type: ignore[attr-defined]
JOB_STATES: tuple[str, ...] = JobState.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class JobView:
    """The PoST job of one drive (from appliance.jobs' JobSnapshot)."""

    state: JobState
    reason: str = ""
    labels_done: int = 0  # JobSnapshot.position
    labels_total: int = 0  # JobSnapshot.total
    labels_per_second: float = 0.0
    eta_seconds: float | None = None  # None while not measured yet
    paused_by: list[str] = field(default_factory=list)
    check: str = ""  # outcome of the sampled data check, in words ("" = not checked yet)


@dataclass(frozen=True)
class DriveView:
    """One drive (from appliance.drives' DriveSnapshot) with its job, if it has one."""

    id: str  # stable id used in URLs
    state: DriveState
    model: str
    serial: str
    size_bytes: int
    reason: str = ""  # why it is in this state and what to do, in words
    allocated_bytes: int = 0  # PoST space planned on this drive (0: none yet)
    job: JobView | None = None
    node_id: str = ""  # hex id of the identity whose PoST data is on this drive ("" = none)
    merge_folders: list[str] = field(default_factory=list)  # PoST pieces to merge (offered drive)


@dataclass(frozen=True)
class PlanView:
    drive_id: str
    size_bytes: int  # what will actually be used (rounded down to whole space units)
    num_units: int
    labels_per_second: float | None  # measured on this box (None: not measured yet)
    eta_seconds: float | None  # honest: labels / measured labels/s (None: not measured yet)
    shared_with: int = 0  # other drives preparing at the same time, counted in the ETA


class DrivesService(Protocol):
    def drives(self) -> Sequence[DriveView]:
        """Cached list of every drive seen, with its state and per-drive init/check progress."""

    async def format(self, drive_id: str, model: str, serial: str, size_bytes: int) -> None:
        """Formats an ``offered`` drive (appliance.drives' ``format(drive_id, Confirmation)``). The
        caller echoes model/serial/size the person confirmed; the manager must refuse
        (``ServiceError('conflict')``) if they no longer match the drive."""

    async def forget(self, drive_id: str) -> None:
        """Stops waiting for a ``missing`` drive (its identity stays; replugging adopts it again);
        a drive that is not missing → ``ServiceError('conflict')``."""

    async def estimate(self, drive_id: str, size_bytes: int) -> PlanView:
        """The plan for using ``size_bytes`` of the drive, with the measured ETA; changes nothing."""

    async def allocate(self, drive_id: str, size_bytes: int) -> PlanView:
        """Commits the plan and starts (or re-plans) initialisation."""

    async def merge(self, drive_id: str) -> None:
        """Starts merging the partial PoST datasets an ``offered`` drive holds (``merge_folders``)
        into one, then adopts it; nothing to merge → ``ServiceError('conflict')``."""


# ---- node (node engineer: appliance/node) ------------------------------------------------------


@dataclass(frozen=True)
class PoetRegistration:
    poet: str
    round_id: str
    round_end: float  # unix seconds


@dataclass(frozen=True)
class AtxRecord:
    epoch: int
    grade: str  # "good" | "acceptable" | "evil" | "missed" | "pending" (as AtxView)
    published_at: float | None = None
    reason: str = ""  # why a missed epoch was missed


@dataclass(frozen=True)
class IdentityView:
    """One smeshing identity (the PoST data of one drive) in detail."""

    node_id: str  # hex
    status: str = ""  # one line: what this identity is doing now
    poet_registrations: list[PoetRegistration] = field(default_factory=list)
    last_proof_seconds: float | None = None  # how long the last PoST proof took
    cycle_gap_budget_seconds: float | None = None  # how long it may take
    atx_history: list[AtxRecord] = field(default_factory=list)
    next_deadline: float | None = None  # unix seconds
    next_deadline_what: str = ""
    eligible_layers: list[int] = field(default_factory=list)
    proposals_published: int = 0


@dataclass(frozen=True)
class NodeView:
    epoch: int
    layer: int
    status: str = ""  # one line: what the node is doing now
    identities: list[IdentityView] = field(default_factory=list)  # one per drive with PoST data


class NodeService(Protocol):
    def snapshot(self) -> NodeView: ...


class IdentityService(Protocol):
    async def export_backup(self, password: str) -> bytes:
        """An encrypted backup (argon2id + secretbox) of the box's identities; a weak ``password``
        → ``ServiceError('invalid')`` (the web layer has re-checked the admin password first)."""

    async def import_backup(self, blob: bytes, password: str) -> list[str]:
        """Restores a backup; returns the node ids (hex). Corrupt blob or wrong password →
        ``ServiceError('invalid')``; nothing changes then."""


# ---- box health (hw engineer: appliance/hw) ----------------------------------------------------


@dataclass(frozen=True)
class DiskHealth:
    name: str
    healthy: bool
    detail: str = ""


@dataclass(frozen=True)
class BoxView:
    version: str
    uptime_seconds: float
    cpu_temp_c: float | None
    throttled: bool
    undervoltage: bool
    disks: list[DiskHealth] = field(default_factory=list)
    hostname: str = ""


class BoxService(Protocol):
    def snapshot(self) -> BoxView: ...


# ---- updates (image engineer: appliance/ota) ---------------------------------------------------


@dataclass(frozen=True)
class UpdateResult:
    """appliance.ota.state.OtaResult."""

    from_version: str
    to_version: str
    outcome: Literal["success", "rolled-back", "failed", "refused"]
    reason: str = ""
    at: float | None = None  # unix seconds


@dataclass(frozen=True)
class UpdateView:
    """From appliance.ota's OtaSnapshot: ``phase`` is idle | checking | downloading | installing |
    rebooting | gating | error."""

    current_version: str
    available_version: str | None = None
    phase: str = "idle"
    downloaded_bytes: int = 0
    total_bytes: int = 0
    error: str = ""
    last_result: UpdateResult | None = None


class UpdateService(Protocol):
    def status(self) -> UpdateView: ...

    async def start(self, version: str) -> None:
        """Starts installing ``version`` (must equal ``available_version``, else ServiceError)."""


# ---- logs and factory reset --------------------------------------------------------------------


class LogsService(Protocol):
    def names(self) -> list[str]:
        """Downloadable log names (plain file names, no folders)."""

    async def path(self, name: str) -> Path:
        """A regular file to send for ``name``; unknown name → ``ServiceError('not_found')``."""


class ResetService(Protocol):
    async def factory_reset(self, keep_identities: bool) -> None:
        """Wipes settings, sessions, identities' PoST links; the box reboots into onboarding. The
        identity keys are kept (the drives' PoST data stays usable) or wiped with the rest."""


class HealthService(Protocol):
    def report(self) -> HealthReport:
        """The box's health now (appliance.health.HealthMonitor)."""


# ---- the bundle --------------------------------------------------------------------------------


@dataclass
class AppServices:
    """Everything the web app talks to. ``parse_address(text) -> bytes`` raises ``ValueError``
    (appliance.node.address.AddressError) with a message a person can read."""

    bus: EventBus
    state_dir: Path
    version: str
    drives: DrivesService
    node: NodeService
    identity: IdentityService
    box: BoxService
    update: UpdateService
    logs: LogsService
    reset: ResetService
    parse_address: Callable[[str], bytes]
    address_hrp: str = MAINNET.hrp  # the box's chain's, set by the composition root
    secure_cookies: bool = False  # True when served over TLS
    call_timeout: float = 30.0  # bound on every async service call
    health: HealthService | None = None  # None: only "the API answers" is known
    nodemode: NodeModeService | None = None  # "with my Spacemesh node" (appliance.node.nodemode_service)
    summary: SummaryProvider | None = None  # the top card's answers (appliance.status)
    notify: NotifyService | None = None  # the person's chosen notifications (appliance.notify)


SERVICES = web.AppKey("services", AppServices)
