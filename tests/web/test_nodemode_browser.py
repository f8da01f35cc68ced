"""Node mode in Debian's headless chromium at a phone viewport, against a real server and the devnet's
go-spacemesh node: the onboarding choice "with my Spacemesh node", the node form (a bad address is
refused with the server's sentence), onboarding finishing without a reward address, the dashboard
card with each identity's post-service (registered with the node), and the identity hand-off — the
key file downloaded in go-spacemesh's format, a foreign key refused."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.devnet.fakenode import FakeNode, NodePostConfig
from tests.web.conftest import PASSWORD, Api, World
from tests.web.test_browser import fits_the_phone, page, shot  # noqa: F401 - the page fixture

pytestmark = pytest.mark.browser


async def test_node_mode_onboarding_dashboard_and_handoff(page: Any, api: Api, world: World,  # noqa: F811
                                                          tmp_path: Any) -> None:
    from playwright.async_api import expect

    node = FakeNode(NodePostConfig(8, 12, b"\xff" * 32, 256, 2), query_interval=0.05)
    address = await node.start()
    try:
        await page.goto("/")
        await page.get_by_label("Admin password").fill(PASSWORD)
        await page.get_by_label("Repeat the password").fill(PASSWORD)
        await page.get_by_role("button", name="Set password").click()

        await expect(page.get_by_role("heading", name="How should the box earn?")).to_be_visible()
        await fits_the_phone(page)
        await shot(page, "nodemode-1-choice")
        await page.get_by_role("button", name="With my Spacemesh node").click()

        await expect(page.get_by_role("heading", name="Connect to your node")).to_be_visible()
        await page.get_by_label("Network").select_option("devnet")
        await page.get_by_label("Your node's post listener").fill("ftp://node.lan:9094")
        await page.get_by_role("button", name="Save and continue").click()
        await expect(page.get_by_role("alert")).to_contain_text("unknown client protocol")
        await page.get_by_label("Your node's post listener").fill(f"http://{address}")
        await fits_the_phone(page)
        await shot(page, "nodemode-2-node")
        await page.get_by_role("button", name="Save and continue").click()
        await expect(page.get_by_role("heading", name="Choose drives")).to_be_visible()
        assert world.nodemode.store.current.node_address == f"http://{address}"

        # the drive steps are test_browser's; jump to the hand-off as the last step shows it
        await page.evaluate("location.reload()")
        await world.nodemode.supervisor.start()
        drive_a = world.identities.load("drive-a")
        drive_b = world.identities.load("drive-b")
        await expect(page.get_by_role("heading", name="How should the box earn?")).to_be_visible()
        status, _ = await api.call("POST", "/api/v1/auth/login", {"password": PASSWORD})
        assert status == 200
        status, body = await api.call("POST", "/api/v1/onboarding/complete")
        assert status == 200 and body["reward_address"] == "", body  # node mode: the node has the coinbase
        await page.goto("/#dashboard")
        await page.evaluate("location.reload()")
        card = page.get_by_role("region", name="Your node")
        await expect(card).to_contain_text("serving 2 identities")
        await expect(card.locator("[data-node-id]")).to_have_count(2)
        await expect(card).to_contain_text("waiting for its PoST data to be complete")
        await expect(card).to_contain_text("enter the node's public API address")  # where earnings are
        await shot(page, "nodemode-3-dashboard")

        await page.goto("/#settings")
        await expect(page.get_by_role("heading", name="Identity hand-off")).to_be_visible()
        await expect(page.get_by_role("note")).to_contain_text("One identity must never run in two places")
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Download drive-a.key").click()
        download = await info.value
        assert download.suggested_filename == "drive-a.key"
        saved = tmp_path / "drive-a.key"
        await download.save_as(saved)
        assert saved.read_text().strip() == drive_a.key_file_text()  # go-spacemesh's hex private key
        foreign = tmp_path / "other.key"
        foreign.write_text(drive_b.key_file_text())
        section = page.locator(f"section[data-node-id='{drive_a.node_id.hex()}']").last
        await section.get_by_label("Key from your node for drive-a").set_input_files(str(foreign))
        await section.get_by_role("button", name="Use this key").click()
        await expect(section.get_by_role("alert")).to_contain_text("already the identity of drive-b")
        await section.get_by_label("Key from your node for drive-a").set_input_files(str(saved))
        await section.get_by_role("button", name="Use this key").click()
        await expect(section.get_by_role("status")).to_have_text("The box already holds this key.")
        await fits_the_phone(page)
        await shot(page, "nodemode-4-handoff")
    finally:
        await world.nodemode.supervisor.stop()
        await node.stop()
