"""The daemon's switch: with ``helpers.host`` set, the broker and helper API start, the owner's app
gets the service, and the job manager's init runs through the coordinator — same files and result
as ``Initializer`` (stopped and resumed here)."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web

from appliance.config import HelpersSettings
from appliance.peers.tlsca import ensure_ca
from appliance.post.initializer import Initializer
from appliance.post.layout import file_name
from appliance.post.metadata import read_metadata
from appliance.web._http import ApiError
from appliance.web.peers import HELPER_API_URL, PEERS, enable_helpers, install_helpers


async def test_enable_helpers_and_run_an_init(tmp_path: Path, tiny_meta) -> None:
    app, jobs = web.Application(), SimpleNamespace(init_runner=None)
    running = await enable_helpers(app, jobs, tmp_path / "peers", HelpersSettings("127.0.0.1", 0))
    try:
        assert app[PEERS] is running.service and jobs.init_runner is not None
        code = running.service.new_code().code
        request = urllib.request.Request(
            app[HELPER_API_URL] + "/api/v1/peers/pair",
            method="POST",
            data=json.dumps({"code": code, "name": "pc"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        box_ca = ssl.create_default_context(cafile=str(running.service.redis.tls.ca_cert))
        assert app[HELPER_API_URL].startswith("https://")
        reply = await asyncio.to_thread(
            lambda: json.loads(urllib.request.urlopen(request, timeout=10, context=box_ca).read())
        )
        ensure_ca(tmp_path / "stranger", "127.0.0.1")
        stranger = ssl.create_default_context(cafile=str(tmp_path / "stranger" / "ca.pem"))
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            await asyncio.to_thread(
                urllib.request.urlopen, app[HELPER_API_URL] + "/", timeout=10, context=stranger
            )
        assert reply["queue"] == "helper.pc" and reply["broker_port"] == running.service.redis.port

        stop, seen = threading.Event(), []

        def progress(p) -> None:
            seen.append(p)
            if p.position >= 128:
                stop.set()  # a pause in the middle

        first = await asyncio.to_thread(jobs.init_runner, tmp_path / "data", tiny_meta, 16, 1, stop, progress)
        assert not first.complete and 0 < first.position < tiny_meta.total_labels and seen
        done = await asyncio.to_thread(
            jobs.init_runner, tmp_path / "data", tiny_meta, 16, 1, threading.Event(), lambda _p: None
        )
        assert done.complete and done.position == tiny_meta.total_labels
    finally:
        await running.stop()
    assert Initializer(tmp_path / "local", tiny_meta, 16).run().complete
    for index in range(tiny_meta.num_files):
        assert (tmp_path / "data" / file_name(index)).read_bytes() == (
            tmp_path / "local" / file_name(index)
        ).read_bytes()
    assert read_metadata(tmp_path / "data") == read_metadata(tmp_path / "local")
    assert done.nonce == read_metadata(tmp_path / "local").nonce


async def test_switch_from_the_page_is_remembered(tmp_path: Path) -> None:
    """Helpers turned on from the page come back on after a restart; a running init is handed over
    (paused and resumed at once); an address the box does not have is a clear refusal."""
    paused: list[tuple[str, str | None]] = []
    jobs = SimpleNamespace(init_runner=None, pause=lambda key, reason: paused.append((key, reason)))
    settings = HelpersSettings("", 0)
    app = web.Application()
    switch = await install_helpers(app, jobs, tmp_path / "peers", settings)
    assert PEERS not in app and switch.running is None
    with pytest.raises(ApiError, match=r"cannot listen on 203\.0\.113\.77"):
        await switch.enable("203.0.113.77")  # TEST-NET-3: not an address of this machine
    assert PEERS not in app and not (tmp_path / "peers" / "enabled.json").exists()
    await switch.enable("127.0.0.1")
    try:
        assert switch.running is not None and jobs.init_runner is not None
        assert paused == [("helpers", "handing the initialization to the helpers"), ("helpers", None)]
        assert json.loads((tmp_path / "peers" / "enabled.json").read_text()) == {"host": "127.0.0.1"}
    finally:
        await switch.stop()
    again = web.Application()  # the daemon started again
    jobs = SimpleNamespace(init_runner=None, pause=lambda key, reason: paused.append((key, reason)))
    restarted = await install_helpers(again, jobs, tmp_path / "peers", settings)
    try:
        assert restarted.running.url.startswith("https://127.0.0.1:") and jobs.init_runner is not None
        broker = restarted.running.service.redis
        paused.clear()
        await restarted.disable()  # off from the page: broker gone, the box alone, not on again
        assert restarted.running is None and jobs.init_runner is None and not broker.running
        assert paused == [("helpers", "the box goes on alone"), ("helpers", None)]
        assert not (tmp_path / "peers" / "enabled.json").exists()
    finally:
        await restarted.stop()
    third = await install_helpers(
        web.Application(), SimpleNamespace(init_runner=None), tmp_path / "peers", settings
    )
    assert third.running is None
