"""The in-process devnet: PoET servers and a validating gateway on 127.0.0.1 with seconds-long epochs.

``Devnet`` is what the daemon's ``--dev`` mode and the tests start; ``node_config()`` gives the light
node everything it needs to smesh on it, and ``proof_config()`` the matching PoST parameters. Faults
are switched through ``poets[i].faults`` / ``gateway.faults`` or the admin API on the gateway
(``POST /admin/faults``, ``POST /admin/clock``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from appliance.devnet import faults as faults_mod
from appliance.devnet.certifier import DevnetCertifier
from appliance.devnet.gateway_server import DevnetGateway, GatewaySettings, PostVerifier
from appliance.devnet.gowire import b3 as blake
from appliance.devnet.poet_server import DevnetPoet, PoetSettings
from appliance.node.clock import ClockConfig, LayerClock, ManualTime
from appliance.node.config import NodeConfig, PoetServer

if TYPE_CHECKING:
    from appliance.post.proof import ProofConfig

EASY_POST_POW = b"\xff" * 32


@dataclass
class DevnetConfig:
    layer_duration: float = 1.0
    layers_per_epoch: int = 10
    phase_shift: float = 6.0
    cycle_gap: float = 4.0
    grace_period: float = 1.0
    network_delay: float = 0.5
    genesis: float | None = None  # default: the next whole second
    genesis_extra_data: str = "smeshbox-devnet"
    poets: int = 2
    poet_pow_difficulty: int = 4
    leaves_per_second: int = 1000
    tick_size: int = 1000
    labels_per_unit: int = 256
    scrypt_n: int = 2
    k1: int = 8
    k2: int = 12
    post_pow_difficulty: bytes = EASY_POST_POW
    min_num_units: int = 1
    layer_avg_size: int = 1
    min_active_set_weight: int = 50
    hrp: str = "stest"
    # the devnet speaks today's mainnet: ATX v2 from the first publish epoch (None keeps v1)
    atx_v2_from_epoch: int | None = 1
    # PoETs that name the devnet certifier in /v1/info (the others only take the PoW), as mainnet
    # PoETs have moved to certificates while some still take the PoW
    certified_poets: int = 1


class Devnet:
    def __init__(
        self,
        config: DevnetConfig | None = None,
        time_source: ManualTime | None = None,
        post_verifier: PostVerifier | None = None,
    ) -> None:
        self.config = cfg = config or DevnetConfig()
        self.time = time_source or ManualTime()
        genesis = cfg.genesis if cfg.genesis is not None else math.ceil(time.time())
        self.clock_config = ClockConfig(
            genesis,
            cfg.layer_duration,
            cfg.layers_per_epoch,
            cfg.phase_shift,
            cfg.cycle_gap,
            cfg.grace_period,
            cfg.network_delay,
        )
        self.clock = LayerClock(self.clock_config)
        self.golden_atx = blake(str(int(genesis)).encode() + cfg.genesis_extra_data.encode())
        self.genesis_id = self.golden_atx[:20]
        self.poets = [
            DevnetPoet(
                self.clock,
                self.time,
                PoetSettings(cfg.poet_pow_difficulty, leaves_per_second=cfg.leaves_per_second),
            )
            for _ in range(cfg.poets)
        ]
        settings = GatewaySettings(
            self.genesis_id,
            self.golden_atx,
            tuple(p.pubkey for p in self.poets),
            cfg.labels_per_unit,
            cfg.scrypt_n,
            cfg.k1,
            cfg.k2,
            cfg.post_pow_difficulty,
            cfg.min_num_units,
            cfg.tick_size,
            cfg.layer_avg_size,
            cfg.min_active_set_weight,
            cfg.atx_v2_from_epoch,
        )
        self.gateway = DevnetGateway(self.clock, self.time, settings, post_verifier)
        self.certifier = DevnetCertifier(
            self.time,
            lambda post, node_id, commitment, units: self.gateway.check_post(
                post, bytes(32), node_id, commitment, units, "initial"
            ),
        )
        self.certifier_url = ""
        self.gateway.admin_hooks["faults"] = self._admin_faults
        self.gateway.admin_hooks["clock"] = self._admin_clock
        self._runners: list[web.AppRunner] = []
        self.poet_urls: list[str] = []
        self.gateway_url = ""

    async def _serve(self, app: web.Application, host: str, port: int) -> str:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runners.append(runner)
        bound = runner.addresses[0]
        return f"http://{bound[0]}:{bound[1]}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serves the gateway on ``port`` (0 = ephemeral) and each PoET on the next ports (or ephemeral)."""
        self.gateway_url = await self._serve(self.gateway.app(), host, port)
        self.certifier_url = await self._serve(self.certifier.app(), host, 0)
        for poet in self.poets[: self.config.certified_poets]:
            poet.settings.certifier_pubkey = self.certifier.pubkey
            poet.settings.certifier_url = self.certifier_url
        for i, poet in enumerate(self.poets):
            self.poet_urls.append(await self._serve(poet.app(), host, port + 1 + i if port else 0))

    async def stop(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()

    def node_config(self, coinbase: bytes | None = None, **overrides: Any) -> NodeConfig:
        cfg = self.config
        values: dict[str, Any] = {
            "clock": self.clock_config,
            "genesis_extra_data": cfg.genesis_extra_data,
            "golden_atx": self.golden_atx,
            "poets": tuple(PoetServer(u, p.pubkey) for u, p in zip(self.poet_urls, self.poets, strict=True)),
            "gateway_url": self.gateway_url,
            "coinbase": coinbase or bytes(4) + blake(b"devnet-coinbase")[:20],
            "labels_per_unit": cfg.labels_per_unit,
            "hrp": cfg.hrp,
            "tick_size": cfg.tick_size,
            "layer_avg_size": cfg.layer_avg_size,
            "min_active_set_weight": cfg.min_active_set_weight,
            "request_timeout": 2.0,
            "retry_interval": min(0.25, cfg.layer_duration / 4),
            # mainnet's 2 h regossip against its 14 d epoch, scaled to the devnet's epoch
            "regossip_interval": cfg.layer_duration * cfg.layers_per_epoch / 168,
            "atx_v2_from_epoch": cfg.atx_v2_from_epoch,
        }
        values.update(overrides)
        return NodeConfig(**values)

    def proof_config(self) -> ProofConfig:
        from appliance.post.proof import ProofConfig

        return ProofConfig(self.config.k1, self.config.k2, self.config.post_pow_difficulty)

    async def _admin_faults(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ValueError("expected an object")
        for key, changes in body.items():
            if key == "gateway":
                faults_mod.apply(self.gateway.faults, changes)
            elif key.startswith("poet") and key[4:].isdigit() and int(key[4:]) < len(self.poets):
                faults_mod.apply(self.poets[int(key[4:])].faults, changes)
            else:
                raise ValueError(f"unknown fault target {key!r} (gateway, poet0..poet{len(self.poets) - 1})")
        return self.faults_report()

    async def _admin_clock(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ValueError("expected an object")
        jump = body.get("jump", 0)
        synced = body.get("synced")
        if isinstance(jump, bool) or not isinstance(jump, int | float) or abs(jump) > 1e6:
            raise ValueError("jump must be a number of seconds")
        if synced is not None and not isinstance(synced, bool):
            raise ValueError("synced must be true or false")
        self.time.jump(float(jump))
        if synced is not None:
            self.time.set_synced(synced)
        return {"offset": self.time.offset, "synced": self.time.synced()}

    def faults_report(self) -> dict[str, Any]:
        import dataclasses

        report = {f"poet{i}": dataclasses.asdict(p.faults) for i, p in enumerate(self.poets)}
        report["gateway"] = dataclasses.asdict(self.gateway.faults)
        return report
