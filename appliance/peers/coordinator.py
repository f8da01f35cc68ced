"""The box's side of shared initialization: cuts the dataset into units, leases them to paired
helpers, re-leases a unit whose helper went silent, judges every result (``units.judge``), and
feeds accepted ranges in index order to the resumable ``LabelWriter`` — while the box's own core
keeps computing the lowest open range itself, so init never waits on a helper.

Accepted results wait in memory until their turn, bounded by ``max_buffer_bytes`` (no new units
are leased while it is full); a box restart loses only those, never written data: the writer's
durable position is where the next run starts. A helper caught lying is dropped through
``on_lie`` (the pairing layer revokes its credentials) and its leased units go back to the pool.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.peers.units import DEFAULT_SAMPLES, ResultRejected, Unit, judge, unit_labels
from appliance.post.labels import LabelBatch, compute_batch
from appliance.post.metadata import PostMetadata
from appliance.post.params import commitment, vrf_threshold
from appliance.post.writer import LabelWriter

Dispatch = Callable[[str, Unit], None]


class UnknownUnit(LookupError):
    """The unit is not (or no longer) leased to this helper; the helper should drop it."""


@dataclass
class HelperStats:
    """What the UI shows for one helper: its measured rate and what it has done."""

    name: str
    labels_per_second: float = 0.0
    labels_accepted: int = 0
    units_accepted: int = 0
    units_released: int = 0
    last_seen: float = 0.0
    state: str = "idle"
    seen: bool = False  # heard from since this init started


@dataclass
class _Lease:
    unit: Unit
    helper: str
    heard: float
    done_labels: int = 0


@dataclass
class CoordinatorSnapshot:
    position: int
    total: int
    box_labels_per_second: float
    helpers: list[HelperStats] = field(default_factory=list)
    buffered_units: int = 0
    rejected_units: int = 0
    eta_seconds_box_only: float | None = None
    eta_seconds_with_helpers: float | None = None
    events: list[str] = field(default_factory=list)
    event_count: int = 0  # events ever; ``events`` keeps the last 20


class Coordinator:
    """Runs one dataset's init with helpers (see module docstring). ``run`` blocks; the helper-facing
    methods (``heartbeat``, ``submit``, ``add_helper``...) are thread-safe."""

    def __init__(
        self,
        datadir: Path | str,
        meta: PostMetadata,
        scrypt_n: int,
        dispatch: Dispatch,
        *,
        local_threads: int = 1,
        local_unit: int = 256,
        first_unit: int = 1024,
        unit_seconds: float = 600.0,
        silence: float = 30.0,
        samples: int = DEFAULT_SAMPLES,
        max_buffer_bytes: int = 256 << 20,
        on_lie: Callable[[str], None] | None = None,
    ) -> None:
        self.writer = LabelWriter(datadir, meta, scrypt_n)
        self.meta = self.writer.meta
        self.scrypt_n = scrypt_n
        self.total = self.meta.total_labels
        self._commitment = commitment(meta.node_id, meta.commitment_atx_id)
        self._threshold = vrf_threshold(self.total)
        self._dispatch = dispatch
        self._local_threads = local_threads
        self._local_unit = local_unit
        self._first_unit = first_unit
        self._unit_seconds = unit_seconds
        self._silence = silence
        self._samples = samples
        self._max_buffer = max_buffer_bytes
        self._on_lie = on_lie
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._next = self.writer.position  # the first label no unit has covered yet
        self._open: list[tuple[int, int]] = []  # released ranges to hand out again (start, count)
        self._leases: dict[str, _Lease] = {}
        self._ready: dict[int, LabelBatch] = {}  # accepted, waiting for their turn
        self._local: tuple[int, int] | None = None
        self._helpers: dict[str, HelperStats] = {}
        self._rejected = 0
        self._accepted_ids: set[str] = set()
        self._events: list[str] = []
        self._event_count = 0
        self._box_rate = 0.0
        self._rng = random.SystemRandom()

    # ------------------------------------------------------------ helpers' side (any thread)

    def add_helper(self, name: str, labels_per_second: float = 0.0, alive: bool = True) -> None:
        """A paired helper is there (pairing, a hello, a heartbeat); with ``alive`` False it is only
        known (the box starting with its paired helpers): no units until it says hello."""
        with self._lock:
            stats = self._helpers.setdefault(name, HelperStats(name))
            stats.labels_per_second = labels_per_second or stats.labels_per_second
            if alive:
                stats.last_seen, stats.seen = time.monotonic(), True
        self._wake.set()

    def remove_helper(self, name: str, reason: str = "removed") -> None:
        with self._lock:
            self._helpers.pop(name, None)
            for unit_id in [u for u, lease in self._leases.items() if lease.helper == name]:
                self._release(unit_id)
            self._event(f"helper {name} {reason}; its units go back to the pool")
        self._wake.set()

    def heartbeat(self, helper: str, unit_id: str, done_labels: int, labels_per_second: float) -> None:
        """A helper is alive and working on ``unit_id``; raises UnknownUnit if it should stop."""
        with self._lock:
            lease = self._leases.get(unit_id)
            if lease is None or lease.helper != helper:
                raise UnknownUnit(f"unit {unit_id} is not leased to {helper}")
            lease.heard = time.monotonic()
            lease.done_labels = done_labels
            stats = self._helpers.get(helper)
            if stats is not None:
                stats.last_seen, stats.seen = lease.heard, True
                stats.state = "working"
                if labels_per_second > 0:
                    stats.labels_per_second = labels_per_second

    def lease_of(self, helper: str, unit_id: str) -> Unit:
        with self._lock:
            lease = self._leases.get(unit_id)
            if lease is None or lease.helper != helper:
                raise UnknownUnit(f"unit {unit_id} is not leased to {helper}")
            return lease.unit

    def already_accepted(self, unit_id: str) -> bool:
        with self._lock:
            return unit_id in self._accepted_ids

    def submit(self, helper: str, unit_id: str, labels: bytes, claimed_min: tuple[int, bytes] | None) -> str:
        """Judges and accepts a result: 'accepted' or 'duplicate' (already have that range);
        ResultRejected (a lie drops the helper) or UnknownUnit otherwise. CPU-heavy: call it from
        a worker thread."""
        with self._lock:
            if unit_id in self._accepted_ids:
                return "duplicate"
        unit = self.lease_of(helper, unit_id)
        try:
            batch = judge(unit, labels, claimed_min, self._threshold, self._samples, self._rng)
        except ResultRejected as exc:
            with self._lock:
                self._rejected += 1
                if exc.lie:
                    self._event(
                        f"helper {helper} sent wrong labels ({exc}); unpaired, its units are recomputed"
                    )
            if exc.lie:
                self.remove_helper(helper, "was caught sending wrong labels")
                if self._on_lie is not None:
                    self._on_lie(helper)
            raise
        with self._lock:
            if self._leases.pop(unit_id, None) is None:
                return "duplicate"  # a concurrent upload of the same unit won
            self._accepted_ids.add(unit_id)
            stats = self._helpers.get(helper)
            if unit.start < self.writer.position or unit.start in self._ready:
                return "duplicate"
            self._ready[unit.start] = batch
            if stats is not None:
                stats.labels_accepted += unit.count
                stats.units_accepted += 1
                stats.state = "idle"
        self._wake.set()
        return "accepted"

    # ------------------------------------------------------------ the box's loop

    def _event(self, text: str) -> None:
        self._events = [*self._events, text][-20:]
        self._event_count += 1

    def _take(self, count: int) -> tuple[int, int] | None:
        """The lowest open range (released) or a fresh one of up to ``count`` labels."""
        if self._open:
            self._open.sort()
            return self._open.pop(0)
        if self._next >= self.total:
            return None
        start, count = self._next, min(count, self.total - self._next)
        self._next += count
        return start, count

    def _release(self, unit_id: str) -> None:
        lease = self._leases.pop(unit_id)
        if lease.unit.start >= self.writer.position and lease.unit.start not in self._ready:
            self._open.append((lease.unit.start, lease.unit.count))
        stats = self._helpers.get(lease.helper)
        if stats is not None:
            stats.units_released += 1

    def _buffered_bytes(self) -> int:
        return sum(len(b.labels) for b in self._ready.values())

    def lease_pending(self, now: float) -> None:
        """Re-leases silent units and gives every idle helper a unit."""
        with self._lock:
            self._lease_pending(now)

    def _lease_pending(self, now: float) -> None:
        for unit_id, lease in list(self._leases.items()):
            if now - lease.heard > self._silence:
                self._event(
                    f"helper {lease.helper} went silent on labels {lease.unit.start}+{lease.unit.count}"
                )
                self._release(unit_id)
        busy = {lease.helper for lease in self._leases.values()}
        for name, stats in self._helpers.items():
            if not stats.seen or now - stats.last_seen > self._silence:
                stats.state = "silent"  # no new work until it says hello again
                continue
            if name in busy or self._buffered_bytes() >= self._max_buffer:
                continue
            size = unit_labels(stats.labels_per_second, self._unit_seconds) if stats.labels_per_second else 0
            size = min(size, self._fair_share(stats.labels_per_second)) if size else 0
            taken = self._take(size or self._first_unit)
            if taken is None:
                return
            unit = Unit(uuid.uuid4().hex, self._commitment, self.scrypt_n, *taken)
            try:
                self._dispatch(name, unit)
            except Exception as exc:  # broker down or restarting: the box goes on alone meanwhile
                self._open.append(taken)
                self._event(f"cannot lease to helpers right now ({type(exc).__name__}: {exc})")
                return
            self._leases[unit.unit_id] = _Lease(unit, name, now)
            stats.state = "leased"

    def _fair_share(self, rate: float) -> int:
        """At most this helper's share of what is left at the rates measured so far: near the end
        (or on a small dataset) ten minutes of a helper's work would otherwise be everything left,
        and the box — and every other helper — would sit idle waiting for that one unit."""
        if not self._box_rate:
            return self._first_unit  # the box's own rate is not measured yet: a small first unit
        combined = self._box_rate + sum(h.labels_per_second for h in self._helpers.values())
        left = self.total - self._next
        return max(self._local_unit, int(left * rate / max(rate, combined)) // 64 * 64)

    def _next_local(self) -> tuple[int, int] | None:
        """The box computes the lowest range nobody holds, a small piece at a time."""
        if self._open:
            self._open.sort()
            start, count = self._open.pop(0)
            if count > self._local_unit:
                self._open.append((start + self._local_unit, count - self._local_unit))
                count = self._local_unit
            return start, count
        return self._take(self._local_unit)

    def _drain(self) -> bool:
        wrote = False
        while True:
            with self._lock:
                batch = self._ready.pop(self.writer.position, None)
            if batch is None:
                return wrote
            self.writer.append(batch, commit=False)
            wrote = True

    def run(
        self, stop: threading.Event, progress: Callable[[CoordinatorSnapshot], None] | None = None
    ) -> bool:
        """Works until the dataset is complete (True) or ``stop`` is set (False); always durable."""
        started, local_done = time.monotonic(), 0
        try:
            while not stop.is_set() and not self.writer.complete:
                with self._lock:
                    self._lease_pending(time.monotonic())
                    full = self._buffered_bytes() >= self._max_buffer
                    self._local = None if full else self._next_local()
                if self._local is not None:
                    start, count = self._local
                    batch = compute_batch(self._commitment, self.scrypt_n, start, count, self._local_threads)
                    local_done += count
                    self._box_rate = local_done / max(1e-9, time.monotonic() - started)
                    with self._lock:
                        self._ready[start] = batch
                        self._local = None
                else:
                    self._wake.wait(0.1)
                    self._wake.clear()
                if self._drain():
                    self.writer.commit()
                if progress is not None:
                    progress(self.snapshot())
        finally:
            self._drain()
            self.writer.commit()
        return self.writer.complete

    def snapshot(self) -> CoordinatorSnapshot:
        with self._lock:
            helpers = [HelperStats(**vars(h)) for h in self._helpers.values()]
            left = self.total - self.writer.position
            combined = self._box_rate + sum(h.labels_per_second for h in helpers)
            return CoordinatorSnapshot(
                self.writer.position,
                self.total,
                self._box_rate,
                helpers,
                len(self._ready),
                self._rejected,
                left / self._box_rate if self._box_rate else None,
                left / combined if combined else None,
                list(self._events),
                self._event_count,
            )
