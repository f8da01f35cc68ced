"""The PoET membership tree: which challenges a PoET round committed to, and proofs of membership.

Leaves are the 32-byte challenge hashes in the PoET's order (not re-hashed); a node is
``blake3(0x01 ‖ left ‖ right)``; a missing right sibling at any level is 32 zero bytes and *is*
emitted in proofs; a single member is its own root (poet ``shared/shared.go``, go-spacemesh
``activation/nipost.go constructMerkleProof`` / ``validation.go validateMerkleProof``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import blake3

PADDING = bytes(32)
MAX_DEPTH = 64

ParentHash = Callable[[bytes, bytes], bytes]


class MembershipError(ValueError):
    pass


def membership_parent(left: bytes, right: bytes) -> bytes:
    return blake3.blake3(b"\x01" + left + right).digest()


def _levels(leaves: Sequence[bytes], parent: ParentHash) -> list[list[bytes]]:
    if not leaves:
        raise MembershipError("a membership tree needs at least one member")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        cur = levels[-1]
        if len(cur) % 2:
            cur = [*cur, PADDING]
        levels.append([parent(cur[i], cur[i + 1]) for i in range(0, len(cur), 2)])
    return levels


def root(leaves: Sequence[bytes], parent: ParentHash = membership_parent) -> bytes:
    return _levels(leaves, parent)[-1][0]


def prove(leaves: Sequence[bytes], index: int, parent: ParentHash = membership_parent) -> list[bytes]:
    """Bottom-up siblings of leaf ``index`` (padding included)."""
    if not 0 <= index < len(leaves):
        raise MembershipError(f"leaf index {index} outside 0..{len(leaves) - 1}")
    nodes = []
    for level in _levels(leaves, parent)[:-1]:
        sibling = index ^ 1
        nodes.append(level[sibling] if sibling < len(level) else PADDING)
        index >>= 1
    return nodes


def compute_root(
    leaf: bytes, index: int, nodes: Sequence[bytes], parent: ParentHash = membership_parent
) -> bytes:
    if len(nodes) > MAX_DEPTH or index < 0 or index >> len(nodes):
        raise MembershipError("leaf index does not fit the proof depth")
    cur = leaf
    for node in nodes:
        cur = parent(cur, node) if index & 1 == 0 else parent(node, cur)
        index >>= 1
    return cur


def verify(leaf: bytes, index: int, nodes: Sequence[bytes], expected_root: bytes) -> bool:
    try:
        return compute_root(leaf, index, nodes) == expected_root
    except MembershipError:
        return False
