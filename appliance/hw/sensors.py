"""Box sensors read from sysfs: CPU temperature (thermal zones, hwmon), fan PWM/RPM (hwmon), and the
Raspberry Pi firmware's throttling/undervoltage flags.

Every path is taken relative to a configurable root so tests (and a dev machine) can point it at a
tree of real files. A file that exists but holds garbage is reported as a ``SensorError`` problem in
the reading, never silently turned into a number; a file that does not exist means "no such sensor".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

THERMAL = "sys/class/thermal"
HWMON = "sys/class/hwmon"
THROTTLED = "sys/devices/platform/soc/soc:firmware/get_throttled"
# Zone types that are the SoC/CPU on the boards we ship on, best first.
CPU_ZONE_TYPES = ("cpu-thermal", "cpu_thermal", "soc_thermal", "x86_pkg_temp", "soc-thermal")
CPU_HWMON_NAMES = ("cpu_thermal", "coretemp", "k10temp", "soc_thermal")
# Sensible physical bounds: a reading outside them is a broken sensor, not a hot box.
TEMP_MIN_C, TEMP_MAX_C = -40.0, 150.0

# get_throttled bits (Raspberry Pi firmware mailbox, documented for vcgencmd get_throttled).
UNDERVOLTAGE_NOW = 1 << 0
FREQ_CAPPED_NOW = 1 << 1
THROTTLED_NOW = 1 << 2
SOFT_TEMP_LIMIT_NOW = 1 << 3
UNDERVOLTAGE_OCCURRED = 1 << 16
FREQ_CAPPED_OCCURRED = 1 << 17
THROTTLED_OCCURRED = 1 << 18
SOFT_TEMP_LIMIT_OCCURRED = 1 << 19


class SensorError(Exception):
    """A sensor file exists but cannot be read or does not hold a valid value."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Throttling:
    raw: int
    undervoltage: bool
    freq_capped: bool
    throttled: bool
    soft_temp_limit: bool
    undervoltage_occurred: bool
    freq_capped_occurred: bool
    throttled_occurred: bool
    soft_temp_limit_occurred: bool

    @classmethod
    def from_raw(cls, raw: int) -> Throttling:
        return cls(
            raw=raw,
            undervoltage=bool(raw & UNDERVOLTAGE_NOW),
            freq_capped=bool(raw & FREQ_CAPPED_NOW),
            throttled=bool(raw & THROTTLED_NOW),
            soft_temp_limit=bool(raw & SOFT_TEMP_LIMIT_NOW),
            undervoltage_occurred=bool(raw & UNDERVOLTAGE_OCCURRED),
            freq_capped_occurred=bool(raw & FREQ_CAPPED_OCCURRED),
            throttled_occurred=bool(raw & THROTTLED_OCCURRED),
            soft_temp_limit_occurred=bool(raw & SOFT_TEMP_LIMIT_OCCURRED),
        )


@dataclass(frozen=True)
class Fan:
    hwmon: str  # e.g. "pwmfan"
    pwm: int  # 0..255 duty
    percent: float
    rpm: int | None


@dataclass(frozen=True)
class SensorReading:
    cpu_temp_c: float | None = None
    cpu_temp_source: str | None = None
    temperatures: dict[str, float] = field(default_factory=dict)
    fans: list[Fan] = field(default_factory=list)
    throttling: Throttling | None = None
    undervoltage: bool = False  # now, from the firmware flags or the rpi_volt hwmon alarm
    problems: list[str] = field(default_factory=list)


