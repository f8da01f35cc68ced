"""The composition root in process: the start list makes every manager in dependency order (the
web app last, answering from the managers above it), a manager read before its line ran is named,
and stopping undoes exactly what started — also when the list breaks off half way (the web port
is taken) — leaving no task behind."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.chain import load_chain
from appliance.composition.bootstrap import initialize, start, stop
from appliance.composition.box import Box, RunOptions
from appliance.composition.network import box_network
from appliance.composition.webapp import ListenError
from appliance.config import DaemonConfig, StateLayout
from appliance.web.portal import PORTAL

LIGHT_NODE_ORDER = ["JobManager", "DriveManager", "NodeMode", "NodeSupervisor", "HwManager",
                    "DiscoveryManager", "StatusScreen", "NotifyManager", "HelperSwitch", "WebApp"]


@pytest.fixture
def port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    yield free


def _box(tmp_path: Path, port: int) -> Box:
    layout = StateLayout(tmp_path / "state")
    layout.create()
    # no loop devices may be adopted from the host: only this test's (empty) folder is allowed
    config = DaemonConfig(listen_host="127.0.0.1", listen_port=port, loop_backing_dirs=[str(tmp_path)])
    network = box_network(layout, load_chain(layout.root))
    return initialize(layout, config, network, RunOptions(), on_restart=lambda: None, web_connection_cap=64)


def _names(box: Box) -> list[str]:
    return [type(m).__name__ for m in box.lifecycle.running]


def _others() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


async def test_the_start_list_makes_every_manager_in_order_and_stops_them_all(tmp_path: Path,
                                                                            port: int) -> None:
    box = _box(tmp_path, port)
    with pytest.raises(RuntimeError, match="node is read before the start list made it"):
        box.node  # noqa: B018
    try:
        await start(box)
        assert _names(box) == LIGHT_NODE_ORDER
        assert (box.hostnet, box.button, box.ota) == (None, None, None)  # a dev machine has none
        assert box.web is not None and box.web.services.nodemode is box.nodemode.service
        assert box.tasks.get("oled-status") is not None
        # the page's answers come from the managers the list made: the light node waits for data
        node = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/api/v1/health")
        assert node["status"] in ("ok", "starting", "degraded", "failing")
        assert box.node.snapshot().running is False
        assert box.nodemode.light_node_paused() is None  # the light node is the default mode
    finally:
        await stop(box)
    assert box.lifecycle.running == ()
    assert box.tasks.get("oled-status") is None
    assert _others() == []


async def test_a_start_list_that_breaks_off_stops_what_had_started(tmp_path: Path, port: int) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        box = _box(tmp_path, port)
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}"):
            await start(box)
        assert _names(box) == LIGHT_NODE_ORDER[:-1]  # everything but the web app was running
        await stop(box)
    assert box.lifecycle.running == ()
    assert _others() == []


async def test_on_the_image_host_networking_and_the_portal_join_the_list(
        tmp_path: Path, port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The image hands NetworkManager to the box (its conf.d file): host networking starts after
    the senses, its problems reach the box's health and the portal is installed in the web app. Here no
    NetworkManager answers (a bus socket that does not exist), which the box reports and retries."""
    from appliance.composition import senses

    handed_over = tmp_path / "smeshbox.conf"
    handed_over.write_text("[main]\n")
    monkeypatch.setattr(senses, "BOX_NETWORK_CONF", handed_over)
    monkeypatch.setattr(senses, "GPIO_CHIP", tmp_path / "no-gpiochip")  # no setup button here
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    box = _box(tmp_path, port)
    try:
        await start(box)
        order = list(LIGHT_NODE_ORDER)
        order.insert(order.index("HwManager") + 1, "HostNetManager")
        assert _names(box) == order and box.hostnet is not None and box.button is None
        for _ in range(100):  # the first connection attempt fails within moments
            problems = [p.id for p in box.health.report().problems]
            if "network-manager-down" in problems:
                break
            await asyncio.sleep(0.05)
        assert "network-manager-down" in problems, problems
        assert box.web is not None and box.web.app[PORTAL] is box.hostnet  # it answers on the hotspot only
    finally:
        await stop(box)
    assert box.lifecycle.running == ()
    assert _others() == []
