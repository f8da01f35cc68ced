"""Sizing a new dataset from the free space of its drive, with a measured ETA.

The unit count is the largest that leaves ``margin`` bytes free (filesystem slack, metadata, the
init state file); the ETA divides the labels by a rate measured on this CPU for this scrypt N —
never a guess from a table (``appliance.post.bench.measure_label_rate``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from appliance.jobs.model import Plan

LABEL_SIZE = 16


class NoSpaceError(RuntimeError):
    """Not even one unit fits; the message says how much is needed and how much is free."""


def make_plan(datadir: Path, labels_per_unit: int, margin: int, max_units: int = 0,
              rate: float | None = None) -> Plan:
    free = shutil.disk_usage(datadir).free
    unit_bytes = labels_per_unit * LABEL_SIZE
    units = max(0, (free - margin) // unit_bytes)
    if max_units:
        units = min(units, max_units)
    if units < 1:
        raise NoSpaceError(
            f"the drive is full: one unit needs {unit_bytes + margin} bytes free "
            f"({unit_bytes} of data + {margin} margin), {free} are free. Free some space or use a "
            "bigger drive; nothing was written."
        )
    labels = units * labels_per_unit
    return Plan(num_units=units, labels_per_unit=labels_per_unit, bytes_total=labels * LABEL_SIZE,
                free_bytes=free, margin_bytes=margin, labels_per_second=rate,
                eta_seconds=labels / rate if rate else None)
