"""Work units and how the box judges a helper's result — pure functions, no I/O.

A unit is a label range [start, start + count) of one dataset. A helper's result is accepted only
if ``samples`` labels chosen at random by the box recompute with the box's own core and the
unit's VRF candidate is exactly the one the box derives from the uploaded labels themselves:
every whole label below the threshold has a 16-byte prefix no larger than the threshold's, so the
box recomputes just the few labels whose uploaded prefix passes that test (expected
8·count/total of them) and knows the unit's true minimum without trusting the helper for it.

False accept: a result with a fraction f of wrong labels passes ``samples`` independent draws
with probability at most (1 - f)^samples — with 64 samples, 1.2e-19 for an all-garbage unit,
0.0017 for f = 10 %, 0.53 for f = 1 %. A caught helper loses its pairing, so cheating on many
units is caught almost surely; a wrong label that slips through costs one proof attempt, never
the writer's durability (``false_accept_probability``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from appliance.post.labels import LabelBatch, compute_labels, full_label

LABEL_SIZE = 16
DEFAULT_SAMPLES = 64
UNIT_SECONDS = 600.0


class ResultRejected(ValueError):
    """A helper's result is malformed or does not recompute; ``lie`` tells a wrong label from a
    transport problem (a truncated upload is not a lie)."""

    def __init__(self, reason: str, lie: bool) -> None:
        super().__init__(reason)
        self.lie = lie


@dataclass(frozen=True)
class Unit:
    """Labels [start, start + count) of the dataset whose label commitment is ``commitment``."""

    unit_id: str
    commitment: bytes
    scrypt_n: int
    start: int
    count: int

    def to_json(self) -> dict[str, object]:
        return {
            "unit_id": self.unit_id,
            "commitment": self.commitment.hex(),
            "scrypt_n": self.scrypt_n,
            "start": self.start,
            "count": self.count,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Unit:
        try:
            unit = cls(
                str(data["unit_id"]),
                bytes.fromhex(str(data["commitment"])),
                int(data["scrypt_n"]),  # type: ignore[call-overload]
                int(data["start"]),  # type: ignore[call-overload]
                int(data["count"]),  # type: ignore[call-overload]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed work unit: {exc!r}") from exc
        if len(unit.commitment) != 32 or unit.count <= 0 or unit.start < 0 or unit.scrypt_n < 2:
            raise ValueError("malformed work unit: bad commitment, start, count or scrypt N")
        return unit


MAX_UNIT_LABELS = 1 << 22  # 64 MiB of labels: one upload, and what the box buffers per unit


def unit_labels(
    rate: float, seconds: float = UNIT_SECONDS, low: int = 64, high: int = MAX_UNIT_LABELS
) -> int:
    """Labels for ~``seconds`` of work at ``rate`` labels/s, a multiple of 64, within [low, high]
    (a GPU's ten minutes exceed ``high``: it then gets several units in a row)."""
    want = int(rate * seconds) // 64 * 64
    return max(low, min(high, want))


def false_accept_probability(samples: int, wrong_fraction: float) -> float:
    """Chance that ``samples`` random draws miss every wrong label (see the module docstring)."""
    return (1.0 - wrong_fraction) ** samples


def vrf_candidates(labels: bytes, threshold: bytes) -> list[int]:
    """Offsets of uploaded 16-byte labels whose prefix could belong to a whole label < threshold."""
    view = np.frombuffer(labels, dtype=">u8").reshape(-1, 2)
    high = int.from_bytes(threshold[:8], "big")
    low = int.from_bytes(threshold[8:16], "big")
    hit = (view[:, 0] < high) | ((view[:, 0] == high) & (view[:, 1] <= low))
    return [int(i) for i in np.nonzero(hit)[0]]


def judge(
    unit: Unit,
    labels: bytes,
    claimed_min: tuple[int, bytes] | None,
    threshold: bytes,
    samples: int = DEFAULT_SAMPLES,
    rng: random.Random | None = None,
) -> LabelBatch:
    """The accepted batch of ``unit`` (with the box's own minimum) or ResultRejected."""
    if len(labels) != unit.count * LABEL_SIZE:
        raise ResultRejected(
            f"unit {unit.unit_id}: {len(labels)} bytes uploaded, {unit.count * LABEL_SIZE} expected",
            lie=False,
        )
    rng = rng or random.SystemRandom()
    for offset in sorted(rng.sample(range(unit.count), min(samples, unit.count))):
        expect = compute_labels(unit.commitment, unit.scrypt_n, unit.start + offset, 1)
        if labels[offset * LABEL_SIZE : (offset + 1) * LABEL_SIZE] != expect:
            raise ResultRejected(
                f"unit {unit.unit_id}: label {unit.start + offset} does not recompute", lie=True
            )
    best: tuple[bytes, int] | None = None
    for offset in vrf_candidates(labels, threshold):
        whole = full_label(unit.commitment, unit.scrypt_n, unit.start + offset)
        if whole[:LABEL_SIZE] != labels[offset * LABEL_SIZE : (offset + 1) * LABEL_SIZE]:
            raise ResultRejected(
                f"unit {unit.unit_id}: label {unit.start + offset} does not recompute", lie=True
            )
        if whole < threshold and (best is None or whole < best[0]):
            best = (whole, unit.start + offset)
    if (
        claimed_min is not None
        and claimed_min[1] < threshold
        and (best is None or claimed_min != (best[1], best[0]))
    ):
        raise ResultRejected(
            f"unit {unit.unit_id}: claimed VRF candidate {claimed_min[0]} is not the minimum", lie=True
        )
    if best is not None and (claimed_min is None or claimed_min != (best[1], best[0])):
        raise ResultRejected(f"unit {unit.unit_id}: hid its VRF candidate at label {best[1]}", lie=True)
    if best is None:
        return LabelBatch(unit.start, labels)
    return LabelBatch(unit.start, labels, best[1], best[0])
