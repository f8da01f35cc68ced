"""Crash harness: SIGKILL the node process at every state transition (before, inside and after the
write), restart it, and check what the network saw: ≤ 1 ATX per publish epoch, no lost PoET
registration, and an ATX chain that continues."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import pytest

from appliance.node.identity import IdentityStore

from .conftest import make_dataset, wait_for

pytestmark = pytest.mark.slow
KILLS = 30
MODES = ("before", "torn", "after")


async def _spawn(args, env):
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "appliance.node.run",
        *args,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_kill_at_every_transition(harness, tmp_path):
    devnet = harness.devnet
    store = IdentityStore(tmp_path / "identities")
    ident = store.generate("crash")
    datadir = make_dataset(tmp_path, ident, devnet)
    config = tmp_path / "node.json"
    config.write_text(json.dumps(devnet.node_config().to_json()))
    cfg = devnet.chain
    args = [
        "--config",
        str(config),
        "--state",
        str(tmp_path / "state"),
        "--identities",
        str(store.directory),
        "--post",
        f"crash={datadir}",
        "--scrypt-n",
        str(cfg.scrypt_n),
        "--k1",
        str(cfg.k1),
        "--k2",
        str(cfg.k2),
        "--pow-difficulty",
        cfg.pow_difficulty.hex(),
        "--nonces",
        "16",
        "--assume-synced",
    ]
    state_file = tmp_path / "state" / f"{ident.node_id.hex()}.json"
    base_env = {**os.environ, "SMESHBOX_RANDOMX": "light"}
    killed = 0
    for k in range(1, KILLS + 1):
        env = {**base_env, "SMESHBOX_NODE_CRASH_AT": str(k), "SMESHBOX_NODE_CRASH_MODE": MODES[k % 3]}
        proc = await _spawn(args, env)
        try:
            code = await asyncio.wait_for(proc.wait(), 60)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"node never reached transition {k}") from None
        assert code == -signal.SIGKILL, f"node exited with {code} instead of being killed at transition {k}"
        killed += 1
    assert killed == KILLS
    doc = json.loads(state_file.read_text())
    assert doc["transitions"] >= KILLS - 1
    crashed_through = max((int(e) for e in doc["epochs"]), default=0)

    proc = await _spawn(args, base_env)  # now let it run in peace
    try:

        def chain_grew() -> bool:  # and is a chain (two ATXs) even when no epoch survived the kills
            atxs = harness.atxs(ident.node_id)
            return len(atxs) >= 2 and any(e > crashed_through for e in atxs)

        await wait_for(chain_grew, 120, "two ATXs, one after the crash phase")
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)

    state = devnet.gateway.state
    assert not state.malfeasance, state.malfeasance
    ids = state.by_smesher[ident.node_id]
    epochs = [state.atxs[i].atx.publish_epoch for i in ids]
    assert len(epochs) == len(set(epochs)) and len(ids) >= 2  # ≤ 1 ATX per publish epoch, chain grew
    for seq, atx_id in enumerate(ids):
        rec = state.atxs[atx_id]
        assert rec.sequence == seq and (seq == 0 or rec.prev_atx == ids[seq - 1])
    # no lost registration: every challenge a PoET accepted from us is one the node knows about
    doc = json.loads(state_file.read_text())
    known = {e["challenge_hash"] for e in doc["epochs"].values() if "challenge_hash" in e}
    for poet in devnet.poets:
        for rnd in poet.rounds.values():
            if ident.node_id in rnd.members:
                assert rnd.members[ident.node_id].hex() in known
    # and every registration the node recorded as accepted is at that PoET
    for e in doc["epochs"].values():
        for url, reg in e.get("registrations", {}).items():
            if reg.get("round_id") and not reg.get("inferred"):
                poet = devnet.poets[devnet.poet_urls.index(url)]
                assert poet.rounds[int(reg["round_id"])].members[ident.node_id].hex() == e["challenge_hash"]
