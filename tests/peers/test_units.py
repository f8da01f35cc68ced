"""How the box judges a helper's unit: sampled recomputation, the VRF candidate derived from the
uploaded labels themselves, and the false-accept bound."""

from __future__ import annotations

import random

import pytest

from appliance.peers.units import (
    ResultRejected,
    Unit,
    false_accept_probability,
    judge,
    unit_labels,
    vrf_candidates,
)
from appliance.post.labels import compute_batch, full_label
from appliance.post.params import commitment, vrf_threshold

COM = commitment(bytes([1]) * 32, bytes([2]) * 32)
N = 16
TOTAL = 512  # the unit below is the whole (tiny) dataset, so it holds ~8 labels below the threshold
THRESHOLD = vrf_threshold(TOTAL)


@pytest.fixture(scope="module")
def honest() -> tuple[Unit, bytes, tuple[int, bytes]]:
    batch = compute_batch(COM, N, 0, TOTAL)
    assert batch.min_index is not None and batch.min_label is not None and batch.min_label < THRESHOLD
    return Unit("u1", COM, N, 0, TOTAL), batch.labels, (batch.min_index, batch.min_label)


def test_honest_unit_is_accepted_with_the_box_s_own_minimum(honest) -> None:
    unit, labels, claimed = honest
    batch = judge(unit, labels, claimed, THRESHOLD, samples=32, rng=random.Random(1))
    assert (batch.min_index, batch.min_label) == claimed and batch.labels == labels


def test_candidates_cover_every_label_below_threshold(honest) -> None:
    _unit, labels, _ = honest
    below = [i for i in range(TOTAL) if full_label(COM, N, i) < THRESHOLD]
    assert below and set(below) <= set(vrf_candidates(labels, THRESHOLD))


@pytest.mark.parametrize("where", [0, 77, TOTAL - 1])
def test_a_wrong_label_is_a_lie(honest, where: int) -> None:
    unit, labels, claimed = honest
    bad = bytearray(labels)
    bad[where * 16 + 3] ^= 0x40
    with pytest.raises(ResultRejected) as info:
        judge(unit, bytes(bad), claimed, THRESHOLD, samples=TOTAL)
    assert info.value.lie and f"label {where}" in str(info.value)


def test_hidden_or_forged_candidate_is_a_lie(honest) -> None:
    unit, labels, claimed = honest
    with pytest.raises(ResultRejected, match="hid its VRF candidate") as info:
        judge(unit, labels, None, THRESHOLD, samples=4)
    assert info.value.lie
    other = next(i for i in range(TOTAL) if i != claimed[0] and full_label(COM, N, i) < THRESHOLD)
    with pytest.raises(ResultRejected, match="not the minimum"):
        judge(unit, labels, (other, full_label(COM, N, other)), THRESHOLD, samples=4)


def test_truncated_or_oversized_upload_is_not_a_lie(honest) -> None:
    unit, labels, claimed = honest
    for data in (labels[:-16], labels + bytes(16)):
        with pytest.raises(ResultRejected) as info:
            judge(unit, data, claimed, THRESHOLD)
        assert not info.value.lie


def test_sizing_and_false_accept_bound() -> None:
    assert unit_labels(2000.0) == 1_200_000  # ten minutes of a Pi-class rate
    assert unit_labels(0.0) == 64 and unit_labels(1e9) == 1 << 22
    assert false_accept_probability(64, 1.0) == 0.0
    assert false_accept_probability(64, 0.10) == pytest.approx(0.9**64)
    assert false_accept_probability(64, 0.10) < 0.002


def test_malformed_unit_json_is_refused() -> None:
    with pytest.raises(ValueError, match="malformed"):
        Unit.from_json({"unit_id": "x", "commitment": "zz", "scrypt_n": 16, "start": 0, "count": 1})
    with pytest.raises(ValueError, match="malformed"):
        Unit.from_json({"unit_id": "x", "commitment": "00" * 32, "scrypt_n": 16, "start": 0, "count": 0})
    unit = Unit("x", COM, 16, 5, 7)
    assert Unit.from_json(unit.to_json()) == unit
