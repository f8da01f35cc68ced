"""The setup flow end to end over D-Bus (the NetworkManager stand-in on a real private bus, the
captive DNS on loopback): when the hotspot opens, the wrong-password and no-DHCP paths, the join,
and that the box always ends up reachable again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from appliance.hostnet.credentials import HotspotCredentials
from appliance.hostnet.nm import NetworkManagerClient
from appliance.hostnet.setup import SetupConfig, SetupError, SetupFlow, SetupStatus
from tests.hostnet.fakenm import FakeNetworkManager, HomeNetwork

FAST = SetupConfig(grace_s=0.3, check_s=0.05, idle_close_s=0.6, join_timeout_s=3.0, linger_s=0.3,
                   dns_port=0, dns_host="127.0.0.1")
CREDS = HotspotCredentials("Smeshbox-Setup-C0DE", "k3yforthebox")


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


class Flow:
    def __init__(self, flow: SetupFlow, nm: NetworkManagerClient, fake: FakeNetworkManager) -> None:
        self.flow, self.nm, self.fake = flow, nm, fake
        self.seen: list[SetupStatus] = []

    @property
    def state(self) -> str:
        return self.flow.status().state


async def _flow(system_bus: str, fake: FakeNetworkManager, config: SetupConfig = FAST) -> AsyncIterator[Flow]:
    nm = await NetworkManagerClient.connect(system_bus)
    holder: list[SetupStatus] = []
    flow = SetupFlow(nm, CREDS, config, on_change=holder.append)
    f = Flow(flow, nm, fake)
    f.seen = holder
    await flow.start()
    try:
        yield f
    finally:
        await flow.stop()
        await nm.close()


@pytest.fixture
async def flow(system_bus: str, fake_nm: FakeNetworkManager) -> AsyncIterator[Flow]:
    async for f in _flow(system_bus, fake_nm):
        yield f


async def test_no_network_opens_the_hotspot_then_wrong_then_right_password(flow: Flow) -> None:
    await until(lambda: flow.state == "open")
    status = flow.flow.status()
    assert status.hotspot_ssid == "Smeshbox-Setup-C0DE" and status.hotspot_address == "10.42.0.1"
    assert "no network" in status.opened_because
    assert [n.ssid for n in status.networks] == ["HomeNet", "NoDHCP", "Cafe\\xff\\x00"]
    assert flow.nm.hotspot_open

    await flow.flow.join(b"HomeNet", "not the password")
    assert flow.state == "joining"
    with pytest.raises(SetupError, match="already trying"):
        await flow.flow.join(b"HomeNet", "again")
    await until(lambda: flow.state == "failed")
    assert flow.flow.status().reason == "wrong password"
    assert flow.nm.hotspot_open  # back for the person to pick again
    assert await flow.nm.saved_wifi() == {}  # the wrong password is not kept

    await flow.flow.join(b"HomeNet", "correct horse")
    await until(lambda: flow.state in ("joined", "idle"))
    joined = next(s for s in flow.seen if s.state == "joined")
    assert joined.next_address == "192.0.2.77" and joined.next_url == "http://smeshbox.local"
    assert not flow.nm.hotspot_open  # one radio: it is a station now
    assert (await flow.nm.state()).connected
    await until(lambda: flow.state == "idle")
    states = [s.state for s in flow.seen]
    assert states[:2] == ["open", "joining"] and "failed" in states


async def test_dhcp_that_never_answers_brings_the_hotspot_back(flow: Flow) -> None:
    await until(lambda: flow.state == "open")
    await flow.flow.join(b"NoDHCP", "password1")
    await until(lambda: flow.state == "failed")
    assert "DHCP" in flow.flow.status().reason and flow.nm.hotspot_open


async def test_a_vanished_network_brings_the_hotspot_back(flow: Flow) -> None:
    await until(lambda: flow.state == "open")
    await flow.flow.join(b"HomeNet", "correct horse")
    await until(lambda: flow.state == "idle")
    flow.fake.networks.clear()  # the home access point is switched off
    flow.fake.refresh_aps()
    flow.fake.deactivate_device(flow.fake.devices[0], 36)
    await until(lambda: flow.state == "open")
    assert flow.nm.hotspot_open and not (await flow.nm.state()).connected


async def test_walking_away_from_a_box_with_a_saved_network_reconnects_it(flow: Flow) -> None:
    await until(lambda: flow.state == "open")
    await flow.flow.join(b"HomeNet", "correct horse")
    await until(lambda: flow.state == "idle")
    await flow.flow.open()  # the button: the radio leaves the home network for the hotspot
    assert flow.state == "open" and not (await flow.nm.state()).connected
    # nobody uses the portal: after idle_close_s the saved network is back, the hotspot gone
    await until(lambda: flow.state == "idle", timeout=5)
    await until(lambda: not flow.nm.hotspot_open)
    for _ in range(100):
        if (await flow.nm.state()).connected:
            break
        await asyncio.sleep(0.02)
    assert (await flow.nm.state()).connected


async def test_walking_away_from_a_box_with_no_other_way_in_keeps_the_hotspot(flow: Flow) -> None:
    await until(lambda: flow.state == "open")
    await asyncio.sleep(FAST.idle_close_s * 2)
    assert flow.state == "open" and flow.nm.hotspot_open


async def test_join_is_refused_while_closed(system_bus: str, fake_nm: FakeNetworkManager) -> None:
    config = SetupConfig(grace_s=60, check_s=0.05, dns_port=0, dns_host="127.0.0.1")
    async for f in _flow(system_bus, fake_nm, config):
        with pytest.raises(SetupError, match="not open"):
            await f.flow.join(b"HomeNet", "correct horse")


async def test_two_radios_keep_the_hotspot_up_during_the_attempt(system_bus: str) -> None:
    fake = FakeNetworkManager([HomeNetwork(b"HomeNet", "correct horse")], wifi=("wlan0", "wlan1"))
    await fake.start(system_bus)
    try:
        async for f in _flow(system_bus, fake):
            await until(lambda f=f: f.state == "open")
            await f.flow.join(b"HomeNet", "correct horse")
            await until(lambda f=f: f.state == "joined")
            assert f.nm.hotspot_open  # the phone can still read where the box is now
            assert f.flow.status().next_address == "192.0.2.77"
            await until(lambda f=f: f.state == "idle")  # after linger_s
            assert not f.nm.hotspot_open
    finally:
        await fake.stop()


async def test_networkmanager_gone_is_reported_then_retried(system_bus: str) -> None:
    config = SetupConfig(grace_s=0.1, check_s=0.05, dns_port=0, dns_host="127.0.0.1")
    nm = await NetworkManagerClient.connect(system_bus)
    flow = SetupFlow(nm, CREDS, config)
    try:
        status = await flow.open()
        assert status.state == "unavailable" and "not running" in status.reason
        fake = FakeNetworkManager([])
        await fake.start(system_bus)
        await flow.start()
        await until(lambda: flow.status().state == "open")
        await fake.stop()
    finally:
        await flow.stop()
        await nm.close()