def _read_text(path: Path) -> str | None:
    """File content stripped, or None when the file does not exist."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:  # EIO from a driver, EACCES, binary junk
        raise SensorError(path, f"unreadable ({exc})") from exc


def read_int(path: Path, base: int = 10) -> int | None:
    text = _read_text(path)
    if text is None:
        return None
    try:
        return int(text, base)
    except ValueError:
        raise SensorError(path, f"not an integer: {text[:40]!r}") from None


def read_millicelsius(path: Path) -> float | None:
    value = read_int(path)
    if value is None:
        return None
    celsius = value / 1000.0
    if not TEMP_MIN_C <= celsius <= TEMP_MAX_C:
        raise SensorError(path, f"{celsius:.1f} °C is outside {TEMP_MIN_C}..{TEMP_MAX_C}")
    return celsius


def read_throttled(root: Path) -> Throttling | None:
    """The firmware prints the flags in hex without a prefix (e.g. ``50005``)."""
    path = root / THROTTLED
    text = _read_text(path)
    if text is None:
        return None
    try:
        raw = int(text, 16)
    except ValueError:
        raise SensorError(path, f"not a hex flag word: {text[:40]!r}") from None
    if raw < 0 or raw >= 1 << 32:
        raise SensorError(path, f"flag word {text!r} out of range")
    return Throttling.from_raw(raw)


def _sorted_dirs(folder: Path, prefix: str) -> list[Path]:
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.name.startswith(prefix) and p.name[len(prefix) :].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(prefix) :]))


def read_fan(hwmon_dir: Path, name: str) -> Fan | None:
    pwm = read_int(hwmon_dir / "pwm1")
    if pwm is None:
        return None
    if not 0 <= pwm <= 255:
        raise SensorError(hwmon_dir / "pwm1", f"duty {pwm} outside 0..255")
    rpm = read_int(hwmon_dir / "fan1_input")
    if rpm is not None and rpm < 0:
        raise SensorError(hwmon_dir / "fan1_input", f"negative speed {rpm}")
    return Fan(hwmon=name, pwm=pwm, percent=round(pwm * 100 / 255, 1), rpm=rpm)


def _collect(problems: list[str], fn: Callable[..., T], *args: Any) -> T | None:
    """Runs one sensor read; a SensorError becomes a problem line and the sensor reads as absent."""
    try:
        return fn(*args)
    except SensorError as exc:
        problems.append(str(exc))
        return None


def read_sensors(root: str | Path = "/") -> SensorReading:
    """One pass over the tree. Blocking file I/O: call it in a thread from the loop."""
    root = Path(root)
    problems: list[str] = []
    temperatures: dict[str, float] = {}
    zone_types: dict[str, str] = {}
    for zone in _sorted_dirs(root / THERMAL, "thermal_zone"):
        kind = _collect(problems, _read_text, zone / "type") or zone.name
        value = _collect(problems, read_millicelsius, zone / "temp")
        if value is not None:
            key = f"thermal:{kind}"
            temperatures[key] = value
            zone_types[kind] = key
    fans: list[Fan] = []
    alarm = False
    for hw in _sorted_dirs(root / HWMON, "hwmon"):
        name = _collect(problems, _read_text, hw / "name") or hw.name
        value = _collect(problems, read_millicelsius, hw / "temp1_input")
        if value is not None:
            temperatures[f"hwmon:{name}"] = value
            zone_types.setdefault(name, f"hwmon:{name}")
        fan = _collect(problems, read_fan, hw, name)
        if fan is not None:
            fans.append(fan)
        if name == "rpi_volt":  # Pi 4/5 kernel driver: in0_lcrit_alarm = supply below 4.63 V
            alarm = alarm or bool(_collect(problems, read_int, hw / "in0_lcrit_alarm"))
    throttling = _collect(problems, read_throttled, root)
    source = next((zone_types[t] for t in (*CPU_ZONE_TYPES, *CPU_HWMON_NAMES) if t in zone_types), None)
    if source is None and temperatures:
        source = next(iter(temperatures))
    return SensorReading(
        cpu_temp_c=temperatures.get(source) if source else None,
        cpu_temp_source=source,
        temperatures=temperatures,
        fans=fans,
        throttling=throttling,
        undervoltage=alarm or bool(throttling and throttling.undervoltage),
        problems=problems,
    )
