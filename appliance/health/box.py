"""The box's set of health checks: which domain snapshot feeds which check.

``daemon_health`` makes the health object and the task supervisor with what exists first (drives,
jobs, the supervised tasks, descriptors); ``add_node_checks`` adds the node and the power supply
once they run, and points the init pause at the same power reading. Other features add their own
check with ``HealthMonitor.add_check(name, check)`` (the clock check, node mode's PoST service).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from appliance.drives.manager import DriveManager
from appliance.health.descriptors import descriptor_check
from appliance.health.drives import drive_check
from appliance.health.jobs import JobCheck
from appliance.health.model import Finding, Severity
from appliance.health.monitor import HealthMonitor
from appliance.health.node import node_check
from appliance.health.power import PowerCheck
from appliance.health.tasks import task_check
from appliance.hw.manager import HwManager
from appliance.jobs.manager import JobManager
from appliance.node.supervisor import NodeSupervisor
from appliance.supervision import Supervisor

if TYPE_CHECKING:  # the D-Bus library loads only where the box manages its network
    from appliance.hostnet.service import HostNetManager


def daemon_health(drives: DriveManager, jobs: JobManager) -> tuple[HealthMonitor, Supervisor]:
    health = HealthMonitor()
    tasks = Supervisor()
    health.add_check("drives", drive_check(drives.snapshot))
    health.add_check("jobs", JobCheck(jobs.snapshot))
    health.add_check("tasks", task_check(tasks))
    health.add_check("descriptors", descriptor_check())
    return health, tasks


def add_node_checks(health: HealthMonitor, node: NodeSupervisor, hw: HwManager | None,
                      jobs: JobManager) -> None:
    health.add_check("node", node_check(node.snapshot))
    if hw is not None:
        power = PowerCheck(hw.snapshot)
        health.add_check("power", power)
        jobs.undervoltage_source = power.undervoltage


def add_hostnet_check(health: HealthMonitor, hostnet: HostNetManager) -> None:
    """The clock check (an unsynced clock misses PoET rounds) and the network's state, as the
    host-networking domain reports them. Clock problems are warnings here: the node already
    refuses to act on an unsynced clock, and a box that boots where no NTP server answers yet must
    not have its update rolled back for it; the page still shows them with their remedy."""

    def check() -> list[Finding]:
        return [dataclasses.replace(f, severity=Severity.WARNING) if f.component == "clock" else f
                for f in hostnet.problems()]

    health.add_check("hostnet", check)
