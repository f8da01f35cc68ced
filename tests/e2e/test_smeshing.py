"""The box smeshes: ``run --dev`` onboarded over the web API earns three consecutive "good" ATXs for
an identity and proposes in every layer it is eligible for — as judged by the devnet gateway's own
validation (its report and epoch data, over HTTP), not by the node's opinion of itself. The web
API's node card must then tell the same story."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from appliance.devnet.devnet import DevnetConfig
from appliance.node import eligibility
from appliance.node.identity import IdentityStore
from appliance.post.metadata import read_metadata
from tests.e2e.conftest import INIT_LIMIT, REPO, TEST_LIMIT, DevDaemon, small_plan, wait_for

NETWORK = DevnetConfig().chain  # the --dev devnet keeps these defaults (only its timings are scaled)


def good_epochs(report: dict[str, Any]) -> dict[str, set[int]]:
    """smesher id → publish epochs of its ATXs the gateway graded good."""
    found: dict[str, set[int]] = {}
    for atx in report["atxs"]:
        if atx["grade"] == "good":
            found.setdefault(atx["smesher_id"], set()).add(atx["publish_epoch"])
    return found


def three_in_a_row(daemon: DevDaemon) -> tuple[str, int] | None:
    """(smesher, first epoch) once some identity has good ATXs for epochs e, e+1, e+2 and the
    epochs they make it eligible in (e+1, e+2) are over."""
    clock = daemon.gateway_get("/v1/clock")
    epoch = clock["current_layer"] // clock["layers_per_epoch"]
    for smesher, epochs in good_epochs(daemon.gateway_get("/admin/report")).items():
        for first in sorted(epochs):
            if {first + 1, first + 2} <= epochs and epoch >= first + 3:
                return smesher, first
    return None


def datasets(state: Path) -> dict[str, int]:
    """node id → VRF nonce, from the PoST metadata on the mounted dev drives."""
    found = {}
    for meta_file in state.glob("drives/*/smeshbox/postdata_metadata.json"):
        meta = read_metadata(meta_file.parent)
        assert meta.nonce is not None, meta_file
        found[meta.node_id.hex()] = meta.nonce
    return found


def expected_layers(daemon: DevDaemon, report: dict[str, Any], smesher: str, target: int) -> set[int]:
    """The layers of ``target`` epoch the identity is eligible in, computed here from the gateway's
    beacon and weights and the identity's own key (a VRF needs the secret key)."""
    info = daemon.gateway_get(f"/epoch/{target}")
    mine = [a for a in report["atxs"] if a["smesher_id"] == smesher and a["publish_epoch"] == target - 1]
    assert len(mine) == 1, mine
    slots = eligibility.num_slots(mine[0]["weight"], NETWORK.min_active_set_weight, info["total_weight"],
                                  NETWORK.layer_avg_size, NETWORK.layers_per_epoch)
    identity = IdentityStore(daemon.state / "identities").find(bytes.fromhex(smesher))
    assert identity is not None, f"{smesher} is not one of the box's identities"
    nonce = datasets(daemon.state)[smesher]
    proven = eligibility.compute_slots(identity.seed, bytes.fromhex(info["beacon"]), target, nonce, slots,
                                       NETWORK.layers_per_epoch)
    return {slot.layer for slot in proven}


@pytest.mark.slow
@pytest.mark.root
@pytest.mark.timeout(TEST_LIMIT)
def test_three_good_epochs_and_every_eligible_proposal(dev_daemon: DevDaemon) -> None:
    daemon = dev_daemon
    daemon.onboard()
    small_plan(daemon)
    node = daemon.api("GET", "/api/v1/node")  # the fresh datasets are not complete yet
    assert node["identities"] == [] and "waiting" in node["status"], node
    assert daemon.gateway_get("/admin/report")["atxs"] == []
    wait_for(lambda: all(d["job"]["state"] in ("ready", "proving")
                         for d in daemon.api("GET", "/api/v1/drives")["drives"]),
             INIT_LIMIT, "both datasets complete", daemon)
    smesher, first = wait_for(lambda: three_in_a_row(daemon), 300,
                              "three consecutive good ATXs for one identity (gateway report)", daemon)

    report = daemon.gateway_get("/admin/report")
    assert report["malfeasance"] == [], report["malfeasance"]
    assert report["rejected"] == [], report["rejected"]
    lpe = NETWORK.layers_per_epoch
    for target in (first + 1, first + 2):
        expected = expected_layers(daemon, report, smesher, target)
        assert expected and all(target * lpe <= layer < (target + 1) * lpe for layer in expected)
        published = {p["layer"] for p in report["proposals"]
                     if p["smesher_id"] == smesher and target * lpe <= p["layer"] < (target + 1) * lpe}
        assert published == expected, (target, expected, published)

    # the web API's node card reflects the chain the gateway accepted
    # the web API's node card shows every identity, each with the chain the gateway accepted from it
    node = daemon.api("GET", "/api/v1/node")
    good = good_epochs(report)
    cards = {i["node_id"]: i for i in node["identities"]}
    assert len(cards) == 2 and set(good) <= set(cards) and smesher in good, (node, good)
    for node_id, accepted in good.items():
        history = {a["epoch"]: a["grade"] for a in cards[node_id]["atx_history"]}
        shown = accepted & set(history)  # the gateway may have graded one more since the report
        assert shown and {history[e] for e in shown} == {"good"}, (cards[node_id], accepted)
    assert len(good[smesher] & {a["epoch"] for a in cards[smesher]["atx_history"]}) >= 3, cards[smesher]
    assert node["epoch"] >= first + 3 and sum(i["proposals_published"] for i in node["identities"]) > 0, node
    assert node["status"] and "error" not in node["status"].lower(), node
    dashboard = daemon.api("GET", "/api/v1/dashboard")
    assert {d["job"]["state"] for d in dashboard["drives"]} <= {"ready", "proving"}, dashboard["drives"]


def test_a_bad_devnet_time_scale_is_refused_with_a_reason(tmp_path: Path) -> None:
    for bad in ("0", "-1", "1000", "nan"):
        proc = subprocess.run(
            [sys.executable, "-m", "appliance", "run", "--dev", "--state-dir", str(tmp_path / "state"),
             "--no-web", "--devnet-time-scale", bad],
            capture_output=True, text=True, timeout=60, cwd=REPO,
        )
        assert proc.returncode == 2 and "--devnet-time-scale must be between 0.1 and 100" in proc.stderr, (
            bad, proc.stderr)
    assert not (tmp_path / "state" / "dev-drives").exists(), "refused before any drive was made"
