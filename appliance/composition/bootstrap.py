"""Making and starting the box, after Home Assistant supervisor's ``bootstrap.py`` and
``core.py`` (home-assistant/supervisor @ 090ef31e: ``initialize_coresys`` and the ordered
``setup_loads`` of ``Core.setup``): :func:`initialize` makes the core every other manager hangs
off; :func:`start` is THE start list — one line per manager, each after everything it needs;
:func:`stop` undoes it newest first (``Box.lifecycle``), then the supervised tasks.

Light-node and node mode are both composed here: node mode's supervisor is started before the
light node's so the light node can ask it whether it is paused; whichever mode the person chose
runs, the other idles.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from appliance.composition import node, senses, webapp
from appliance.composition.box import Box, RunOptions
from appliance.composition.network import Network
from appliance.config import DaemonConfig, StateLayout
from appliance.drives.dev import DevDrives
from appliance.drives.manager import DriveManager
from appliance.events import EventBus
from appliance.health.box import add_hostnet_check, add_node_checks, daemon_health
from appliance.jobs.manager import JobManager
from appliance.node.identity import IdentityStore
from appliance.ota.config import OtaConfig
from appliance.ota.manager import OtaManager

log = logging.getLogger(__name__)


def initialize(layout: StateLayout, config: DaemonConfig, network: Network, options: RunOptions, *,
               on_restart: Callable[[], None], web_connection_cap: int | None = None) -> Box:
    """The core, made on the running loop before anything starts: the event bus, the jobs and the
    drives that feed them, the box's health and the supervisor of long-running tasks."""
    bus = EventBus()
    bus.bind(asyncio.get_running_loop())
    jobs = JobManager(bus, config.post, network.chain)
    drives = DriveManager(layout, bus, jobs, allowed_loop_dirs=config.loop_backing_dirs)
    jobs.on_io_error = drives.report_io_error
    health, tasks = daemon_health(drives, jobs)
    return Box(layout=layout, config=config, network=network, options=options, bus=bus, tasks=tasks,
               health=health, jobs=jobs, drives=drives,
               dev_drives=DevDrives(layout, jobs) if options.dev else None,
               web_connection_cap=web_connection_cap, on_restart=on_restart)


async def start(box: Box) -> None:
    """The start list. Raises :class:`~appliance.composition.webapp.ListenError` when the web app
    cannot listen; :func:`stop` then stops what did start."""
    run = box.lifecycle
    if box.dev_drives is not None:  # loop devices exist before the drive manager's first scan ...
        await box.dev_drives.attach()
        run.started(box.dev_drives)  # ... and are detached after it unmounted them
    await run.start(box.jobs)
    await run.start(box.drives)
    if box.dev_drives is not None:
        await box.dev_drives.start()  # without root: plain folders handed to the jobs as drives
    if box.network.devnet is not None:
        devnet = await run.start(box.network.devnet)
        log.info("devnet: gateway %s, PoETs %s", devnet.gateway_url, ", ".join(devnet.poet_urls))
    box.settings = node.settings_store(box)
    box.identities = IdentityStore(box.layout.identities)
    box.nodemode = await node.start_node_mode(box)
    box.node = await run.start(node.light_node(box))
    box.hw = await run.start(senses.hw_manager(box))
    if senses.manages_network(box):
        box.hostnet = await run.start(senses.host_network(box))
        add_hostnet_check(box.health, box.hostnet)
        button = senses.setup_button(box, box.hostnet)
        box.button = await run.start(button) if button is not None else None
    box.discovery = await senses.start_discovery(box)
    add_node_checks(box.health, box.node, box.hw, box.jobs)
    ota = OtaConfig.from_env()
    box.ota = await run.start(OtaManager(ota, box.bus)) if ota.release_file.exists() else None
    await run.start(senses.StatusScreen(box))
    box.web = await webapp.start_web(box) if box.options.web else None


async def stop(box: Box) -> None:
    await box.lifecycle.stop()
    await box.tasks.stop_all()
