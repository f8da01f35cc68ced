"""The diagnostics page: a small separate service on its own port (``python -m appliance diag``,
default 8090) that keeps working when the daemon does not — it only reads (the state folder, the
logs, ``ip``, the daemon's health endpoint when that answers) and shares no process with it.

Behind the same admin password as the main page: the password file is re-read at each login, so a
password changed on the main page applies here at once; sessions are this service's own. The logic
is :mod:`appliance.diagnostics`; this module validates and delegates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import time
from pathlib import Path

from aiohttp import web

from appliance.config import BOX_STATE_DIR
from appliance.diagnostics import bundle
from appliance.diagnostics.collect import Sources, report
from appliance.web import auth as authmod
from appliance.web._http import ApiError, read_json
from appliance.web.app import UI_DIR, errors_middleware, session_guard
from appliance.web.auth import Auth

log = logging.getLogger(__name__)

DEFAULT_PORT = 8090
COOKIE = "smeshbox_diag"
SOURCES = web.AppKey("sources", Sources)
AUTH = web.AppKey("diag_auth", Auth)
PUBLIC = {"/api/login"}


_auth = session_guard(AUTH, COOKIE, PUBLIC)


async def login(request: web.Request) -> web.Response:
    body = await read_json(request, "PasswordBody")
    auth = request.app[AUTH]
    try:
        await asyncio.to_thread(auth.reload)
        if not auth.password_set:
            raise ApiError(409, "no_password", "no admin password is set yet: set one on the main page first")
        token, session = await auth.login(request.remote or "?", body["password"])
    except authmod.RateLimitedError as exc:
        raise ApiError(429, "rate_limited", str(exc), {"Retry-After": str(int(exc.retry_after) + 1)}) from exc
    except authmod.WrongPasswordError as exc:
        raise ApiError(401, "wrong_password", str(exc)) from exc
    except authmod.AuthError as exc:  # a damaged password file: say so, never open up
        raise ApiError(503, "auth_unavailable", str(exc)) from exc
    resp = web.json_response({"csrf": session.csrf})
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/", secure=request.secure)
    return resp


async def logout(request: web.Request) -> web.Response:
    request.app[AUTH].logout(request.cookies.get(COOKIE))
    resp = web.Response(status=204)
    resp.del_cookie(COOKIE, path="/")
    return resp


async def get_report(request: web.Request) -> web.Response:
    found = await report(request.app[SOURCES])
    return web.json_response(dataclasses.asdict(found), headers={"Cache-Control": "no-store"})


async def get_bundle(request: web.Request) -> web.Response:
    src = request.app[SOURCES]
    found = await report(src)
    data = await asyncio.to_thread(bundle.build, src.state_dir, found)
    name = time.strftime("smeshbox-support-%Y%m%d-%H%M%S.tar.gz", time.gmtime(found.taken_at))
    return web.Response(body=data, content_type="application/gzip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def create_app(sources: Sources, ui_dir: Path | None = None) -> web.Application:
    app = web.Application(middlewares=[errors_middleware, _auth], client_max_size=4096)
    app[SOURCES] = sources
    app[AUTH] = Auth(sources.state_dir / "web")
    ui = (ui_dir or UI_DIR).resolve()

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(ui / "diagnostics.html", headers={"Cache-Control": "no-cache"})

    async def asset(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if name not in ("diagnostics.js", "style.css"):
            raise web.HTTPNotFound()
        return web.FileResponse(ui / name)

    app.router.add_get("/", page)
    app.router.add_get("/ui/{name}", asset)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/report", get_report)
    app.router.add_get("/api/bundle", get_bundle)
    return app


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", type=Path, default=BOX_STATE_DIR, help="the daemon's state folder")
    parser.add_argument("--listen", default=f"0.0.0.0:{DEFAULT_PORT}", help="HOST:PORT of this page")
    parser.add_argument("--daemon-url", default="http://127.0.0.1:80", help="where the daemon's API is")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host, _, port = args.listen.rpartition(":")
    sources = Sources(args.state_dir, args.daemon_url.rstrip("/"))
    asyncio.run(_serve(create_app(sources), host or "0.0.0.0", int(port)))
    return 0


async def _serve(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("diagnostics page on http://%s:%d/", host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
