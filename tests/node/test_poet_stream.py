"""Streaming PoET proofs: the incremental membership tree equals the whole-list one, memory stays
bounded for a large round, and hostile replies end in a clear protocol error."""

from __future__ import annotations

import base64
import json
import os
import tracemalloc

import pytest

from appliance.devnet import gowire
from appliance.node import merkle
from appliance.node.http import RemoteProtocolError
from appliance.node.poet_stream import MAX_TOKEN, StreamingMembership, read_proof


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Chunks:
    """An aiohttp-like stream over an iterator of byte chunks."""

    def __init__(self, chunks) -> None:
        self._it = iter(chunks)
        self._buf = b""

    async def read(self, n: int = -1) -> bytes:
        while len(self._buf) < n:
            try:
                self._buf += next(self._it)
            except StopIteration:
                break
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def _reply(members, pubkey=b"\x07" * 32, leaves="1000", extra=None):
    body = {
        "proof": {
            "proof": {"root": _b64(b"\x01" * 32), "provenLeaves": [_b64(b"\x02" * 32)], "proofNodes": []},
            "members": [_b64(m) for m in members],
            "leaves": leaves,
        },
        "pubkey": _b64(pubkey),
    }
    if extra:
        extra(body)
    return json.dumps(body).encode()


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13, 33])
def test_streaming_tree_matches_the_whole_list(count: int) -> None:
    members = [os.urandom(32) for _ in range(count)]
    for index in range(count):
        tree = StreamingMembership(members[index])
        for m in members:
            tree.add(m)
        root, nodes = tree.finish()
        assert root == merkle.root(members) == gowire.tree_root(members)
        assert tree.index == index and nodes == merkle.prove(members, index)
        assert gowire.path_root(members[index], index, nodes) == root


async def test_read_proof_finds_our_member_and_the_statement() -> None:
    members = [os.urandom(32) for _ in range(100)]
    blob = _reply(members)
    chunks = [blob[i : i + 7] for i in range(0, len(blob), 7)]  # tokens split across reads
    out = await read_proof("u", Chunks(chunks), members[42], 1 << 20, 1000)
    assert out.leaf_index == 42 and out.member_count == 100 and out.leaves == 1000
    assert out.statement == merkle.root(members) and out.nodes == merkle.prove(members, 42)
    assert out.pubkey == b"\x07" * 32 and len(out.proven_leaves) == 1
    missing = await read_proof("u", Chunks([blob]), b"\x09" * 32, 1 << 20, 1000)
    assert missing.leaf_index is None and missing.statement == out.statement


async def test_large_round_in_bounded_memory() -> None:
    """200,000 members (~9.4 MB of JSON) are folded with a few KB of live state; the test's own
    generator makes the reply lazily so the only big allocation would be the reader's."""
    count = 200_000
    target_index = 123_457

    def member(i: int) -> bytes:
        return i.to_bytes(8, "little") * 4

    def chunks():
        yield b'{"pubkey": "' + _b64(b"\x07" * 32).encode() + b'", "proof": {"leaves": 5, "proof": {"root": "'
        yield _b64(b"\x01" * 32).encode() + b'"}, "members": ['
        for start in range(0, count, 1000):
            yield (
                ("," if start else "") + ",".join(f'"{_b64(member(i))}"' for i in range(start, start + 1000))
            ).encode()
        yield b"]}}"

    tracemalloc.start()
    try:
        out = await read_proof("u", Chunks(chunks()), member(target_index), 1 << 30, 1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.member_count == count and out.leaf_index == target_index
    assert merkle.verify(member(target_index), target_index, out.nodes, out.statement)
    assert peak < 2 << 20, peak  # a whole-list reader needs > 30 MB here


def _members_not_list(body):
    body["proof"]["members"] = {"a": 1}


def _member_number(body):
    body["proof"]["members"][0] = 5


def _no_pubkey(body):
    del body["pubkey"]


def _bad_leaves(body):
    body["proof"]["leaves"] = -3


def _many_proven(body):
    body["proof"]["proof"]["provenLeaves"] = [_b64(b"\x02" * 32)] * 151


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (_members_not_list, "is not a list"),
        (_member_number, "members\\[\\] is not base64"),
        (_no_pubkey, "lacks pubkey"),
        (_bad_leaves, "leaves is not an unsigned"),
        (_many_proven, "too many proven leaves"),
    ],
)
async def test_hostile_shapes(extra, message) -> None:
    blob = _reply([b"\x05" * 32], extra=extra)
    with pytest.raises(RemoteProtocolError, match=message):
        await read_proof("u", Chunks([blob]), None, 1 << 20, 10)


async def test_hostile_sizes_and_truncation() -> None:
    members = [os.urandom(32) for _ in range(20)]
    blob = _reply(members)
    with pytest.raises(RemoteProtocolError, match="larger than"):
        await read_proof("u", Chunks([blob]), None, 500, 100)
    with pytest.raises(RemoteProtocolError, match="more than 10 members"):
        await read_proof("u", Chunks([blob]), None, 1 << 20, 10)
    with pytest.raises(RemoteProtocolError, match="not valid JSON"):
        await read_proof("u", Chunks([blob[: len(blob) // 2]]), None, 1 << 20, 100)
    with pytest.raises(RemoteProtocolError, match="must be 32 bytes"):
        await read_proof("u", Chunks([_reply([b"\x01" * 31])]), None, 1 << 20, 100)
    with pytest.raises(RemoteProtocolError, match="no members"):
        await read_proof("u", Chunks([_reply([])]), None, 1 << 20, 100)
    # one endless string is refused long before it could fill the memory
    endless = (b'{"proof": {"members": ["' + b"A" * (1 << 16),) + (b"A" * (1 << 16),) * 100

    def gen():
        yield from endless

    with pytest.raises(RemoteProtocolError, match=f"longer than {MAX_TOKEN}"):
        await read_proof("u", Chunks(gen()), None, 1 << 30, 100)
