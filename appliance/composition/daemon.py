"""``python -m appliance run``: the one long-running service of the box.

Takes the state folder's single-instance lock, finishes what a power cut interrupted, reads the
config and the network, then runs the start list (:mod:`appliance.composition.bootstrap`) under
systemd notify/watchdog and journald logging when run by systemd
(``image/overlay/etc/systemd/system/smeshbox.service``), until SIGTERM/SIGINT or a factory reset.

``--dev`` runs on a local default so a developer sees real work within a minute: state in
``<repo>/.state`` (or ``~/.local/share/smeshbox``), two file-backed drives attached as real loop
devices when root (plain directories otherwise), a small LabelsPerUnit and scrypt N, the built-in
devnet, and the web API on 127.0.0.1:8080.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from appliance.composition.box import RunOptions
from appliance.composition.network import Network
from appliance.config import BOX_STATE_DIR, ConfigError, DaemonConfig, StateLayout, load_config
from appliance.drives.manager import DriveManager
from appliance.jobs.manager import JobManager
from appliance.system.lock import AlreadyRunningError, InstanceLock
from appliance.system.logs import setup_logging

log = logging.getLogger("appliance.daemon")
REPO_ROOT = Path(__file__).resolve().parents[2]
STATUS_INTERVAL = 10.0


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", type=Path, help=f"state folder (default {BOX_STATE_DIR})")
    parser.add_argument("--listen", help="HOST:PORT of the web API (default 0.0.0.0:80)")
    parser.add_argument("--dev", action="store_true", help="local default: file-backed drives, small PoST")
    parser.add_argument("--no-web", action="store_true", help="do not start the web app")
    parser.add_argument("--announce", action="store_true",
                        help="announce the box over mDNS on every LAN interface (the box's unit sets it)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--status-interval", type=float, default=STATUS_INTERVAL, help=argparse.SUPPRESS)
    # tests: the --dev devnet's timings x this (6 = 60-second epochs)
    parser.add_argument("--devnet-time-scale", type=float, default=None, help=argparse.SUPPRESS)


def dev_state_dir() -> Path:
    if (REPO_ROOT / "pyproject.toml").exists() and os.access(REPO_ROOT, os.W_OK):
        return REPO_ROOT / ".state"
    return Path.home() / ".local/share/smeshbox"


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen must be HOST:PORT with a port 1-65535, got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def run(args: argparse.Namespace) -> int:
    target = setup_logging(getattr(logging, args.log_level))
    state = args.state_dir or (dev_state_dir() if args.dev else BOX_STATE_DIR)
    layout = StateLayout(Path(state).absolute())
    try:
        layout.create()
        lock = InstanceLock(layout.root)
        lock.acquire()
    except AlreadyRunningError as exc:
        print(f"smeshbox: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"smeshbox: cannot use state folder {layout.root}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        from appliance.system.reset import finish_interrupted_reset

        finish_interrupted_reset(layout.root)  # a reset cut by a power loss completes before any read
        from appliance.system.files import remove_stale_temp_files

        for stale in remove_stale_temp_files(layout.root, skip=(layout.drives,)):  # left by a kill -9
            log.info("removed %s, a write cut short by a crash", stale)
        # The log file only while the lock is held, so two daemons never rotate the same files.
        target = setup_logging(getattr(logging, args.log_level), log_dir=layout.root / "logs")
        config = load_config(layout.config)
        if args.dev:
            from appliance.drives.dev import dev_config

            config = dev_config(config, layout)
        if args.listen:
            config.listen_host, config.listen_port = parse_listen(args.listen)
        from appliance.chain import load_chain
        from appliance.composition.network import box_network, dev_network, post_settings_for

        scale = args.devnet_time_scale
        if scale is not None and not 0.1 <= scale <= 100:
            raise ValueError(f"--devnet-time-scale must be between 0.1 and 100, got {scale}")
        network = (dev_network(layout, *([] if scale is None else [scale]))
                   if args.dev else box_network(layout, load_chain(layout.root)))
        config.post = post_settings_for(config.post, network)
        log.info("smeshbox daemon starting: state %s, logging to %s", layout.root, target)
        daemon = Daemon(layout, config, network,
                        RunOptions(dev=args.dev, web=not args.no_web, announce=args.announce))
        daemon.status_interval = max(0.1, args.status_interval)
        return asyncio.run(daemon.run())
    except (ConfigError, ValueError) as exc:
        print(f"smeshbox: {exc}", file=sys.stderr)
        return 2
    finally:
        lock.release()


class Daemon:
    """The process around the box: signals, systemd's notify and watchdog, a status line."""

    def __init__(self, layout: StateLayout, config: DaemonConfig, network: Network,
                 options: RunOptions) -> None:
        self.layout, self.config, self.network, self.options = layout, config, network, options
        self.exit_code = 0
        self._stop = asyncio.Event()
        self.status_interval = STATUS_INTERVAL

    async def run(self) -> int:
        from appliance.composition import bootstrap
        from appliance.composition.webapp import ListenError
        from appliance.system.limits import reserve_descriptors
        from appliance.system.notify import Notifier

        # descriptors for the PoST work first: the web server gets a connection cap below the rest
        descriptors = reserve_descriptors()
        log.info("descriptors: limit %d, %d reserved, at most %d web connections", descriptors.limit,
                 descriptors.reserved, descriptors.web_connections)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        notifier = Notifier()
        box = bootstrap.initialize(self.layout, self.config, self.network, self.options,
                                   on_restart=self.request_restart,
                                   web_connection_cap=descriptors.web_connections)
        try:
            try:
                await bootstrap.start(box)
            except ListenError as exc:
                log.error("%s", exc)
                return 1
            box.health.mark_started()
            notifier.start_watchdog(box.health.watchdog_ok)
            notifier.ready(status_line(box.drives, box.jobs))
            log.info("ready: %s", status_line(box.drives, box.jobs))
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.status_interval)
                status = status_line(box.drives, box.jobs)
                notifier.status(status)
                log.info("%s", status)
        finally:
            notifier.stopping()
            log.info("stopping")
            await bootstrap.stop(box)  # the drives pause every job at a durable label, then unmount
            await notifier.stop_watchdog()
        return self.exit_code

    def request_restart(self) -> None:
        """After a factory reset: stop now and exit with the code systemd restarts us on
        (``RestartForceExitStatus=`` in the unit); the web reply in flight still completes."""
        from appliance.system.reset import RESTART_EXIT_CODE

        self.exit_code = RESTART_EXIT_CODE
        self._stop.set()


def status_line(drives: DriveManager, jobs: JobManager) -> str:
    """One line for systemd's STATUS= and the log: every job's progress, drives waiting for a yes."""
    parts = []
    for job in jobs.snapshot():
        pct = 100.0 * job.position / job.total if job.total else 0.0
        eta = f", ETA {job.eta_seconds:.0f}s" if job.eta_seconds else ""
        rate = f", {job.labels_per_second:.0f} labels/s" if job.labels_per_second else ""
        why = f" ({'; '.join(job.paused_by) or job.reason})" if job.paused_by or job.reason else ""
        parts.append(f"{job.drive_id[:8]} {job.state.value} {job.position}/{job.total} "
                     f"{pct:.1f}%{rate}{eta}{why}")
    offered = [d for d in drives.snapshot() if d.state.value == "offered"]
    if offered:
        parts.append(f"{len(offered)} drive(s) offered for formatting")
    return "; ".join(parts) or "no drives"
