"""NotifyManager end to end against local receivers: nothing without consent, a notice once per
start of a condition (not again after a restart), ntfy and SMTP both delivered, failures reported
in words, bad settings refused without changing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.errors import ServiceError
from appliance.events import EventBus
from appliance.jobs.model import JobSnapshot, JobState
from appliance.notify import conditions
from appliance.notify.channels import Notice
from appliance.notify.manager import NotifyManager
from tests.notify.conftest import Ntfy, Smtp


class Conditions:
    def __init__(self) -> None:
        self.now: list[Notice] = []

    def __call__(self) -> list[Notice]:
        return list(self.now)


def _mail(smtp: Smtp) -> dict[str, object]:
    return {"smtp_host": smtp.host, "smtp_port": smtp.port, "mail_from": "box@example.org",
            "mail_to": "me@example.org"}


DRIVE_GONE = Notice("problem:drive:x:missing", "Samsung T7 is unplugged", "Plug it back in.", "high")


async def test_consent_rising_edges_and_restart(tmp_path: Path, ntfy: Ntfy, smtp: Smtp) -> None:
    state = Conditions()
    manager = NotifyManager(tmp_path, EventBus(), [state])
    await manager.start()
    try:
        state.now = [DRIVE_GONE]
        assert await manager.evaluate() == []  # first look: learns the present, sends nothing
        await manager.update({"webhook_url": ntfy.url, **_mail(smtp), "smtp_starttls": False})
        state.now = []
        await manager.evaluate()
        state.now = [DRIVE_GONE]
        assert [n.key for n in await manager.evaluate()] == [DRIVE_GONE.key]
        assert ntfy.got == [] and smtp.handler.messages == []  # not switched on: nothing sent
        await manager.update({"enabled": True})
        state.now = [DRIVE_GONE, Notice("undervoltage", "Power supply too weak", "Use the official one.")]
        await manager.evaluate()
        await manager.evaluate()  # still true: not sent again
        assert [g["title"] for g in ntfy.got] == ["Power supply too weak"]
        assert ntfy.got[0]["message"] == "Use the official one." and ntfy.got[0]["topic"] == "smeshbox-test"
        assert [m["Subject"] for m in smtp.handler.messages] == ["Smeshbox: Power supply too weak"]
        assert smtp.handler.messages[0]["To"] == "me@example.org"
        assert [d.ok for d in manager.recent()] == [True, True]
    finally:
        await manager.stop()
    again = NotifyManager(tmp_path, EventBus(), [state])  # a restart with the same conditions
    state.now = [DRIVE_GONE, Notice("undervoltage", "Power supply too weak", "x"), Notice("new", "New", "y")]
    assert [n.key for n in await again.evaluate()] == ["new"]
    assert [g["title"] for g in ntfy.got] == ["Power supply too weak", "New"]
    assert again.settings()["enabled"] is True and "smtp_password" not in again.settings()
    await again.stop()


async def test_test_button_reports_each_channel(tmp_path: Path, ntfy: Ntfy, smtp: Smtp) -> None:
    manager = NotifyManager(tmp_path, EventBus(), [])
    with pytest.raises(ServiceError):
        await manager.test()  # nowhere to send yet
    await manager.update({"webhook_url": ntfy.url, **_mail(smtp), "smtp_starttls": True})
    ntfy.status = 403
    deliveries = await manager.test()  # sent even while switched off: the person pressed the button
    by = {d.channel: d for d in deliveries}
    assert not by["webhook"].ok and "HTTP 403" in by["webhook"].detail
    assert not by["email"].ok and "STARTTLS" in by["email"].detail  # aiosmtpd here offers no TLS
    ntfy.status = 200
    await manager.update({"smtp_starttls": False, "smtp_port": smtp.port})
    assert all(d.ok for d in await manager.test())
    assert smtp.handler.messages[-1]["Subject"] == "Smeshbox: Test notification"
    await manager.update({"webhook_url": "http://127.0.0.1:1/closed"})
    bad = {d.channel: d for d in await manager.test()}["webhook"]
    assert not bad.ok and "could not reach" in bad.detail
    await manager.stop()


async def test_bad_settings_change_nothing(tmp_path: Path) -> None:
    manager = NotifyManager(tmp_path, EventBus(), [])
    for change, word in [({"enabled": True}, "Give a notification URL"),
                         ({"webhook_url": "ftp://x"}, "Notification URL"),
                         ({"smtp_host": "mail.example.org", "mail_from": "nope", "mail_to": "a@b.c"}, "From"),
                         ({"smtp_port": "25"}, "smtp_port"),
                         ({"surprise": 1}, "not a notification setting")]:
        with pytest.raises(ServiceError, match=word):
            await manager.update(change)
    assert not (tmp_path / "notify.json").exists()
    await manager.update({"smtp_host": "mail.example.org", "mail_from": "a@b.org", "mail_to": "c@d.org",
                          "smtp_password": "s3cret"})
    await manager.update({"smtp_password": ""})  # empty keeps the stored password
    assert NotifyManager(tmp_path, EventBus(), []).config.smtp_password == "s3cret"
    assert (tmp_path / "notify.json").stat().st_mode & 0o777 == 0o600


def test_init_done_and_stalled_conditions() -> None:
    t = [0.0]
    jobs = [JobSnapshot("d1", JobState.INITIALIZING, position=10, total=100)]
    source = conditions.init_progress(lambda: jobs, now=lambda: t[0])
    assert source() == []
    t[0] = conditions.STALL_SECONDS + 1
    assert [n.key for n in source()] == ["init-stalled:d1"]
    jobs[0] = JobSnapshot("d1", JobState.READY, position=100, total=100)
    assert [n.key for n in source()] == ["init-done:d1:100"]
