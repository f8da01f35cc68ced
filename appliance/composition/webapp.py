"""The web app, last in the start list because it reads every manager above it: the services
bundle (``appliance.web.services.AppServices``) filled with the web layer's adapters, the top
card's answers and the notifications built on them, the helpers' broker when configured, the
captive portal on the image, and the server behind its connection cap."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from aiohttp import web

from appliance import __version__
from appliance.composition.box import Box
from appliance.node.address import parse_address
from appliance.node.backup import IdentityBackups
from appliance.notify import conditions
from appliance.notify.manager import NotifyManager
from appliance.ota.config import OtaConfig
from appliance.status.lightnode import LightNodeSummary
from appliance.system.journal_export import JournalExport
from appliance.system.logservice import ApplianceLogs
from appliance.system.reset import ResetService
from appliance.web import portal
from appliance.web.app import UI_DIR, create_app, serve
from appliance.web.box import BoxCard
from appliance.web.connections import ConnectionLimits
from appliance.web.drives import DrivesView
from appliance.web.node import NodeCard
from appliance.web.peers import install_helpers
from appliance.web.services import AppServices, UpdateService
from appliance.web.updates import NoUpdates, OtaUpdates


class ListenError(Exception):
    """The web server cannot listen where it was told (the port is taken, the address is not ours)."""


@dataclass
class WebApp:
    """The page and the API as served: what the daemon stops first."""

    services: AppServices
    app: web.Application
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


def updates(box: Box) -> UpdateService:
    """OTA on an image built by image/ (it carries a release record); elsewhere there is no slot to
    update, and the page says so instead of pretending."""
    if box.ota is None:
        return NoUpdates(f"no release record at {OtaConfig.from_env().release_file}: "
                         "updates come with the Smeshbox OS image")
    return OtaUpdates(box.ota)


def services(box: Box) -> AppServices:
    hrp = box.network.hrp
    return AppServices(
        bus=box.bus, state_dir=box.layout.root / "web", version=__version__,
        drives=DrivesView(box.drives, box.jobs),
        node=NodeCard(box.node),
        identity=IdentityBackups(box.identities),
        box=BoxCard(box.hw, box.drives, box.discovery),
        update=updates(box),
        # the journal export lives in the state folder: one per box, not one more /tmp folder per run
        logs=ApplianceLogs(box.layout.root / "logs",
                           JournalExport(export_dir=box.layout.root / "journal-export")),
        reset=ResetService(box.layout.root, on_restart=box.on_restart),
        parse_address=functools.partial(parse_address, hrp=hrp),
        address_hrp=hrp,
        health=box.health,
        nodemode=box.nodemode.service,
    )


async def start_status(box: Box, bundle: AppServices) -> None:
    """The top card's answers for this mode, and the notifications built on them."""
    summary = LightNodeSummary(box.drives.snapshot, box.jobs.snapshot, box.node.snapshot)
    update = bundle.update

    def last_update() -> tuple[str, str, str, str] | None:
        last = update.status().last_result
        return (last.from_version, last.to_version, last.outcome, last.reason) if last else None

    hw = box.hw
    notify = NotifyManager(box.layout.root / "web", box.bus, [
        conditions.problems(summary.summary),
        conditions.init_progress(box.jobs.snapshot),
        conditions.undervoltage(lambda: hw.snapshot().undervoltage),
        conditions.update_result(last_update),
    ])
    bundle.summary, bundle.notify = summary, await box.lifecycle.start(notify)


async def start_web(box: Box) -> WebApp:
    bundle = services(box)
    await start_status(box, bundle)
    app = create_app(bundle, settings=box.settings)
    # The page's helper switch: on at once when configured or when it was on before a restart.
    box.lifecycle.started(await install_helpers(app, box.jobs, box.layout.root / "peers", box.config.helpers))
    if box.hostnet is not None:
        portal.install(app, box.hostnet, UI_DIR)
    # The configured cap, never above what the descriptor budget leaves outside the PoST work.
    config = box.config
    cap = config.web_max_connections
    if box.web_connection_cap is not None:
        cap = min(cap, box.web_connection_cap)
    limits = ConnectionLimits(cap, min(config.web_max_per_client, cap))
    try:
        runner = await serve(app, config.listen_host, config.listen_port, limits)
    except OSError as exc:
        raise ListenError(f"cannot listen on {config.listen_host}:{config.listen_port}: "
                          f"{exc.strerror or exc}") from exc
    webapp = WebApp(bundle, app, runner)
    box.lifecycle.started(webapp)
    return webapp
