"""The network check's problems from NetworkManager and setup states."""

from __future__ import annotations

from appliance.hostnet.checks import NetworkCheck
from appliance.hostnet.nm import NetworkState
from appliance.hostnet.setup import SetupStatus


def test_network_problems() -> None:
    check = NetworkCheck("Smeshbox-Setup-C0DE")
    assert check.problems(NetworkState(connected=True, addresses=("192.0.2.5",)), SetupStatus()) == []
    (offline,) = check.problems(NetworkState(), SetupStatus(state="open"))
    assert offline.id == "network-offline" and "Smeshbox-Setup-C0DE" in offline.remedy
    ids = [p.id for p in check.problems(NetworkState(), SetupStatus(state="failed", joining="Home",
                                                                    reason="wrong password"))]
    assert ids == ["network-offline", "wifi-join-failed"]
    (down, unavailable) = check.problems(None, SetupStatus(state="unavailable", reason="no Wi-Fi"),
                                         "NetworkManager is not running")
    assert down.id == "network-manager-down" and "not running" in down.reason
    assert unavailable.severity == "warning" and "no Wi-Fi" in unavailable.reason
