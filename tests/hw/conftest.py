"""A fake sysfs tree made of real files, shaped like a Raspberry Pi 5's."""

from __future__ import annotations

from pathlib import Path

import pytest


def put(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return path


def pi_tree(root: Path) -> Path:
    put(root, "sys/class/thermal/thermal_zone0/type", "cpu-thermal")
    put(root, "sys/class/thermal/thermal_zone0/temp", "51234")
    put(root, "sys/class/hwmon/hwmon0/name", "cpu_thermal")
    put(root, "sys/class/hwmon/hwmon0/temp1_input", "51234")
    put(root, "sys/class/hwmon/hwmon2/name", "pwmfan")
    put(root, "sys/class/hwmon/hwmon2/pwm1", "128")
    put(root, "sys/class/hwmon/hwmon2/fan1_input", "2900")
    put(root, "sys/class/hwmon/hwmon1/name", "rpi_volt")
    put(root, "sys/class/hwmon/hwmon1/in0_lcrit_alarm", "0")
    put(root, "sys/devices/platform/soc/soc:firmware/get_throttled", "0")
    return root


@pytest.fixture
def sysfs(tmp_path: Path) -> Path:
    return pi_tree(tmp_path / "root")


@pytest.fixture(name="put")
def put_fixture():  # type: ignore[no-untyped-def]
    """``put(root, rel, text)`` writes one sysfs file (tests change the tree as they go)."""
    return put
