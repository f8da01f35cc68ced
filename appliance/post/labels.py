"""Label computation as a pure function of (commitment, scrypt N, index range) — spec §2.

Nothing here touches files: a range can be computed on this box or, later, on another computer
on the LAN, and the writer checks samples of whatever it is handed. ``LabelBatch`` is that unit
of exchange: the 16-byte labels of a range plus the range's smallest whole 32-byte label, which
is all the VRF nonce search needs from it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from appliance.post import native
from appliance.post.params import commitment

__all__ = ["LabelBatch", "commitment", "compute_batch", "compute_labels", "full_label"]

_NO_THRESHOLD = b"\xff" * 32
# Below this many labels per thread, threading costs more than it saves.
_MIN_PER_THREAD = 8


@dataclass(frozen=True)
class LabelBatch:
    """Labels [start, start + len(labels)/16) and the smallest whole label among them."""

    start: int
    labels: bytes
    min_index: int | None = None
    min_label: bytes | None = None

    @property
    def count(self) -> int:
        return len(self.labels) // native.LABEL_SIZE


def compute_labels(commitment_: bytes, scrypt_n: int, start: int, count: int, threads: int = 1) -> bytes:
    """The 16-byte labels of [start, start + count), concatenated."""
    return compute_batch(commitment_, scrypt_n, start, count, threads).labels


def full_label(commitment_: bytes, scrypt_n: int, index: int) -> bytes:
    """The whole 32-byte label at ``index`` (VRF nonce checks)."""
    return native.labels(commitment_, scrypt_n, index, 1, full=True)[0]


def _split(start: int, count: int, parts: int) -> list[tuple[int, int]]:
    parts = max(1, min(parts, count // _MIN_PER_THREAD or 1))
    step, extra = divmod(count, parts)
    out, at = [], start
    for part in range(parts):
        size = step + (1 if part < extra else 0)
        out.append((at, size))
        at += size
    return out


def _one(commitment_: bytes, scrypt_n: int, start: int, count: int) -> LabelBatch:
    data, hit = native.labels(commitment_, scrypt_n, start, count, vrf_threshold=_NO_THRESHOLD)
    if hit is None:
        return LabelBatch(start, data)
    return LabelBatch(start, data, hit.index, hit.label)


def compute_batch(commitment_: bytes, scrypt_n: int, start: int, count: int, threads: int = 1) -> LabelBatch:
    """Labels of [start, start + count) and their minimum whole label, split over ``threads``."""
    pieces = _split(start, count, threads)
    if len(pieces) == 1:
        return _one(commitment_, scrypt_n, start, count)
    with ThreadPoolExecutor(len(pieces), thread_name_prefix="labels") as pool:
        parts = list(pool.map(lambda piece: _one(commitment_, scrypt_n, *piece), pieces))
    return merge(parts)


def merge(parts: list[LabelBatch]) -> LabelBatch:
    """Concatenates consecutive batches; the minimum keeps the earliest index on ties."""
    best: LabelBatch | None = None
    for part in parts:
        if part.min_label is not None and (best is None or part.min_label < best.min_label):  # type: ignore[operator]
            best = part
    labels = b"".join(part.labels for part in parts)
    if best is None:
        return LabelBatch(parts[0].start, labels)
    return LabelBatch(parts[0].start, labels, best.min_index, best.min_label)
