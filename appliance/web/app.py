"""The aiohttp application: middlewares (JSON errors, security headers, sessions, CSRF), the API
routes, live updates over Server-Sent Events, the page, and :func:`serve` for the daemon."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from appliance.events import Topic
from appliance.settings import SettingsStore
from appliance.web import drive_merge, peers, status_routes
from appliance.web import nodemode as nodemode_api
from appliance.web import routes as api
from appliance.web._http import ApiError, to_plain
from appliance.web.auth import Auth
from appliance.web.connections import GUARD, ConnectionGuard, ConnectionLimits, GuardedSite
from appliance.web.services import SERVICES, AppServices, ServiceError

log = logging.getLogger(__name__)

UI_DIR = Path(__file__).resolve().parents[2] / "web-ui"
MAX_BODY = 64 * 1024  # no route takes more; per-route limits are smaller
KEEPALIVE_SECONDS = 20.0
# Reachable without a session: the page itself, health, onboarding status and its first step, login.
PUBLIC = {"/api/v1/health", "/api/v1/onboarding", "/api/v1/onboarding/password", "/api/v1/auth/login"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SSE_TASKS = web.AppKey("sse_tasks", set)
# Which dashboard section a bus topic refreshes; the stream sends fresh validated views, not the
# managers' raw event payloads, so the page only ever sees documented shapes.
TOPIC_SECTIONS: dict[Topic, str] = {
    Topic.DRIVES: "drives",
    Topic.JOBS: "drives",
    Topic.NODE: "node",
    Topic.HW: "box",
    Topic.OTA: "update",
    Topic.SETTINGS: "settings",
}
SUMMARY_AFTER = {"drives", "node", "box"}  # the top card answers from these sections' state
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        resp = await handler(request)
    except ApiError as exc:
        resp = exc.response()
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        keep = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        resp = ApiError(exc.status, code, _reason(exc), keep).response()
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        resp = ApiError(500, "internal", "something went wrong inside the box; see the logs").response()
    if not resp.prepared:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("Content-Security-Policy", CSP)
        if request.path.startswith("/api/"):
            resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def _reason(exc: web.HTTPException) -> str:
    if exc.status == 413:
        return f"the body may be at most {MAX_BODY} bytes"
    text = exc.text or ""
    return text if text and not text.startswith(str(exc.status)) else exc.reason


def session_guard(
    auth_key: web.AppKey[Auth], cookie: str, public: set[str], session_key: web.RequestKey | None = None
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """The API's gate, shared by the main page and the diagnostics service: a browser's
    state-changing request must come from this box's page; every API path but ``public`` needs a
    session (cookie ``cookie``) and, to change state, its CSRF token."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        if request.method in UNSAFE:
            _check_origin(request)
        if request.path in public:
            return await handler(request)
        session = request.app[auth_key].session(request.cookies.get(cookie))
        if session is None:
            raise ApiError(401, "unauthenticated", "log in first (no session, or it expired)")
        if request.method in UNSAFE and not Auth.csrf_ok(session, request.headers.get(api.CSRF_HEADER)):
            raise ApiError(403, "csrf", f"missing or wrong {api.CSRF_HEADER} header; reload the page")
        if session_key is not None:
            request[session_key] = session
        return await handler(request)

    return guard


auth_middleware = session_guard(api.AUTH, api.COOKIE, PUBLIC, api.SESSION)


