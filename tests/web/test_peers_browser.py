"""The "Speed up initialization" card in Debian's headless chromium, against the real helper
service (its own redis-server) and a running init: a pairing code with its QR image, a helper that
pairs over the helper API shows up with its labels/s next to the ETA with and without helpers, and
once removed from the card it is refused."""

from __future__ import annotations

import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.peers.service import PeersService
from appliance.post.metadata import PostMetadata
from appliance.web.app import create_app
from appliance.web.peers import HELPER_API_URL, PEERS, helper_app
from tests.web.conftest import Api, World
from tests.web.test_browser import _logged_in, fits_the_phone, page, shot

__all__ = ["page"]  # the page fixture, on this module's app
pytestmark = pytest.mark.browser
META = PostMetadata(bytes([1]) * 32, bytes([2]) * 32, 1 << 20, 4, 1 << 30)  # never done in the test


@pytest.fixture
def service(tmp_path: Path) -> Iterator[PeersService]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing (scripts/apt/peers.txt)")
    svc = PeersService(tmp_path / "peers")
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture
async def api(world: World, aiohttp_client: Any, service: PeersService) -> Api:
    app = create_app(world.services, auth=world.auth)
    app[PEERS] = service
    app[HELPER_API_URL] = "https://192.168.1.20:8442"
    return Api(await aiohttp_client(app))


@pytest.fixture
async def init(service: PeersService, tmp_path: Path) -> AsyncIterator[None]:
    """An init running on the box's core (scrypt N 8192, one thread) for the box's measured rate."""
    coordinator = service.attach(tmp_path / "data", META, 8192, lambda _helper, _unit: None)
    stop = threading.Event()
    thread = threading.Thread(target=coordinator.run, args=(stop,), daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


@pytest.mark.usefixtures("init")
async def test_pairing_card(page: Any, api: Api, world: World, service: PeersService, aiohttp_client) -> None:
    from playwright.async_api import expect

    helpers = await aiohttp_client(helper_app(service))
    await _logged_in(page, api, world)
    card = page.get_by_role("region", name="Speed up initialization")
    await expect(card).to_contain_text("No computer is paired.")
    await card.get_by_role("button", name="Pair a computer").click()
    command = card.locator("code")
    await expect(command).to_contain_text("python -m appliance helper --pair ")
    code = (await command.text_content()).split("--pair ")[1].split()[0]
    assert (await command.text_content()).endswith("--box https://192.168.1.20:8442")
    qr = card.get_by_role("img", name=f"QR code of the command with pairing code {code}")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 100")  # the SVG rendered

    wrong = await helpers.post("/api/v1/peers/pair", json={"code": "WRONG234", "name": "desk"})
    assert wrong.status == 403
    paired = await helpers.post(
        "/api/v1/peers/pair", json={"code": code, "name": "desk", "labels_per_second": 52000}
    )
    assert paired.status == 200, await paired.text()
    token = {"Authorization": f"Bearer {(await paired.json())['token']}"}
    hello = await helpers.post("/api/v1/peers/hello", json={"labels_per_second": 52000}, headers=token)
    assert hello.status == 204

    desk = card.get_by_role("listitem").filter(has_text="desk")
    await expect(desk).to_contain_text("52,000 labels/s", timeout=15000)  # the card refreshes itself
    await expect(card).not_to_contain_text("speed not measured yet")
    eta_alone = card.locator("dt", has_text="ETA, box alone").locator("xpath=following-sibling::dd[1]")
    eta_helped = card.locator("dt", has_text="ETA, with helpers").locator("xpath=following-sibling::dd[1]")
    await expect(eta_alone).not_to_have_text("—")
    await expect(eta_helped).not_to_have_text("—")
    status = service.status()["init"]
    assert status["eta_seconds_with_helpers"] < status["eta_seconds_box_only"] / 2  # 52k vs one core
    await fits_the_phone(page)
    await shot(page, "peers-card")

    await desk.get_by_role("button", name="Remove").click()
    await expect(card).to_contain_text("No computer is paired.")
    refused = await helpers.post("/api/v1/peers/hello", json={"labels_per_second": 1}, headers=token)
    assert refused.status == 401 and "revoked" in (await refused.json())["reason"]
    assert service.pairing_helpers() == []
