"""Node mode end to end: ``python -m appliance run --dev`` with the devnet's go-spacemesh node. Over
the web API, as the phone does: choose "with my Spacemesh node" (no reward address needed), the
devnet preset, one unit per drive; then every dataset registers as its own identity, the node gets
an initial post from each and validates it with its own parameters; the light node stays off; each
key can be downloaded as a go-spacemesh key file and a foreign key is refused; the commitment ATX
comes from the node's ActivationService.Highest."""

from __future__ import annotations

import pytest

from appliance.node.identity import generate, parse_key_text
from tests.e2e.conftest import INIT_LIMIT, PASSWORD, DevDaemon, HttpError, small_plan, wait_for

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_node_mode_journey(dev_daemon: DevDaemon) -> None:
    daemon = dev_daemon
    daemon.csrf = daemon.api("POST", "/api/v1/onboarding/password", {"password": PASSWORD})["csrf"]
    view = daemon.api("GET", "/api/v1/nodemode")
    assert view["mode"] == "light" and not view["chosen"]
    devnet = next(p for p in view["presets"] if p["name"] == "devnet")
    mainnet = next(p for p in view["presets"] if p["name"] == "mainnet")
    assert (mainnet["k1"], mainnet["k2"], mainnet["labels_per_unit"], mainnet["min_num_units"]) == (
        26, 37, 1 << 32, 4)
    with pytest.raises(HttpError) as bad:
        daemon.api("PATCH", "/api/v1/nodemode", {"node_address": "ftp://node:1"})
    assert bad.value.status == 400 and "unknown client protocol" in bad.value.body["reason"]
    view = daemon.api("PATCH", "/api/v1/nodemode", {"mode": "node", "preset": "devnet"})
    assert view["mode"] == "node" and view["chosen"]
    assert daemon.api("POST", "/api/v1/onboarding/complete")["onboarded"] is True  # no reward address

    small_plan(daemon)
    listed = wait_for(lambda: (lambda ids: ids if len(ids) == 2 else [])(
        daemon.api("GET", "/api/v1/nodemode")["identities"]), 60, "both datasets listed", daemon)
    target = listed[0]  # its data is still being made: it may become an identity the node already has
    mine = generate("from-the-node")
    adopted = daemon.api("PUT", f"/api/v1/nodemode/identities/{target['node_id']}/key",
                         {"key": mine.key_file_text()})
    assert adopted == {"node_id": mine.node_id.hex(), "name": target["name"], "stored": True,
                       "replaced": True}

    def served() -> list[dict]:
        idents = daemon.api("GET", "/api/v1/nodemode")["identities"]
        return idents if len(idents) == 2 and all(i["proofs_delivered"] >= 1 for i in idents) else []

    idents = wait_for(served, INIT_LIMIT + 120, "both identities' initial posts delivered to the node",
                      daemon)
    assert all(i["connected"] and i["last_proof_challenge"] == "00" * 32 for i in idents), idents
    assert len({i["node_id"] for i in idents}) == 2  # one identity, one registration per drive
    assert mine.node_id.hex() in {i["node_id"] for i in idents}  # the adopted identity proved
    assert target["node_id"] not in {i["node_id"] for i in idents}
    assert "fake node: initial post of" in daemon.text()  # the node validated them with the real verifier
    node = daemon.api("GET", "/api/v1/node")
    assert "node mode" in node["status"] and node["identities"] == [], node  # the light node is off

    first, second = idents
    key = daemon.raw("GET", f"/api/v1/nodemode/identities/{first['node_id']}/key")
    assert parse_key_text(key, "x").node_id.hex() == first["node_id"] and first["key_file"].endswith(".key")
    other = daemon.raw("GET", f"/api/v1/nodemode/identities/{second['node_id']}/key").decode()
    with pytest.raises(HttpError) as twice:  # one identity on two drives: refused, nothing written
        daemon.api("PUT", f"/api/v1/nodemode/identities/{first['node_id']}/key", {"key": other})
    assert twice.value.status == 409 and "already the identity of" in twice.value.body["reason"]
    late = generate("too-late").key_file_text()
    with pytest.raises(HttpError) as complete:  # complete data never changes identity
        daemon.api("PUT", f"/api/v1/nodemode/identities/{first['node_id']}/key", {"key": late})
    assert complete.value.status == 409 and "format the drive" in complete.value.body["reason"]
    same = daemon.api("PUT", f"/api/v1/nodemode/identities/{first['node_id']}/key", {"key": key.decode()})
    assert same == {"node_id": first["node_id"], "name": first["name"], "stored": False, "replaced": False}

    with pytest.raises(HttpError) as no_api:
        daemon.api("POST", "/api/v1/nodemode/commitment")
    assert no_api.value.status == 409
    typed = daemon.api("PATCH", "/api/v1/nodemode", {"public_api": devnet["default_public_api"],
                                                     "commitment_atx_id": "ab" * 32})
    assert typed["commitment_atx_id"] == "ab" * 32
    view = daemon.api("POST", "/api/v1/nodemode/commitment")  # the node's highest ATX: the golden one
    assert len(view["commitment_atx_id"]) == 64 and view["commitment_atx_id"] not in ("ab" * 32, "00" * 32)
    earned = daemon.api("GET", "/api/v1/nodemode/earnings")  # v2alpha1 on the node's public API
    assert earned["available"] and earned["node"]["sync"] == "synced", earned
    assert {i["node_id"] for i in earned["node"]["identities"]} == {i["node_id"] for i in idents}