def _check_origin(request: web.Request) -> None:
    """A browser names the page that sent a state-changing request: it must be this box."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser (curl, tests); SameSite=Strict + CSRF token still apply
    # The scheme counts too: a page served over plain http must not drive the https box (or the
    # reverse) — to the browser those are different origins, so the server must treat them so.
    parts = urlsplit(origin)
    if origin == "null" or parts.netloc != request.host or parts.scheme != request.scheme:
        raise ApiError(403, "cross_origin", "requests must come from this box's own page")


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: one ``snapshot`` on connect, then a section each time a manager publishes."""
    app = request.app
    token = request.cookies.get(api.COOKIE)
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    task = asyncio.current_task()
    app[SSE_TASKS].add(task)
    try:
        async with app[SERVICES].bus.subscribe() as queue:
            await resp.prepare(request)
            await _send(resp, "snapshot", _all_sections(app))
            while app[api.AUTH].session(token, touch=False) is not None:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await resp.write(b": keepalive\n\n")
                    continue
                section = TOPIC_SECTIONS.get(event.topic)
                if section is not None:
                    with contextlib.suppress(ServiceError):
                        await _send(resp, section, _section(app, section))
                if section in SUMMARY_AFTER and app[SERVICES].summary is not None:
                    await _send(resp, "summary", app[SERVICES].summary.summary())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        app[SSE_TASKS].discard(task)
    return resp


async def _send(resp: web.StreamResponse, name: str, data: Any) -> None:
    await resp.write(f"event: {name}\ndata: {json.dumps(to_plain(data))}\n\n".encode())


def _section(app: web.Application, section: str) -> Any:
    svc = app[SERVICES]
    if section == "drives":
        return svc.drives.drives()
    if section == "node":
        return svc.node.snapshot()
    if section == "box":
        return svc.box.snapshot()
    if section == "update":
        return svc.update.status()
    return app[api.SETTINGS].current


def _all_sections(app: web.Application) -> dict[str, Any]:
    out = {}
    for section in ("drives", "node", "box", "update", "settings"):
        with contextlib.suppress(ServiceError):
            out[section] = to_plain(_section(app, section))
    if app[SERVICES].summary is not None:
        out["summary"] = to_plain(app[SERVICES].summary.summary())
    return out


async def _cancel_streams(app: web.Application) -> None:
    for task in list(app[SSE_TASKS]):
        task.cancel()


def create_app(
    services: AppServices,
    *,
    auth: Auth | None = None,
    settings: SettingsStore | None = None,
    ui_dir: Path | None = None,
) -> web.Application:
    """The web app. ``auth``/``settings`` default to stores in ``services.state_dir``; pass the
    daemon's own ``SettingsStore`` if other managers read it too."""
    services.state_dir.mkdir(parents=True, exist_ok=True)
    guard = ConnectionGuard()
    app = web.Application(
        middlewares=[guard.middleware, errors_middleware, auth_middleware], client_max_size=MAX_BODY
    )
    app[GUARD] = guard
    app[SERVICES] = services
    app[api.AUTH] = auth or Auth(services.state_dir)
    app[api.SETTINGS] = settings or SettingsStore(services.state_dir, services.parse_address, services.bus)
    app[SSE_TASKS] = set()
    app.router.add_routes(api.routes)
    app.router.add_routes(peers.owner_routes)
    app.router.add_routes(drive_merge.routes)
    app.router.add_routes(nodemode_api.routes)
    app.router.add_routes(status_routes.routes)
    app.router.add_get("/api/v1/events", events)
    ui = (ui_dir or UI_DIR).resolve()

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(ui / "index.html", headers={"Cache-Control": "no-cache"})

    app.router.add_get("/", index)
    app.router.add_static("/ui/", ui, follow_symlinks=False, append_version=False)
    app.on_shutdown.append(_cancel_streams)
    return app


async def serve(
    app: web.Application, host: str, port: int, limits: ConnectionLimits | None = None
) -> web.AppRunner:
    """Starts ``app`` on host:port behind its connection guard (``limits``: the web server's share
    of the daemon's descriptors, see ``appliance.web.connections``); returns the runner
    (``await runner.cleanup()`` to stop)."""
    services: AppServices = app[SERVICES]
    services.bus.bind(asyncio.get_running_loop())
    guard = app[GUARD]
    if limits is not None:
        guard.limits = limits
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=5.0, keepalive_timeout=guard.limits.idle_seconds,
        lingering_time=guard.limits.linger_seconds,
    )
    await runner.setup()
    await GuardedSite(runner, host, port, guard).start()
    return runner
