"""Login attempt limiting: per-client budgets counted atomically, and a box-wide *delay* (never a
box-wide lock-out) with the password checks handed out fairly.

Two promises, each against a known attack on a box anyone on the LAN can reach:

* **Counting is atomic.** An attempt is reserved (counted against its client's budget) in the same
  synchronous step that checks the budget — before the slow argon2id wait — so a burst of parallel
  guesses from one client gets at most ``free`` of them checked, not one per request.
* **Nobody can lock the owner out.** Failures are kept per client (an IPv4 address, or the /64 of an
  IPv6 address, which one machine can fill on its own), so guesses from other addresses never
  spend the owner's budget. When guessing is spread over many addresses, the box slows *every*
  check down to one per ``spacing`` seconds instead of refusing logins, and it hands out the next
  check to the waiting attempt whose client has failed least: the owner, who has not failed, goes
  ahead of every address that has, and a browser that has logged in before (a known device,
  :mod:`appliance.web.auth_device`) goes ahead of every address. The queue of waiting attempts is
  bounded; when it is full the attempt with the worst standing is told to retry (429), never the
  whole box.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import ipaddress
import itertools
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

MAX_CLIENTS = 10_000  # bounded memory under an address-spraying flood


class RateLimitedError(Exception):
    """Refused before any password check; ``retry_after`` seconds is when trying again can help."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed attempts; try again in {math.ceil(retry_after)} s")
        self.retry_after = retry_after


def client_key(remote: str) -> str:
    """The budget an address draws on: the address itself, or its /64 for IPv6."""
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return remote  # a UNIX socket or a test's fake address: itself
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass
class _Client:
    failures: int = 0
    pending: int = 0  # reserved attempts whose check has not finished: counted as failures
    locked_until: float = 0.0


@dataclass(frozen=True)
class Attempt:
    key: str
    # lower goes first: a known device (appliance.web.auth_device) before any address, then by how the
    # client stood when it asked (failures + pending)
    rank: tuple[bool, int]


class LoginLimiter:
    """After ``free`` failures a client waits ``base`` seconds, doubling per further failure up to
    ``cap``; a success clears it. Once more than ``global_per_minute`` checks failed box-wide in
    the last minute, checks start at most one per ``spacing`` seconds (loop time). ``clock`` is
    injectable so lock-outs are tested without sleeping."""

    def __init__(
        self,
        clock: Callable[[], float],
        free: int = 5,
        base: float = 30.0,
        cap: float = 900.0,
        global_per_minute: int = 30,
        spacing: float = 2.0,
        max_waiting: int = 128,
    ) -> None:
        self.clock, self.free, self.base, self.cap = clock, free, base, cap
        self.global_per_minute, self.spacing, self.max_waiting = global_per_minute, spacing, max_waiting
        self._clients: dict[str, _Client] = {}
        self._recent: list[float] = []  # clock times of box-wide failures in the last minute
        self._waiting: list[tuple[tuple[bool, int], int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._busy = False
        self._next_start = 0.0  # loop time before which no paced check starts
        self._timer: asyncio.TimerHandle | None = None

    # ---- budgets (synchronous: check and reserve cannot be split by another request) ----------

    def reserve(self, remote: str, device: str | None = None) -> Attempt:
        """Counts an attempt against its budget: the known ``device``'s if the client presented
        one (appliance.web.auth_device), else its address's."""
        now = self.clock()
        key = f"device {device}" if device else client_key(remote)
        entry = self._clients.get(key)
        if entry is None:
            entry = self._clients[key] = _Client()
            if len(self._clients) > MAX_CLIENTS:
                self._forget_one()
        if entry.locked_until > now:
            raise RateLimitedError(entry.locked_until - now)
        # Within the free budget every reserved attempt counts as a failure until it is checked;
        # past it (a lock that has run out) one attempt at a time, whose failure locks again.
        if entry.failures >= self.free:
            spent = entry.pending > 0
        else:
            spent = entry.failures + entry.pending >= self.free
        if spent:
            raise RateLimitedError(self.base)
        attempt = Attempt(key, (device is None, entry.failures + entry.pending))
        entry.pending += 1
        return attempt

    def finish(self, attempt: Attempt, ok: bool) -> None:
        now = self.clock()
        entry = self._clients.setdefault(attempt.key, _Client())
        entry.pending = max(0, entry.pending - 1)
        if ok:
            entry.failures, entry.locked_until = 0, 0.0
            if entry.pending == 0:
                del self._clients[attempt.key]
            return
        self._recent.append(now)
        entry.failures += 1
        if entry.failures >= self.free:
            entry.locked_until = now + min(self.cap, self.base * 2 ** (entry.failures - self.free))

    def release(self, attempt: Attempt) -> None:
        """An attempt that was reserved but never checked (cancelled, refused while waiting)."""
        entry = self._clients.get(attempt.key)
        if entry is not None:
            entry.pending = max(0, entry.pending - 1)
            if entry.pending == 0 and entry.failures == 0:
                del self._clients[attempt.key]

    def _forget_one(self) -> None:
        for key, entry in self._clients.items():  # oldest first; never one with a check under way
            if entry.pending == 0:
                del self._clients[key]
                return

    @property
    def under_attack(self) -> bool:
        now = self.clock()
        self._recent = [t for t in self._recent if now - t < 60.0]
        return len(self._recent) >= self.global_per_minute

    # ---- turns: one check at a time, fairest first, paced while under attack -------------------

    @contextlib.asynccontextmanager
    async def turn(self, attempt: Attempt) -> AsyncIterator[None]:
        """Waits until it is this attempt's turn to be checked; the check runs inside."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (attempt.rank, next(self._seq), future))
        if len(self._waiting) > self.max_waiting:
            worst = max(self._waiting)
            self._waiting.remove(worst)
            heapq.heapify(self._waiting)
            if not worst[2].done():
                worst[2].set_exception(RateLimitedError(self.spacing * len(self._waiting)))
        self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._done()  # it was handed the turn as it was cancelled: pass it on
            raise
        try:
            yield
        finally:
            self._done()

    def _done(self) -> None:
        self._busy = False
        self._dispatch()

    def _dispatch(self) -> None:
        if self._busy or self._timer is not None:
            return
        while self._waiting and self._waiting[0][2].done():  # cancelled while waiting
            heapq.heappop(self._waiting)
        if not self._waiting:
            return
        loop = asyncio.get_running_loop()
        if self.under_attack:
            wait = self._next_start - loop.time()
            if wait > 0:
                self._timer = loop.call_later(wait, self._timer_fired)
                return
            self._next_start = loop.time() + self.spacing
        self._busy = True
        heapq.heappop(self._waiting)[2].set_result(None)

    def _timer_fired(self) -> None:
        self._timer = None
        self._dispatch()
