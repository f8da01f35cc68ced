"""JobManager: one job per drive — check adopted data, plan and initialize new data, hand complete
data to proving.

Contract for the node (and the web API):

* ``snapshot() -> list[JobSnapshot]``: plain dataclasses; changes are published on the event bus
  as ``Topic.JOBS``.
* ``async with jobs.proving(drive_id) as volume:`` — for the duration of the block every init
  thread on the box is paused at a durable point (proving deadlines pre-empt init) and the drive's
  job is marked ``proving``; ``volume.dataset`` is the data. Raises :class:`NotReadyError`
  when the drive's data is not complete (or the drive is missing).
* ``ready_volumes()``: the drives whose data is complete, for the node to prove with;
  ``add_dataset_listener(listener)`` tells a :class:`~appliance.jobs.model.DatasetListener` when
  that set changes (never on mere progress).

Init runs in a dedicated thread at ``SCHED_IDLE`` (see :mod:`.worker`); pausing sets the
initializer's stop event, which commits a durable position; resuming re-opens the data where the
last commit left it, so an unplug, a pause or a kill -9 never loses more than the uncommitted tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.aio import cancel_and_wait
from appliance.chain import MAINNET, ChainParams
from appliance.config import PostSettings
from appliance.drives.volume import Volume
from appliance.events import EventBus, Topic
from appliance.jobs import health
from appliance.jobs.model import DatasetListener, JobSnapshot, JobState, Plan
from appliance.jobs.plan import NoSpaceError, make_plan
from appliance.jobs.worker import start_low_priority
from appliance.post.bench import measure_label_rate
from appliance.post.check import check_data
from appliance.post.initializer import Initializer, InitProgress, InitResult
from appliance.post.layout import DataFileError
from appliance.post.metadata import MetadataError, PostMetadata
from appliance.post.resize import ResizeError, apply_resize, plan_resize
from appliance.post.writer import InitError
from appliance.supervision import Backoff

log = logging.getLogger(__name__)

GLOBAL_PROVING = "proving"
MISSING = "missing"
IO_RETRIES = 3
PROGRESS_EVERY = 0.5  # seconds between progress events of one job
RETRY = Backoff(initial=5.0, maximum=120.0)  # a stopped job tries again after 5 s, 10 s, ... 2 min


class NotReadyError(RuntimeError):
    """Proving was asked of a drive whose data is not complete (or that is not plugged in)."""


class PlanLockedError(RuntimeError):
    """The dataset's size can no longer change: labels were already written."""


class _Stopped(Exception):
    """The job stopped for a cause that can clear by itself (space freed, the drive reseated,
    descriptors released): it is retried with backoff."""
InitRunner = Callable[
    [Path, PostMetadata, int, int, threading.Event, Callable[[InitProgress], None]], InitResult
]


@dataclass
class _Job:
    volume: Volume
    snap: JobSnapshot
    paused_by: dict[str, str] = field(default_factory=dict)
    runnable: asyncio.Event = field(default_factory=asyncio.Event)
    stop: threading.Event | None = None
    thread: asyncio.Future[InitResult] | None = None
    task: asyncio.Task[None] | None = None
    meta: PostMetadata | None = None
    io_errors: int = 0
    published: float = 0.0  # monotonic time of the last progress event
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # cuts a retry's backoff short
    failures: int = 0  # stops in a row (the backoff grows with them)


