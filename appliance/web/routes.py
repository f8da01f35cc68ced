"""The ``/api/v1`` handlers: each validates its input, calls one service, and returns JSON."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from appliance.settings import SettingsError, SettingsStore
from appliance.web import auth as authmod
from appliance.web._http import ApiError, call, ok, read_json, service_error
from appliance.web.auth import Auth
from appliance.web.openapi import document
from appliance.web.services import SERVICES, AppServices, ServiceError

T = TypeVar("T")

AUTH = web.AppKey("auth", Auth)
SETTINGS = web.AppKey("settings", SettingsStore)
SESSION = web.RequestKey("session", authmod.Session)
COOKIE = "smeshbox_session"
DEVICE_COOKIE = "smeshbox_device"  # appliance.web.auth_device: a browser that has logged in before
DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie
MAX_RESTORE_BODY = 60 * 1024  # a backup of up to 64 identities, base64 in JSON
CSRF_HEADER = "X-CSRF-Token"

routes = web.RouteTableDef()


def _svc(request: web.Request) -> AppServices:
    return request.app[SERVICES]


async def _call(request: web.Request, awaitable: Awaitable[T]) -> T:
    """A service call bounded by the configured timeout (→ 504)."""
    return await call(awaitable, request.app[SERVICES].call_timeout)


def snapshot(read: Callable[[], T]) -> T:
    """Reads a manager's cached state; a manager that is not ready yet gives a 503."""
    try:
        return read()
    except ServiceError as exc:
        raise service_error(exc) from exc


async def _session_response(request: web.Request, token: str, session: authmod.Session) -> web.Response:
    resp = web.json_response({"csrf": session.csrf})
    secure = request.app[SERVICES].secure_cookies or request.secure  # Secure whenever TLS is in use
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/", secure=secure)
    devices = request.app[AUTH].devices
    if devices.check(_device(request)) is None:  # the right password earns this browser a token
        resp.set_cookie(DEVICE_COOKIE, await devices.issue(), httponly=True, samesite="Strict",
                        path="/", secure=secure, max_age=DEVICE_MAX_AGE)
    return resp


def _device(request: web.Request) -> str | None:
    return request.cookies.get(DEVICE_COOKIE)


def _auth_error(exc: authmod.AuthError) -> ApiError:
    if isinstance(exc, authmod.RateLimitedError):
        wait = math.ceil(exc.retry_after)
        return ApiError(429, "rate_limited", str(exc), {"Retry-After": str(wait)}, {"retry_after": wait})
    if isinstance(exc, authmod.WrongPasswordError):
        return ApiError(401, "wrong_password", str(exc))
    if isinstance(exc, authmod.PasswordPolicyError):
        return ApiError(400, "invalid", str(exc))
    return ApiError(409, "conflict", str(exc))


def _settings_error(exc: SettingsError) -> ApiError:
    return ApiError(400, "invalid", str(exc))


# ---- public -----------------------------------------------------------------------------------


@routes.get("/api/v1/health")
async def health(request: web.Request) -> web.Response:
    svc = _svc(request)
    body = svc.health.report().to_json() if svc.health is not None else {"status": "ok", "problems": []}
    return web.json_response({**body, "version": svc.version})


@routes.get("/api/v1/onboarding")
async def onboarding(request: web.Request) -> web.Response:
    return web.json_response(
        {"password_set": request.app[AUTH].password_set, "done": request.app[SETTINGS].current.onboarded}
    )


def _check_setup_host(request: web.Request) -> None:
    """The first password may only be set through a name that cannot be a foreign site's: an IP
    address, ``localhost``, a bare host name or ``*.local``. This defeats DNS rebinding, where a web
    page re-points its own name at the box to claim a fresh box for its author."""
    host = (request.url.raw_host or "").rstrip(".").lower()
    try:
        ipaddress.ip_address(host.strip("[]"))
        return
    except ValueError:
        pass
    if host == "localhost" or "." not in host or host.endswith(".local"):
        return
    raise ApiError(
        403, "foreign_host", "open the box as http://smeshbox.local or by its IP address to set it up"
    )


@routes.post("/api/v1/onboarding/password")
async def onboarding_password(request: web.Request) -> web.Response:
    _check_setup_host(request)
    body = await read_json(request, "PasswordBody")
    if request.app[SETTINGS].current.onboarded:
        raise ApiError(409, "onboarded", "onboarding is already done; log in instead")
    try:
        token, session = await request.app[AUTH].set_initial_password(body["password"])
    except authmod.AuthError as exc:
        raise _auth_error(exc) from exc
    return await _session_response(request, token, session)


@routes.post("/api/v1/auth/login")
async def login(request: web.Request) -> web.Response:
    body = await read_json(request, "PasswordBody")
    try:
        token, session = await request.app[AUTH].login(
            request.remote or "?", body["password"], _device(request)
        )
    except authmod.AuthError as exc:
        raise _auth_error(exc) from exc
    return await _session_response(request, token, session)


# ---- session ----------------------------------------------------------------------------------


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document())


@routes.post("/api/v1/auth/logout")
async def logout(request: web.Request) -> web.Response:
    request.app[AUTH].logout(request.cookies.get(COOKIE))
    resp = web.Response(status=204)
    resp.del_cookie(COOKIE, path="/")
    return resp


@routes.get("/api/v1/auth/session")
async def session_info(request: web.Request) -> web.Response:
    return web.json_response({"csrf": request[SESSION].csrf})


@routes.post("/api/v1/auth/password")
async def change_password(request: web.Request) -> web.Response:
    body = await read_json(request, "ChangePasswordBody")
    try:
        await request.app[AUTH].change_password(
            request.remote or "?", request.cookies[COOKIE], body["old_password"], body["new_password"],
            _device(request),
        )
    except authmod.AuthError as exc:
        raise _auth_error(exc) from exc
    return web.Response(status=204)


