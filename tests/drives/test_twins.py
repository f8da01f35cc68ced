"""Two drives that report the same model, serial and size (cheap USB bridges do; here two real loop
devices whose backing files share a name) are two drives: each has its own id, a confirmation
names one instance, and the same confirmed request sent twice — one after the other or at once —
formats exactly one of them."""

from __future__ import annotations

import asyncio

import pytest

from appliance.drives import probe
from appliance.drives.model import Confirmation, DriveState
from appliance.web.drives import DrivesView, web_id

pytestmark = pytest.mark.root


async def _twins(loops, drives, wait_for):  # type: ignore[no-untyped-def]
    for sub in ("a", "b"):
        (loops.folder / sub).mkdir()
    devs = [loops.attach(loops.image(f"{sub}/usb.img")) for sub in ("a", "b")]
    await drives.start()

    def offered():  # type: ignore[no-untyped-def]
        shots = [next((s for s in drives.snapshot() if s.devnode == dev), None) for dev in devs]
        return shots if all(s is not None and s.state is DriveState.OFFERED for s in shots) else None

    await wait_for(offered, "both twins to be offered")
    first, second = offered()
    assert (first.model, first.serial, first.size) == (second.model, second.serial, second.size)
    assert first.id != second.id and first.devno != second.devno
    return devs, first, second


async def test_a_double_tap_formats_one_twin_only(loops, drives, wait_for) -> None:
    (dev_a, dev_b), first, _ = await _twins(loops, drives, wait_for)
    confirm = Confirmation(first.model, first.serial, first.size)
    results = await asyncio.gather(drives.format(first.id, confirm), drives.format(first.id, confirm))
    assert {r.devnode for r in results} == {dev_a} and all(r.state is DriveState.ACTIVE for r in results)
    assert probe.blkid(dev_a).get("TYPE") == "ext4"
    assert probe.blkid(dev_b) == {}, "the twin was formatted by a repeated confirmation"
    again = await drives.format(first.id, confirm)  # a late retry: answered, nothing formatted
    assert again.devnode == dev_a and probe.blkid(dev_b) == {}


async def test_the_same_request_through_the_web_adapter_twice(loops, drives, wait_for) -> None:
    (dev_a, dev_b), first, second = await _twins(loops, drives, wait_for)
    view = DrivesView(drives, jobs=None)  # type: ignore[arg-type]  # format never asks the jobs
    for _ in range(2):
        await view.format(web_id(first.id), first.model, first.serial, first.size)
    assert probe.blkid(dev_a).get("TYPE") == "ext4" and probe.blkid(dev_b) == {}
    assert next(s for s in drives.snapshot() if s.devnode == dev_b).state is DriveState.OFFERED
    await view.format(web_id(second.id), second.model, second.serial, second.size)  # its own id: yes
    assert probe.blkid(dev_b).get("TYPE") == "ext4"
