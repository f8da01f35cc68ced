"""Clock arithmetic (node.md §1.2), node config round trip and its errors."""

from __future__ import annotations

import pytest

from appliance.chain import DEVNET
from appliance.node.clock import ClockConfig, ClockError, LayerClock, ManualTime, SystemTime
from appliance.node.config import NodeConfig, NodeConfigError, PoetServer

MAINNET = ClockConfig(1689321600, 300, 4032, 240 * 3600, 12 * 3600, 3600, 1800)


def test_mainnet_windows():
    c = LayerClock(MAINNET)
    day = 86400
    n = 10
    start = c.epoch_start(n)
    assert c.config.epoch_duration == 14 * day
    assert c.poet_round_start(n) == start - 4 * day
    assert c.poet_round_end(n) == start + 9.5 * day
    assert c.poet_proof_deadline(n) == start + 13.5 * day
    assert c.publish_deadline(n) == start + 14 * day
    assert c.good_deadline(n) == start + 14 * day - 2 * 3600
    assert c.grade(n, c.good_deadline(n) - 1) == "good"
    assert c.grade(n, c.good_deadline(n) + 1) == "acceptable"
    assert c.grade(n, c.publish_deadline(n) - 1) == "evil"
    # the PoET's round ids line up with the node's publish epochs: round N-1 serves publish epoch N
    assert c.open_round_id(c.poet_round_start(n) - 1) == n - 1
    assert c.round_start_by_id(n - 1) == c.poet_round_start(n)
    assert c.round_end_by_id(n - 1) == c.poet_round_end(n)
    assert c.layer_at(start) == n * 4032 and c.epoch_at(start - 1) == n - 1


def test_first_registrable_epoch():
    c = LayerClock(MAINNET)
    n = 20
    assert c.first_registrable_epoch(c.challenge_fix_time(n) - 1) == n
    assert c.first_registrable_epoch(c.challenge_fix_time(n) + 1) == n + 1


@pytest.mark.parametrize(
    "bad",
    [
        dict(layer_duration=0),
        dict(layers_per_epoch=0),
        dict(cycle_gap=0),
        dict(cycle_gap=10**9),
        dict(grace_period=-1),
    ],
)
def test_clock_config_errors(bad):
    values = dict(
        genesis=0,
        layer_duration=1,
        layers_per_epoch=10,
        phase_shift=5,
        cycle_gap=3,
        grace_period=1,
        network_delay=0.5,
    )
    values.update(bad)
    with pytest.raises(ClockError):
        ClockConfig(**values)


def test_time_sources():
    t = ManualTime(synced=False)
    assert not t.synced()
    t.set_synced(True)
    before = t.now()
    t.jump(100)
    assert t.now() - before >= 100 and t.synced()
    assert SystemTime(assume_synced=True).synced()
    assert isinstance(SystemTime().synced(), bool)


CHAIN = DEVNET.replace({"genesis_time": 100, "genesis_extra_data": "x", "golden_atx": "01" * 32})


def _config(**kw):
    values = dict(
        chain=CHAIN,
        poets=(PoetServer("http://p", b"\x02" * 32), PoetServer("http://q")),
        gateway_url="http://g",
        coinbase=bytes(24),
    )
    values.update(kw)
    return NodeConfig(**values)


def test_node_config_round_trip_and_errors():
    cfg = _config()
    assert NodeConfig.from_json(cfg.to_json()) == cfg
    assert len(cfg.genesis_id) == 20
    assert cfg.regossip_interval == 7200.0  # go-spacemesh's 2 h unless the network says otherwise
    assert cfg.clock == ClockConfig(100, 1, 10, 6, 4, 1, 0.5) and cfg.hrp == DEVNET.hrp
    for bad in (dict(coinbase=b"x"), dict(poets=()), dict(regossip_interval=0.0)):
        with pytest.raises(NodeConfigError):
            _config(**bad)
    chain = cfg.to_json()["chain"]
    for broken in ([], {**cfg.to_json(), "chain": {**chain, "golden_atx": "zz"}},
                   {**cfg.to_json(), "chain": {**chain, "labels_per_unit": 0}},
                   {**cfg.to_json(), "chain": {**chain, "bogus": 1}}):
        with pytest.raises(NodeConfigError):
            NodeConfig.from_json(broken)
