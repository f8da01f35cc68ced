"""Limits on the connections the web server accepts, so a flood of slow clients costs the attacker,
not the box.

Every accepted socket is a file descriptor, and the daemon shares its descriptor limit with the PoST
work (data files, the node's sockets): a few thousand half-open connections used to starve both.
:class:`ConnectionGuard` wraps the server's protocol factory and keeps two bounds:

* at most ``max_per_client`` connections from one client (an IPv4 address or an IPv6 /64), and
* at most ``max_total`` connections in all — the web server's whole descriptor budget; the rest of
  the daemon's ``LimitNOFILE`` stays with the PoST work.

A connection over a bound does not simply lock newcomers out (that would let a flood hold the box
for as long as its sockets last): the guard first evicts the quietest *idle* connection of that
client (or of anyone, for the total bound) — one that has never completed a request (a slow-loris
socket) before one idling between keep-alive requests. Connections with a request being handled
(a login waiting its turn, the page's live-update stream) are not evicted — unless the request's
body has been trickling in for :data:`SLOW_BODY` seconds, which only a slow client does; when every
connection is truly busy the newcomer is refused (closed at once).

Time bounds sit beside it: ``idle_seconds`` is aiohttp's keep-alive timeout, which since the
connection was opened also bounds how long the headers of the next request may take to arrive (a
socket that trickles its headers is closed), and request bodies have their own deadline
(``appliance.web._http.BODY_TIMEOUT``). The middleware below tells the guard which connections are
serving a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from appliance.web.auth_limit import client_key

log = logging.getLogger(__name__)
SLOW_BODY = 1.0  # seconds a request body may take before its connection counts as evictable


@dataclass(frozen=True)
class ConnectionLimits:
    """The web server's bounds (``DaemonConfig.web_max_connections`` / ``web_max_per_client``)."""

    max_total: int = 256
    max_per_client: int = 32
    idle_seconds: float = 15.0  # headers of the next request, and keep-alive idling, must end by then
    # after answering a request whose body was not read (a 408, a 413), how long the rest of the
    # body may still be drained before the connection closes (aiohttp's lingering_time, 10 s)
    linger_seconds: float = 2.0


@dataclass(eq=False)
class _Conn:
    key: str
    transport: asyncio.BaseTransport
    opened: float
    last_seen: float
    served: int = 0  # requests that reached the app on this connection
    active: int = 0  # of which still being handled
    reading_since: float | None = None  # monotonic start of a request body still arriving


class _Guarded(asyncio.Protocol):
    """The server's own protocol with the guard's bookkeeping in front of it."""

    def __init__(self, guard: ConnectionGuard, inner: Any) -> None:
        self.guard, self.inner = guard, inner
        self.conn: _Conn | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.conn = self.guard._admit(self, transport)
        if self.conn is None:
            transport.abort()  # refused: the inner protocol never sees it
            return
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.conn is not None:
            self.conn.last_seen = time.monotonic()
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.conn is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.guard._forget(self.inner)
            self.conn = None
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class ConnectionGuard:
    """Counts live connections per client and in total; see the module docstring."""

    def __init__(self, limits: ConnectionLimits | None = None) -> None:
        self.limits = limits or ConnectionLimits()
        self._conns: dict[Any, _Conn] = {}  # keyed by the server's own protocol object
        self._per_client: dict[str, int] = {}
        self.refused = 0
        self.evicted = 0

    def wrap(self, factory: Callable[[], Any]) -> Callable[[], asyncio.Protocol]:
        """The protocol factory to hand to ``loop.create_server`` instead of ``factory``."""
        return lambda: _Guarded(self, factory())

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    def _admit(self, guarded: _Guarded, transport: asyncio.BaseTransport) -> _Conn | None:
        peer = transport.get_extra_info("peername")
        key = client_key(str(peer[0])) if isinstance(peer, tuple) and peer else "local"
        if self._per_client.get(key, 0) >= self.limits.max_per_client and not self._evict(key):
            self.refused += 1
            return None
        if len(self._conns) >= self.limits.max_total and not self._evict(None):
            self.refused += 1
            return None
        now = time.monotonic()
        conn = _Conn(key, transport, now, now)
        self._conns[guarded.inner] = conn
        self._per_client[key] = self._per_client.get(key, 0) + 1
        return conn

    def _evict(self, key: str | None) -> bool:
        """Closes the quietest idle connection (of ``key``, or of anyone), else the one whose
        request body has been trickling in longest; False if there is neither."""
        mine = [c for c in self._conns.values() if key is None or c.key == key]
        # Never served (slow loris) before served-and-idle; within each, the longest quiet first.
        idle = sorted((c for c in mine if c.active == 0), key=lambda c: (c.served > 0, c.last_seen))
        # A real client's body arrives within moments; one still arriving after SLOW_BODY seconds
        # holds a "busy" connection only to hold it.
        now = time.monotonic()
        slow = sorted((c for c in mine if c.reading_since is not None and now - c.reading_since >= SLOW_BODY),
                      key=lambda c: c.reading_since or now)
        if not idle and not slow:
            return False
        victim = (idle or slow)[0]
        for inner, conn in list(self._conns.items()):
            if conn is victim:
                self._forget(inner)
        victim.transport.abort()
        self.evicted += 1
        return True

    def _forget(self, inner: Any) -> None:
        conn = self._conns.pop(inner, None)
        if conn is None:
            return
        left = self._per_client.get(conn.key, 1) - 1
        if left:
            self._per_client[conn.key] = left
        else:
            self._per_client.pop(conn.key, None)

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Marks the request's connection busy while it is handled (busy ones are not evicted)."""
        conn = self._conns.get(request.protocol)
        if conn is None:  # a test client's in-process transport, or already forgotten
            return await handler(request)
        conn.served += 1
        conn.active += 1
        request[_CONN] = conn
        try:
            return await handler(request)
        finally:
            conn.active -= 1
            conn.last_seen = time.monotonic()


GUARD = web.AppKey("connection_guard", ConnectionGuard)
_CONN = web.RequestKey("guarded_connection", _Conn)


@contextlib.contextmanager
def reading_body(request: web.Request) -> Iterator[None]:
    """Marks the request's connection as waiting for its body (evictable once that is slow)."""
    conn = request.get(_CONN)
    if conn is not None:
        conn.reading_since = time.monotonic()
    try:
        yield
    finally:
        if conn is not None:
            conn.reading_since = None


class GuardedSite(web.BaseSite):
    """A TCP site whose every accepted connection passes ``guard`` first."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard) -> None:
        super().__init__(runner)
        self.host, self.requested_port, self.guard = host, port, guard

    @property
    def name(self) -> str:
        return f"http://{self.host}:{self.requested_port} (guarded)"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            self.guard.wrap(server), self.host, self.requested_port, backlog=self._backlog,
            reuse_address=True,
        )
