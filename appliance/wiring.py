"""The daemon's composition root for everything beyond drives and jobs: the network the node
smeshes on (the built-in devnet with ``--dev``, ``network.json`` on a box), the node supervisor,
the box's senses (hw, discovery) and the web app with an adapter per domain.

Adapters here only translate snapshots into the web layer's view dataclasses; each domain keeps
its own logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance import __version__
from appliance.aio import cancel_and_wait
from appliance.chain import MAINNET, ChainParams, ChainSetup
from appliance.config import DaemonConfig, StateLayout
from appliance.events import EventBus
from appliance.health.monitor import HealthMonitor
from appliance.node.address import parse_address
from appliance.node.config import NodeConfig
from appliance.node.identity import Identity, IdentityStore
from appliance.node.manager import IdentityStatus
from appliance.node.supervisor import NodeSupervisor, SupervisorStatus
from appliance.post.proof import ProofConfig
from appliance.status.history import with_misses
from appliance.supervision import Supervisor
from appliance.system.files import atomic_write_json, atomic_write_text
from appliance.web import services as ws

log = logging.getLogger(__name__)

#: installed by the OS image (image/overlay): NetworkManager is the box's, the appliance manages it
BOX_NETWORK_CONF = Path("/etc/NetworkManager/conf.d/smeshbox.conf")
DEVNET_FILE = "devnet.json"
#: the dev devnet's epoch: long enough to watch, short enough to see several in one sitting
DEV_TIME_SCALE = 6.0


# ---------------------------------------------------------------- the network


@dataclass
class Network:
    """Where the node smeshes: ``node_config(coinbase)`` or None while unconfigured."""

    chain: ChainParams  # the one source of the chain's facts (post, jobs, node, addresses)
    node_state_dir: Path
    build: Callable[[bytes], NodeConfig | None] | None = None
    devnet: object | None = None  # appliance.devnet.Devnet when --dev
    time_source: object | None = None
    default_coinbase: bytes | None = None  # smesh to this until a reward address is set (devnet only)

    @property
    def hrp(self) -> str:
        return self.chain.hrp

    @property
    def proof_config(self) -> ProofConfig:
        return ProofConfig.from_chain(self.chain)

    @property
    def commitment_atx_id(self) -> str:
        """What new datasets commit to: the chain's golden ATX."""
        return self.chain.golden_atx.hex()

    def node_config(self, coinbase: bytes) -> NodeConfig | None:
        return self.build(coinbase) if self.build else None


def box_network(layout: StateLayout, setup: ChainSetup) -> Network:
    """The network ``<state>/network.json`` names (``appliance.chain.load_chain``, read once)."""

    def build(coinbase: bytes) -> NodeConfig | None:
        if not setup.has_services:
            return None
        return NodeConfig.from_setup(setup, coinbase)

    return Network(chain=setup.chain, node_state_dir=layout.root / "node", build=build)


