"""A person with a phone and the real box: Debian's headless chromium at 360x780 against
``python -m appliance run --dev`` — onboarding through the page, the dashboard following init live
over SSE and then the node card filling in as the box smeshes, and a wrong password refused.
Screenshots: test-artifacts/screenshots/e2e-*.png (the UI review: look at them)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from appliance.node.identity import IdentityStore, import_encrypted
from tests.e2e.conftest import INIT_LIMIT, PASSWORD, REWARD_ADDRESS, TEST_LIMIT, DevDaemon

pytestmark = [pytest.mark.slow, pytest.mark.root, pytest.mark.browser,
              pytest.mark.timeout(TEST_LIMIT)]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # as tests/web/test_browser.py
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SECOND = 1000  # Playwright timeouts are in milliseconds
#: bounds for a hung run, not speed assertions: init of one unit per drive, then two epochs to an ATX
INIT_MS, SMESH_MS = INIT_LIMIT * SECOND, 240 * SECOND
SPACE_MIB = (1, 4)
BAR = "[data-drive='{}'] [role=progressbar]"


async def shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"e2e-{name}.png"), full_page=True)


async def fits_the_phone(page: Any) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360


async def planned(daemon: DevDaemon, serial: str, size: int) -> None:
    """Waits (bounded) until the drive list reports the new plan: re-planning measures the drive."""
    for _ in range(INIT_LIMIT * 2):
        drive = next(d for d in daemon.api("GET", "/api/v1/drives")["drives"] if d["serial"] == serial)
        if drive["allocated_bytes"] == size:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{serial} never showed the plan of {size} bytes: {drive}")


async def onboard(page: Any, daemon: DevDaemon) -> None:
    from playwright.async_api import expect

    await page.goto("/")
    await expect(page.get_by_role("heading", name="Set an admin password")).to_be_visible()
    await page.get_by_label("Admin password").fill(PASSWORD)
    await page.get_by_label("Repeat the password").fill(PASSWORD)
    await page.get_by_role("button", name="Set password").click()

    await expect(page.get_by_role("heading", name="How should the box earn?")).to_be_visible()
    await page.get_by_role("button", name="Built-in light node").click()  # node mode: test_nodemode_browser

    await expect(page.get_by_role("heading", name="Where should rewards go?")).to_be_visible()
    await page.get_by_label("Reward address").fill("sm1qqqqqqqpqgpsgpgxquyqjzstpsxsurcszyfpx9qtkr9eX")
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page.get_by_role("alert")).to_contain_text("Reward address:")
    await fits_the_phone(page)
    await shot(page, "1-address-error")
    await page.get_by_label("Reward address").fill(REWARD_ADDRESS)
    await page.get_by_role("button", name="Save and continue").click()

    # the --dev drives come formatted (making the image file is the consent): both usable at once
    await expect(page.get_by_role("heading", name="Choose drives")).to_be_visible()
    cards = page.locator("section.card")
    await expect(cards).to_have_count(2)
    for i in range(2):
        await expect(cards.nth(i)).to_contain_text("active")
    await expect(page.get_by_role("button", name="Format this drive…")).to_have_count(0)
    await fits_the_phone(page)
    await shot(page, "2-drives")
    await page.get_by_role("button", name="Next").click()

    await expect(page.get_by_role("heading", name="How much space?")).to_be_visible()
    spaces = page.get_by_role("region", name=re.compile("^Space on "))
    await expect(spaces).to_have_count(2)
    # one space unit (1 MiB) on the first drive, so the box smeshes within a minute; four on the
    # second, so its init is still running — and visibly progressing — on the dashboard
    daemon.login()
    for i, mib in enumerate(SPACE_MIB):
        card = page.get_by_role("region", name=re.compile("^Space on ")).nth(i)
        serial = (await card.get_attribute("aria-label")).rsplit(" ", 1)[1]
        await card.get_by_role("spinbutton").fill(str(mib))
        await card.get_by_role("spinbutton").dispatch_event("change")
        await expect(card).to_contain_text(f"{mib} MiB ({mib} unit{'' if mib == 1 else 's'})")
        await expect(card).to_contain_text("labels/s")
        if i == 1:
            await fits_the_phone(page)
            await shot(page, "3-space")
        await card.get_by_role("button", name="Use this space").click()
        # the box answers once init has stopped at a durable label (it runs at SCHED_IDLE: slow on busy cores)
        await expect(card.get_by_role("button", name="Use this space")).to_be_enabled(timeout=INIT_MS)
        await planned(daemon, serial, mib << 20)
    # Leave the step and come back, as a person would: the sizes are the ones the box keeps.
    await page.get_by_role("button", name="Back").click()
    await page.get_by_role("button", name="Next").click()
    for i, mib in enumerate(SPACE_MIB):
        await expect(page.get_by_role("region", name=re.compile("^Space on ")).nth(i)).to_contain_text(
            f"In use: {mib} MiB")
    drives = daemon.api("GET", "/api/v1/drives")["drives"]
    assert sorted(d["allocated_bytes"] for d in drives) == [m << 20 for m in SPACE_MIB], drives
    await page.get_by_role("button", name="Next").click()

    await expect(page.get_by_role("heading", name="Back up the identity")).to_be_visible()
    await page.get_by_label("Backup password").fill("backup secret")
    await page.get_by_label("Admin password").fill(PASSWORD)
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download backup").click()
    envelope = json.loads(Path(await (await info.value).path()).read_bytes())
    restored = {import_encrypted(base64.b64decode(e), "backup secret").node_id
                for e in envelope["identities"]}
    on_box = {i.node_id for i in IdentityStore(daemon.state / "identities").load_all()}
    assert restored == on_box and len(on_box) == 2
    await expect(page.get_by_role("status").filter(has_text="Backup downloaded")).to_be_visible()
    await fits_the_phone(page)
    await shot(page, "4-identity")
    await page.get_by_role("button", name="Finish set-up").click()
    await expect(page.get_by_role("heading", name="Drives")).to_be_visible()


async def test_phone_onboarding_dashboard_and_login(dev_daemon: DevDaemon) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/apt/web.txt)")
    from playwright.async_api import async_playwright, expect

    daemon = dev_daemon
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(viewport={"width": 360, "height": 780}, accept_downloads=True,
                                            base_url=daemon.url)
        page = await context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        await onboard(page, daemon)
        assert json.loads((daemon.state / "web/settings.json").read_text())["onboarded"] is True

        # live init progress, pushed over SSE: the page is never reloaded (the marker survives)
        await page.evaluate("window.__sameDocument = true")
        await expect(page.locator("#live")).to_have_text("Live")
        big = next(d for d in daemon.api("GET", "/api/v1/drives")["drives"]
                   if d["allocated_bytes"] == SPACE_MIB[1] << 20)
        bar = page.locator(BAR.format(big["id"]))
        await expect(bar).to_be_visible()
        seen = {int(await bar.get_attribute("aria-valuenow"))}
        while len(seen) < 3 and max(seen) < 100:  # distinct values, each arriving without a reload
            await page.wait_for_function(
                "([sel, seen]) => !seen.includes(Number(document.querySelector(sel)?.ariaValueNow))",
                arg=[BAR.format(big["id"]), sorted(seen)], timeout=INIT_MS)
            seen.add(int(await bar.get_attribute("aria-valuenow")))
        assert len(seen) >= 3 and min(seen) < 100, seen
        await expect(page.locator("#drives")).to_contain_text("Time left")
        await fits_the_phone(page)
        await shot(page, "5-dashboard-init")

        # then the node card (one tap away, under the top card): the box smeshes and its first ATX
        # shows, still on the same document
        await page.get_by_text("Protocol details").click()
        node = page.locator("#node")
        # (one identity shows as "Node …"; once the second drive completes, each gets an "Identity …")
        await expect(node).to_contain_text(re.compile(r"(Node|Identity) [0-9a-f]{16}…"),
                                           timeout=INIT_MS + SMESH_MS)
        good_chart = re.compile(r"ATX history( of [0-9a-f]{16}…)?: epoch \d+ good")
        await expect(page.get_by_role("img", name=good_chart).first).to_be_visible(timeout=SMESH_MS)
        assert await page.evaluate("window.__sameDocument === true")
        api_node = daemon.api("GET", "/api/v1/node")
        smeshing = [i for i in api_node["identities"] if i["atx_history"]]
        assert smeshing, api_node
        await expect(node).to_contain_text(f"{smeshing[0]['node_id'][:16]}…")
        await expect(node).not_to_contain_text("No proof generated yet.")
        await fits_the_phone(page)
        await shot(page, "6-dashboard-node")

        # a wrong password is refused with the reason shown
        await page.get_by_role("button", name="Log out").click()
        await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        await page.get_by_label("Admin password").fill("not the password")
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("alert")).to_have_text("Wrong password")
        await fits_the_phone(page)
        await shot(page, "7-login-failed")
        await page.get_by_label("Admin password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("heading", name="Drives")).to_be_visible()
        await browser.close()
    unexpected = [m for m in problems if not re.search(r"status of 4\d\d", m)]
    assert unexpected == []
