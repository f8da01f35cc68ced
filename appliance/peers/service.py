"""``PeersService``: what the web layer calls for helpers — pairing, heartbeats, uploads, removal,
status — over one broker (``RedisServer``), one registry (``Pairing``) and, while an init with
helpers runs, one ``Coordinator``. Blocking work (Redis ACL calls, judging a unit) runs in threads.

The box's job manager may initialize several drives at once (``run_init`` is called once per
drive); the helpers work for one of them at a time — the first to start — and move to the next
one waiting when it ends, so a helper's queue never holds units of two datasets competing for it.
The others go on with the box's own core meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from appliance.peers.coordinator import Coordinator, CoordinatorSnapshot, Dispatch, UnknownUnit
from appliance.peers.engine import make_app, send_unit
from appliance.peers.pairing import Credentials, Pairing, PairingCode, PairingError
from appliance.peers.redisd import RedisError, RedisServer
from appliance.peers.units import DEFAULT_SAMPLES, ResultRejected, Unit, false_accept_probability
from appliance.post.initializer import InitProgress, InitResult
from appliance.post.metadata import PostMetadata

__all__ = ["PairingError", "PeersService", "ResultRejected", "UnknownUnit"]
log = logging.getLogger(__name__)


class PeersService:
    """The box's helper service (see module docstring)."""

    def __init__(self, state_dir: Path | str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state_dir = Path(state_dir)
        self.redis = RedisServer(self.state_dir / "redis", host, port)
        self.pairing: Pairing | None = None
        self.coordinator: Coordinator | None = None  # the one the helpers work for
        self._waiting: list[Coordinator] = []  # other drives' inits, box alone until their turn
        self._shown: Coordinator | None = None  # the last one the helpers worked for (status)
        self._turns = threading.Lock()
        self._celery = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self.broker_state = "up"
        self.finished = threading.Event()

    def start(self) -> None:
        self.redis.start()
        self.pairing = Pairing(self.state_dir, self.redis)
        self._celery = make_app(self.redis.box_url(), self.redis.address.ca_file)
        self._watchdog = threading.Thread(target=self._watch_broker, name="peers-broker", daemon=True)
        self._watchdog.start()

    def _watch_broker(self) -> None:
        """Supervises redis-server: restarted with backoff if it dies; the state is in ``status()``.
        Queues (AOF) and ACL users (ACL file) survive; helpers' workers reconnect on their own."""
        backoff = 1.0
        while not self._stop.wait(1.0):
            if self.redis.running:
                backoff = 1.0
                continue
            self.broker_state = "down: restarting"
            log.warning("redis-server exited; restarting in %.0f s", backoff)
            if self._stop.wait(backoff):
                return
            try:
                self.redis.start()
                self.broker_state = "up"
                log.info("redis-server restarted")
            except RedisError as exc:
                self.broker_state = f"down: {exc}"
                backoff = min(60.0, backoff * 2)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._watchdog is not None:
            self._watchdog.join()
        self.redis.stop()

    def _dispatch(self, helper: str, unit: Unit) -> None:
        send_unit(self._celery, helper, unit)

    def _lied(self, helper: str) -> None:
        assert self.pairing is not None
        self.pairing.revoke(helper)

    def start_init(
        self,
        datadir: Path | str,
        meta: PostMetadata,
        scrypt_n: int,
        done: Callable[[bool], None] | None = None,
        **options: Any,
    ) -> None:
        """Starts (or resumes) the init of ``datadir`` in a thread, with every paired helper."""
        coordinator = self.attach(datadir, meta, scrypt_n, **options)

        def work() -> None:
            complete = coordinator.run(self._stop)
            if complete:
                self.finished.set()
            if done is not None:
                done(complete)

        self._thread = threading.Thread(target=work, name="peers-init", daemon=True)
        self._thread.start()

    def attach(
        self,
        datadir: Path | str,
        meta: PostMetadata,
        scrypt_n: int,
        dispatch: Dispatch | None = None,
        **options: Any,
    ) -> Coordinator:
        """The coordinator of ``datadir`` with every paired helper; a helper caught lying is revoked.
        ``dispatch`` replaces the broker (a test sees the leased units directly)."""
        coordinator = Coordinator(
            datadir, meta, scrypt_n, dispatch or self._dispatch, on_lie=self._lied, **options
        )
        self._lead(coordinator)
        return coordinator

    def _lead(self, coordinator: Coordinator) -> None:
        """``coordinator`` gets every paired helper (live again at its next hello or heartbeat)."""
        for name in self.pairing_helpers():
            coordinator.add_helper(name, alive=False)
        self.coordinator = self._shown = coordinator

    def _enlist(self, coordinator: Coordinator) -> None:
        with self._turns:
            if self.coordinator is None:
                self._lead(coordinator)
            else:
                self._waiting.append(coordinator)

    def _retire(self, coordinator: Coordinator) -> None:
        """An init ended (complete or stopped): the helpers go to the next drive waiting."""
        with self._turns:
            if coordinator in self._waiting:
                self._waiting.remove(coordinator)
            if self.coordinator is coordinator:
                self.coordinator = None
                if self._waiting:
                    self._lead(self._waiting.pop(0))

    def run_init(
        self,
        datadir: Path,
        meta: PostMetadata,
        scrypt_n: int,
        threads: int,
        stop: threading.Event,
        progress: Callable[[InitProgress], None],
    ) -> InitResult:
        """The job manager's init with helpers: blocking, in the caller's (low-priority) thread,
        the same contract as ``Initializer.run`` — durable on return, resumable."""
        coordinator = Coordinator(
            datadir, meta, scrypt_n, self._dispatch, on_lie=self._lied, local_threads=threads
        )
        self._enlist(coordinator)
        started, first = time.monotonic(), coordinator.writer.position

        def report(snap: CoordinatorSnapshot) -> None:
            rate = (snap.position - first) / max(1e-9, time.monotonic() - started)
            progress(
                InitProgress(
                    snap.position, snap.total, snap.position - first, rate, snap.eta_seconds_with_helpers
                )
            )

        try:
            complete = coordinator.run(stop, report)
        finally:
            self._retire(coordinator)
        rate = (coordinator.writer.position - first) / max(1e-9, time.monotonic() - started)
        vrf = coordinator.writer.vrf
        return InitResult(
            complete, coordinator.writer.position, coordinator.total, vrf[0] if vrf else None, rate
        )

    # ------------------------------------------------------------ what the web layer calls

    def new_code(self) -> PairingCode:
        assert self.pairing is not None
        return self.pairing.new_code()

    async def pair(self, code: str, name: str, labels_per_second: float) -> Credentials:
        assert self.pairing is not None
        creds = await asyncio.to_thread(self.pairing.pair, code, name)
        if (coordinator := self.coordinator) is not None:
            coordinator.add_helper(name, labels_per_second)
        return creds

    def pairing_helpers(self) -> list[str]:
        return self.pairing.helpers() if self.pairing is not None else []

    def authenticate(self, token: str) -> str | None:
        return self.pairing.authenticate(token) if self.pairing is not None else None

    def hello(self, helper: str, rate: float) -> None:
        """An idle helper's sign of life (and its measured rate)."""
        if (coordinator := self.coordinator) is not None:
            coordinator.add_helper(helper, rate)

    def _running(self) -> Coordinator:
        # read once: the helpers may move to another drive's init between two calls
        coordinator = self.coordinator
        if coordinator is None:
            raise UnknownUnit("no initialization is running")
        return coordinator

    def heartbeat(self, helper: str, unit_id: str, done: int, rate: float) -> None:
        coordinator = self._running()
        coordinator.add_helper(helper)
        coordinator.heartbeat(helper, unit_id, done, rate)

    def expected_bytes(self, helper: str, unit_id: str) -> int:
        return self._running().lease_of(helper, unit_id).count * 16

    def already_accepted(self, unit_id: str) -> bool:
        coordinator = self.coordinator or self._shown
        return coordinator is not None and coordinator.already_accepted(unit_id)

    async def submit(
        self, helper: str, unit_id: str, labels: bytes, claimed: tuple[int, bytes] | None
    ) -> str:
        return await asyncio.to_thread(self._running().submit, helper, unit_id, labels, claimed)

    async def revoke(self, name: str) -> bool:
        assert self.pairing is not None
        removed = await asyncio.to_thread(self.pairing.revoke, name)
        if (coordinator := self.coordinator) is not None:
            coordinator.remove_helper(name)
        return removed

    def status(self) -> dict[str, Any]:
        shown = self.coordinator or self._shown
        snap: CoordinatorSnapshot | None = shown.snapshot() if shown else None
        return {
            "helpers": self.pairing.helpers() if self.pairing else [],
            "broker": self.broker_state,
            "init": asdict(snap) if snap is not None else None,
            "samples_per_unit": DEFAULT_SAMPLES,
            "false_accept_if_10pct_wrong": false_accept_probability(DEFAULT_SAMPLES, 0.10),
        }