def dev_network(layout: StateLayout, time_scale: float = DEV_TIME_SCALE) -> Network:
    """The built-in devnet, in process, with PoST sized for the --dev drives.

    The genesis time is kept in the state folder so the golden ATX — which the dev datasets commit
    to — survives restarts. The devnet itself keeps its chain in memory, so the node's devnet state
    starts fresh with every run (its first ATX is an initial one again)."""
    from appliance.devnet.devnet import Devnet, DevnetConfig
    from appliance.drives.dev import DEV_LABELS_PER_UNIT, DEV_SCRYPT_N

    record = layout.root / DEVNET_FILE
    try:
        genesis = float(json.loads(record.read_text())["genesis"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        genesis = float(int(time.time()) + 5)
        atomic_write_json(record, {"genesis": genesis})
    base = DevnetConfig().chain
    scaled = {
        name: getattr(base, name) * time_scale
        for name in ("layer_duration", "phase_shift", "cycle_gap", "grace_period", "network_delay")
    }
    devnet = Devnet(DevnetConfig.of(**scaled, genesis=genesis, labels_per_unit=DEV_LABELS_PER_UNIT,
                                    scrypt_n=DEV_SCRYPT_N, hrp=MAINNET.hrp))
    state = layout.root / "node-devnet"
    shutil.rmtree(state, ignore_errors=True)  # the devnet forgot its chain: so must the node
    return Network(
        chain=devnet.chain, node_state_dir=state,
        build=lambda coinbase: devnet.node_config(coinbase=coinbase) if devnet.gateway_url else None,
        devnet=devnet, time_source=devnet.time,
        default_coinbase=bytes(4) + hashlib.blake2b(b"smeshbox-devnet-coinbase", digest_size=20).digest(),
    )


# ---------------------------------------------------------------- adapters for the web app


def node_view(status: SupervisorStatus) -> ws.NodeView:
    """The node card: one status line and every identity (one per drive) in detail."""
    node = status.node
    if node is None:
        return ws.NodeView(epoch=0, layer=0, status=status.reason)
    identities = [identity_view(ident) for ident in node.identities]
    line = identities[0].status if len(identities) == 1 else status.reason
    if not node.clock_synced:
        line = f"waiting for the clock to sync; {line}"
    return ws.NodeView(epoch=node.epoch, layer=node.layer, status=line, identities=identities)


def identity_view(ident: IdentityStatus) -> ws.IdentityView:
    line = f"{ident.status} — {ident.error}" if ident.error else ident.status
    return ws.IdentityView(
        node_id=ident.node_id, status=line,
        poet_registrations=[ws.PoetRegistration(r.poet, r.round_id, r.round_end)
                            for r in ident.poet_registrations],
        last_proof_seconds=ident.last_proof_seconds,
        cycle_gap_budget_seconds=ident.cycle_gap_budget_seconds,
        atx_history=[ws.AtxRecord(a.epoch, a.grade, a.published_at, a.reason)
                     for a in with_misses(ident.atx_history, ident.epoch)],
        next_deadline=ident.next_deadline, next_deadline_what=ident.next_deadline_what,
        eligible_layers=list(ident.eligible_layers), proposals_published=ident.proposals_published,
    )


@dataclass
class BoxStatus:
    """The box card: hw sensors, drive health, uptime, the name taken on the LAN."""

    hw: object | None
    drives: object
    discovery: object | None
    hostname: str = field(default_factory=socket.gethostname)

    def snapshot(self) -> ws.BoxView:
        shot = self.hw.snapshot() if self.hw is not None else None  # type: ignore[attr-defined]
        disks = [
            ws.DiskHealth(d.model or d.id, d.state.value not in ("error", "missing"), d.reason)
            for d in self.drives.snapshot()  # type: ignore[attr-defined]
        ]
        name = self.hostname
        if self.discovery is not None:
            found = self.discovery.snapshot()  # type: ignore[attr-defined]
            name = found.hostname or found.name or name
        return ws.BoxView(
            version=__version__, uptime_seconds=_uptime(),
            cpu_temp_c=shot.cpu_temp_c if shot else None,
            throttled=bool(shot and shot.throttled), undervoltage=bool(shot and shot.undervoltage),
            disks=disks, hostname=name,
        )


def _uptime() -> float:
    try:
        return float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


class OtaUpdates:
    """The update page over :class:`appliance.ota.manager.OtaManager`."""

    def __init__(self, ota: object) -> None:
        self.ota = ota

    def status(self) -> ws.UpdateView:
        shot = self.ota.snapshot()  # type: ignore[attr-defined]
        last = shot.last_result
        return ws.UpdateView(
            current_version=shot.version,
            available_version=(shot.available or {}).get("version"),
            phase=shot.phase, downloaded_bytes=shot.downloaded, total_bytes=shot.total,
            error=shot.error or "",
            last_result=ws.UpdateResult(last.from_version, last.to_version, last.outcome,  # type: ignore[arg-type]
                                        last.reason, last.at) if last else None,
        )

    async def start(self, version: str) -> None:
        from appliance.ota.errors import OtaError

        available = (self.ota.snapshot().available or {}).get("version")  # type: ignore[attr-defined]
        if available and version != available:
            raise ws.ServiceError(f"version {version} is not the one offered ({available})", "conflict")
        try:
            self.ota.start_install()  # type: ignore[attr-defined]  # verifies the release before writing
        except OtaError as exc:
            raise ws.ServiceError(str(exc), "conflict") from exc


class NoUpdates:
    """The update page where no OS slot can be updated (a development machine)."""

    def __init__(self, why: str) -> None:
        self.why = why

    def status(self) -> ws.UpdateView:
        return ws.UpdateView(current_version=__version__, error=self.why)

    async def start(self, version: str) -> None:
        # 409, not 503: nothing is down and retrying will not help; this machine has no OS slots
        raise ws.ServiceError(self.why, "conflict")


class _Snapshot:
    def __init__(self, fn) -> None:  # type: ignore[no-untyped-def]
        self.snapshot = fn


# ---------------------------------------------------------------- the box's own id


def box_short_id(layout: StateLayout) -> str:
    """Six hex digits naming this box on the LAN ("Smeshbox 3fa9c2"), stable across restarts."""
    path = layout.root / "box-id"
    with contextlib.suppress(FileNotFoundError):
        text = path.read_text().strip()
        if len(text) == 6 and all(c in "0123456789abcdef" for c in text):
            return text
    short = secrets.token_hex(3)
    atomic_write_text(path, short + "\n")
    return short


# ---------------------------------------------------------------- the extras the daemon runs


@dataclass
class Extras:
    """Node supervisor, devnet, hw, discovery and the web app: started after drives and jobs."""

    layout: StateLayout
    config: DaemonConfig
    bus: EventBus
    network: Network
    dev: bool
    announce: bool = False  # mDNS on every LAN interface (the box); otherwise on none
    on_restart: Callable[[], None] | None = None  # the daemon's restart, after a factory reset
    health: HealthMonitor | None = None  # the box's health object; node and hw add their checks
    tasks: Supervisor | None = None  # restarts long-running tasks (smeshers) after a crash
    web_connection_cap: int | None = None  # open web connections allowed (appliance.system.limits)
    started: list[object] = field(default_factory=list)
    web_runner: object | None = None
    supervisor: NodeSupervisor | None = None
    hw: object | None = None
    hostnet: object | None = None  # appliance.hostnet.service.HostNetManager on a box
    button: object | None = None  # appliance.hw.button.SetupButton where the board has GPIO
    discovery: object | None = None
    settings: object | None = None
    ota: object | None = None
    nodemode: object | None = None  # appliance.nodemode_wiring.NodeMode
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self, drives: object, jobs: object, web: bool) -> None:
        from appliance.jobs.provider import JobsPostProvider
        from appliance.settings import SettingsStore

        if self.network.devnet is not None:
            await self.network.devnet.start()  # type: ignore[attr-defined]
            self.started.append(self.network.devnet)
            log.info("devnet: gateway %s, PoETs %s", self.network.devnet.gateway_url,  # type: ignore[attr-defined]
                     ", ".join(self.network.devnet.poet_urls))  # type: ignore[attr-defined]
        self.settings = settings = SettingsStore(
            self.layout.root / "web", functools.partial(parse_address, hrp=self.network.hrp), self.bus
        )
        store = IdentityStore(self.layout.identities)

        async def identities() -> list[Identity]:
            found = []
            for volume in jobs.ready_volumes():  # type: ignore[attr-defined]
                with contextlib.suppress(Exception):  # a broken key is the drive manager's to report
                    found.append(await asyncio.to_thread(store.load, volume.identity))
            return found

        provider = JobsPostProvider(jobs, self.network.proof_config,
                                    nonces=288, threads=self.config.post.threads,
                                    fast_mode=False if self.dev else None)
        from appliance.nodemode_wiring import start_node_mode

        self.nodemode = await start_node_mode(self, jobs, store)
        self.supervisor = NodeSupervisor(
            self.bus, self.network.node_state_dir, provider, self.network.node_config, self.network.hrp,
            lambda: settings.current.reward_address, identities, self.network.time_source,  # type: ignore[arg-type]
            default_coinbase=self.network.default_coinbase, tasks=self.tasks,
            paused=self.nodemode.light_node_paused,
        )
        await self.supervisor.start()
        self.started.append(self.supervisor)
        await self._start_senses()
        if self.health is not None:
            from appliance.health.box import add_extras_checks

            add_extras_checks(self.health, self.supervisor, self.hw, jobs)  # type: ignore[arg-type]
        await self._start_ota()
        if self.tasks is not None:  # supervised: a drawing error must not leave the screen stale
            self.tasks.start("oled-status", "hw", functools.partial(self._screen, jobs))
        else:
            self._tasks.append(asyncio.create_task(self._screen(jobs), name="oled-status"))
        if web:
            self.web_runner = await self._start_web(drives, jobs, store)

    async def _start_senses(self) -> None:
        from appliance.discovery import DiscoveryConfig, DiscoveryManager
        from appliance.hw import HwConfig, HwManager

        hw_config = (HwConfig(i2c_bus=None, simulate_display=True, display_png=self.layout.root / "oled.png")
                     if self.dev else HwConfig())
        self.hw = HwManager(self.bus, hw_config)
        await self.hw.start()
        self.started.append(self.hw)
        # The box's network is ours to manage only on the image, which hands NetworkManager to the
        # appliance with this file; a developer's machine (or --dev) keeps its own network alone.
        if not self.dev and BOX_NETWORK_CONF.exists():
            await self._start_hostnet()
        # Only the box announces (its unit passes --announce): mDNS from a developer's machine or a
        # test run would reach a real LAN.
        self.discovery = DiscoveryManager(
            DiscoveryConfig(box_short_id(self.layout), self.config.listen_port,
                            interfaces=None if self.announce else (),
                            host_name=self._box_name()),
            self.bus,
        )
        try:
            await self.discovery.start()
            self.started.append(self.discovery)
        except Exception as exc:  # a box without a LAN still smeshes; the UI shows why
            log.error("mDNS announcement failed: %s", exc)

    def _box_name(self) -> str:
        """The name the person chose in Settings ("smeshbox" until then): http://NAME.local."""
        settings = self.settings
        return getattr(getattr(settings, "current", None), "hostname", "") or "smeshbox"

    async def _start_hostnet(self) -> None:
        """NetworkManager, the setup hotspot and portal, the clock check, and the setup button."""
        from appliance.hostnet.service import HostNetManager
        from appliance.hw.button import SetupButton, gpiod_chip
        from appliance.system.reset import ResetService

        hw = self.hw

        def notice(lines: tuple[str, ...], qr: str = "") -> None:
            if hw is not None:
                hw.set_status(notice=lines, qr=qr)  # type: ignore[attr-defined]

        self.hostnet = HostNetManager(self.layout.root, box_short_id(self.layout), notice=notice)
        await self.hostnet.start()
        self.started.append(self.hostnet)
        if self.health is not None:
            from appliance.health.box import add_hostnet_check

            add_hostnet_check(self.health, self.hostnet)
        if Path("/dev/gpiochip0").exists():
            reset = ResetService(self.layout.root, on_restart=self.on_restart)
            # the button's reset keeps the identity keys: the drives' PoST data stays usable
            self.button = SetupButton(gpiod_chip("/dev/gpiochip0"), self.hostnet.open_setup,
                                      functools.partial(reset.factory_reset, keep_identities=True), notice)
            await self.button.start()
            self.started.append(self.button)

    async def _start_web(self, drives: object, jobs: object, store: IdentityStore) -> object:
        from appliance.jobs.webview import DrivesView
        from appliance.system.journal_export import JournalExport
        from appliance.system.logservice import ApplianceLogs
        from appliance.system.reset import ResetService
        from appliance.web.app import create_app, serve
        from appliance.web.connections import ConnectionLimits

        supervisor = self.supervisor
        assert supervisor is not None
        services = ws.AppServices(
            bus=self.bus, state_dir=self.layout.root / "web", version=__version__,
            drives=DrivesView(drives, jobs),  # type: ignore[arg-type]
            node=_Snapshot(lambda: node_view(supervisor.snapshot())),
            identity=ws.StoreIdentity(store),
            box=BoxStatus(self.hw, drives, self.discovery),
            update=self._updates(),
            # the journal export lives in the state folder: one per box, not one more /tmp folder per run
            logs=ApplianceLogs(self.layout.root / "logs",
                               JournalExport(export_dir=self.layout.root / "journal-export")),
            reset=ResetService(self.layout.root, on_restart=self.on_restart),
            parse_address=functools.partial(parse_address, hrp=self.network.hrp),
            address_hrp=self.network.hrp,
            health=self.health,
            nodemode=self.nodemode.service if self.nodemode else None,  # type: ignore[attr-defined]
        )
        services.summary, services.notify = await self._start_status(drives, jobs, services)
        app = create_app(services, settings=self.settings)  # type: ignore[arg-type]
        if self.config.helpers.host:
            from appliance.web.peers import enable_helpers

            helpers = await enable_helpers(app, jobs, self.layout.root / "peers", self.config.helpers)
            self.started.append(helpers)
        if self.hostnet is not None:
            from appliance.web import portal
            from appliance.web.app import UI_DIR

            portal.install(app, self.hostnet, UI_DIR)  # type: ignore[arg-type]
        # The configured cap, never above what the descriptor budget leaves outside the PoST work.
        cap = self.config.web_max_connections
        if self.web_connection_cap is not None:
            cap = min(cap, self.web_connection_cap)
        limits = ConnectionLimits(cap, min(self.config.web_max_per_client, cap))
        return await serve(app, self.config.listen_host, self.config.listen_port, limits)

    async def _start_status(self, drives: object, jobs: object, services: ws.AppServices) -> tuple:
        """The top card's answers for this mode, and the notifications built on them."""
        from appliance.notify import conditions
        from appliance.notify.manager import NotifyManager
        from appliance.status.lightnode import LightNodeSummary

        supervisor = self.supervisor
        assert supervisor is not None
        summary = LightNodeSummary(drives.snapshot, jobs.snapshot, supervisor.snapshot)  # type: ignore[attr-defined]

        def last_update() -> tuple[str, str, str, str] | None:
            last = services.update.status().last_result
            return (last.from_version, last.to_version, last.outcome, last.reason) if last else None

        notify = NotifyManager(self.layout.root / "web", self.bus, [
            conditions.problems(summary.summary),
            conditions.init_progress(jobs.snapshot),  # type: ignore[attr-defined]
            conditions.undervoltage(lambda: bool(self.hw and self.hw.snapshot().undervoltage)),  # type: ignore[attr-defined]
            conditions.update_result(last_update),
        ])
        await notify.start()
        self.started.append(notify)
        return summary, notify

    async def _screen(self, jobs: object) -> None:
        """Keeps the OLED's status screen (name, IP, URL as QR, state) in step with the box."""
        async with self.bus.subscribe() as events:
            while True:
                self._draw_status(jobs)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(events.get(), 15.0)
                await asyncio.sleep(1.0)  # coalesce bursts of progress events into one redraw

    def _draw_status(self, jobs: object) -> None:
        if self.hw is None:
            return
        found = self.discovery.snapshot() if self.discovery is not None else None  # type: ignore[attr-defined]
        ip = found.addresses[0] if found and found.addresses else ""
        host = found.hostname.rstrip(".") if found and found.hostname else ""
        port = "" if self.config.listen_port == 80 else f":{self.config.listen_port}"
        url = f"http://{host or ip or self.config.listen_host}{port}/"
        running = [j for j in jobs.snapshot() if j.state.value == "initializing"]  # type: ignore[attr-defined]
        if running:
            done = sum(j.position for j in running) / max(1, sum(j.total for j in running))
            state = f"init {100 * done:.0f}%"
        else:
            node = self.supervisor.snapshot() if self.supervisor else None
            state = "smeshing" if node and node.running else "setup"
        self.hw.set_status(name=found.name if found and found.name else "Smeshbox",  # type: ignore[attr-defined]
                           ip=ip, url=url, state=state)

    def _updates(self) -> ws.UpdateService:
        """OTA on an image built by image/ (it carries a release record); elsewhere there is no
        slot to update, and the page says so instead of pretending."""
        from appliance.ota.config import OtaConfig

        if self.ota is None:
            return NoUpdates(f"no release record at {OtaConfig.from_env().release_file}: "
                             "updates come with the Smeshbox OS image")
        return OtaUpdates(self.ota)

    async def _start_ota(self) -> None:
        from appliance.ota.config import OtaConfig
        from appliance.ota.manager import OtaManager

        config = OtaConfig.from_env()
        if not config.release_file.exists():
            return
        self.ota = OtaManager(config, self.bus)
        await self.ota.start()
        self.started.append(self.ota)

    async def stop(self) -> None:
        await cancel_and_wait(*self._tasks)
        self._tasks.clear()
        if self.tasks is not None:
            await self.tasks.stop("oled-status")
        if self.web_runner is not None:
            await self.web_runner.cleanup()  # type: ignore[attr-defined]
            self.web_runner = None
        for manager in reversed(self.started):
            try:
                await manager.stop()  # type: ignore[attr-defined]
            except Exception:
                log.exception("stopping %s", type(manager).__name__)
        self.started.clear()


def post_settings_for(post: object, network: Network) -> object:
    """New datasets commit to the network's golden ATX (the devnet's with --dev), so the network
    accepts their proofs."""
    return dataclasses.replace(post, commitment_atx_id=network.commitment_atx_id)  # type: ignore[type-var]
