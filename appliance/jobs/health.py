"""Power and thermal trouble read from sysfs, the reasons to pause init until it clears.

* undervoltage: the Raspberry Pi firmware's ``rpi_volt`` hwmon sets ``in0_lcrit_alarm``;
* thermal: a thermal zone at or above its first ``critical``/``hot`` trip point, or above
  ``max_celsius``.

``root`` is "/" on a box; tests point it at a folder laid out like sysfs.
"""

from __future__ import annotations

from pathlib import Path


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def undervoltage(root: Path) -> str | None:
    # Only the Pi firmware's sensor: PC super-I/O chips often report meaningless *_min_alarm bits,
    # which would stall init on a developer's machine for no reason.
    for hwmon in sorted((root / "sys/class/hwmon").glob("hwmon*")):
        try:
            name = (hwmon / "name").read_text().strip()
        except OSError:
            continue
        if name == "rpi_volt" and _read_int(hwmon / "in0_lcrit_alarm") == 1:
            return "undervoltage reported by the Pi firmware (rpi_volt): use a stronger power supply"
    return None


def overheating(root: Path, max_celsius: float = 80.0) -> str | None:
    for zone in sorted((root / "sys/class/thermal").glob("thermal_zone*")):
        temp = _read_int(zone / "temp")
        if temp is None:
            continue
        limit = max_celsius * 1000
        for trip_type in sorted(zone.glob("trip_point_*_type")):
            kind = trip_type.read_text().strip() if trip_type.exists() else ""
            trip = _read_int(trip_type.with_name(trip_type.name.replace("_type", "_temp")))
            if kind in ("hot", "critical") and trip:
                limit = min(limit, trip)
        if temp >= limit:
            return f"too hot: {temp / 1000:.1f} °C (limit {limit / 1000:.1f} °C); improve cooling"
    return None


def problems(root: Path, max_celsius: float = 80.0) -> dict[str, str]:
    found = {"undervoltage": undervoltage(root), "thermal": overheating(root, max_celsius)}
    return {key: text for key, text in found.items() if text}
