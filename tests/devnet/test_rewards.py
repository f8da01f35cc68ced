"""Layer rewards by the network's formula (appliance.devnet.rewards) against go-spacemesh's own
test vectors, the weight split of ``addRewards``, and the devnet gateway's ``/rewards`` endpoint."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

from appliance.devnet import rewards as r


def test_subsidy_matches_go_spacemesh_vectors() -> None:
    # go-spacemesh genvm/rewards_test.go @ cc65f271f3e21b519532f2924ab227ccf352c2de, TestRewards
    expected = [477618397593, 477618296206, 477618194821, 477618093434, 477617992047]
    assert [r.subsidy_at_layer(i) for i in range(5)] == expected


def test_accumulation_and_ten_year_target() -> None:
    # economics rewards_test.go Test_Accumulation; ten years issue TenYearTarget - TotalVaulted
    assert r.accumulated_subsidy(99) + r.subsidy_at_layer(100) == r.accumulated_subsidy(100)
    ten_years = r.accumulated_subsidy(10 * r.ONE_YEAR)
    assert abs(ten_years - (r.TEN_YEAR_TARGET - r.TOTAL_VAULTED)) <= 1


def _eligible(tag: int, weight: int, count: int, proofs: int) -> r.Eligible:
    return r.Eligible(bytes([tag]) * 32, bytes([tag]) * 24, weight, count, proofs)


def test_split_by_weight_per_eligibility_with_floors() -> None:
    genesis = r.first_effective_genesis(10)
    assert genesis == 19 and r.layer_rewards(18, 10, [_eligible(1, 10, 1, 1)]) == []
    a, b = _eligible(1, 300, 3, 1), _eligible(2, 100, 1, 2)  # weights 100 and 200
    paid = r.layer_rewards(genesis + 4, 10, [b, a])
    subsidy = r.subsidy_at_layer(4)
    assert [p.smesher_id[0] for p in paid] == [1, 2]
    assert paid[0].total_reward == subsidy * 1 // 3 and paid[1].total_reward == subsidy * 2 // 3
    assert paid[0].layer_reward == paid[0].total_reward  # no fees on the devnet
    assert sum(p.total_reward for p in paid) <= subsidy  # the remainder is burnt, never minted
    assert a.weight == Fraction(100) and b.weight == Fraction(200)


def _proposal(
    smesher: bytes, atx_id: bytes, count: int, proofs: int, ref: bytes = bytes(20)
) -> SimpleNamespace:
    """A decoded proposal as the gateway keeps it: a reference ballot carries the eligibility
    count in its epoch data, a later one names its reference ballot instead."""
    data = (bytes(32), bytes(4), count) if ref == bytes(20) else None
    ballot = SimpleNamespace(atx_id=atx_id, epoch_data=data, ref_ballot=ref,
                             eligibilities=[object()] * proofs)
    return SimpleNamespace(ballot=ballot)


def _atx(coinbase: bytes, weight: int) -> SimpleNamespace:
    return SimpleNamespace(atx=SimpleNamespace(coinbase=coinbase * 24), weight=weight)


def test_ledger_pays_ended_layers_once() -> None:
    me, other = b"\x01" * 32, b"\x02" * 32
    atxs = {b"A" * 32: _atx(b"c", 50), b"B" * 32: _atx(b"d", 150)}
    ballots = {b"R" * 20: SimpleNamespace(eligibility_count=1)}  # my epoch's reference ballot
    proposals = {(me, 25): _proposal(me, b"A" * 32, 1, 1), (other, 25): _proposal(other, b"B" * 32, 1, 1),
                 (me, 27): _proposal(me, b"A" * 32, 0, 1, ref=b"R" * 20)}
    ledger = r.LayerLedger(10)
    ledger.settle(proposals, atxs, ballots, current_layer=26)  # layer 27 is not over: not paid yet
    mine = ledger.of(me)
    assert [x.layer for x in mine] == [25]
    assert mine[0].total_reward == r.subsidy_at_layer(25 - 19) // 4  # 50 of 200 weight
    ledger.settle(proposals, atxs, ballots, current_layer=30)  # layer 27 counts through its ref
    assert [x.layer for x in ledger.of(me)] == [25, 27]
    assert ledger.of(me)[1].total_reward == r.subsidy_at_layer(27 - 19)  # alone in its layer
