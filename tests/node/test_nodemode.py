"""Node mode's settings, supervisor and hand-off: mainnet's preset is go-spacemesh's, bad values
change nothing, the TLS files are stored 0600, one post-service per dataset registers with the node
(and moves when the address changes), the light node pauses, keys of other identities are refused."""

from __future__ import annotations

import asyncio
import json
import stat

import pytest

from appliance.devnet.fakenode import FakeNode, NodePostConfig
from appliance.errors import ServiceError
from appliance.events import EventBus
from appliance.node.identity import IdentityStore
from appliance.node.nodemode import MAINNET, NetworkPreset, NodeModeError, NodeModeStore
from appliance.node.nodemode_service import NodeModeService
from appliance.node.post_provider import DirectPostProvider
from appliance.node.remote import NodeModeSupervisor
from appliance.post.params import MAINNET_POW_DIFFICULTY

SCRYPT_N = 2
DEVNET = NetworkPreset("devnet", 8, 12, "ff" * 32, SCRYPT_N, 256, 1)
PEM_CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
PEM_KEY = b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"


def test_mainnet_preset_is_go_spacemesh_mainnet():
    # go-spacemesh config/mainnet.go @ cc65f271: POST{MinNumUnits 4, LabelsPerUnit 2^32, K1 26, K2 37,
    # PowDifficulty 000dfb23b0979b4b...}; scrypt N 8192 (post-rs service's -n default too)
    assert (MAINNET.k1, MAINNET.k2, MAINNET.min_num_units, MAINNET.labels_per_unit, MAINNET.scrypt_n) == (
        26, 37, 4, 1 << 32, 8192)
    assert bytes.fromhex(MAINNET.pow_difficulty) == MAINNET_POW_DIFFICULTY


async def test_bad_values_change_nothing_and_survive_restart(tmp_path):
    store = NodeModeStore(tmp_path, {"devnet": DEVNET})
    await store.update({"mode": "node", "node_address": "http://10.0.0.5:9094", "preset": "devnet"})
    for change, why in [
        ({"mode": "both"}, "mode: one of"),
        ({"node_address": "ftp://x:1"}, "unknown client protocol"),
        ({"node_address": "http://x"}, "not an address"),
        ({"public_api": "node:port"}, "Public API"),
        ({"preset": "testnet-11"}, "preset: one of"),
        ({"preset": "custom"}, "give the custom values first"),
        ({"custom": {"k1": 26, "k2": 37, "pow_difficulty": "zz", "scrypt_n": 8192, "labels_per_unit": 1,
                     "min_num_units": 1}}, "pow_difficulty"),
        ({"custom": {"k1": 26, "k2": 37, "pow_difficulty": "ff" * 32, "scrypt_n": 1000, "labels_per_unit": 1,
                     "min_num_units": 1}}, "power of two"),
        ({"commitment_atx_id": "12"}, "Commitment ATX"),
        ({"reward": 1}, "not a node-mode setting"),
    ]:
        with pytest.raises(NodeModeError, match=why):
            await store.update(change)
    again = NodeModeStore(tmp_path, {"devnet": DEVNET})
    assert again.current == store.current and again.preset() == DEVNET
    custom = {"k1": 20, "k2": 30, "pow_difficulty": "0f" * 32, "scrypt_n": 16, "labels_per_unit": 512,
              "min_num_units": 2}
    await store.update({"custom": custom, "preset": "custom"})
    assert NodeModeStore(tmp_path).preset().k1 == 20
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(NodeModeError, match="damaged"):
        NodeModeStore(tmp_path)


