"""The page in Debian's headless chromium at a phone viewport (360×780), against a real server:
onboarding end to end, the dashboard's live update over SSE, a failed login, and the settings page.
Screenshots go to test-artifacts/screenshots/ (look at them: they are the UI review)."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import PASSWORD, Api, World
from tests.web.fakes import GIB, VALID_ADDRESS

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
async def page(api: Api) -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/apt/web.txt)")
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(
            viewport={"width": 360, "height": 780},
            accept_downloads=True,
            base_url=str(api.client.make_url("/")),
        )
        pg = await context.new_page()
        problems: list[str] = []
        pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: problems.append(str(e)))
        pg.problems = problems
        yield pg
        await browser.close()
    # Console errors that are not the expected 4xx of a refused request mean a broken page.
    unexpected = [p for p in problems if not re.search(r"status of 4\d\d", p)]
    assert unexpected == []


async def shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def fits_the_phone(page: Any) -> None:
    """Nothing wider than the 360 px screen, and every form control has an accessible name."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    unlabelled = await page.evaluate("""() => [...document.querySelectorAll('input, textarea, select')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.outerHTML)""")
    assert unlabelled == []


async def test_onboarding_end_to_end(page: Any, world: World) -> None:
    from playwright.async_api import expect

    await page.goto("/")
    await expect(page.get_by_role("heading", name="Set an admin password")).to_be_visible()
    await fits_the_phone(page)
    await shot(page, "onboarding-1-password")
    await page.get_by_label("Admin password").fill(PASSWORD)
    await page.get_by_label("Repeat the password").fill(PASSWORD + "x")
    await page.get_by_role("button", name="Set password").click()
    await expect(page.get_by_role("alert")).to_have_text("The two passwords differ.")
    await page.get_by_label("Repeat the password").fill(PASSWORD)
    await page.get_by_role("button", name="Set password").click()

    await expect(page.get_by_role("heading", name="How should the box earn?")).to_be_visible()
    await page.get_by_role("button", name="Built-in light node").click()  # node mode: test_nodemode_browser

    await expect(page.get_by_role("heading", name="Where should rewards go?")).to_be_visible()
    await page.get_by_label("Reward address").fill("sm1notanaddress")
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page.get_by_role("alert")).to_contain_text("Reward address:")
    await shot(page, "onboarding-2-address-error")
    await page.get_by_label("Reward address").fill(VALID_ADDRESS)
    await page.get_by_role("button", name="Save and continue").click()

    await expect(page.get_by_role("heading", name="Choose drives")).to_be_visible()
    samsung = page.get_by_role("region", name="Samsung T7 S5TANS0R123")
    await samsung.get_by_role("button", name="Format this drive…").click()
    erase = samsung.get_by_role("button", name="Erase and format")
    await expect(erase).to_be_disabled()  # not before the explicit confirmation
    await expect(samsung).to_contain_text("Samsung T7, serial S5TANS0R123, 500 GiB")
    await fits_the_phone(page)
    await shot(page, "onboarding-3-drives-confirm")
    await samsung.get_by_label(re.compile("Yes, erase Samsung T7")).check()
    await erase.click()
    await expect(page.get_by_role("region", name="Samsung T7 S5TANS0R123")).to_contain_text("active")
    assert world.drives.formatted == ["usb-Samsung_T7_S5TANS0R123"]
    await page.get_by_role("button", name="Next").click()

    await expect(page.get_by_role("heading", name="How much space?")).to_be_visible()
    wd = page.get_by_role("region", name="Space on WD Elements")
    for amount, words in (("4", "4.0 GiB (1 unit)"), ("100", "100 GiB (25 units)")):
        await wd.get_by_role("spinbutton").fill(amount)
        await wd.get_by_role("spinbutton").dispatch_event("change")
        await expect(wd).to_contain_text(words)
    await expect(wd).to_contain_text("labels/s")
    await fits_the_phone(page)
    await shot(page, "onboarding-4-space")
    await wd.get_by_role("button", name="Use this space").click()
    await expect(page.get_by_role("region", name="Space on WD Elements")).to_contain_text("In use: 100 GiB")
    assert world.drives.drives()[1].allocated_bytes == 100 * GIB
    await page.get_by_role("button", name="Next").click()

    await expect(page.get_by_role("heading", name="Back up the identity")).to_be_visible()
    await page.get_by_label("Backup password").fill("backup secret")
    await page.get_by_label("Admin password").fill(PASSWORD)
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download backup").click()
    download = await info.value
    envelope = json.loads(Path(await download.path()).read_bytes())
    from appliance.node.identity import import_encrypted

    restored = {
        import_encrypted(base64.b64decode(e), "backup secret").node_id for e in envelope["identities"]
    }
    assert restored == {i.node_id for i in world.identities.load_all()}
    await fits_the_phone(page)
    await shot(page, "onboarding-5-identity")
    await page.get_by_role("button", name="Finish set-up").click()
    await expect(page.get_by_role("heading", name="Drives")).to_be_visible()
    assert world.services.state_dir.joinpath("settings.json").read_text().count('"onboarded": true') == 1


async def _logged_in(page: Any, api: Api, world: World) -> None:
    await api.onboard_password()
    await api.call("PATCH", "/api/v1/settings", {"reward_address": VALID_ADDRESS})
    await api.call("POST", "/api/v1/onboarding/complete")
    await page.goto("/")
    await page.get_by_label("Admin password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def test_dashboard_live_update(page: Any, api: Api, world: World) -> None:
    from playwright.async_api import expect

    await world.drives.allocate("usb-WD_Elements_WX12A3456", 40 * GIB)
    await _logged_in(page, api, world)
    await expect(page.locator("#live")).to_have_text("Live")
    wd = page.get_by_role("region", name="Drive WD Elements")
    await expect(wd.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    # The managers publish; the page must follow without reloading.
    drive = world.drives.drives()[1]
    assert drive.job is not None
    world.drives.advance(drive.id, drive.job.labels_total // 4)
    await expect(wd.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "25")
    world.drives.advance(drive.id, drive.job.labels_total // 2)
    await expect(wd.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "75")
    await page.get_by_text("Protocol details").click()  # one tap away from the top card
    chart = page.get_by_role("img", name=re.compile("^ATX history"))
    await expect(chart).to_have_attribute("aria-label", re.compile("epoch 11 good, epoch 12 pending$"))
    fills = await chart.locator("rect").evaluate_all("rs => rs.map((r) => r.getAttribute('fill'))")
    grades = ["good", "good", "acceptable", "missed", "good", "good", "pending"]
    colour = dict(zip(grades, fills, strict=True))
    assert len(set(colour.values())) == 4 and "#333" not in fills, colour  # each grade its own colour
    await expect(page.locator("#node .legend li")).to_have_text(
        ["G good", "A acceptable", "M missed", "P pending"])
    world.node.set(epoch=13, status="generating the PoST proof")
    await expect(page.locator("#node")).to_contain_text("generating the PoST proof")
    # a second drive's identity: each gets its heading, status line and a chart named after it
    second = dataclasses.replace(world.node.identity, node_id="cd" * 32, status="proving", atx_history=[])
    world.node.set(identities=[world.node.identity, second])
    headings = [f"Identity {'ab' * 8}…", f"Identity {'cd' * 8}…"]
    await expect(page.locator("#node h3.identity")).to_have_text(headings)
    named = re.compile(f"^ATX history of {'ab' * 8}…: epoch 6 good")
    await expect(page.get_by_role("img", name=named)).to_be_visible()
    await expect(page.locator("#node")).to_contain_text("proving")
    world.box.set(cpu_temp_c=79.0, undervoltage=True)
    await expect(page.locator("#box")).to_contain_text("79.0 °C")
    await expect(page.locator("#box")).to_contain_text("Under-voltage!")
    await fits_the_phone(page)
    await shot(page, "dashboard-live")
    world.drives.advance(drive.id, drive.job.labels_total)
    await expect(wd).to_contain_text("Data check: 4096 sampled labels checked: all good")


async def test_login_failure_and_rate_limit(page: Any, api: Api, world: World) -> None:
    from playwright.async_api import expect

    await api.onboard_password()
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    for _ in range(4):
        await page.get_by_label("Admin password").fill("not the password")
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("alert")).to_have_text("Wrong password")
        await expect(page.get_by_role("button", name="Log in")).to_be_enabled()
    await shot(page, "login-failed")
    await page.get_by_label("Admin password").fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_label("Admin password").fill(PASSWORD)  # right, but locked out now
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Too many failed attempts")
    await shot(page, "login-rate-limited")
    world.clock.now += 31  # the lock-out ends
    await page.get_by_role("button", name="Log in").click()
    await expect(
        page.get_by_role("heading", name="Set an admin password").or_(
            page.get_by_role("heading", name="How should the box earn?")
        )
    ).to_be_visible()


async def test_settings_page(page: Any, api: Api, world: World) -> None:
    from playwright.async_api import expect

    await _logged_in(page, api, world)
    await page.get_by_role("link", name="Settings").click()
    await expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    await page.get_by_label("Box name").fill("Bad Name")
    await page.get_by_role("button", name="Save name").click()
    await expect(page.get_by_role("alert").filter(has_text="Box name")).to_be_visible()
    await page.get_by_label("Box name").fill("attic-box")
    await page.get_by_role("button", name="Save name").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    assert '"hostname": "attic-box"' in world.services.state_dir.joinpath("settings.json").read_text()
    await page.get_by_role("button", name="Install 0.2.0").click()
    await expect(page.locator("#update")).to_contain_text("downloading")
    assert world.update.started == ["0.2.0"]
    await expect(page.get_by_role("link", name="Download appliance.log")).to_be_visible()
    await expect(page.get_by_role("button", name="Factory reset")).to_be_visible()
    await fits_the_phone(page)
    await shot(page, "settings")
    # A reset must say what happens to the identity keys before it runs.
    await page.get_by_label('Type "factory reset" to confirm').fill("factory reset")
    await page.get_by_role("button", name="Factory reset").click()
    await expect(page.get_by_role("alert").filter(has_text="keep or wipe")).to_be_visible()
    assert world.reset.calls == 0
    await page.get_by_label("The identity keys").select_option("wipe")
    await page.get_by_role("button", name="Factory reset").click()
    # the page waits for the box to come back (this fake box never restarts)
    await expect(page.get_by_role("status").filter(has_text="restarting")).to_be_visible()
    assert world.reset.kept_identities == [False]
