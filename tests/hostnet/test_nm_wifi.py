"""The NetworkManager client's Wi-Fi half against the NetworkManager stand-in on a real private bus:
scan (odd bytes, duplicates), join (right, wrong, absent, no DHCP), forget, hotspot."""

from __future__ import annotations

import pytest

from appliance.hostnet.nm import NetworkError, NetworkManagerClient
from tests.hostnet.fakenm import FakeNetworkManager


@pytest.fixture
async def client(fake_nm: FakeNetworkManager, system_bus: str):
    nm = await NetworkManagerClient.connect(system_bus)
    yield nm
    await nm.close()


async def test_scan_lists_each_network_once_strongest_first(client: NetworkManagerClient,
                                                            fake_nm: FakeNetworkManager) -> None:
    aps = await client.scan(wait=1.0)
    assert [a.ssid for a in aps] == ["HomeNet", "NoDHCP", "Cafe\\xff\\x00"]
    assert aps[0].strength == 80 and aps[0].secured and aps[0].frequency_mhz == 2437
    assert bytes.fromhex(aps[2].ssid_hex) == b"Cafe\xff\x00" and not aps[2].secured
    assert fake_nm.scans == 1


async def test_join_right_password_gets_an_address(client: NetworkManagerClient,
                                                   fake_nm: FakeNetworkManager) -> None:
    result = await client.join(b"HomeNet", "correct horse", timeout=5)
    assert result.ok and result.interface == "wlan0" and result.addresses == ("192.0.2.77",)
    assert list((await client.saved_wifi()).values()) == [b"HomeNet"]
    state = await client.state()
    assert state.connected and state.addresses == ("192.0.2.77",)


@pytest.mark.parametrize(("ssid", "password", "reason"), [
    (b"HomeNet", "wrong horse", "wrong password"),
    (b"Gone", "whatever1", "not in range"),
    (b"NoDHCP", "password1", "DHCP did not answer"),
])
async def test_failed_join_says_why_and_leaves_no_profile(client: NetworkManagerClient, ssid: bytes,
                                                          password: str, reason: str) -> None:
    result = await client.join(ssid, password, timeout=5)
    assert not result.ok and reason in result.reason
    assert await client.saved_wifi() == {}
    assert not (await client.state()).connected


async def test_join_odd_bytes_open_network(client: NetworkManagerClient) -> None:
    result = await client.join(b"Cafe\xff\x00", None, timeout=5)
    assert result.ok and result.addresses == ("198.51.100.9",)
    assert list((await client.saved_wifi()).values()) == [b"Cafe\xff\x00"]


async def test_bad_input_is_refused_before_networkmanager(client: NetworkManagerClient) -> None:
    assert "8 to 63" in (await client.join(b"HomeNet", "short", timeout=5)).reason
    with pytest.raises(NetworkError, match="1 to 32 bytes"):
        await client.join(b"x" * 33, "password1")
    assert await client.saved_wifi() == {}


async def test_forget_deletes_every_profile_of_the_name(client: NetworkManagerClient) -> None:
    await client.add_wifi_profile(b"HomeNet", "correct horse")
    await client.add_wifi_profile(b"HomeNet", "older password")
    await client.add_wifi_profile(b"Other", None)
    assert await client.forget(b"HomeNet") == 2
    assert list((await client.saved_wifi()).values()) == [b"Other"]
    assert await client.forget(b"HomeNet") == 0


async def test_hotspot_comes_up_shared_and_is_not_counted_as_network(client: NetworkManagerClient,
                                                                     fake_nm: FakeNetworkManager) -> None:
    iface, address = await client.start_hotspot("Smeshbox-Setup-ABCD", "k3y-for-box")
    assert (iface, address) == ("wlan0", "10.42.0.1") and client.hotspot_open
    assert not (await client.state()).connected  # the hotspot is no way to reach the box from home
    assert await client.saved_wifi() == {}  # the AP profile is not listed as a home network
    await client.stop_hotspot()
    assert not client.hotspot_open and fake_nm.connections == {}


async def test_networkmanager_missing_is_a_clear_error(system_bus: str) -> None:
    nm = await NetworkManagerClient.connect(system_bus)
    try:
        with pytest.raises(NetworkError, match="not running"):
            await nm.devices()
    finally:
        await nm.close()
