"""The captive portal as a phone meets it: the daemon's real web app with the portal installed,
served over TCP; the "phone" resolves the probe hosts through the captive DNS, follows the probe
redirects to the page, lists networks, sends a wrong then a right password, and is told where the
box is now. The hotspot address is loopback here (the NetworkManager stand-in hands it out)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from dnslib import DNSRecord

from appliance.hostnet.credentials import HotspotCredentials
from appliance.hostnet.nm import NetworkManagerClient
from appliance.hostnet.setup import SetupConfig, SetupFlow
from appliance.web import create_app, portal
from appliance.web.app import UI_DIR
from tests.hostnet.fakenm import FakeNetworkManager, HomeNetwork
from tests.web.conftest import make_world

CONFIG = SetupConfig(grace_s=0.1, check_s=0.05, idle_close_s=60, join_timeout_s=3.0, linger_s=60,
                     dns_port=0, dns_host="127.0.0.1")
PROBES = [("connectivitycheck.gstatic.com", "/generate_204"), ("captive.apple.com", "/hotspot-detect.html"),
          ("www.msftconnecttest.com", "/connecttest.txt")]


@dataclass
class Box:
    flow: SetupFlow
    port: int
    http: aiohttp.ClientSession


@pytest.fixture
async def box(system_bus: str, tmp_path: Path) -> AsyncIterator[Box]:
    fake = FakeNetworkManager([HomeNetwork(b"HomeNet", "correct horse", address="192.0.2.77")],
                              wifi=("wlan0", "wlan1"), ap_address="127.0.0.1")
    await fake.start(system_bus)
    nm = await NetworkManagerClient.connect(system_bus)
    flow = SetupFlow(nm, HotspotCredentials("Smeshbox-Setup-C0DE", "k3yforthebox"), CONFIG)
    world = make_world(tmp_path)
    app = create_app(world.services, auth=world.auth)
    portal.install(app, flow, UI_DIR)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "0.0.0.0", 0)
    await site.start()
    port = runner.addresses[0][1]
    await flow.start()
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    try:
        yield Box(flow, port, http)
    finally:
        await http.close()
        await flow.stop()
        await runner.cleanup()
        await nm.close()
        await fake.stop()


def _resolve(port: int, name: str) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(DNSRecord.question(name, "A").pack(), ("127.0.0.1", port))
        return str(DNSRecord.parse(sock.recv(4096)).rr[0].rdata)


async def _until_state(box: Box, url: str, *states: str) -> dict:
    for _ in range(250):
        async with box.http.get(url) as resp:
            status = await resp.json() if resp.status == 200 else {"state": f"HTTP {resp.status}"}
        if status["state"] in states:
            return status
        await asyncio.sleep(0.02)
    raise AssertionError(f"state stayed {status['state']}")


async def test_phone_sets_up_wifi_through_the_portal(box: Box) -> None:
    for _ in range(250):
        if box.flow.status().state == "open":
            break
        await asyncio.sleep(0.02)
    assert box.flow.dns_port is not None
    base = f"http://127.0.0.1:{box.port}"
    for host, path in PROBES:
        ip = await asyncio.to_thread(_resolve, box.flow.dns_port, host)
        assert ip == "127.0.0.1"
        async with box.http.get(f"http://{ip}:{box.port}{path}", headers={"Host": host},
                                allow_redirects=False) as resp:
            assert resp.status == 302, (host, path)
            assert resp.headers["Location"] == f"{base}/portal/"
    async with box.http.get(f"http://127.0.0.1:{box.port}/any/page", headers={"Host": "example.com"},
                            allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == f"{base}/portal/"
    async with box.http.get(f"{base}/portal/") as resp:
        assert resp.status == 200 and "Wi-Fi setup" in await resp.text()
    async with box.http.get(f"{base}/ui/portal.js") as resp:
        assert resp.status == 200

    status = await _until_state(box, f"{base}/portal/api/status", "open")
    assert [n["ssid"] for n in status["networks"]] == ["HomeNet"]
    home = status["networks"][0]

    async with box.http.post(f"{base}/portal/api/join",
                             json={"ssid_hex": home["ssid_hex"], "password": "wrong horse"}) as resp:
        assert resp.status == 202 and (await resp.json())["state"] == "joining"
    failed = await _until_state(box, f"{base}/portal/api/status", "failed")
    assert failed["reason"] == "wrong password" and failed["networks"]

    async with box.http.post(f"{base}/portal/api/join",
                             json={"ssid_hex": home["ssid_hex"], "password": "correct horse"}) as resp:
        assert resp.status == 202
    joined = await _until_state(box, f"{base}/portal/api/status", "joined")
    assert joined["next_address"] == "192.0.2.77" and joined["next_url"] == "http://smeshbox.local"


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{", 400, "malformed_json"),
    (b"[]", 400, "invalid"),
    (b'{"ssid": 5}', 400, "invalid"),
    (b'{"ssid_hex": "zz"}', 400, "invalid"),
    (b'{"ssid": "' + b"x" * 40 + b'"}', 400, "invalid"),
    (b"{}", 400, "invalid"),
    (b'{"ssid": "a", "password": "' + b"p" * 2000 + b'"}', 413, "too_large"),
])
async def test_bad_join_bodies_get_clear_errors(box: Box, body: bytes, status: int, code: str) -> None:
    base = f"http://127.0.0.1:{box.port}"
    await _until_state(box, f"{base}/portal/api/status", "open")
    async with box.http.post(f"{base}/portal/api/join", data=body,
                             headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == status
        assert (await resp.json())["error"] == code
    assert box.flow.status().state == "open"


async def test_cross_origin_and_form_posts_are_refused(box: Box) -> None:
    base = f"http://127.0.0.1:{box.port}"
    await _until_state(box, f"{base}/portal/api/status", "open")
    async with box.http.post(f"{base}/portal/api/join", json={"ssid": "HomeNet", "password": "x" * 9},
                             headers={"Origin": "http://evil.example"}) as resp:
        assert resp.status == 403
    async with box.http.post(f"{base}/portal/api/join", data={"ssid": "HomeNet"}) as resp:
        assert resp.status == 415


async def test_portal_exists_only_on_the_hotspot_address(box: Box) -> None:
    await _until_state(box, f"http://127.0.0.1:{box.port}/portal/api/status", "open")
    other = f"http://127.0.0.2:{box.port}"  # the box's app, reached on another address
    async with box.http.get(f"{other}/portal/api/status") as resp:
        assert resp.status == 404
    async with box.http.get(f"{other}/generate_204", allow_redirects=False) as resp:
        assert resp.status != 302
    async with box.http.get(f"{other}/api/v1/health") as resp:
        assert resp.status == 200  # the normal app is untouched


@pytest.mark.browser
async def test_the_page_in_a_phone_browser(box: Box) -> None:
    """Debian's chromium at a phone viewport opens a probe URL, lands on the page, picks the
    network, gets the wrong-password reason, then the box's new address."""
    import shutil

    from tests.web.test_browser import ARGS, CHROMIUM

    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/apt/web.txt)")
    from playwright.async_api import async_playwright, expect

    base = f"http://127.0.0.1:{box.port}"
    await _until_state(box, f"{base}/portal/api/status", "open")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 360, "height": 780})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{base}/generate_204")  # the probe the phone makes; it follows the 302
            assert page.url == f"{base}/portal/"
            await page.get_by_role("button", name="HomeNet").click()
            await page.fill("#password", "wrong horse")
            await page.get_by_role("button", name="Connect").click()
            await expect(page.locator("#message")).to_contain_text("wrong password", timeout=10000)
            await page.get_by_role("button", name="HomeNet").click()
            await page.fill("#password", "correct horse")
            await page.get_by_role("button", name="Connect").click()
            await page.wait_for_selector("#done:not([hidden])", timeout=10000)
            assert await page.text_content("#next-ip") == "192.0.2.77"
            assert await page.get_attribute("#next-url", "href") == "http://smeshbox.local"
            assert errors == []
        finally:
            await browser.close()
