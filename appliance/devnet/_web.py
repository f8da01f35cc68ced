"""What the devnet's HTTP servers share: the typed rejection, the fault middleware, JSON handlers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Reject(Exception):
    """An HTTP error answer with a message (the servers' ``error``/``message`` body)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def fault_middleware(faults: Any, error_body: Callable[[str], dict[str, Any]], exempt: str = "/admin/"):
    """Applies ``faults`` (down / 5xx / slow) to every request outside ``exempt``."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(exempt):
            return await handler(request)
        if faults.down:  # drop the connection without an answer, as an unreachable host would
            if request.transport is not None:
                request.transport.close()
            raise web.HTTPServiceUnavailable()
        if faults.slow:
            await asyncio.sleep(faults.slow)
        if faults.error_5xx:
            return web.json_response(error_body("unavailable (fault)"), status=503)
        return await handler(request)

    return middleware


def json_handler(
    fn: Callable[[web.Request], Awaitable[Any]],
    error_body: Callable[[Reject], dict[str, Any]],
    on_reject: Callable[[Reject], None] | None = None,
) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        try:
            return web.json_response(await fn(request))
        except Reject as exc:
            if on_reject is not None:
                on_reject(exc)
            return web.json_response(error_body(exc), status=exc.status)

    return handler
