"""The OTA health gate reads the box's real health object (appliance.health) as the daemon serves
it: a pulled drive, a smesher that is down and undervoltage each fail the gate with the reason;
warnings only (degraded) pass with a note; a problem that clears before the deadline passes."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from aiohttp import web

from appliance.drives.model import DriveSnapshot, DriveState
from appliance.health import HealthMonitor
from appliance.health.drives import drive_check
from appliance.health.node import node_check
from appliance.health.power import PowerCheck
from appliance.health.tasks import task_check
from appliance.hw.manager import HwSnapshot
from appliance.node.lightnode import AtxView, IdentityStatus, NodeStatus
from appliance.node.supervisor import SupervisorStatus
from appliance.ota import gate as gatemod
from appliance.supervision import Backoff, Supervisor


@pytest.fixture
async def served(aiohttp_server, box):
    """A real HealthMonitor behind the real route's JSON (the route is appliance.web's)."""
    health = HealthMonitor()
    health.mark_started()

    async def route(request: web.Request) -> web.Response:
        return web.json_response({**health.report().to_json(), "version": "1.1.0"})

    app = web.Application()
    app.router.add_get("/api/v1/health", route)
    running = await aiohttp_server(app, host="127.0.0.1")
    config = dataclasses.replace(box.config, api_url=str(running.make_url("/")), require_api=True,
                                 gate_timeout=0.5)
    return health, config


async def test_healthy_box_passes(served) -> None:
    _, config = served
    result = await gatemod.run_gate(config)
    assert result.healthy, result.reason()
    assert {c.name: c.status for c in result.checks}["node"] == "pass"


async def test_a_pulled_drive_fails_the_gate(served) -> None:
    health, config = served
    health.add_check("drives", drive_check(lambda: [
        DriveSnapshot("uuid-1", DriveState.MISSING, reason="the drive was unplugged", model="SSD")]))
    result = await gatemod.run_gate(config)
    assert not result.healthy and "unplugged" in result.reason()


async def test_a_smesher_that_is_down_fails_the_gate_on_the_node_check(served) -> None:
    health, config = served
    tasks = Supervisor(Backoff(initial=3600))

    async def dies() -> None:
        raise OSError(5, "Input/output error")

    tasks.start("smesher-abc", "node", dies)
    health.add_check("tasks", task_check(tasks))
    await asyncio.sleep(0.05)
    result = await gatemod.run_gate(config)
    await tasks.stop_all()
    checks = {c.name: c for c in result.checks}
    assert not result.healthy and checks["node"].status == "fail"
    assert "Input/output error" in checks["node"].detail


async def test_undervoltage_fails_the_gate(served) -> None:
    health, config = served
    health.add_check("power", PowerCheck(lambda: HwSnapshot(undervoltage=True)))
    result = await gatemod.run_gate(config)
    assert not result.healthy and "undervoltage" in result.reason()


async def test_warnings_only_pass_with_a_note(served) -> None:
    health, config = served
    ident = IdentityStatus("id0", "cd" * 32, 3, 30, "waiting", atx_history=[AtxView(2, "missed")])
    health.add_check("node", node_check(lambda: SupervisorStatus(True, "smeshing", NodeStatus(True, 3, 30,
                                                                                            [ident]))))
    result = await gatemod.run_gate(config)
    assert result.healthy, result.reason()
    assert "missed publish epoch 2" in {c.name: c for c in result.checks}["api"].detail


async def test_a_problem_that_clears_before_the_deadline_passes(served) -> None:
    health, config = served
    drives = [DriveSnapshot("u", DriveState.MISSING, reason="spinning up")]
    health.add_check("drives", drive_check(lambda: drives))
    asyncio.get_running_loop().call_later(0.3, lambda: drives.clear())
    result = await gatemod.run_gate(dataclasses.replace(config, gate_timeout=20))
    assert result.healthy, result.reason()


async def test_a_stalled_smesher_fails_the_gate_on_the_node_check(served) -> None:
    health, config = served
    ident = IdentityStatus("id0", "ab" * 32, 9, 90, "proving PoST for publish epoch 6", next_deadline=100.0,
                           next_deadline_what="ATX must be published (epoch 6)")
    node = NodeStatus(True, 9, 90, [ident], epoch_seconds=10.0, now=200.0)
    health.add_check("node", node_check(lambda: SupervisorStatus(True, "smeshing", node)))
    result = await gatemod.run_gate(config)
    checks = {c.name: c for c in result.checks}
    assert not result.healthy and checks["node"].status == "fail" and "stalled" in checks["node"].detail


async def test_an_unsynced_clock_reaches_health_through_the_hostnet_hook(served) -> None:
    """The host-networking domain's clock check, wired the way the daemon wires it: an unsynced
    clock is on the health object with its remedy, as a warning: the box is degraded, and the gate
    lets an update stand (the node itself refuses to act until the clock is synced)."""
    from appliance.health.box import add_hostnet_check
    from appliance.hostnet.clock import ClockCheck, ClockState

    health, config = served
    state = [ClockState(synced=True, ntp_enabled=True, server="ntp.example", server_answered=True)]
    clock = ClockCheck()

    class HostNet:  # the one method the hook reads, over the real clock check
        def problems(self):
            return clock.problems(state[0])

    add_hostnet_check(health, HostNet())  # type: ignore[arg-type]
    assert (await gatemod.run_gate(config)).healthy
    state[0] = ClockState(synced=False, ntp_enabled=True, server="ntp.example", server_answered=False)
    report = health.report().to_json()
    assert [p["id"] for p in report["problems"]] == ["clock-unsynced"]
    assert report["problems"][0]["component"] == "clock" and report["problems"][0]["remedy"]
    assert report["problems"][0]["severity"] == "warning" and report["status"] == "degraded"
    result = await gatemod.run_gate(config)
    assert result.healthy
