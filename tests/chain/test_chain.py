"""appliance.chain: the presets against go-spacemesh's published mainnet, ``network.json`` read once
with a clear error for each bad file, and a box on another chain making and proving its datasets
with that chain's parameters (labels per unit, scrypt N, k1/k2), not mainnet's."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from appliance.chain import DEVNET, MAINNET, ChainError, ChainSetup, load_chain, parse_chain
from appliance.chain.load import NETWORK_FILE
from appliance.composition.network import box_network, post_settings_for
from appliance.config import PostSettings, StateLayout
from appliance.devnet.devnet import Devnet, DevnetConfig
from appliance.drives.volume import Volume
from appliance.events import EventBus
from appliance.jobs.manager import JobManager
from appliance.jobs.model import JobState
from appliance.jobs.provider import JobsPostProvider
from appliance.node.address import encode_address, parse_address
from appliance.node.identity import generate
from appliance.node.signing import genesis_id
from appliance.post.dataset import PostDataset
from appliance.post.metadata import read_metadata
from appliance.post.proof import ProofConfig
from appliance.post.writer import datadir_scrypt_n
from appliance.system.files import atomic_write_json

#: mainnet's genesis ID as every mainnet node and explorer shows it (the first 20 bytes of the golden ATX)
MAINNET_GENESIS_ID = "9eebff023abb17ccb775c602daade8ed708f0a50"


def test_mainnet_preset_derives_the_published_genesis_and_its_parts_agree() -> None:
    assert MAINNET.golden_atx[:20].hex() == MAINNET_GENESIS_ID
    assert genesis_id(int(MAINNET.genesis_time), MAINNET.genesis_extra_data) == MAINNET.golden_atx[:20]
    assert ProofConfig() == ProofConfig.from_chain(MAINNET)  # the prover's default is the preset
    assert MAINNET.epoch_duration == 14 * 24 * 3600.0 and MAINNET.k1 < MAINNET.k2


def test_no_file_is_mainnet_without_services(tmp_path: Path) -> None:
    setup = load_chain(tmp_path)
    assert setup.chain is MAINNET and not setup.has_services
    assert box_network(StateLayout(tmp_path), setup).node_config(bytes(24)) is None


def test_overrides_round_trip_and_a_new_genesis_gets_its_own_golden_atx(tmp_path: Path) -> None:
    raw = {"preset": "mainnet", "hrp": "smtest", "labels_per_unit": 1024, "scrypt_n": 32, "k1": 5, "k2": 9,
           "genesis_time": 1_700_000_000, "gateway_url": "http://127.0.0.1:9",
           "poets": [{"url": "http://127.0.0.1:8", "pubkey": None}], "request_timeout": 3}
    (tmp_path / NETWORK_FILE).write_text(json.dumps(raw))
    setup = load_chain(tmp_path)
    chain = setup.chain
    got = (chain.hrp, chain.labels_per_unit, chain.scrypt_n, chain.k1, chain.k2)
    assert got == ("smtest", 1024, 32, 5, 9)
    assert chain.layers_per_epoch == MAINNET.layers_per_epoch and chain.golden_atx != MAINNET.golden_atx
    assert chain.golden_atx[:20] == genesis_id(1_700_000_000, MAINNET.genesis_extra_data)
    assert parse_chain(setup.to_json()) == setup
    node = box_network(StateLayout(tmp_path), setup).node_config(bytes(24))
    assert node is not None and node.chain is chain and node.request_timeout == 3.0


def test_the_older_file_form_is_still_read() -> None:
    clock = {"genesis": 100, "layer_duration": 1, "layers_per_epoch": 10, "phase_shift": 6, "cycle_gap": 4,
             "grace_period": 1, "network_delay": 0.5}
    setup = parse_chain({"clock": clock, "genesis_extra_data": "x", "golden_atx": "01" * 32,
                         "poets": [{"url": "http://p"}], "gateway_url": "http://g", "labels_per_unit": 256,
                         "hrp": "stest", "retry_interval": 0.25})
    chain = setup.chain
    assert (chain.genesis_time, chain.layers_per_epoch, chain.golden_atx) == (100, 10, b"\1" * 32)
    assert setup.has_services and setup.node == {"retry_interval": 0.25}


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ("[1]", "expected a JSON object"),
    ('{"preset": "testnet"}', "preset: one of"),
    ('{"labels_per_units": 5}', r"unknown field\(s\) \['labels_per_units'\]"),
    ('{"scrypt_n": 1000}', "scrypt_n must be a power of two"),
    ('{"scrypt_n": "8192"}', "scrypt_n: a whole number"),
    ('{"k1": 40}', "need 0 < k1 < k2"),
    ('{"hrp": "SM"}', "hrp: 1-83 lower-case"),
    ('{"golden_atx": "zz"}', "golden_atx: 64 hex"),
    ('{"cycle_gap": 0}', "cycle_gap must be within an epoch"),
    ('{"coinbase": "00"}', "reward address is the person's"),
    ('{"poets": [{"url": "ftp://x"}]}', "http\\(s\\) url"),
    ('{"poets": [{"url": "http://x", "pubkey": "AAA="}]}', "must be 32 bytes"),
    ('{"gateway_url": 5}', "gateway_url: an http"),
    ('{"request_timeout": -1}', "request_timeout: a positive number"),
    ('{"clock": {"genesis": 1, "tick": 2}}', "clock: an object"),
])
def test_a_bad_file_is_refused_naming_the_file_and_the_field(tmp_path: Path, content: str,
                                                              message: str) -> None:
    path = tmp_path / NETWORK_FILE
    path.write_text(content)
    with pytest.raises(ChainError, match=message) as caught:
        load_chain(tmp_path)
    assert str(path) in str(caught.value)
    assert path.read_text() == content  # left as it was, for a person to look at


async def _until(jobs: JobManager, drive_id: str, state: JobState) -> None:
    for _ in range(3000):
        if any(j.drive_id == drive_id and j.state is state for j in jobs.snapshot()):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {drive_id} to be {state}")


async def test_a_box_on_another_chain_inits_and_proves_with_that_chains_parameters(tmp_path: Path) -> None:
    """The devnet writes network.json from its ChainParams; the box reads it once and its new
    dataset, its prover and its node all follow it. Before, datasets took config.json's mainnet
    labels per unit and scrypt N and every proof mainnet's k1/k2: the chain refused them."""
    devnet = Devnet(DevnetConfig.of(labels_per_unit=512, scrypt_n=4, k1=5, k2=9))
    assert (devnet.chain.labels_per_unit, devnet.chain.scrypt_n, devnet.chain.k2) != (
        MAINNET.labels_per_unit, MAINNET.scrypt_n, MAINNET.k2)
    await devnet.start()
    state = tmp_path / "state"
    state.mkdir()
    atomic_write_json(state / NETWORK_FILE, devnet.setup().to_json())
    setup = load_chain(state)
    assert setup.chain == devnet.chain and setup.gateway_url == devnet.gateway_url
    network = box_network(StateLayout(state), setup)
    bus = EventBus()
    bus.bind(asyncio.get_running_loop())
    post = post_settings_for(PostSettings(max_file_size=4096, free_margin=0, max_units=2), network)
    jobs = JobManager(bus, post, network.chain, health_root=tmp_path / "none", measure_seconds=0.05)  # type: ignore[arg-type]
    await jobs.start()
    try:
        top = tmp_path / "usb"
        (top / "smeshbox").mkdir(parents=True)
        ident = generate("usb")
        volume = Volume("usb", top, PostDataset(top / "smeshbox"), "usb", ident.node_id, False, False)
        await jobs.volume_ready(volume)
        await _until(jobs, "usb", JobState.READY)
        meta = read_metadata(volume.datadir)
        assert (meta.labels_per_unit, meta.commitment_atx_id) == (512, devnet.golden_atx)
        assert datadir_scrypt_n(volume.datadir, 0) == 4

        challenge = os.urandom(32)
        proof = await JobsPostProvider(jobs, network.proof_config, nonces=16, threads=1,
                                       fast_mode=False).prove(ident.node_id, challenge)
        # the chain's own check (its gateway, with the k1/k2 it was started with) accepts it
        devnet.gateway.check_post(proof, challenge, ident.node_id, devnet.golden_atx, meta.num_units,
                                  "initial")
        mainnet_k = ProofConfig(MAINNET.k1, MAINNET.k2, devnet.chain.pow_difficulty)
        wrong = await JobsPostProvider(jobs, mainnet_k, nonces=16, threads=1,
                                       fast_mode=False).prove(ident.node_id, challenge)
        with pytest.raises(Exception, match="invalid initial PoST proof"):
            devnet.gateway.check_post(wrong, challenge, ident.node_id, devnet.golden_atx, meta.num_units,
                                      "initial")

        node = network.node_config(bytes(24))
        assert node is not None and node.chain == devnet.chain and node.poets == setup.poets
        # one hrp: the chain's, for the node and for the addresses the page accepts
        address = encode_address(bytes(24), devnet.chain.hrp)
        assert node.hrp == network.hrp == devnet.chain.hrp == DEVNET.hrp
        assert parse_address(address, network.hrp) == bytes(24)
    finally:
        await jobs.stop()
        await devnet.stop()


def test_a_devnet_setup_is_a_valid_network_file() -> None:
    devnet = Devnet(DevnetConfig.of(hrp="sm"))
    setup = devnet.setup()
    assert isinstance(setup, ChainSetup) and parse_chain(json.loads(json.dumps(setup.to_json()))) == setup
    assert setup.chain.hrp == "sm" and setup.chain.name == "devnet"


def test_node_modes_presets_come_from_the_chain() -> None:
    from appliance.node.nodemode import MAINNET as NODE_MAINNET
    from appliance.node.nodemode import NetworkPreset

    assert NODE_MAINNET.proof_config() == ProofConfig.from_chain(MAINNET)
    assert NODE_MAINNET.scrypt_n == MAINNET.scrypt_n
    assert NODE_MAINNET.labels_per_unit == MAINNET.labels_per_unit
    dev = NetworkPreset.from_chain(DEVNET, name="devnet", genesis=5.0, epoch_seconds=60.0)
    assert (dev.genesis, dev.epoch_seconds, dev.k2) == (5.0, 60.0, DEVNET.k2)
