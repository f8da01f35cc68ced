"""A bounded slow-client flood on loopback against a real server process with a small descriptor
limit: sockets that never finish their headers (from one address and from many), one that trickles
a byte at a time. The box keeps answering other clients and the same address throughout, holds no
more connections than its budget, and closes every slow socket by the header deadline."""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from appliance.web.connections import SLOW_BODY, ConnectionGuard, ConnectionLimits

pytestmark = pytest.mark.slow
SERVER = Path(__file__).with_name("flood_server.py")
NOFILE, TOTAL, PER_CLIENT, IDLE = 160, 64, 16, 2.0
PARTIAL = b"GET /api/v1/health HTTP/1.1\r\nHost: box\r\nX-Slow: "


@pytest.fixture
async def server() -> AsyncIterator[int]:
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), str(NOFILE), str(TOTAL), str(PER_CLIENT), str(IDLE)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    port = int(await asyncio.to_thread(proc.stdout.readline))
    try:
        yield port
    finally:
        proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _slow(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    try:
        connect = asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        reader, writer = await asyncio.wait_for(connect, 5)  # a full backlog drops the SYN
        writer.write(PARTIAL)
        await writer.drain()
        return reader, writer
    except (OSError, TimeoutError):
        return None


async def _health(port: int, source: str) -> int:
    connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
        session.get(f"http://127.0.0.1:{port}/api/v1/health") as resp,
    ):
        return resp.status


async def _closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    """True once the server has closed the socket (after an error answer, if it sent one)."""
    try:
        await asyncio.wait_for(reader.read(), within)  # to EOF
        return True
    except ConnectionError:  # evicted: the guard aborts (RST) rather than waiting on a FIN
        return True
    except TimeoutError:
        return False


async def test_slow_client_flood_costs_the_attacker_not_the_box(server: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    one = await asyncio.gather(*(_slow(server, "127.0.0.1") for _ in range(300)))
    many = await asyncio.gather(*(_slow(server, f"127.0.0.{10 + i // 10}") for i in range(200)))
    flood = [s for s in one + many if s is not None]
    # The box answers other clients, and the flooding address itself, while the flood holds.
    for _ in range(5):
        assert await _health(server, "127.0.0.2") == 200
        assert await _health(server, "127.0.0.1") == 200
    # ... and closes every slow socket by the header deadline, trickling or not.
    trickler = await _slow(server, "127.0.0.3")
    assert trickler is not None
    for _ in range(int(IDLE / 0.25) + 4):
        if trickler[0].at_eof():
            break
        trickler[1].write(b"x")
        await asyncio.sleep(0.25)
    closed = await asyncio.gather(*(_closed_by_server(r, IDLE + 5) for r, _ in flood))
    assert all(closed) and await _closed_by_server(trickler[0], 5)
    assert await _health(server, "127.0.0.1") == 200
    for _, writer in [*flood, trickler]:
        writer.close()


async def _trickling_body(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    """A complete request head whose body never finishes: the handler is busy reading it."""
    try:
        connect = asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        reader, writer = await asyncio.wait_for(connect, 5)
        writer.write(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 200\r\n\r\n{\"password\": \"")
        await writer.drain()
        return reader, writer
    except (OSError, TimeoutError):
        return None


async def test_trickling_bodies_cannot_fill_the_box(server: int) -> None:
    flood = await asyncio.gather(*(_trickling_body(server, f"127.0.0.{50 + i // PER_CLIENT}")
                                   for i in range(2 * TOTAL)))
    await asyncio.sleep(SLOW_BODY + 0.5)  # every connection the box holds is now a slow body
    for _ in range(3):  # each answer pushes out the slowest body; none is refused
        assert await _health(server, "127.0.0.2") == 200
    held = [s for s in flood if s is not None]
    # the rest get a 408 at the body deadline and are closed after a short linger
    assert all(await asyncio.gather(*(_closed_by_server(r, IDLE + 2 + 5) for r, _ in held)))
    for _, writer in held:
        writer.close()


class _Transport(asyncio.Transport):
    def __init__(self, peer: str) -> None:
        super().__init__()
        self.peer, self.aborted = peer, False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.peer, 1234) if name == "peername" else default

    def abort(self) -> None:
        self.aborted = True


class _Inner(asyncio.Protocol):
    def __init__(self) -> None:
        self.made = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made = True


def test_eviction_prefers_never_served_then_quietest_and_spares_busy() -> None:
    guard = ConnectionGuard(ConnectionLimits(max_total=3, max_per_client=2))
    factory = guard.wrap(_Inner)
    conns = []
    for peer in ("10.0.0.1", "10.0.0.1", "10.0.0.2"):
        proto, transport = factory(), _Transport(peer)
        proto.connection_made(transport)
        conns.append((proto, transport))
    served = guard._conns[conns[0][0].inner]  # type: ignore[attr-defined]
    served.served, served.last_seen = 1, 0.0  # idle between keep-alive requests, and quietest
    # Per-client bound: 10.0.0.1's never-served socket goes before its served one.
    proto, transport = factory(), _Transport("10.0.0.1")
    proto.connection_made(transport)
    assert conns[1][1].aborted and not conns[0][1].aborted and proto.inner.made  # type: ignore[attr-defined]
    # Total bound with every connection busy: the newcomer is refused instead.
    for conn in guard._conns.values():
        conn.active = 1
    late, late_transport = factory(), _Transport("10.0.0.9")
    late.connection_made(late_transport)
    assert late_transport.aborted and not late.inner.made and guard.refused == 1  # type: ignore[attr-defined]
    assert guard.open_connections == 3 and guard._per_client == {"10.0.0.1": 2, "10.0.0.2": 1}
