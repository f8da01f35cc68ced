"""The box's helper API (``/api/v1/peers/...``): pairing with a one-time code, heartbeats and label
uploads with a helper's token. It validates and delegates to ``appliance.peers.service``.

It is its own aiohttp application on its own port (``--api-port``), not a part of the owner's
session-protected app: helpers authenticate by bearer token and upload units far larger than any
owner request. ``python -m appliance peers-box`` runs it with a broker and one dataset's init (the
box's daemon embeds the same pieces); it prints one JSON line with the API URL and a pairing code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from appliance.chain import MAINNET
from appliance.config import HelpersSettings
from appliance.hw.qr import qr_data_url
from appliance.peers.redisd import RedisError
from appliance.peers.service import PairingError, PeersService, ResultRejected, UnknownUnit
from appliance.peers.units import MAX_UNIT_LABELS
from appliance.post.metadata import PostMetadata
from appliance.system.files import atomic_write_json
from appliance.web._http import ApiError, ok, read_json

if TYPE_CHECKING:
    from appliance.jobs.manager import JobManager

log = logging.getLogger(__name__)

SERVICE = web.AppKey("peers_service", PeersService)
# On the owner's app: the box's helper service, set by the composition when helpers are enabled.
PEERS = web.AppKey("peers", PeersService)
HELPER_API_URL = web.AppKey("peers_helper_api", str)
# On the owner's app: turns helpers on from the page (set by the composition root).
SWITCH = web.AppKey("peers_switch", object)
MAX_UNIT_BYTES = MAX_UNIT_LABELS * 16
owner_routes = web.RouteTableDef()


def _error(status: int, code: str, reason: str) -> web.Response:
    return web.json_response({"error": code, "reason": reason}, status=status)


def _helper(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    name = request.app[SERVICE].authenticate(header.removeprefix("Bearer ").strip()) if header else None
    if name is None:
        raise web.HTTPUnauthorized(
            text=json.dumps(
                {"error": "unauthorized", "reason": "unknown or revoked helper token; pair again"}
            ),
            content_type="application/json",
        )
    return name


async def _json(request: web.Request) -> dict[str, object]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest(
            text='{"error": "bad_json", "reason": "body is not JSON"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "bad_json", "reason": "body must be an object"}', content_type="application/json"
        )
    return body


async def pair(request: web.Request) -> web.Response:
    body = await _json(request)
    code, name, rate = body.get("code"), body.get("name"), body.get("labels_per_second", 0)
    if not isinstance(code, str) or not isinstance(name, str) or not isinstance(rate, int | float):
        return _error(400, "bad_request", "code and name must be strings, labels_per_second a number")
    try:
        creds = await request.app[SERVICE].pair(code, name, float(rate))
    except PairingError as exc:
        return _error(403, "pairing_refused", str(exc))
    return web.json_response(vars(creds))


async def hello(request: web.Request) -> web.Response:
    helper = _helper(request)
    rate = (await _json(request)).get("labels_per_second", 0)
    if not isinstance(rate, int | float):
        return _error(400, "bad_request", "labels_per_second must be a number")
    request.app[SERVICE].hello(helper, float(rate))
    return web.Response(status=204)


async def heartbeat(request: web.Request) -> web.Response:
    helper = _helper(request)
    body = await _json(request)
    done, rate = body.get("done"), body.get("labels_per_second", 0)
    if not isinstance(done, int) or not isinstance(rate, int | float):
        return _error(400, "bad_request", "done must be an integer, labels_per_second a number")
    try:
        request.app[SERVICE].heartbeat(helper, request.match_info["unit"], done, float(rate))
    except UnknownUnit as exc:
        return _error(410, "unit_gone", str(exc))
    return web.Response(status=204)


async def upload(request: web.Request) -> web.Response:
    helper = _helper(request)
    service, unit_id = request.app[SERVICE], request.match_info["unit"]
    try:
        want = service.expected_bytes(helper, unit_id)
    except UnknownUnit as exc:
        if service.already_accepted(unit_id):
            return web.json_response({"result": "duplicate"})
        return _error(410, "unit_gone", str(exc))
    if request.content_length is not None and request.content_length > want:
        return _error(413, "too_large", f"unit {unit_id} is {want} bytes, {request.content_length} sent")
    data = bytearray()
    async for chunk in request.content.iter_chunked(1 << 20):
        data += chunk
        if len(data) > want:
            return _error(413, "too_large", f"unit {unit_id} is {want} bytes; more was sent")
    claimed = None
    if "min_index" in request.query:
        try:
            claimed = (int(request.query["min_index"]), bytes.fromhex(request.query["min_label"]))
        except (KeyError, ValueError):
            return _error(400, "bad_request", "min_index must be an integer and min_label hex")
    try:
        result = await service.submit(helper, unit_id, bytes(data), claimed)
    except UnknownUnit as exc:
        return _error(410, "unit_gone", str(exc))
    except ResultRejected as exc:
        return _error(422 if exc.lie else 400, "rejected" if exc.lie else "truncated", str(exc))
    return web.json_response({"result": result})


def helper_app(service: PeersService) -> web.Application:
    app = web.Application(client_max_size=MAX_UNIT_BYTES)
    app[SERVICE] = service
    app.router.add_post("/api/v1/peers/pair", pair)
    app.router.add_post("/api/v1/peers/hello", hello)
    app.router.add_post("/api/v1/peers/units/{unit}/heartbeat", heartbeat)
    app.router.add_put("/api/v1/peers/units/{unit}", upload)
    return app


# ------------------------------------------------------------------ the owner's side (session app)


def _current(request: web.Request) -> tuple[PeersService | None, str | None]:
    """The helper service and its URL: set on the app at start, or turned on later by the switch
    (the app's own state is frozen once it serves)."""
    service = request.app.get(PEERS)
    if service is not None:
        return service, request.app.get(HELPER_API_URL)
    switch = request.app.get(SWITCH)
    running = switch.running if isinstance(switch, HelperSwitch) else None
    return (running.service, running.url) if running is not None else (None, None)


def _peers(request: web.Request) -> PeersService:
    service, _ = _current(request)
    if service is None:
        raise ApiError(409, "conflict", "helpers are not enabled on this box")
    return service


@owner_routes.get("/api/v1/peers")
async def peers_status(request: web.Request) -> web.Response:
    """Helpers, their measured labels/s, the box's own, and the ETA with and without them."""
    service, url = _current(request)
    if service is None:
        return ok(
            {
                "enabled": False,
                "helpers": [],
                "broker": "off",
                "init": None,
                "samples_per_unit": 0,
                "false_accept_if_10pct_wrong": 0.0,
                "helper_api": None,
            }
        )
    return ok({"enabled": True, **service.status(), "helper_api": url})


@owner_routes.post("/api/v1/peers/code")
async def peers_code(request: web.Request) -> web.Response:
    """A one-time pairing code and the command a PC runs with it."""
    service = _peers(request)
    code = service.new_code()
    api = _current(request)[1] or ""
    command = f"python -m appliance helper --pair {code.code} --box {api}"
    qr = await asyncio.to_thread(qr_data_url, command)
    return ok({"code": code.code, "expires_in": code.expires_in, "command": command, "qr": qr})


@owner_routes.post("/api/v1/peers/enable")
async def peers_enable(request: web.Request) -> web.Response:
    """Starts the broker and the helper API on the box's LAN address (or ``host``), now and after
    every restart; an init already running is handed over to the helpers (it resumes where it is)."""
    body = await read_json(request, "PeersEnable")
    if _current(request)[0] is None:
        await _switch(request).enable(body.get("host"))
    return await peers_status(request)


@owner_routes.post("/api/v1/peers/disable")
async def peers_disable(request: web.Request) -> web.Response:
    """Stops the broker and the helper API (pairings are kept for next time); a running init goes
    on with the box alone, from where it is."""
    await _switch(request).disable()
    return await peers_status(request)


def _switch(request: web.Request) -> HelperSwitch:
    switch = request.app.get(SWITCH)
    if not isinstance(switch, HelperSwitch):
        raise ApiError(409, "conflict", "this box cannot switch helpers (no switch in this daemon)")
    return switch


@owner_routes.delete("/api/v1/peers/helpers/{name}")
async def peers_remove(request: web.Request) -> web.Response:
    """Unpairs a helper: its token and broker user stop working at once; its units go back."""
    if not await _peers(request).revoke(request.match_info["name"]):
        raise ApiError(404, "not_found", f"no helper named {request.match_info['name']!r}")
    return web.Response(status=204)


# ------------------------------------------------------------------ the daemon's switch


async def serve_helper_api(service: PeersService, host: str, port: int) -> web.AppRunner:
    """The helper API over TLS with the box CA's certificate: tokens and labels never cross the LAN
    in clear. A helper pins the CA it received when pairing (the pairing call itself trusts the
    first certificate it sees; the one-time code is what authenticates that exchange)."""
    assert service.redis.tls is not None, "start the service first"
    runner = web.AppRunner(helper_app(service), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=service.redis.tls.server_context()).start()
    return runner


class HelpersRunning:
    """What ``start_helpers`` started: the broker and the helper API (at ``url``); ``stop()`` ends
    both."""

    def __init__(self, service: PeersService, runner: web.AppRunner, url: str) -> None:
        self.service, self.runner, self.url = service, runner, url

    async def stop(self) -> None:
        await self.runner.cleanup()
        await asyncio.to_thread(self.service.stop)


async def enable_helpers(
    app: web.Application, jobs: JobManager, state_dir: Path, settings: HelpersSettings
) -> HelpersRunning:
    """``start_helpers`` and hands the owner's app (not serving yet) the service (pairing card)."""
    running = await start_helpers(jobs, state_dir, settings)
    app[PEERS] = running.service
    app[HELPER_API_URL] = running.url
    return running


async def start_helpers(jobs: JobManager, state_dir: Path, settings: HelpersSettings) -> HelpersRunning:
    """Starts the broker (TLS, on ``settings.host`` only) and the helper API, and gives the job
    manager the init runner that uses helpers."""
    service = PeersService(state_dir, settings.host, settings.broker_port)
    await asyncio.to_thread(service.start)
    try:
        runner = await serve_helper_api(service, settings.host, settings.api_port)
    except BaseException:  # the port is taken: no broker left behind either
        await asyncio.to_thread(service.stop)
        raise
    jobs.init_runner = service.run_init
    return HelpersRunning(service, runner, f"https://{settings.host}:{runner.addresses[0][1]}")


def lan_address() -> str:
    """The box's first LAN address (the one it announces over mDNS): where helpers find it."""
    from appliance.discovery.interfaces import addresses_of, choose_interfaces, list_interfaces

    found = addresses_of(choose_interfaces(list_interfaces(), None))
    if not found:
        raise ApiError(409, "conflict", "the box has no LAN address yet; connect it to the network first")
    return found[0]


class HelperSwitch:
    """Helpers on from the page: ``enable`` starts them and remembers the address in
    ``<state>/peers/enabled.json`` (written atomically), so ``start`` turns them on again after a
    restart; ``settings.host`` (the config file) turns them on from the first start."""

    def __init__(
        self, app: web.Application, jobs: JobManager, state_dir: Path, settings: HelpersSettings
    ) -> None:
        self.app, self.jobs, self.state_dir, self.settings = app, jobs, state_dir, settings
        self.record = state_dir / "enabled.json"
        self.running: HelpersRunning | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        host = self.settings.host
        if not host and self.record.exists():
            try:
                host = str(json.loads(self.record.read_text())["host"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("%s is unreadable (%s); helpers stay off until enabled again", self.record, exc)
                return
        if host:
            try:
                await self.enable(host, remember=False)
            except ApiError as exc:  # the address went away (another network): the box goes on alone
                log.warning("helpers stay off: %s", exc.reason)

    async def enable(self, host: object = None, remember: bool = True) -> None:
        async with self._lock:
            if self.running is not None:
                return
            if host is None:
                host = await asyncio.to_thread(lan_address)
            try:
                address = str(ipaddress.ip_address(str(host)))
            except ValueError:
                raise ApiError(400, "bad_request", f"{host!r} is not an IP address of this box") from None
            settings = dataclasses.replace(self.settings, host=address)
            try:
                self.running = await start_helpers(self.jobs, self.state_dir, settings)
            except (OSError, RedisError) as exc:
                raise ApiError(409, "conflict", f"helpers cannot listen on {address}: {exc}") from exc
            if remember:
                await asyncio.to_thread(atomic_write_json, self.record, {"host": address})
            self._hand_over("handing the initialization to the helpers")
            log.info("helpers enabled on %s", address)

    async def disable(self) -> None:
        async with self._lock:
            if self.running is None:
                return
            await asyncio.to_thread(self.record.unlink, missing_ok=True)
            self.jobs.init_runner = None
            self._hand_over("the box goes on alone")  # stops the coordinator before its broker goes
            await self.stop()
            log.info("helpers disabled")

    def _hand_over(self, reason: str) -> None:
        """A running init stops (durably) and resumes at once with the job manager's runner now."""
        pause = getattr(self.jobs, "pause", None)
        if pause is not None:
            pause("helpers", reason)
            pause("helpers", None)

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()
            self.running = None


async def install_helpers(
    app: web.Application, jobs: JobManager, state_dir: Path, settings: HelpersSettings
) -> HelperSwitch:
    """What the composition root calls: the page's switch, on at once if it was on before."""
    switch = HelperSwitch(app, jobs, state_dir, settings)
    app[SWITCH] = switch
    await switch.start()
    return switch


# ------------------------------------------------------------------ python -m appliance peers-box


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", required=True, type=Path)
    parser.add_argument("--datadir", required=True, type=Path)
    parser.add_argument("--node-id", required=True)
    parser.add_argument("--commitment-atx-id", required=True)
    parser.add_argument("--labels-per-unit", required=True, type=int)
    parser.add_argument("--num-units", required=True, type=int)
    parser.add_argument("--max-file-size", type=int, default=4 << 30)
    parser.add_argument("--scrypt-n", type=int, default=MAINNET.scrypt_n)
    parser.add_argument("--host", default="127.0.0.1", help="address helpers reach (broker and API)")
    parser.add_argument("--api-port", type=int, default=0)
    parser.add_argument("--local-unit", type=int, default=256)
    parser.add_argument("--first-unit", type=int, default=1024)
    parser.add_argument("--silence", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--wait-for-helper", type=float, default=0.0, help="seconds to wait for a first helper"
    )


async def _serve(args: argparse.Namespace) -> int:
    meta = PostMetadata(
        bytes.fromhex(args.node_id),
        bytes.fromhex(args.commitment_atx_id),
        args.labels_per_unit,
        args.num_units,
        args.max_file_size,
    )
    meta.validate()
    service = PeersService(args.state, args.host)
    await asyncio.to_thread(service.start)
    runner = await serve_helper_api(service, args.host, args.api_port)
    port = runner.addresses[0][1]
    code = service.new_code()
    print(
        json.dumps(
            {"api": f"https://{args.host}:{port}", "code": code.code, "broker_port": service.redis.port}
        ),
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    deadline = loop.time() + args.wait_for_helper
    while loop.time() < deadline and not service.pairing_helpers():
        await asyncio.sleep(0.1)
    service.start_init(
        args.datadir,
        meta,
        args.scrypt_n,
        done=lambda _ok: loop.call_soon_threadsafe(stop.set),
        local_unit=args.local_unit,
        first_unit=args.first_unit,
        silence=args.silence,
        local_threads=args.threads,
    )
    printed = 0
    while not stop.is_set():  # events as JSON lines: what a supervisor (or a test) can follow live
        snap = service.coordinator.snapshot() if service.coordinator else None
        if snap is not None and snap.event_count > printed:
            for event in snap.events[-(snap.event_count - printed) :]:
                print(json.dumps({"event": event}), flush=True)
            printed = snap.event_count
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)
    print(json.dumps({"done": service.finished.is_set(), "status": service.status()}), flush=True)
    await runner.cleanup()
    await asyncio.to_thread(service.stop)
    return 0 if service.finished.is_set() else 3


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_serve(args))
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
