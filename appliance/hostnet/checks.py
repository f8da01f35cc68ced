"""The network check: health problems from NetworkManager's state and the setup flow's."""

from __future__ import annotations

import time
from collections.abc import Callable

from appliance.hostnet.nm import NetworkState
from appliance.hostnet.problems import Episodes, Problem, Severity
from appliance.hostnet.setup import SetupStatus


class NetworkCheck:
    def __init__(self, hotspot_ssid: str, wall: Callable[[], float] = time.time) -> None:
        self.hotspot_ssid = hotspot_ssid
        self._episodes = Episodes(wall)

    def problems(self, state: NetworkState | None, setup: SetupStatus, error: str = "") -> list[Problem]:
        """``state`` None: NetworkManager could not be asked (``error`` says why)."""
        found: list[tuple[str, str, Severity, str, str]] = []
        if state is None:
            found.append(("network-manager-down", "network", "error",
                          f"The box cannot manage its network: {error or 'NetworkManager did not answer'}.",
                          "Restart the box; if this stays, send a support bundle from the diagnostics page."))
        elif not state.connected:
            found.append(("network-offline", "network", "error",
                          "The box has no network connection (no cable, no Wi-Fi).",
                          f"Plug in a network cable, or press the setup button and join the Wi-Fi "
                          f"{self.hotspot_ssid} with a phone to pick a network."))
        if setup.state == "unavailable":
            found.append(("wifi-setup-unavailable", "network", "warning",
                          f"The Wi-Fi setup hotspot cannot open: {setup.reason}.",
                          "Use a network cable; the box keeps trying."))
        elif setup.state == "failed":
            found.append(("wifi-join-failed", "network", "warning",
                          f"Joining {setup.joining} failed: {setup.reason}.",
                          f"Join {self.hotspot_ssid} again and pick a network."))
        return self._episodes.problems(found)