class JobManager:
    """Implements the drive manager's ``VolumeListener``; see the module docstring."""

    def __init__(
        self,
        bus: EventBus,
        settings: PostSettings,
        chain: ChainParams = MAINNET,
        *,
        health_root: Path = Path("/"),
        health_interval: float = 5.0,
        check_samples: int = 256,
        measure_seconds: float = 0.5,
        retry: Backoff = RETRY,
    ) -> None:
        self.bus = bus
        self.settings = settings
        #: the chain new datasets are made for: their labels per unit and scrypt N
        self.chain = chain
        self.health_root = health_root
        self.health_interval = health_interval
        self.check_samples = check_samples
        self.measure_seconds = measure_seconds
        self.retry = retry
        #: set by the daemon: called with (drive_id, error text) when a job hits an I/O error
        self.on_io_error: Callable[[str, str], Awaitable[None]] | None = None
        #: set by the daemon to the health object's power reading, so undervoltage is read in one
        #: place (the hw sensors); None: read the Pi firmware's alarm from sysfs here
        self.undervoltage_source: Callable[[], str | None] | None = None
        #: set by the daemon when LAN helpers are enabled: runs an init in place of ``Initializer``
        #: (same arguments and result; blocking, called in the job's low-priority thread)
        self.init_runner: InitRunner | None = None
        self._jobs: dict[str, _Job] = {}
        self._global: dict[str, str] = {}
        self._provers = 0
        self._rates: dict[int, float] = {}
        self._health_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._listeners: list[DatasetListener] = []
        self._ready: dict[str, bytes] = {}  # drive id -> node id of what the listeners were told

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._health_task = asyncio.get_running_loop().create_task(self._watch_health())

    async def stop(self) -> None:
        task, self._health_task = self._health_task, None
        await cancel_and_wait(task)
        for job in self._jobs.values():
            await self._halt(job)
            if job.task is not None:
                job.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job.task
        for task in list(self._tasks):
            task.cancel()

    def snapshot(self) -> list[JobSnapshot]:
        return [dataclasses.replace(j.snap, paused_by=self._paused_by(j))
                for j in sorted(self._jobs.values(), key=lambda j: j.volume.drive_id)]

    def _paused_by(self, job: _Job) -> list[str]:
        # Box-wide reasons (a proof, undervoltage, the pause button) hold back init only: a drive
        # whose data is complete is not waiting for them, so the UI must not say it is paused.
        done = job.snap.state in (JobState.READY, JobState.PROVING)
        return sorted(job.paused_by.values() if done else {**self._global, **job.paused_by}.values())

    def volume(self, drive_id: str) -> Volume | None:
        """The volume a dataset job runs on (None for a drive without a job)."""
        job = self._jobs.get(drive_id)
        return job.volume if job else None

    def ready_volumes(self) -> list[Volume]:
        return [j.volume for j in self._jobs.values()
                if j.snap.state in (JobState.READY, JobState.PROVING) and MISSING not in j.paused_by]

    def add_dataset_listener(self, listener: DatasetListener) -> None:
        """``listener`` hears of every dataset that becomes ready or stops being ready from now on
        (the ready ones at this moment first)."""
        self._listeners.append(listener)
        for drive_id, node_id in self._ready.items():
            listener.dataset_ready(drive_id, node_id)

    def _tell_listeners(self) -> None:
        ready = {v.drive_id: v.node_id for v in self.ready_volumes()}
        if ready == self._ready:
            return
        before, self._ready = self._ready, ready
        for listener in self._listeners:
            for drive_id in before.keys() - ready.keys():
                listener.dataset_lost(drive_id)
            for drive_id, node_id in ready.items():
                if before.get(drive_id) != node_id:
                    listener.dataset_ready(drive_id, node_id)

    # ------------------------------------------------------------------ VolumeListener

    async def volume_ready(self, volume: Volume) -> None:
        job = self._jobs.get(volume.drive_id)
        if job is None:
            job = _Job(volume, JobSnapshot(drive_id=volume.drive_id, state=JobState.PLANNING))
            self._jobs[volume.drive_id] = job
        job.volume = volume
        job.snap.identity, job.snap.node_id = volume.identity, volume.node_id.hex()
        job.snap.datadir = str(volume.datadir)
        job.paused_by.pop(MISSING, None)
        self._update(job)
        if job.task is None or job.task.done():
            job.task = asyncio.get_running_loop().create_task(self._supervised(job))
        job.wake.set()  # a job waiting to retry after a failure tries again now

    async def volume_lost(self, drive_id: str, reason: str) -> None:
        job = self._jobs.get(drive_id)
        if job is None:
            return
        job.paused_by[MISSING] = f"drive missing: {reason}"
        self._update(job)
        await self._wait_thread(job)
        self._publish()

    # ------------------------------------------------------------------ proving

    @contextlib.asynccontextmanager
    async def proving(self, drive_id: str) -> AsyncIterator[Volume]:
        job = self._jobs.get(drive_id)
        if job is None or job.snap.state is not JobState.READY or MISSING in job.paused_by:
            state = job.snap.state.value if job else "unknown"
            raise NotReadyError(f"drive {drive_id} cannot prove now (its job is {state})")
        self._provers += 1
        self._set_global(GLOBAL_PROVING, "paused while a proof is generated")
        try:
            await asyncio.gather(*(self._wait_thread(j) for j in self._jobs.values()))
            job.snap.state = JobState.PROVING
            self._publish()
            yield job.volume
        finally:
            if job.snap.state is JobState.PROVING:
                job.snap.state = JobState.READY
            self._provers -= 1
            if not self._provers:
                self._set_global(GLOBAL_PROVING, None)
            self._publish()

    # ------------------------------------------------------------------ plans

    async def estimate(self, drive_id: str, max_bytes: int = 0) -> Plan:
        """The plan for ``drive_id``: all free space (less the margin), or at most ``max_bytes``."""
        job = self._jobs.get(drive_id)
        if job is None:
            raise NotReadyError(f"drive {drive_id} has no dataset (format or plug it in first)")
        s, chain = self.settings, self.chain
        units = min(s.max_units, chain.max_num_units) if s.max_units else chain.max_num_units
        if max_bytes:
            units = min(units, max_bytes // (chain.labels_per_unit * 16))
            if units < 1:
                raise NoSpaceError(f"{max_bytes} bytes is less than one unit of {chain.labels_per_unit * 16}")
        if MISSING in job.paused_by:
            raise NotReadyError(f"drive {drive_id} is not there ({job.paused_by[MISSING]}); plug it in first")
        rate = await self._rate(chain.scrypt_n)
        dataset = job.volume.dataset
        own = (await asyncio.to_thread(dataset.made_here)
               and job.snap.state not in (JobState.READY, JobState.PROVING))
        reclaim = await asyncio.to_thread(dataset.label_bytes) if own else 0
        plan = await asyncio.to_thread(make_plan, dataset.datadir, chain.labels_per_unit, s.free_margin,
                                       units, rate, reclaim)
        if plan.num_units < chain.min_num_units:
            # the chain refuses an ATX with fewer units: say so now, not after a whole init
            raise NoSpaceError(
                f"{chain.name} needs at least {chain.min_num_units} units of "
                f"{chain.labels_per_unit * 16} bytes; this drive has room for {plan.num_units}. "
                "Use a larger drive or free some space"
            )
        # The CPU is shared: the drives being prepared split the measured rate evenly, so until this
        # one is done each other drive writes as many labels as this one (or all of its own, if
        # fewer): the measured rate has to cover the sum of those, not this drive's labels alone.
        others = [j for d, j in self._jobs.items() if d != drive_id and j.snap.total > j.snap.position
                  and j.snap.state in (JobState.PLANNING, JobState.INITIALIZING, JobState.PAUSED)]
        if others and rate:
            mine = plan.num_units * plan.labels_per_unit
            labels = mine + sum(min(mine, j.snap.total - j.snap.position) for j in others)
            plan = dataclasses.replace(plan, eta_seconds=labels / rate, shared_with=len(others))
        return plan

    async def allocate(self, drive_id: str, max_bytes: int, *, keep_labels: bool = True) -> Plan:
        """Re-sizes a dataset this box is still initializing (0 = all free space). With
        ``keep_labels=False`` (the dataset is made again for another identity, whose labels are all
        different) the labels written so far are discarded instead.

        The labels already written are kept (``appliance.post.resize``): growing keeps them all,
        shrinking keeps the first ones. Whatever can stop it — complete or imported data
        (:class:`PlanLockedError`), a missing drive, labels that cannot be read — is found
        before anything changes; a failure while writing the new size is a :class:`ResizeError`
        with the reason, and the job carries on either way, never stuck in "re-planning".
        """
        job = self._jobs.get(drive_id)
        if job is None:
            raise NotReadyError(f"drive {drive_id} has no dataset (format or plug it in first)")
        dataset = job.volume.dataset
        datadir = dataset.datadir
        # A dataset this box started on an empty drive is its own even before the first commit
        # wrote the state file (labels already on disk, no sidecar yet: a window of a few seconds).
        own = (dataset.made_here() or not await asyncio.to_thread(dataset.has_labels)
               or not job.volume.has_data)
        if job.snap.state in (JobState.READY, JobState.PROVING, JobState.CHECKING) or not own:
            raise PlanLockedError(f"drive {drive_id} holds complete or imported PoST data; its size is "
                                  "fixed (format the drive to start over)")
        plan = await self.estimate(drive_id, max_bytes)
        def written() -> bool:
            return dataset.made_here() and dataset.has_metadata()

        if keep_labels and written():  # refused here, before the job is paused, when labels cannot be kept
            await asyncio.to_thread(plan_resize, datadir, plan.num_units)
        job.paused_by["replan"] = "re-planning"
        self._update(job)
        kept = 0
        keeping = False
        try:
            await self._wait_thread(job)
            await cancel_and_wait(job.task)
            keeping = keep_labels and written()  # init may have made its first commit meanwhile
            if keeping:  # and moved on while it ran: plan again from where it stopped
                resize = await asyncio.to_thread(plan_resize, datadir, plan.num_units)
                await asyncio.to_thread(apply_resize, datadir, resize)
                kept = resize.kept
                log.info("drive %s: resized to %d unit(s), %d labels kept, %d dropped%s", drive_id,
                         plan.num_units, resize.kept, resize.dropped,
                         " (VRF minimum searched again)" if resize.rescanned else "")
            else:  # nothing committed yet (an uncommitted tail), or labels of another identity
                await asyncio.to_thread(dataset.discard)
        except (OSError, InitError, DataFileError, MetadataError) as exc:
            raise ResizeError(f"resizing drive {drive_id} failed: {exc}. The labels on it are "
                              "kept and its initialization goes on as before") from exc
        finally:
            job.paused_by.pop("replan", None)
            job.meta = None  # whatever is on the drive now is read again before init goes on
            self._update(job)
            self._publish()
            if job.task is None or job.task.done():
                job.task = asyncio.get_running_loop().create_task(self._supervised(job))
        job.snap.max_bytes, job.snap.position = max_bytes, kept
        job.snap.state, job.snap.reason = JobState.PLANNING, ""
        # Show the new size at once (the page redraws from this); _prepare re-plans and re-describes.
        job.snap.plan, job.snap.eta_seconds = plan, plan.eta_seconds
        job.snap.num_units, job.snap.labels_per_unit = plan.num_units, plan.labels_per_unit
        job.snap.total = plan.num_units * plan.labels_per_unit
        job.volume = dataclasses.replace(job.volume, has_data=keeping)
        self._publish()
        return plan

    # ------------------------------------------------------------------ pausing

    def pause(self, key: str, reason: str | None) -> None:
        """Box-wide pause of init under ``key`` (None clears it) — e.g. the UI's pause button."""
        self._set_global(key, reason)

    def _set_global(self, key: str, reason: str | None) -> None:
        if reason:
            self._global[key] = reason
        else:
            self._global.pop(key, None)
        for job in self._jobs.values():
            self._update(job)
        self._publish()

    def _update(self, job: _Job) -> None:
        if job.paused_by or self._global:
            job.runnable.clear()
            if job.stop is not None:
                job.stop.set()
            if job.snap.state is JobState.INITIALIZING:
                job.snap.state = JobState.PAUSED
        else:
            job.runnable.set()
        self._tell_listeners()  # a replug or an I/O error changes what can prove without a publish

    async def _wait_thread(self, job: _Job) -> None:
        if job.thread is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(job.thread)

    async def _halt(self, job: _Job) -> None:
        job.paused_by["stopping"] = "the daemon is stopping"
        self._update(job)
        await self._wait_thread(job)

    async def _watch_health(self) -> None:
        while True:
            try:
                found = await self._power_and_heat()
            except Exception:  # one bad reading must not end the watch: the next poll tries again
                log.exception("reading power and temperature")
                found = dict(self._global)
            for key in ("undervoltage", "thermal"):
                if found.get(key) != self._global.get(key):
                    if found.get(key):
                        log.warning("pausing init: %s", found[key])
                    self._set_global(key, found.get(key))
            await asyncio.sleep(self.health_interval)

    async def _power_and_heat(self) -> dict[str, str | None]:
        if self.undervoltage_source is None:
            return dict(await asyncio.to_thread(health.problems, self.health_root))
        # the power reading is the health object's (hw sensors): not read a second time here
        thermal = await asyncio.to_thread(health.overheating, self.health_root)
        return {"undervoltage": self.undervoltage_source(), "thermal": thermal}

    # ------------------------------------------------------------------ the job

    def _fail(self, job: _Job, reason: str) -> None:
        job.snap.state, job.snap.reason = JobState.ERROR, reason
        log.error("drive %s: %s", job.volume.drive_id, reason)
        self._publish()

    async def _supervised(self, job: _Job) -> None:
        """Runs the job; after a stop whose cause can clear (or a bug) it tries again with backoff
        — sooner when the drive comes back — so a stopped init resumes by itself."""
        while True:
            try:
                await self._run(job)
                job.failures = 0
                return
            except _Stopped:
                pass
            except Exception as exc:  # a bug must not end the job for good: report and retry
                log.exception("drive %s: init job failed", job.volume.drive_id)
                self._fail(job, f"unexpected error: {exc}")
            job.failures += 1
            delay = self.retry.delay(job.failures)
            job.snap.reason = f"{job.snap.reason} — trying again in {delay:.0f} s"
            self._publish()
            job.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(job.wake.wait(), delay)
            job.io_errors = 0
            if job.snap.state is JobState.ERROR:
                job.snap.state, job.snap.reason = JobState.PAUSED, "trying again"

    async def _run(self, job: _Job) -> None:
        while True:
            await job.runnable.wait()
            volume = job.volume
            try:
                if job.meta is None:
                    job.meta = await self._prepare(job)
                    if job.meta is None:
                        return
                if job.snap.state is JobState.READY:
                    return
                if volume.read_only:
                    self._fail(job, "the drive is read-only and its PoST data is incomplete: "
                                    "make it writable to finish initializing")
                    return
                result = await self._init_once(job, job.meta)
                job.io_errors = 0
            except (OSError, InitError, DataFileError) as exc:
                if MISSING in job.paused_by or "stopping" in job.paused_by:
                    continue  # the drive went away under the job: already paused, resumes on replug
                if _is_full(exc):
                    self._fail(job, f"the drive is full: {exc}. Free some space; init goes on by itself")
                    raise _Stopped from exc
                if _is_exhausted(exc):
                    self._fail(job, f"the box is out of resources: {exc}")
                    raise _Stopped from exc
                if isinstance(exc, InitError) and not _is_io(exc):
                    self._fail(job, str(exc))
                    return
                job.io_errors += 1
                if job.io_errors > IO_RETRIES:
                    self._fail(job, f"repeated I/O errors: {exc}; check the drive and its cable")
                    raise _Stopped from exc
                job.paused_by[MISSING] = f"I/O error: {exc}"
                self._update(job)
                if self.on_io_error is not None:
                    await self.on_io_error(volume.drive_id, str(exc))
                continue
            except NoSpaceError as exc:  # not one unit fits: space may be freed
                self._fail(job, str(exc))
                raise _Stopped from exc
            except MetadataError as exc:
                self._fail(job, str(exc))
                return
            if result.complete:
                job.snap.state, job.snap.reason, job.snap.eta_seconds = JobState.READY, "data complete", 0.0
                log.info("drive %s: initialization complete (%d labels)", volume.drive_id, result.total)
                self._publish()
                return

    async def _prepare(self, job: _Job) -> PostMetadata | None:
        """Existing data: read + sampled check. New data: plan from free space, measured ETA."""
        volume, s = job.volume, self.settings
        dataset = volume.dataset
        if not volume.read_only:  # a kill -9 mid-write leaves the writer's temp files behind
            await asyncio.to_thread(dataset.remove_stale_temp_files)
        if volume.has_data or await asyncio.to_thread(dataset.has_metadata):
            meta = await asyncio.to_thread(dataset.metadata)
            if meta.node_id != volume.node_id:
                self._fail(job, "the metadata belongs to another identity than the drive's key")
                return None
            scrypt_n = await asyncio.to_thread(dataset.scrypt_n, self.chain.scrypt_n)
            job.snap.scrypt_n = scrypt_n  # shown on the page; the prover asks the dataset itself
            self._describe(job, meta)
            position = await asyncio.to_thread(dataset.position, meta)
            if position >= meta.total_labels:
                # Made elsewhere (a PC with a GPU) or finished here: every file must be whole.
                await asyncio.to_thread(dataset.check_files, meta)
            job.snap.position = position
            if job.snap.position >= meta.total_labels:
                # Complete data (adopted, or finished here): recompute a sample before proving with it.
                job.snap.state, job.snap.reason = JobState.CHECKING, "sampled data check"
                self._publish()
                fraction = min(100.0, 100.0 * self.check_samples / meta.total_labels)
                report = await asyncio.to_thread(check_data, dataset.datadir, fraction,
                                                 scrypt_n=scrypt_n, threads=self.settings.threads)
                job.snap.check_at, job.snap.check_labels = time.time(), report.checked
                job.snap.check_bad = len(report.bad)
                if not report.ok:
                    bad = report.bad[0] if report.bad else None
                    where = (f"label {bad.index} ({bad.file} offset {bad.offset}) does not match"
                             if bad else f"VRF nonce: {report.vrf_error}")
                    job.snap.check = f"failed: {len(report.bad)} of {report.checked} labels bad; {where}"
                    self._fail(job, f"the PoST data failed its sampled check: {where}. It was left as is.")
                    return None
                job.snap.check = f"ok ({report.checked} labels recomputed)"
                job.snap.state, job.snap.reason = JobState.READY, "data complete"
                self._publish()
            return meta
        job.snap.scrypt_n = self.chain.scrypt_n
        job.snap.state, job.snap.reason = JobState.PLANNING, "measuring this CPU"
        self._publish()
        plan = await self.estimate(job.volume.drive_id, job.snap.max_bytes)
        job.snap.plan = plan
        meta = PostMetadata(
            node_id=volume.node_id, commitment_atx_id=bytes.fromhex(s.commitment_atx_id),
            labels_per_unit=self.chain.labels_per_unit, num_units=plan.num_units,
            max_file_size=s.max_file_size,
        )
        self._describe(job, meta)
        log.info("drive %s: plan %d unit(s), %d bytes, ETA %s s at %.0f labels/s", volume.drive_id,
                 plan.num_units, plan.bytes_total, f"{plan.eta_seconds:.0f}" if plan.eta_seconds else "?",
                 plan.labels_per_second or 0)
        return meta

    async def _rate(self, scrypt_n: int) -> float | None:
        if scrypt_n not in self._rates:
            self._rates[scrypt_n] = await asyncio.to_thread(
                measure_label_rate, self.measure_seconds, self.settings.threads, scrypt_n)
        return self._rates[scrypt_n]

    def _describe(self, job: _Job, meta: PostMetadata) -> None:
        job.snap.num_units, job.snap.labels_per_unit = meta.num_units, meta.labels_per_unit
        job.snap.total = meta.total_labels

    async def _init_once(self, job: _Job, meta: PostMetadata) -> InitResult:
        stop = threading.Event()
        job.stop = stop
        datadir, scrypt_n, threads = job.volume.datadir, job.snap.scrypt_n, self.settings.threads
        loop = asyncio.get_running_loop()

        def progress(p: InitProgress) -> None:  # called in the init thread
            loop.call_soon_threadsafe(self._progress, job, p)

        def work() -> InitResult:
            if self.init_runner is not None:
                return self.init_runner(datadir, meta, scrypt_n, threads, stop, progress)
            return Initializer(datadir, meta, scrypt_n=scrypt_n, threads=threads).run(stop, progress)

        job.snap.state, job.snap.reason = JobState.INITIALIZING, ""
        self._publish()
        job.thread = start_low_priority(work, f"init-{job.volume.drive_id[:8]}")
        if not job.runnable.is_set():
            stop.set()  # a pause arrived between the wait and the start
        try:
            result = await asyncio.shield(job.thread)
        finally:
            job.stop = None
        job.snap.position = result.position
        if not result.complete and job.snap.state is JobState.INITIALIZING:
            job.snap.state = JobState.PAUSED
        self._publish()
        return result

    def _progress(self, job: _Job, p: InitProgress) -> None:
        job.snap.position, job.snap.total = p.position, p.total
        job.snap.labels_per_second, job.snap.eta_seconds = p.labels_per_second, p.eta_seconds
        now = time.monotonic()
        if now - job.published >= PROGRESS_EVERY or p.position == p.total:  # no event flood on fast N
            job.published = now
            self._publish()

    def _publish(self) -> None:
        self._tell_listeners()
        self.bus.publish(Topic.JOBS, self.snapshot())


def _errno_of(exc: BaseException) -> int | None:
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno:
            return exc.errno
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None


def _is_full(exc: BaseException) -> bool:
    return _errno_of(exc) in (errno.ENOSPC, errno.EDQUOT)


def _is_exhausted(exc: BaseException) -> bool:
    return _errno_of(exc) in (errno.EMFILE, errno.ENFILE, errno.ENOMEM)


def _is_io(exc: BaseException) -> bool:
    return _errno_of(exc) in (errno.EIO, errno.ENODEV, errno.ENXIO, errno.EROFS, errno.ENOENT,
                              errno.ESHUTDOWN)
