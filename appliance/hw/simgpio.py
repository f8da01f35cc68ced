"""A simulated GPIO chip behind libgpiod's Python interface, for hosts whose kernel has neither the
button nor ``gpio-sim``: ``SimulatedChip.request_lines(config, consumer)`` returns a request with
the methods of ``gpiod.LineRequest`` the box uses (``wait_edge_events``, ``read_edge_events``,
``get_value``, ``release``) and real ``gpiod.EdgeEvent`` values.

It keeps the kernel's semantics (gpiolib-cdev): values and edge types are *logical* — with
``active_low`` a line pulled to ground reads ACTIVE and its falling voltage is a RISING_EDGE —,
edges are reported only for the configured ``edge_detection``, a change that does not stay stable
for ``debounce_period`` is swallowed, timestamps are CLOCK_MONOTONIC nanoseconds, and a released
request raises ``gpiod.RequestReleasedError``. The test drives the *physical* level, as a finger
on the button would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import timedelta

import gpiod
from gpiod.line import Edge, Value

EdgeType = gpiod.EdgeEvent.Type


class SimulatedLineRequest:
    def __init__(self, chip: SimulatedChip, offset: int, settings: gpiod.LineSettings) -> None:
        self._chip, self.offset, self.settings = chip, offset, settings
        self._pending: list[tuple[int, int]] = []  # (timestamp_ns, logical level) not yet stable
        self._events: list[gpiod.EdgeEvent] = []
        self._level = self._logical(chip.physical(offset))
        self._released = False
        self._seqno = 0
        self._cond = threading.Condition()

    def _logical(self, physical: int) -> int:
        return physical ^ 1 if self.settings.active_low else physical

    def _debounce_ns(self) -> int:
        period = self.settings.debounce_period
        return int(period / timedelta(microseconds=1)) * 1000 if period else 0

    def _settle(self, now_ns: int) -> None:
        """Turns pending changes that stayed stable for the debounce period into events."""
        debounce = self._debounce_ns()
        while self._pending and (len(self._pending) > 1 or now_ns - self._pending[0][0] >= debounce):
            ts, level = self._pending.pop(0)
            if self._pending and self._pending[0][0] - ts < debounce:
                continue  # superseded within the period: a bounce
            if level == self._level:
                continue
            self._level = level
            edge = self.settings.edge_detection
            kind = EdgeType.RISING_EDGE if level else EdgeType.FALLING_EDGE
            if edge == Edge.BOTH or (edge == Edge.RISING and level) or (edge == Edge.FALLING and not level):
                self._seqno += 1
                self._events.append(gpiod.EdgeEvent(kind.value, ts, self.offset, self._seqno, self._seqno))

    def _physical_changed(self, physical: int, ts_ns: int) -> None:
        with self._cond:
            self._pending.append((ts_ns, self._logical(physical)))
            self._cond.notify_all()

    def _check(self) -> None:
        if self._released:
            raise gpiod.RequestReleasedError()

    def wait_edge_events(self, timeout: timedelta | float | None = None) -> bool:
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        deadline = None if seconds is None else time.monotonic() + seconds
        with self._cond:
            while True:
                self._check()
                self._settle(time.monotonic_ns())
                if self._events:
                    return True
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                # wake for the debounce deadline of a pending change as well as for new changes
                step = self._debounce_ns() / 1e9 if self._pending else None
                waits = [w for w in (left, step) if w is not None]
                self._cond.wait(min(waits) if waits else None)

    def read_edge_events(self, max_events: int | None = None) -> list[gpiod.EdgeEvent]:
        with self._cond:
            self._check()
            self._settle(time.monotonic_ns())
            count = len(self._events) if max_events is None else max_events
            out, self._events = self._events[:count], self._events[count:]
            return out

    def get_value(self, line: int | str) -> Value:
        with self._cond:
            self._check()
            self._settle(time.monotonic_ns())
            pending = self._pending[-1][1] if self._pending else self._level
            return Value.ACTIVE if pending else Value.INACTIVE

    def release(self) -> None:
        with self._cond:
            self._released = True
            self._cond.notify_all()
        self._chip._requests.discard(self)

    def __enter__(self) -> SimulatedLineRequest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class SimulatedChip:
    """``num_lines`` lines, each pulled up (physical 1) until a test presses it to ground."""

    def __init__(self, num_lines: int = 32) -> None:
        self.num_lines = num_lines
        self._physical = [1] * num_lines
        self._requests: set[SimulatedLineRequest] = set()

    def physical(self, offset: int) -> int:
        return self._physical[offset]

    def request_lines(self, config: dict[Iterable[int] | int, gpiod.LineSettings | None],
                      consumer: str | None = None) -> SimulatedLineRequest:
        ((key, settings),) = config.items()
        offset = key if isinstance(key, int) else next(iter(key))  # type: ignore[arg-type]
        if not 0 <= offset < self.num_lines:
            raise ValueError(f"line {offset} is out of range for this chip")
        if any(r.offset == offset for r in self._requests):
            raise OSError(16, "Device or resource busy")  # EBUSY, as the kernel answers
        request = SimulatedLineRequest(self, offset, settings or gpiod.LineSettings())
        self._requests.add(request)
        return request

    def set_physical(self, offset: int, level: int, ts_ns: int | None = None) -> None:
        self._physical[offset] = level
        ts = time.monotonic_ns() if ts_ns is None else ts_ns
        for request in list(self._requests):
            if request.offset == offset:
                request._physical_changed(level, ts)

    def press(self, offset: int) -> None:
        self.set_physical(offset, 0)  # the button shorts the pulled-up line to ground

    def lift(self, offset: int) -> None:
        self.set_physical(offset, 1)
