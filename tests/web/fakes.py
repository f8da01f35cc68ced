"""In-memory stand-ins for the managers (drives/jobs, node, hw, ota, reset), implementing
appliance.web.services' Protocols faithfully enough for the web tests: they keep state, refuse bad
requests the way the real ones must, and publish on the EventBus. Identity backups, logs and
addresses use the real implementations (IdentityBackups, LogDirectory, appliance.node.address). They
keep the web tests fast; the real managers are exercised behind the same Protocols in tests/e2e."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from appliance.events import EventBus, Topic
from appliance.node.address import MAINNET_HRP, encode_address, parse_address
from appliance.status.summary import IdentityEarning, NextEvent, Problem, StatusSummary
from appliance.web.services import (
    AtxRecord,
    BoxView,
    DiskHealth,
    DriveView,
    IdentityView,
    JobView,
    NodeView,
    PlanView,
    PoetRegistration,
    ServiceError,
    UpdateResult,
    UpdateView,
)

GIB = 1 << 30
UNIT_BYTES = 4 * GIB  # one PoST space unit on this fake box
LABEL_BYTES = 16


def address_parser(text: str) -> bytes:
    """What the daemon wires: the node's bech32 parser for the network's prefix."""
    return parse_address(text, MAINNET_HRP)


VALID_ADDRESS = encode_address(b"\0\0\0\0" + bytes(range(1, 21)))


class FakeDrives:
    """Drives and jobs: format with echo check, plans from a 'measured' labels/s, init progress."""

    def __init__(self, bus: EventBus, labels_per_second: float = 250_000.0) -> None:
        self.bus = bus
        self.lps = labels_per_second
        self.formatted: list[str] = []
        self._drives: dict[str, DriveView] = {
            d.id: d
            for d in (
                DriveView(
                    "usb-Samsung_T7_S5TANS0R123",
                    "offered",
                    "Samsung T7",
                    "S5TANS0R123",
                    500 * GIB,
                    "empty drive: format it to use it",
                ),
                DriveView(
                    "usb-WD_Elements_WX12A3456",
                    "active",
                    "WD Elements",
                    "WX12A3456",
                    2000 * GIB,
                    "formatted by this box",
                ),
            )
        }

    def drives(self) -> Sequence[DriveView]:
        return list(self._drives.values())

    def _get(self, drive_id: str) -> DriveView:
        if drive_id not in self._drives:
            raise ServiceError(f"no drive {drive_id!r}", "not_found")
        return self._drives[drive_id]

    def _set(self, drive: DriveView, topic: Topic = Topic.DRIVES) -> None:
        self._drives[drive.id] = drive
        self.bus.publish(topic)

    async def format(self, drive_id: str, model: str, serial: str, size_bytes: int) -> None:
        drive = self._get(drive_id)
        if (model, serial, size_bytes) != (drive.model, drive.serial, drive.size_bytes):
            raise ServiceError("the drive is not the one you confirmed (model/serial/size differ)")
        if drive.state != "offered":
            raise ServiceError(f"the drive is {drive.state}; only an offered drive can be formatted")
        self.formatted.append(drive_id)
        self._set(dataclasses.replace(drive, state="active", reason="formatted by this box"))

    async def forget(self, drive_id: str) -> None:
        drive = self._get(drive_id)
        if drive.state != "missing":
            raise ServiceError(f"drive {drive_id} is not missing; only a missing drive can be forgotten")
        del self._drives[drive_id]
        self.bus.publish(Topic.DRIVES)

    async def merge(self, drive_id: str) -> None:
        drive = self._get(drive_id)
        if drive.state != "offered" or not drive.merge_folders:
            raise ServiceError(f"drive {drive_id} holds no PoST pieces to merge (it is {drive.state})")
        self._set(dataclasses.replace(drive, state="checking", reason="merging the PoST pieces"))

    def _plan(self, drive: DriveView, size_bytes: int) -> PlanView:
        if drive.state != "active":
            raise ServiceError(f"the drive is {drive.state}; format it first")
        units = min(size_bytes, drive.size_bytes) // UNIT_BYTES
        if units < 1:
            raise ServiceError(f"at least one space unit ({UNIT_BYTES // GIB} GiB) is needed", "invalid")
        labels = units * UNIT_BYTES // LABEL_BYTES
        return PlanView(drive.id, units * UNIT_BYTES, units, self.lps, labels / self.lps)

    async def estimate(self, drive_id: str, size_bytes: int) -> PlanView:
        return self._plan(self._get(drive_id), size_bytes)

    async def allocate(self, drive_id: str, size_bytes: int) -> PlanView:
        drive = self._get(drive_id)
        plan = self._plan(drive, size_bytes)
        job = JobView("initializing", "", 0, plan.size_bytes // LABEL_BYTES, self.lps, plan.eta_seconds)
        self._set(dataclasses.replace(drive, allocated_bytes=plan.size_bytes, job=job), Topic.JOBS)
        return plan

    def advance(self, drive_id: str, labels: int) -> None:
        """What the job manager does as init runs: progress + ETA, then a data check at the end."""
        drive = self._get(drive_id)
        assert drive.job is not None
        done = min(drive.job.labels_total, drive.job.labels_done + labels)
        left = drive.job.labels_total - done
        job = dataclasses.replace(drive.job, labels_done=done, eta_seconds=left / self.lps)
        if left == 0:
            job = dataclasses.replace(job, state="ready", check="4096 sampled labels checked: all good")
        self._set(dataclasses.replace(drive, job=job), Topic.JOBS)


class FakeNode:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        now = time.time()
        self.identity = IdentityView(
            node_id="ab" * 32,
            status="waiting for the PoET round",
            poet_registrations=[PoetRegistration("http://poet-1.devnet", "12", now + 3600)],
            last_proof_seconds=2_700.0,
            cycle_gap_budget_seconds=43_200.0,
            atx_history=[  # the node's grades: good | acceptable | evil | missed | pending
                *(AtxRecord(e, {8: "acceptable", 9: "missed"}.get(e, "good"), now - (12 - e) * 86400)
                  for e in range(6, 12)),
                AtxRecord(12, "pending"),
            ],
            next_deadline=now + 5400,
            next_deadline_what="PoET round 12 ends",
            eligible_layers=[48_230, 48_655],
            proposals_published=31,
        )
        self.view = NodeView(epoch=12, layer=48_210, status="waiting for the PoET round",
                             identities=[self.identity])

    def snapshot(self) -> NodeView:
        return self.view

    def set(self, **changes: object) -> None:
        self.view = dataclasses.replace(self.view, **changes)
        self.bus.publish(Topic.NODE)


class FakeBox:
    def __init__(self, bus: EventBus, version: str) -> None:
        self.bus = bus
        self.view = BoxView(
            version,
            93_784.0,
            58.5,
            False,
            False,
            [DiskHealth("sda", True, "SMART ok"), DiskHealth("sdb", True, "SMART ok")],
            "smeshbox",
        )

    def snapshot(self) -> BoxView:
        return self.view

    def set(self, **changes: object) -> None:
        self.view = dataclasses.replace(self.view, **changes)
        self.bus.publish(Topic.HW)


class FakeUpdate:
    def __init__(self, version: str) -> None:
        self.view = UpdateView(
            version, "0.2.0", last_result=UpdateResult("0.0.9", version, "success", "", 1.7e9)
        )
        self.started: list[str] = []

    def status(self) -> UpdateView:
        return self.view

    async def start(self, version: str) -> None:
        if version != self.view.available_version:
            raise ServiceError(f"{version} is not the available release ({self.view.available_version})")
        if self.view.phase != "idle":
            raise ServiceError(f"an update is already {self.view.phase}")
        self.started.append(version)
        self.view = dataclasses.replace(self.view, phase="downloading", total_bytes=200 << 20)


class FakeReset:
    def __init__(self) -> None:
        self.calls = 0
        self.kept_identities: list[bool] = []

    async def factory_reset(self, keep_identities: bool) -> None:
        self.calls += 1
        self.kept_identities.append(keep_identities)


class FakeSummary:
    """The top card's answers, set by a test (the real one is appliance.status.lightnode)."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        now = time.time()
        self.value = StatusSummary(
            mode="light-node", state="earning", headline="Earning",
            why="Taking part in epoch 12 with 3.6 TiB of PoST data",
            next=[NextEvent("Next reward chance", now + 1500, "the box may propose a block in that layer"),
                  NextEvent("PoET round 12 ends", now + 5400)],
            earned_smidge=1_432_500_000_000, earned_known=True,
            earned_note="3 layer rewards, as the network reports them",
            identities=[IdentityEarning("ab" * 32, "Samsung T7 S5ABC123", 1_432_500_000_000, 3)],
            needs=[Problem("identity:ab:missed:9", "node", "warning",
                           "Identity abababab… missed epoch 9: the PoET proof did not include us",
                           "Keep the box powered and online; it tries again next epoch", now - 3600)],
        )

    def summary(self) -> StatusSummary:
        return self.value

    def set(self, **changes: object) -> None:
        self.value = dataclasses.replace(self.value, **changes)
        self.bus.publish(Topic.NODE)
