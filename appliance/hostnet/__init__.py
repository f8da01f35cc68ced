"""Host networking: NetworkManager over D-Bus (dbus-fast is imported only here) — wired state, Wi-Fi
scan/join/forget and the setup hotspot —, the setup flow with its captive-portal DNS, and the
clock check (systemd-timesyncd/timedated over D-Bus). Checks report problems as
:class:`appliance.health.model.Finding` for the box's health object."""
