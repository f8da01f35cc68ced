"""The network check: health problems from NetworkManager's state and the setup flow's."""

from __future__ import annotations

from appliance.health.model import Finding, Severity
from appliance.hostnet.nm import NetworkState
from appliance.hostnet.setup import SetupStatus


class NetworkCheck:
    def __init__(self, hotspot_ssid: str) -> None:
        self.hotspot_ssid = hotspot_ssid

    def problems(self, state: NetworkState | None, setup: SetupStatus, error: str = "") -> list[Finding]:
        """``state`` None: NetworkManager could not be asked (``error`` says why). Since when each
        problem lasts is the health object's business (:class:`appliance.health.HealthMonitor`)."""
        found: list[Finding] = []
        if state is None:
            found.append(Finding("network-manager-down", "network", Severity.ERROR,
                          f"The box cannot manage its network: {error or 'NetworkManager did not answer'}.",
                          "Restart the box; if this stays, send a support bundle from the diagnostics page."))
        elif not state.connected:
            found.append(Finding("network-offline", "network", Severity.ERROR,
                          "The box has no network connection (no cable, no Wi-Fi).",
                          f"Plug in a network cable, or press the setup button and join the Wi-Fi "
                          f"{self.hotspot_ssid} with a phone to pick a network."))
        if setup.state == "unavailable":
            found.append(Finding("wifi-setup-unavailable", "network", Severity.WARNING,
                          f"The Wi-Fi setup hotspot cannot open: {setup.reason}.",
                          "Use a network cable; the box keeps trying."))
        elif setup.state == "failed":
            found.append(Finding("wifi-join-failed", "network", Severity.WARNING,
                          f"Joining {setup.joining} failed: {setup.reason}.",
                          f"Join {self.hotspot_ssid} again and pick a network."))
        return found
