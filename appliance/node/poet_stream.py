"""Reads a PoET's ``GET /v1/proofs/{round}`` reply as a stream, in memory that does not grow with it.

Every node registers at every PoET, so a mainnet round holds about one member per identity —
millions, a reply of hundreds of MB (poet ``registration/config.go`` allows 2^32 members). The
JSON is parsed incrementally (ijson) while the members are folded into the membership tree the way
spacemeshos/merkle-tree @ 43eac1e89f82fd544101d24922539602b254b583 ``Tree.AddLeaf`` /
``RootAndProof`` does: one parked node per level, and the siblings on our challenge's path are
picked up as they pass by. What stays in memory is O(log members) plus the bounded PoSW proof.
Hostile replies (too big, too many members, an endless token, wrong types, truncation) end in a
:class:`~appliance.node.http.RemoteProtocolError`.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

import ijson

from appliance.node.http import RemoteProtocolError
from appliance.node.merkle import PADDING, membership_parent

MAX_TOKEN = 64 << 10  # no legitimate token of a proof reply is anywhere near this long
_DELIMS = b'",:[]{}'
_LONG_RUN = re.compile(rb'[^",:\[\]{}]{%d}' % (MAX_TOKEN + 1))
MAX_PROVEN_LEAVES = 150  # poet shared/shared.go MerkleProof `scale:"max=150"`
MAX_PROOF_NODES = 5400  # `scale:"max=5400"`


class StreamingMembership:
    """The membership tree of a stream of 32-byte members, and the proof of one ``target`` member."""

    def __init__(self, target: bytes | None) -> None:
        self.target = target
        self.count = 0
        self.index: int | None = None
        self._parked: list[bytes | None] = []
        self._on_path: list[bool] = []
        self._siblings: dict[int, bytes] = {}

    def add(self, leaf: bytes) -> None:
        on = self.index is None and leaf == self.target
        if on:
            self.index = self.count
        node, level = leaf, 0
        while True:
            if level == len(self._parked):
                self._parked.append(None)
                self._on_path.append(False)
            left = self._parked[level]
            if left is None:
                self._parked[level], self._on_path[level] = node, on
                break
            left_on = self._on_path[level]
            if on and not left_on:
                self._siblings[level] = left
            elif left_on and not on:
                self._siblings[level] = node
            node, on = membership_parent(left, node), on or left_on
            self._parked[level], self._on_path[level] = None, False
            level += 1
        self.count += 1

    def finish(self) -> tuple[bytes, list[bytes]]:
        """(root, bottom-up siblings of the target); like ``RootAndProof`` a lone node is paired
        with 32 zero bytes, and a single member is its own root."""
        if not self.count:
            raise ValueError("no members")
        ephemeral: bytes | None = None
        eph_on = False
        top = len(self._parked) - 1
        for level, parked in enumerate(self._parked):
            if level == top and ephemeral is None:
                return parked or b"", self._path()
            parked_on = self._on_path[level]
            if parked is not None and ephemeral is not None:
                left, right, left_on, right_on = parked, ephemeral, parked_on, eph_on
            elif parked is not None:
                left, right, left_on, right_on = parked, PADDING, parked_on, False
            elif ephemeral is not None:
                left, right, left_on, right_on = ephemeral, PADDING, eph_on, False
            else:
                continue
            if left_on and not right_on:
                self._siblings[level] = right
            elif right_on and not left_on:
                self._siblings[level] = left
            ephemeral, eph_on = membership_parent(left, right), left_on or right_on
        return ephemeral or b"", self._path()

    def _path(self) -> list[bytes]:
        return [self._siblings[level] for level in sorted(self._siblings)] if self.index is not None else []


class _BoundedReader:
    """Feeds ijson from an aiohttp stream, refusing more than ``max_bytes`` or any run of over
    MAX_TOKEN bytes without a JSON delimiter (a string or number that would have to be buffered)."""

    def __init__(self, url: str, content: Any, max_bytes: int) -> None:
        self.url, self.content, self.max_bytes = url, content, max_bytes
        self.size = 0
        self.run = 0  # bytes since the last delimiter

    async def read(self, n: int = 64 << 10) -> bytes:
        chunk = await self.content.read(min(n, 64 << 10))
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise RemoteProtocolError(self.url, f"proof reply larger than {self.max_bytes} bytes")
        first = min((i for i in (chunk.find(bytes([d])) for d in _DELIMS) if i >= 0), default=-1)
        if first < 0:
            self.run += len(chunk)
        else:
            last = max(chunk.rfind(bytes([d])) for d in _DELIMS)
            if self.run + first > MAX_TOKEN or _LONG_RUN.search(chunk):
                self.run = MAX_TOKEN + 1
            else:
                self.run = len(chunk) - 1 - last
        if self.run > MAX_TOKEN:
            raise RemoteProtocolError(
                self.url, f"a token in the proof reply is longer than {MAX_TOKEN} bytes"
            )
        return chunk


@dataclass
class StreamedProof:
    root: bytes = b""
    proven_leaves: list[bytes] = field(default_factory=list)
    proof_nodes: list[bytes] = field(default_factory=list)
    leaves: int | None = None
    pubkey: bytes | None = None
    statement: bytes = b""
    leaf_index: int | None = None
    nodes: list[bytes] = field(default_factory=list)
    member_count: int = 0


def _b64(url: str, value: Any, name: str, size: int) -> bytes:
    if not isinstance(value, str) or len(value) > 4 * size:
        raise RemoteProtocolError(url, f"{name} is not base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise RemoteProtocolError(url, f"{name} is not valid base64") from None
    if len(raw) != size:
        raise RemoteProtocolError(url, f"{name} must be {size} bytes, got {len(raw)}")
    return raw


def _uint(url: str, value: Any, name: str) -> int:
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
        raise RemoteProtocolError(url, f"{name} is not an unsigned 64-bit integer")
    return value


async def read_proof(
    url: str, content: Any, target: bytes | None, max_bytes: int, max_members: int
) -> StreamedProof:
    """Parses ``{proof{proof{root, provenLeaves[], proofNodes[]}, members[], leaves}, pubkey}``
    from ``content`` (anything with ``async read(n)``) in one pass."""
    out = StreamedProof()
    tree = StreamingMembership(target)
    reader = _BoundedReader(url, content, max_bytes)
    try:
        async for prefix, event, value in ijson.parse_async(reader, use_float=True):
            if prefix == "proof.members.item":
                if tree.count >= max_members:
                    raise RemoteProtocolError(url, f"more than {max_members} members in the round")
                tree.add(_b64(url, value, "members[]", 32))
            elif prefix == "proof.proof.provenLeaves.item":
                if len(out.proven_leaves) >= MAX_PROVEN_LEAVES:
                    raise RemoteProtocolError(url, "proof has too many proven leaves")
                out.proven_leaves.append(_b64(url, value, "provenLeaves[]", 32))
            elif prefix == "proof.proof.proofNodes.item":
                if len(out.proof_nodes) >= MAX_PROOF_NODES:
                    raise RemoteProtocolError(url, "proof has too many proof nodes")
                out.proof_nodes.append(_b64(url, value, "proofNodes[]", 32))
            elif prefix == "proof.proof.root" and event != "start_map":
                out.root = _b64(url, value, "root", 32)
            elif prefix == "proof.leaves" and event in ("string", "number"):
                out.leaves = _uint(url, value, "leaves")
            elif prefix == "pubkey":
                out.pubkey = _b64(url, value, "pubkey", 32)
            elif prefix in (
                "proof.members",
                "proof.proof.provenLeaves",
                "proof.proof.proofNodes",
            ) and event not in (
                "start_array",
                "end_array",
            ):
                raise RemoteProtocolError(url, f"{prefix} is not a list")
    except ijson.JSONError as exc:
        raise RemoteProtocolError(url, f"proof reply is not valid JSON: {str(exc)[:100]}") from None
    if out.pubkey is None or out.leaves is None or not out.root:
        raise RemoteProtocolError(url, "proof reply lacks pubkey, leaves or root")
    if not tree.count:
        raise RemoteProtocolError(url, "proof has no members")
    out.member_count = tree.count
    out.statement, out.nodes = tree.finish()
    out.leaf_index = tree.index
    return out
