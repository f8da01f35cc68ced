"""The devnet's opinion hashes, checked against the Go hashing spelled out by hand (tortoise/state.go
computeOpinion, opinionhash: blake3(prev ‖ id ‖ LE64 height …) or the 0x00 abstain sentinel)."""

from __future__ import annotations

import blake3
import pytest

from appliance.devnet import tortoise

G = 19  # effective genesis of a 10-layer epoch: 2 * 10 - 1


def b3(data: bytes) -> bytes:
    return blake3.blake3(data).digest()


def test_opinion_chain_by_hand():
    block = b"\xaa" * 20
    votes = tortoise.decode_votes([], G, G + 3, [(block, G, 57)], [], [G + 2])
    o0 = b3(block + (57).to_bytes(8, "little"))  # first layer: no previous opinion
    o1 = b3(o0)  # voted against everything: only the previous opinion
    o2 = b3(o1 + b"\x00")  # abstain sentinel
    assert [v.opinion for v in votes] == [o0, o1, o2] and tortoise.opinion(votes) == o2
    # a later ballot based on this one: supports layer G+2 now, abstains on G+3
    later = tortoise.decode_votes(votes, G + 3, G + 5, [(block, G + 2, 63), (block, G + 3, 66)], [], [G + 4])
    p2 = b3(o1 + block + (63).to_bytes(8, "little"))
    p3 = b3(p2 + block + (66).to_bytes(8, "little"))
    assert [v.opinion for v in later[2:]] == [p2, p3, b3(p3 + b"\x00")]
    # and voting against the block of layer G again removes it
    undone = tortoise.decode_votes(later, G + 5, G + 6, [], [(block, G, 57)], [])
    assert undone[0].opinion == b3(b"") and not undone[0].supported


@pytest.mark.parametrize(
    ("support", "against", "abstain", "message"),
    [
        ([(b"\x01" * 20, G, 1)], [(b"\x01" * 20, G, 1)], [], "conflicting votes"),
        ([(b"\x01" * 20, G, 1)], [], [G], "conflict with abstain"),
        ([], [(b"\xaa" * 20, G, 99)], [], "wrong target"),
    ],
)
def test_conflicting_exceptions(support, against, abstain, message):
    base = tortoise.decode_votes([], G, G + 2, [(b"\xaa" * 20, G, 57)], [], [])
    with pytest.raises(tortoise.VoteError, match=message):
        tortoise.decode_votes(base, G + 2, G + 3, support, against, abstain)


def test_mesh_diff_turns_any_base_into_the_honest_opinion():
    mesh = tortoise.Mesh(b"\x05" * 20, G)
    base = tortoise.decode_votes([], G, G + 4, *mesh.diff([], G, G + 4))
    for layer in (G + 5, G + 9):
        votes = tortoise.decode_votes(base, G + 4, layer, *mesh.diff(base, G + 4, layer))
        honest = [mesh.wanted(lid, layer) for lid in range(G, layer)]
        assert [(v.abstain and not v.supported, v.supported) for v in votes] == [
            (h.abstain, h.supported) for h in honest
        ]
