"""The dashboard's top card in Debian's chromium at 360×780: the four answers visible without
scrolling, trouble that looks like trouble, missed epochs with their reasons, a lost session that
ends in the login (not a hung "Reconnecting…"), and notifications set up and tested from Settings
against a local ntfy-compatible receiver. Screenshots: test-artifacts/screenshots/top-*.png."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from appliance.status.summary import NextEvent, Problem
from tests.notify import conftest as receivers
from tests.web import test_browser as browser
from tests.web.conftest import Api, World
from tests.web.test_browser import _logged_in, fits_the_phone, shot

page, ntfy = browser.page, receivers.ntfy  # fixtures shared with the other browser and notify tests

pytestmark = pytest.mark.browser


async def visible_without_scrolling(page: Any, selector: str) -> None:
    """The element is on the first screen: its bottom edge within the 780 px viewport at scroll 0."""
    bottom = await page.evaluate(
        f"window.scrollTo(0, 0), document.querySelector({selector!r}).getBoundingClientRect().bottom")
    assert 0 < bottom <= 780, f"{selector} ends at {bottom}px"


async def viewport_shot(page: Any, name: str) -> None:
    from tests.web.test_browser import SHOTS

    await page.screenshot(path=str(SHOTS / f"top-{name}.png"))  # the first screen only


async def test_four_answers_without_scrolling(page: Any, api: Api, world: World) -> None:
    from playwright.async_api import expect

    await _logged_in(page, api, world)
    card = page.locator("#summary")
    await expect(card.get_by_role("heading", name="Earning")).to_be_visible()
    await expect(card).to_contain_text("Taking part in epoch 12")
    await expect(card).to_contain_text("Next reward chance in 2")  # "in 24 min" / "in 25 min"
    await expect(page.locator("#earned-total")).to_have_text("1,432.5 SMH")
    await expect(page.locator("#needs")).to_contain_text("missed epoch 9")
    await expect(page.locator("#needs")).to_contain_text("Keep the box powered")
    await visible_without_scrolling(page, "#needs")
    await fits_the_phone(page)
    await viewport_shot(page, "1-earning")

    # the protocol details are one tap away, and the missed epoch is there with its reason
    await page.get_by_text("Protocol details").click()
    ident = dataclasses.replace(world.node.identity, atx_history=[
        *world.node.identity.atx_history[:3],
        dataclasses.replace(world.node.identity.atx_history[3], reason="the PoET proof did not include us")])
    world.node.set(identities=[ident])
    await expect(page.locator("#node .missed")).to_contain_text(
        "Epoch 9 missed: the PoET proof did not include us")

    # trouble: a slow proof and an unplugged drive, pushed live; the card says so in red
    now, gone = time.time(), "Samsung T7 S5ABC123 is unplugged or failed"
    world.summary.set(state="trouble", headline="Not earning", why=gone,
                      next=[NextEvent("PoST data ready", None, "the speed is still being measured")],
                      needs=[Problem("drive:x:missing", "drives", "error", gone,
                                     "Plug it back in; its work resumes where it stopped", now),
                             Problem("slow", "node", "error", "The last proof took 29 s of a 18 s budget",
                                     "Use less PoST space per box or a faster box", now)])
    await expect(card.get_by_role("heading", name="Not earning")).to_be_visible()
    assert "bad" in (await card.get_by_role("heading").get_attribute("class"))
    await expect(page.locator("#needs li.sev-error")).to_have_count(2)
    await expect(card).to_contain_text("time not known yet")
    await visible_without_scrolling(page, "#needs")
    await viewport_shot(page, "2-trouble")


async def test_lost_session_shows_the_login(page: Any, api: Api, world: World) -> None:
    from playwright.async_api import expect

    await _logged_in(page, api, world)
    await expect(page.locator("#live")).to_have_text("Live")
    world.auth.end_all_sessions()  # e.g. the password was changed on another phone
    world.node.set(epoch=13)  # the stream notices on its next event
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible(timeout=15000)
    await expect(page.get_by_role("alert")).to_have_text("Your session ended; log in again.")
    await viewport_shot(page, "3-session-ended")
    await page.get_by_label("Admin password").fill("correct horse battery")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#summary").get_by_role("heading", name="Earning")).to_be_visible()


async def test_notifications_from_settings(page: Any, api: Api, world: World, ntfy: receivers.Ntfy) -> None:
    from playwright.async_api import expect

    await _logged_in(page, api, world)
    await page.get_by_role("link", name="Settings").click()
    form = page.locator("#notify")
    await form.get_by_label("ntfy or webhook URL").fill(ntfy.url)
    await form.get_by_role("button", name="Send a test").click()
    await expect(form.get_by_role("status")).to_have_text("Test sent by webhook.")
    assert [g["title"] for g in ntfy.got] == ["Test notification"]
    assert world.notify.config.enabled is False  # testing is not consent to everything else
    await form.get_by_label("Send me notifications").check()
    await form.get_by_role("button", name="Save notifications").click()
    await expect(form.get_by_role("status")).to_have_text("Saved. Notifications are on.")
    assert world.notify.config.enabled is True and world.notify.config.webhook_url == ntfy.url
    await form.get_by_label("ntfy or webhook URL").fill("ftp://nope")
    await form.get_by_role("button", name="Save notifications").click()
    await expect(form.get_by_role("alert")).to_contain_text("Notification URL")
    # identity backup in Settings refuses a weak password before anything is made
    backup = page.locator("#backup")
    await backup.get_by_label("Backup password").fill("abc")
    await backup.get_by_role("button", name="Download backup").click()
    await expect(backup.get_by_role("alert")).to_contain_text("at least 12 characters")
    # sessions outlive restarts, so a lost phone is logged out from here
    devices = page.locator("#devices")
    await expect(devices).to_contain_text("Devices logged in now: 2")  # this page and the test's client
    await devices.get_by_role("button", name="Log out all other devices").click()
    await expect(devices).to_contain_text("Devices logged in now: 1")
    assert (await api.call("GET", "/api/v1/settings"))[0] == 401
    await fits_the_phone(page)
    await shot(page, "top-4-settings")


async def test_large_text_no_script_broken_module_and_reset(page: Any, api: Api, world: World) -> None:
    from playwright.async_api import expect

    await _logged_in(page, api, world)
    await expect(page.locator("#summary").get_by_role("heading", name="Earning")).to_be_visible()
    await page.evaluate("document.documentElement.style.fontSize = '27px'")  # 150 % text size
    logout = await page.get_by_role("button", name="Log out").bounding_box()
    assert logout is not None and logout["x"] + logout["width"] <= 360
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await viewport_shot(page, "5-large-text")

    # factory reset: the page waits through the restart and comes back in set-up, never on the
    # browser's "can't be reached" page
    answers = iter(["down", "down", "back"])

    async def restarting(route: Any) -> None:
        if next(answers, "back") == "down":
            await route.abort("connectionrefused")
        else:
            await route.fulfill(json={"password_set": False, "done": False})

    await page.reload()
    await page.get_by_role("link", name="Settings").click()
    await page.route("**/api/v1/onboarding", restarting)
    await page.get_by_label('Type "factory reset" to confirm').fill("factory reset")
    await page.get_by_label("The identity keys").select_option("keep")
    await page.get_by_role("button", name="Factory reset").click()
    await expect(page.locator("main").get_by_role("status")).to_contain_text("restart")
    await expect(page.get_by_role("heading", name="Set an admin password")).to_be_visible(timeout=20000)
    assert world.reset.calls == 1

    context = await page.context.browser.new_context(java_script_enabled=False, base_url=page.url)
    bare = await context.new_page()
    await bare.goto("/")
    await expect(bare.locator("main")).to_contain_text("the page needs JavaScript")
    await context.close()
    context = await page.context.browser.new_context(base_url=page.url)
    broken = await context.new_page()
    await broken.route("**/ui/summary.js", lambda route: route.abort())  # one module fails to load
    await broken.goto("/")
    await expect(broken.get_by_role("alert")).to_contain_text("The page could not start", timeout=15000)
    await context.close()
    # the refused connections while the box restarted are expected, not a broken page
    page.problems[:] = [p for p in page.problems if "ERR_CONNECTION_REFUSED" not in p]
