"""The in-process devnet: PoET servers and a validating gateway on 127.0.0.1 with seconds-long epochs.

``Devnet`` is what the daemon's ``--dev`` mode and the tests start; ``node_config()`` gives the light
node everything it needs to smesh on it, and ``proof_config()`` the matching PoST parameters. Faults
are switched through ``poets[i].faults`` / ``gateway.faults`` or the admin API on the gateway
(``POST /admin/faults``, ``POST /admin/clock``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from appliance.chain import DEVNET, ChainParams, ChainSetup
from appliance.devnet import faults as faults_mod
from appliance.devnet.certifier import DevnetCertifier
from appliance.devnet.gateway_server import DevnetGateway, GatewaySettings, PostVerifier
from appliance.devnet.gowire import b3 as blake
from appliance.devnet.poet_server import DevnetPoet, PoetSettings
from appliance.node.clock import ClockConfig, LayerClock, ManualTime
from appliance.node.config import NodeConfig, PoetServer
from appliance.post.proof import ProofConfig


@dataclass
class DevnetConfig:
    """The devnet's chain (its genesis is set when a devnet is made) and its servers' settings."""

    chain: ChainParams = DEVNET
    genesis: float | None = None  # default: the next whole second
    poets: int = 2
    poet_pow_difficulty: int = 4
    leaves_per_second: int = 1000
    # PoETs that name the devnet certifier in /v1/info (the others only take the PoW), as mainnet
    # PoETs have moved to certificates while some still take the PoW
    certified_poets: int = 1

    @classmethod
    def of(cls, **values: Any) -> DevnetConfig:
        """The devnet preset with the :class:`ChainParams` fields among ``values`` changed; the
        other values are the servers' settings."""
        names = {f.name for f in dataclasses.fields(ChainParams)}
        changes = {k: values.pop(k) for k in list(values) if k in names}
        return cls(chain=dataclasses.replace(DEVNET, **changes), **values)


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
        self.chain = chain = cfg.chain.at_genesis(genesis)
        self.clock_config = ClockConfig(
            chain.genesis_time,
            chain.layer_duration,
            chain.layers_per_epoch,
            chain.phase_shift,
            chain.cycle_gap,
            chain.grace_period,
            chain.network_delay,
        )
        self.clock = LayerClock(self.clock_config)
        self.golden_atx = chain.golden_atx
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
            chain.labels_per_unit,
            chain.scrypt_n,
            chain.k1,
            chain.k2,
            chain.pow_difficulty,
            chain.min_num_units,
            chain.tick_size,
            chain.layer_avg_size,
            chain.min_active_set_weight,
            chain.atx_v2_from_epoch,
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

    def setup(self) -> ChainSetup:
        """The devnet as ``network.json`` says it (``ChainSetup.to_json``): its chain and, once
        started, its servers."""
        poets = tuple(PoetServer(u, p.pubkey) for u, p in zip(self.poet_urls, self.poets, strict=False))
        return ChainSetup(self.chain, poets, self.gateway_url, self._node_knobs())

    def _node_knobs(self) -> dict[str, float | int]:
        cfg = self.chain
        return {
            "request_timeout": 2.0,
            "retry_interval": min(0.25, cfg.layer_duration / 4),
            # mainnet's 2 h regossip against its 14 d epoch, scaled to the devnet's epoch
            "regossip_interval": cfg.layer_duration * cfg.layers_per_epoch / 168,
        }

    def node_config(self, coinbase: bytes | None = None, **overrides: Any) -> NodeConfig:
        setup = self.setup()
        values: dict[str, Any] = {
            "chain": self.chain,
            "poets": setup.poets,
            "gateway_url": self.gateway_url,
            "coinbase": coinbase or bytes(4) + blake(b"devnet-coinbase")[:20],
            **setup.node,
        }
        values.update(overrides)
        return NodeConfig(**values)

    def proof_config(self) -> ProofConfig:
        return ProofConfig.from_chain(self.chain)

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
