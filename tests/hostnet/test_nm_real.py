"""The NetworkManager client against the real NetworkManager (Debian's 1.42) on a private bus, in a
network namespace: wired state with a real DHCP server, a wire whose DHCP never answers, saved
profiles through the real Settings API, and the refusals of a box without Wi-Fi."""

from __future__ import annotations

import asyncio

import pytest

from appliance.hostnet.nm import SETTINGS, SETTINGS_PATH, NetworkError, NetworkManagerClient
from tests.hostnet.conftest import RealNM

pytestmark = [pytest.mark.root, pytest.mark.slow]


async def _until(check, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            value = await check()
            if value:
                return value
        except NetworkError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.3)


async def test_real_networkmanager(real_nm: RealNM) -> None:
    nm = await NetworkManagerClient.connect(real_nm.bus)
    try:
        state = await _until(lambda: _connected(nm))
        eth0 = next(d for d in state.devices if d.interface == "eth0")
        assert eth0.kind == "ethernet" and eth0.state == "activated"
        assert len(eth0.addresses) == 1 and eth0.addresses[0].startswith("192.0.2.")
        assert 50 <= int(eth0.addresses[0].rsplit(".", 1)[1]) <= 99  # from dnsmasq's range
        assert state.addresses == eth0.addresses
        eth1 = next(d for d in state.devices if d.interface == "eth1")
        assert eth1.state != "activated" and eth1.addresses == ()  # DHCP never answers there

        # Saved Wi-Fi profiles go through the real Settings API, odd bytes included.
        await nm.add_wifi_profile(b"Home\xfe", "correct horse")
        await nm.add_wifi_profile(b"Other", None)
        saved = await nm.saved_wifi()
        assert sorted(saved.values()) == [b"Home\xfe", b"Other"]
        assert await nm.forget(b"Home\xfe") == 1
        assert list((await nm.saved_wifi()).values()) == [b"Other"]

        # No Wi-Fi device on this box: every Wi-Fi action says so.
        with pytest.raises(NetworkError, match="no usable Wi-Fi"):
            await nm.scan(wait=0.1)
        with pytest.raises(NetworkError, match="no usable Wi-Fi"):
            await nm.join(b"Home", "correct horse")
        with pytest.raises(NetworkError, match="no usable Wi-Fi"):
            await nm.start_hotspot("Smeshbox-Setup-0000", "password123")
        # A malformed profile is refused by NetworkManager itself, with its reason.
        with pytest.raises(NetworkError, match="refused AddConnection"):
            await nm._call(SETTINGS_PATH, SETTINGS, "AddConnection", "a{sa{sv}}", [{"connection": {}}])
    finally:
        await nm.close()


async def _connected(nm: NetworkManagerClient):  # type: ignore[no-untyped-def]
    state = await nm.state()
    return state if state.connected else None
