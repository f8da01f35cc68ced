"""The dashboard against the real box (``run --dev``) in Debian's chromium at 360x780: the top
card's four answers on the first screen, a drive plugged in after set-up formatted from the page
(after it said what is on the drive), a daemon restart with the page open that ends in a working
page without a reload or a new login, and a missed epoch (both devnet PoETs switched off) shown
with its reason. Screenshots: test-artifacts/screenshots/e2e-top-*.png."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from appliance.drives import loopdev
from tests.e2e.conftest import PASSWORD, TEST_LIMIT, DevDaemon, require_root_loops, small_plan, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.root, pytest.mark.browser, pytest.mark.timeout(TEST_LIMIT)]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SECOND = 1000
UNIT = 1 << 20


async def first_screen(page: Any, name: str) -> None:
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(SHOTS / f"e2e-top-{name}.png"))


async def answers_on_first_screen(page: Any) -> None:
    """Headline and the three answers (next, earned, needs you) all end inside the 780 px screen."""
    from playwright.async_api import expect

    await expect(page.locator("#summary dt")).to_have_text(["Next", "Earned", "Needs you"], ignore_case=True)
    bottom = await page.evaluate(
        "window.scrollTo(0, 0), document.querySelector('#needs').getBoundingClientRect().bottom")
    assert 0 < bottom <= 780, bottom
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360


def foreign_drive(daemon: DevDaemon, tmp: Path) -> Path:
    """A 64 MiB ext4 'HOLIDAYS' with one photo, made without mounting (mkfs -d), in the folder
    the dev box takes loop devices from — then attached, as plugging in a USB drive."""
    content = tmp / "holiday-files"
    content.mkdir()
    (content / "beach.jpg").write_bytes(b"\xff\xd8 a precious photo" * 4096)
    image = daemon.state / "dev-drives" / "drive-c.img"
    with open(image, "wb") as handle:
        handle.truncate(64 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "HOLIDAYS", "-d", str(content), str(image)], check=True)
    daemon.images.append(image)
    loopdev.attach(image)
    return image


async def test_top_card_new_drive_restart_and_missed_epoch(tmp_path: Path) -> None:
    require_root_loops()
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/apt/web.txt)")
    from playwright.async_api import async_playwright, expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    daemon = DevDaemon(tmp_path)
    second: DevDaemon | None = None
    problems: list[str] = []
    try:
        daemon.wait_ready()
        daemon.onboard()
        first_two = set(small_plan(daemon))
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = await browser.new_context(viewport={"width": 360, "height": 780}, base_url=daemon.url)
            page = await context.new_page()
            page.on("pageerror", lambda e: problems.append(str(e)))
            await page.goto("/")
            await page.get_by_label("Admin password").fill(PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            card = page.locator("#summary")
            headline = re.compile("Preparing|Not earning yet|Earning")
            await expect(card.get_by_role("heading", name=headline)).to_be_visible()
            await answers_on_first_screen(page)
            await first_screen(page, "1-box")

            # a drive plugged in after set-up: offered, with what is on it, formatted from the page
            foreign_drive(daemon, tmp_path)
            offered = page.locator("#drives section.card", has_text="offered")
            await expect(offered).to_be_visible(timeout=60 * SECOND)
            await expect(page.locator("#needs")).to_contain_text("plugged in but unused")
            await offered.get_by_role("button", name="Format this drive…").click()
            what = re.compile(r"On it now: .*ext4 'HOLIDAYS', \d+ MiB used, 1 item")
            await expect(offered).to_contain_text(what)
            await offered.get_by_role("checkbox").check()
            await page.screenshot(path=str(SHOTS / "e2e-top-2-erase-confirm.png"), full_page=True)
            await offered.get_by_role("button", name="Erase and format").click()
            drives = page.locator("#drives")
            await expect(drives.locator("section.card")).to_have_count(3, timeout=60 * SECOND)
            offered_now = drives.locator("section.card", has_text="offered")
            await expect(offered_now).to_have_count(0, timeout=60 * SECOND)
            new = wait_for(lambda: [d for d in daemon.api("GET", "/api/v1/drives")["drives"]
                                    if d["job"] is not None and d["id"] not in first_two], 60,
                           "the new drive's dataset job", daemon)
            daemon.api("POST", f"/api/v1/drives/{new[0]['id']}/allocate", {"size_bytes": UNIT})

            # the daemon restarts with the page open: stale data is marked, then it is live again
            await page.evaluate("window.__sameDocument = true")
            assert daemon.stop() == 0
            stale = "Reconnecting… showing data from"
            await expect(page.locator("#live")).to_contain_text(stale, timeout=30 * SECOND)
            await first_screen(page, "3-reconnecting")
            second = DevDaemon(tmp_path, port=daemon.port, log="daemon-2.log")
            second.images = daemon.images
            second.wait_ready()
            await expect(page.locator("#live")).to_have_text("Live", timeout=60 * SECOND)
            assert await page.evaluate("window.__sameDocument === true")  # no reload, no login
            await expect(page.get_by_role("heading", name="Log in")).to_have_count(0)
            await expect(page.locator("#drives section.card")).to_have_count(3, timeout=60 * SECOND)
            await first_screen(page, "4-after-restart")

            # a missed epoch: every PoET is down through a registration window
            second.login()
            smeshing = wait_for(lambda: second.api("GET", "/api/v1/node")["identities"], 240,
                                "an identity smeshing", second)
            down = json.dumps({"poet0": {"down": True}, "poet1": {"down": True}}).encode()
            with urllib.request.urlopen(second.gateway + "/admin/faults", data=down, timeout=30) as resp:
                assert json.loads(resp.read())["poet0"]["down"] is True
            await expect(page.locator("#needs")).to_contain_text(re.compile("missed epoch \\d+"),
                                                                 timeout=120 * SECOND)
            await answers_on_first_screen(page)
            await first_screen(page, "5-missed-epoch")
            await page.get_by_text("Protocol details").click()
            await expect(page.locator("#node .missed").first).to_contain_text(
                re.compile("Epoch \\d+ missed: no PoET registration"))
            assert smeshing
            await browser.close()
        assert problems == []
        assert second.stop() == 0
    finally:
        for d in (daemon, second):
            if d is not None:
                d.force_cleanup()
