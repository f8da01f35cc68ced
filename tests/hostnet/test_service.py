"""HostNetManager over a private bus: NetworkManager absent at first (reported, retried), then the
stand-in appears; the setup hotspot opens with its QR on the screen; problems in the health shape."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from appliance.hostnet.service import HostNetConfig, HostNetManager
from appliance.hostnet.setup import SetupConfig
from tests.hostnet.fakenm import FakeNetworkManager, HomeNetwork


async def test_manager_reports_retries_and_opens_setup(system_bus: str, tmp_path: Path) -> None:
    screens: list[tuple[tuple[str, ...], str]] = []
    config = HostNetConfig(system_bus, SetupConfig(grace_s=0.2, check_s=0.05, dns_port=0,
                                                   dns_host="127.0.0.1"), check_s=0.1, reconnect_max_s=0.2)
    manager = HostNetManager(tmp_path, "3fa9c2", config, notice=lambda lines, qr: screens.append((lines, qr)))
    await manager.start()
    fake = FakeNetworkManager([HomeNetwork(b"HomeNet", "correct horse")])
    try:
        for _ in range(100):
            if any(p.id == "network-manager-down" for p in manager.problems()):
                break
            await asyncio.sleep(0.02)
        problems = {p.id: p for p in manager.problems()}
        assert "network-manager-down" in problems and "clock-unknown" in problems
        assert set(dataclasses.asdict(problems["clock-unknown"])) == {
            "id", "component", "severity", "reason", "remedy", "restart_helps"}
        await fake.start(system_bus)
        for _ in range(200):
            if manager.flow is not None and manager.flow.status().state == "open":
                break
            await asyncio.sleep(0.02)
        assert manager.flow is not None and manager.flow.status().state == "open"
        lines, qr = screens[-1]
        assert manager.credentials is not None and manager.credentials.password in lines
        assert qr == f"WIFI:S:Smeshbox-Setup-A9C2;T:WPA;P:{manager.credentials.password};;"  # type: ignore[union-attr]
        for _ in range(100):
            ids = [p.id for p in manager.problems()]
            if "network-manager-down" not in ids:
                break
            await asyncio.sleep(0.02)
        assert "network-offline" in ids and "network-manager-down" not in ids
        assert (tmp_path / "hotspot.json").stat().st_mode & 0o777 == 0o600
    finally:
        await manager.stop()
        await fake.stop()


def test_setup_overrides(tmp_path: Path) -> None:
    from appliance.hostnet.service import setup_overrides

    base = SetupConfig()
    assert setup_overrides(tmp_path, base) == base
    (tmp_path / "hostnet.json").write_text('{"grace_s": 20, "check_s": 2, "dns_port": 5353, "linger_s": -1,'
                                           ' "idle_close_s": true}')
    tuned = setup_overrides(tmp_path, base)
    assert (tuned.grace_s, tuned.check_s) == (20.0, 2.0)
    assert (tuned.dns_port, tuned.linger_s, tuned.idle_close_s) == (53, base.linger_s, base.idle_close_s)
    (tmp_path / "hostnet.json").write_text("{broken")
    assert setup_overrides(tmp_path, base) == base