async def test_tls_files_are_checked_and_stored_0600(tmp_path):
    store = NodeModeStore(tmp_path)
    with pytest.raises(NodeModeError, match="all three"):
        await store.set_tls({"ca_cert": PEM_CERT, "cert": PEM_CERT})
    with pytest.raises(NodeModeError, match="TLS key: not a PEM private key"):
        await store.set_tls({"ca_cert": PEM_CERT, "cert": PEM_CERT, "key": PEM_CERT})
    assert store.tls() is None and not (tmp_path / "tls").exists()
    await store.set_tls({"ca_cert": PEM_CERT, "cert": PEM_CERT, "key": PEM_KEY})
    paths = store.tls()
    assert paths is not None and paths.key.read_bytes() == PEM_KEY
    for path in (paths.ca_cert, paths.cert, paths.key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    await store.set_tls(None)
    assert store.tls() is None


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """Two datasets, two identities (one per drive)."""
    from appliance.post.initializer import Initializer
    from appliance.post.metadata import PostMetadata

    base = tmp_path_factory.mktemp("nodemode")
    store = IdentityStore(base / "identities")
    found = []
    for name in ("drive-a", "drive-b"):
        identity = store.generate(name)
        meta = PostMetadata(identity.node_id, b"\x0c" * 32, 256, num_units=1, max_file_size=4096)
        Initializer(base / name, meta, scrypt_n=SCRYPT_N).run()
        found.append((identity.node_id, name, f"uuid-{name}", base / name))
    return store, found


async def _until(predicate, timeout=60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_one_registration_per_dataset_and_address_change(tmp_path, datasets):
    identities, found = datasets
    bus = EventBus()
    store = NodeModeStore(tmp_path / "nm", {"devnet": DEVNET})
    plugged = list(found)

    def provider_for(preset):
        config = preset.proof_config()
        return DirectPostProvider({n: d for n, _, _, d in found}, config, nonces=16, scrypt_n=SCRYPT_N,
                                  fast_mode=False)

    supervisor = NodeModeSupervisor(bus, store, provider_for, lambda: [(n, a, d) for n, a, d, _ in plugged],
                                    reconnect_interval=0.05)
    service = NodeModeService(bus, store, supervisor, identities, supervisor.datasets)
    first = FakeNode(NodePostConfig(8, 12, b"\xff" * 32, 256, SCRYPT_N), query_interval=0.05)
    second = FakeNode(NodePostConfig(8, 12, b"\xff" * 32, 256, SCRYPT_N), query_interval=0.05)
    a1, a2 = await first.start(), await second.start()
    await supervisor.start()
    try:
        await _until(lambda: "built-in light node" in supervisor.snapshot().reason)
        assert supervisor.snapshot().identities == []  # light mode: nothing dials the node
        await service.update({"mode": "node", "preset": "devnet", "node_address": f"http://{a1}"})
        for node_id, *_ in found:
            await first.wait_registered(node_id, 30)
        assert all(first.identities[n].registrations == 1 for n, *_ in found)
        answer = await first.build_initial_post(found[0][0], timeout=120)
        assert answer.metadata.meta.node_id == found[0][0]
        view = service.view()
        assert {i["name"] for i in view["identities"]} == {"drive-a", "drive-b"}
        assert all(i["connected"] for i in view["identities"]) and "serving 2 identities" in view["reason"]

        plugged.pop()  # drive-b unplugged: its service stops, drive-a's stays
        supervisor.poke()
        await _until(lambda: not first.connected(found[1][0]))
        assert first.connected(found[0][0])

        await service.update({"node_address": f"http://{a2}"})  # the node moved
        await second.wait_registered(found[0][0], 30)
        await _until(lambda: not first.connected(found[0][0]))
        await service.update({"mode": "light"})
        await _until(lambda: not second.connected(found[0][0]))
        assert supervisor.snapshot().identities == []
    finally:
        await supervisor.stop()
        await first.stop()
        await second.stop()


async def test_key_handoff_and_commitment(tmp_path, datasets):
    identities, found = datasets
    bus = EventBus()
    store = NodeModeStore(tmp_path / "nm", {"devnet": DEVNET})
    listing = [(n, a, d) for n, a, d, _ in found]
    supervisor = NodeModeSupervisor(bus, store, lambda preset: None, lambda: listing)
    applied = []
    service = NodeModeService(bus, store, supervisor, identities, lambda: listing,
                              apply_commitment=applied.append, default_commitment="00" * 32)
    name, data = await service.key_file(found[0][0].hex())
    assert name == "drive-a.key" and data.decode().strip() == identities.load("drive-a").key_file_text()
    other = identities.load("drive-b").key_file_text()
    with pytest.raises(ServiceError, match="already the identity of drive-b") as twice:
        await service.adopt_key(found[0][0].hex(), other)  # one identity, two drives: never
    assert twice.value.kind == "conflict"
    from appliance.node.identity import generate

    stranger = generate("x")
    with pytest.raises(ServiceError, match="belongs to identity") as wrong:
        await service.adopt_key(found[0][0].hex(), stranger.key_file_text())
    assert wrong.value.kind == "invalid"
    adopted = []

    async def adopt(drive_id, identity):
        adopted.append((drive_id, identity.node_id))

    service.adopt_identity = adopt  # the jobs' part, as the composition gives it (tested end to end)
    answer = await service.adopt_key(found[0][0].hex(), stranger.key_file_text())
    assert answer == {"node_id": stranger.node_id.hex(), "name": "drive-a", "stored": True, "replaced": True}
    assert adopted == [("uuid-drive-a", stranger.node_id)]
    with pytest.raises(ServiceError, match=r"not hexadecimal|expected 128 hex"):
        await service.adopt_key(found[0][0].hex(), "zz" * 64)
    with pytest.raises(ServiceError, match="no drive on this box"):
        await service.key_file("ab" * 32)
    with pytest.raises(ServiceError, match="not an identity"):
        await service.key_file("../../etc/passwd")
    same = await service.adopt_key(found[0][0].hex(), identities.load("drive-a").key_file_text())
    assert same["stored"] is False and same["replaced"] is False

    with pytest.raises(ServiceError, match="public API address"):
        await service.commitment_from_node()
    node = FakeNode(NodePostConfig(8, 12, b"\xff" * 32, 256, SCRYPT_N), highest_atx=b"\x7e" * 32)
    address = await node.start()
    try:
        await service.update({"mode": "node", "public_api": address})
        view = await service.commitment_from_node()
        assert view["commitment_atx_id"] == "7e" * 32 and applied[-1] == "7e" * 32
        await service.update({"mode": "light"})  # the light node's datasets commit to the box's default
        assert applied[-1] == "00" * 32
        await node.stop()
        await service.update({"mode": "node"})
        with pytest.raises(ServiceError, match=r"did not answer ActivationService\.Highest") as down:
            await service.commitment_from_node()
        assert down.value.kind == "unavailable"
    finally:
        await node.stop()
    saved = json.loads((tmp_path / "nm" / "config.json").read_text())
    assert saved["commitment_atx_id"] == "7e" * 32


async def test_earnings_from_the_nodes_public_api(tmp_path, datasets):
    identities, found = datasets
    bus = EventBus()
    store = NodeModeStore(tmp_path / "nm", {"devnet": DEVNET})
    listing = [(n, a, d) for n, a, d, _ in found]
    supervisor = NodeModeSupervisor(bus, store, lambda preset: None, lambda: listing)
    service = NodeModeService(bus, store, supervisor, identities, lambda: listing)
    nothing = await service.earnings()
    assert nothing == {"available": False, "where": nothing["where"], "node": None}
    assert "grpc-public-listener" in nothing["where"]
    node = FakeNode(NodePostConfig(8, 12, b"\xff" * 32, 256, SCRYPT_N))
    address = await node.start()
    try:
        node.publish(found[0][0], 1)
        node.publish(found[0][0], 1)
        await service.update({"public_api": address})
        got = await service.earnings()
        assert got["available"] and got["node"]["sync"] == "synced"
        by_id = {i["node_id"]: i for i in got["node"]["identities"]}
        mine = by_id[found[0][0].hex()]
        assert [a["publish_epoch"] for a in mine["atxs"]] == [3, 2]  # newest first
        assert mine["total_smidge"] == 2 * FakeNode.REWARD_PER_UNIT
        assert [r["layer"] for r in mine["rewards"]] == [40, 30]
        assert by_id[found[1][0].hex()]["atxs"] == []
    finally:
        await node.stop()
    await service.update({"public_api": f"localhost:{node.port}"})  # another address: asked afresh
    down = await service.earnings()
    assert not down["available"] and "did not answer" in down["where"]


def test_next_proof_is_when_the_poet_round_ends():
    # go-spacemesh activation/nipost.go: round end = first layer of the publish epoch + PhaseShift - CycleGap
    epoch = 4032 * 300
    first_end = 1689321600 + epoch + 228 * 3600  # epoch 1 starts two weeks after genesis
    assert MAINNET.next_proof_at(1689321600 + 10) == first_end
    assert MAINNET.next_proof_at(first_end - 1) == first_end
    assert MAINNET.next_proof_at(first_end + 1) == first_end + epoch
    assert DEVNET.next_proof_at(1e9) is None  # no timing known: the page says nothing
