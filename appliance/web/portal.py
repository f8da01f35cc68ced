"""The captive portal of the setup hotspot: answers the phones' captive-portal probes so they open
the setup page by themselves, serves that page and its small API. The logic is the host-networking
domain's :class:`appliance.hostnet.setup.SetupFlow`; this module validates and delegates.

Probes (all redirected to the page while the hotspot is open): Android's ``/generate_204``
(connectivitycheck.gstatic.com; 204 means "online", anything else "sign in"), Apple's
``/hotspot-detect.html`` (captive.apple.com; anything but its "Success" page means "sign in") and
Windows' ``/connecttest.txt`` (www.msftconnecttest.com). The captive DNS points every name at the
box, so a request for any other host on the hotspot is sent to the page too.

The portal answers only on the hotspot's own address: whoever reaches that address has the
hotspot's WPA2 password (shown on the box's screen), which is what lets them pick the box's
network without the admin password. Everywhere else ``/portal`` does not exist.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web

from appliance.hostnet.setup import SetupError, SetupStatus
from appliance.hostnet.ssid import parse_ssid
from appliance.web._http import ApiError, ok

PROBES = frozenset({
    "/generate_204", "/gen_204",  # Android, ChromeOS
    "/hotspot-detect.html", "/library/test/success.html",  # Apple
    "/connecttest.txt", "/ncsi.txt", "/redirect",  # Windows
    "/canonical.html", "/success.txt",  # Firefox
})
MAX_BODY = 1024
LIVE = ("open", "joining", "failed", "joined")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SetupPort(Protocol):
    """The part of :class:`appliance.hostnet.setup.SetupFlow` the portal uses."""

    def status(self) -> SetupStatus: ...
    def touch(self) -> None: ...
    async def join(self, ssid: bytes, password: str | None) -> SetupStatus: ...
    async def rescan(self) -> SetupStatus: ...


PORTAL = web.AppKey("portal", SetupPort)


def install(app: web.Application, flow: SetupPort, ui_dir: Path) -> None:
    """Adds the portal to the daemon's app (before it starts)."""
    app[PORTAL] = flow
    app.middlewares.append(_portal_middleware)
    page = ui_dir / "portal.html"

    async def portal_page(request: web.Request) -> web.StreamResponse:
        _on_hotspot(request)
        request.app[PORTAL].touch()
        return web.FileResponse(page, headers={"Cache-Control": "no-store"})

    app.router.add_get("/portal/", portal_page)
    app.router.add_get("/portal/api/status", status)
    app.router.add_post("/portal/api/join", join)
    app.router.add_post("/portal/api/rescan", rescan)


def _local_address(request: web.Request) -> str | None:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return sockname[0] if sockname else None


def _hotspot_request(request: web.Request) -> SetupStatus | None:
    """The flow's status when the hotspot is live and this request came in on its address."""
    status = request.app[PORTAL].status()
    if status.state not in LIVE or not status.hotspot_address:
        return None
    return status if _local_address(request) == status.hotspot_address else None


def _on_hotspot(request: web.Request) -> SetupStatus:
    status = _hotspot_request(request)
    if status is None:
        raise web.HTTPNotFound()
    return status


def portal_url(request: web.Request, status: SetupStatus) -> str:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    port = f":{sockname[1]}" if sockname and sockname[1] != 80 else ""
    return f"http://{status.hotspot_address}{port}/portal/"


def _is_box_host(host: str, status: SetupStatus) -> bool:
    name = host.rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(name.strip("[]"))) == status.hotspot_address
    except ValueError:
        return False


@web.middleware
async def _portal_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    status = _hotspot_request(request)
    if status is None or request.path.startswith("/portal/") or request.path.startswith("/ui/"):
        return await handler(request)
    if request.path in PROBES or not _is_box_host(request.url.raw_host or "", status) or request.path == "/":
        # A 302 (not a 200 page) is what every probe client reads as "a portal is here": Android
        # wants 204, Apple its Success page, Windows its fixed text; this is none of them.
        raise web.HTTPFound(portal_url(request, status), headers={"Cache-Control": "no-store"})
    return await handler(request)


def _view(status: SetupStatus) -> dict[str, Any]:
    return {
        "state": status.state,
        "hotspot_ssid": status.hotspot_ssid,
        "networks": [{"ssid": n.ssid, "ssid_hex": n.ssid_hex, "strength": n.strength,
                      "secured": n.secured} for n in status.networks],
        "joining": status.joining,
        "reason": status.reason,
        "next_url": status.next_url,
        "next_address": status.next_address,
    }


async def status(request: web.Request) -> web.Response:
    _on_hotspot(request)
    request.app[PORTAL].touch()
    return ok(_view(request.app[PORTAL].status()))


def _check_post(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc != request.host):
        raise ApiError(403, "cross_origin", "requests must come from the box's own setup page")
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "too_large", f"the body may be at most {MAX_BODY} bytes")


async def join(request: web.Request) -> web.Response:
    _on_hotspot(request)
    _check_post(request)
    body = await _body(request)
    password = body.get("password")
    if password is not None and not isinstance(password, str):
        raise ApiError(400, "invalid", "password must be a string")
    ssid, ssid_hex = body.get("ssid"), body.get("ssid_hex")
    if not isinstance(ssid, str | None) or not isinstance(ssid_hex, str | None):
        raise ApiError(400, "invalid", "ssid and ssid_hex must be strings")
    try:
        raw = parse_ssid(ssid, ssid_hex)
    except ValueError as exc:
        raise ApiError(400, "invalid", str(exc)) from exc
    try:
        result = await request.app[PORTAL].join(raw, password or None)
    except SetupError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    return web.json_response(_view(result), status=202)


async def rescan(request: web.Request) -> web.Response:
    _on_hotspot(request)
    _check_post(request)
    try:
        return ok(_view(await request.app[PORTAL].rescan()))
    except SetupError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise ApiError(413, "too_large", f"the body may be at most {MAX_BODY} bytes")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ApiError(400, "invalid", "the body must be a JSON object")
    return value