@routes.post("/api/v1/onboarding/complete")
async def onboarding_complete(request: web.Request) -> web.Response:
    store = request.app[SETTINGS]
    if store.current.onboarded:
        raise ApiError(409, "onboarded", "onboarding is already done")
    try:
        nodemode = _svc(request).nodemode
        in_node_mode = nodemode is not None and nodemode.view()["mode"] == "node"  # type: ignore[attr-defined]
        return ok(await store.mark_onboarded(reward_needed=not in_node_mode))
    except SettingsError as exc:
        raise ApiError(409, "incomplete", str(exc)) from exc


@routes.get("/api/v1/settings")
async def get_settings(request: web.Request) -> web.Response:
    return ok(request.app[SETTINGS].current)


@routes.patch("/api/v1/settings")
async def patch_settings(request: web.Request) -> web.Response:
    body = await read_json(request, "SettingsPatch")
    try:
        return ok(await request.app[SETTINGS].update(body))
    except SettingsError as exc:
        raise _settings_error(exc) from exc


@routes.get("/api/v1/dashboard")
async def dashboard(request: web.Request) -> web.Response:
    return ok(dashboard_view(request.app))


def dashboard_view(app: web.Application) -> dict[str, Any]:
    svc = app[SERVICES]
    return {
        "drives": [dataclasses.asdict(d) for d in snapshot(svc.drives.drives)],
        "node": dataclasses.asdict(snapshot(svc.node.snapshot)),
        "box": dataclasses.asdict(snapshot(svc.box.snapshot)),
    }


@routes.get("/api/v1/drives")
async def drives(request: web.Request) -> web.Response:
    return ok({"drives": [dataclasses.asdict(d) for d in snapshot(_svc(request).drives.drives)]})


@routes.post("/api/v1/drives/{drive_id}/format")
async def format_drive(request: web.Request) -> web.Response:
    body = await read_json(request, "FormatBody")
    drives = _svc(request).drives
    await _call(
        request,
        drives.format(request.match_info["drive_id"], body["model"], body["serial"], body["size_bytes"]),
    )
    return web.json_response({"status": "accepted"})


@routes.post("/api/v1/drives/{drive_id}/forget")
async def forget_drive(request: web.Request) -> web.Response:
    await _call(request, _svc(request).drives.forget(request.match_info["drive_id"]))
    return web.json_response({"status": "forgotten"})


async def _plan(request: web.Request, commit: bool) -> web.Response:
    body = await read_json(request, "SizeBody")
    drives = _svc(request).drives
    method = drives.allocate if commit else drives.estimate
    return ok(await _call(request, method(request.match_info["drive_id"], body["size_bytes"])))


@routes.post("/api/v1/drives/{drive_id}/estimate")
async def estimate(request: web.Request) -> web.Response:
    return await _plan(request, commit=False)


@routes.post("/api/v1/drives/{drive_id}/allocate")
async def allocate(request: web.Request) -> web.Response:
    return await _plan(request, commit=True)


@routes.get("/api/v1/node")
async def node(request: web.Request) -> web.Response:
    return ok(snapshot(_svc(request).node.snapshot))


@routes.get("/api/v1/box")
async def box(request: web.Request) -> web.Response:
    return ok(snapshot(_svc(request).box.snapshot))


@routes.post("/api/v1/identity/backup")
async def identity_backup(request: web.Request) -> web.Response:
    body = await read_json(request, "BackupBody")
    # The keys are the one thing a stolen session must not be able to take away: ask for the admin
    # password again (under the login limiter) before the backup is made.
    try:
        await request.app[AUTH].verify(request.remote or "?", body["admin_password"], _device(request))
    except authmod.AuthError as exc:
        raise _auth_error(exc) from exc
    blob = await _call(request, _svc(request).identity.export_backup(body["password"]))
    return web.Response(
        body=blob, headers=_attachment("smeshbox-identity.backup", "application/octet-stream")
    )


@routes.post("/api/v1/identity/restore")
async def identity_restore(request: web.Request) -> web.Response:
    body = await read_json(request, "RestoreBody", limit=MAX_RESTORE_BODY)
    try:
        blob = base64.b64decode(body["backup"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "invalid", "backup: not base64 data") from exc
    node_ids = await _call(request, _svc(request).identity.import_backup(blob, body["password"]))
    return web.json_response({"node_ids": node_ids})


@routes.get("/api/v1/logs")
async def logs(request: web.Request) -> web.Response:
    return web.json_response({"names": _svc(request).logs.names()})


@routes.get("/api/v1/logs/{name}")
async def log_file(request: web.Request) -> web.StreamResponse:
    path = await _call(request, _svc(request).logs.path(request.match_info["name"]))
    return web.FileResponse(path, headers=_attachment(path.name, "text/plain; charset=utf-8"))


def _attachment(filename: str, content_type: str) -> dict[str, str]:
    return {"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{filename}"'}


@routes.get("/api/v1/update")
async def update_status(request: web.Request) -> web.Response:
    return ok(snapshot(_svc(request).update.status))


@routes.post("/api/v1/update")
async def update_start(request: web.Request) -> web.Response:
    body = await read_json(request, "UpdateStart")
    await _call(request, _svc(request).update.start(body["version"]))
    return web.json_response({"status": "accepted"})


@routes.post("/api/v1/factory-reset")
async def factory_reset(request: web.Request) -> web.Response:
    body = await read_json(request, "ResetBody")
    await _call(request, _svc(request).reset.factory_reset(keep_identities=body["identities"] == "keep"))
    request.app[AUTH].end_all_sessions()
    return web.json_response({"status": "accepted"})
