"""``/api/v1`` handlers of the top card, of notifications and of the logged-in devices: the status
summary; reading, changing and testing the person's notification settings; how many devices are
logged in, and logging out all others. Each validates and delegates."""

from __future__ import annotations

from aiohttp import web

from appliance.notify.service import NotifyService
from appliance.web._http import ApiError, call, ok, read_json, to_plain
from appliance.web.routes import AUTH, COOKIE
from appliance.web.services import SERVICES, AppServices

routes = web.RouteTableDef()


def _svc(request: web.Request) -> AppServices:
    return request.app[SERVICES]


def summary_of(services: AppServices) -> object:
    if services.summary is None:
        raise ApiError(503, "unavailable", "the box is still starting; try again in a moment")
    return services.summary.summary()


@routes.get("/api/v1/summary")
async def summary(request: web.Request) -> web.Response:
    return ok(summary_of(_svc(request)))


def _notify(request: web.Request) -> NotifyService:
    notify = _svc(request).notify
    if notify is None:
        raise ApiError(503, "unavailable", "notifications are not available on this box")
    return notify


@routes.get("/api/v1/notify")
async def notify_settings(request: web.Request) -> web.Response:
    notify = _notify(request)
    return web.json_response({**notify.settings(), "recent": to_plain(notify.recent())})


@routes.patch("/api/v1/notify")
async def notify_update(request: web.Request) -> web.Response:
    body = await read_json(request, "NotifyPatch")
    notify = _notify(request)
    settings = await call(notify.update(body), _svc(request).call_timeout)
    return web.json_response({**settings, "recent": to_plain(notify.recent())})


@routes.post("/api/v1/notify/test")
async def notify_test(request: web.Request) -> web.Response:
    await read_json(request, "Empty")
    deliveries = await call(_notify(request).test(), _svc(request).call_timeout)
    return web.json_response({"deliveries": to_plain(deliveries)})


@routes.get("/api/v1/sessions")
async def sessions(request: web.Request) -> web.Response:
    return web.json_response({"count": request.app[AUTH].session_count()})


@routes.post("/api/v1/sessions/end-others")
async def end_other_sessions(request: web.Request) -> web.Response:
    await read_json(request, "Empty")
    return web.json_response({"count": await request.app[AUTH].end_other_sessions(request.cookies[COOKIE])})
