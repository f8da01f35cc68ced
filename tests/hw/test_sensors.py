"""Sensors read from a fake sysfs tree of real files; broken files become problems, not numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.hw.sensors import SensorError, Throttling, read_millicelsius, read_sensors


def test_pi_tree(sysfs: Path) -> None:
    r = read_sensors(sysfs)
    assert r.problems == []
    assert r.cpu_temp_c == pytest.approx(51.234)
    assert r.cpu_temp_source == "thermal:cpu-thermal"
    assert r.temperatures == {"thermal:cpu-thermal": 51.234, "hwmon:cpu_thermal": 51.234}
    assert len(r.fans) == 1
    fan = r.fans[0]
    assert (fan.hwmon, fan.pwm, fan.percent, fan.rpm) == ("pwmfan", 128, 50.2, 2900)
    assert r.throttling == Throttling.from_raw(0) and not r.undervoltage


def test_throttled_flags_decoded_from_hex(sysfs: Path, put) -> None:
    put(sysfs, "sys/devices/platform/soc/soc:firmware/get_throttled", "50005")
    r = read_sensors(sysfs)
    t = r.throttling
    assert t is not None and t.raw == 0x50005
    assert t.undervoltage and t.throttled and not t.freq_capped and not t.soft_temp_limit
    assert t.undervoltage_occurred and t.throttled_occurred and not t.freq_capped_occurred
    assert r.undervoltage


def test_undervoltage_from_rpi_volt_alarm(sysfs: Path, put) -> None:
    put(sysfs, "sys/class/hwmon/hwmon1/in0_lcrit_alarm", "1")
    r = read_sensors(sysfs)
    assert r.undervoltage and r.throttling is not None and not r.throttling.undervoltage


def test_x86_tree_prefers_package_zone(tmp_path: Path, put) -> None:
    put(tmp_path, "sys/class/thermal/thermal_zone0/type", "acpitz")
    put(tmp_path, "sys/class/thermal/thermal_zone0/temp", "27800")
    put(tmp_path, "sys/class/thermal/thermal_zone10/type", "x86_pkg_temp")
    put(tmp_path, "sys/class/thermal/thermal_zone10/temp", "45000")
    put(tmp_path, "sys/class/thermal/thermal_zone2/type", "iwlwifi_1")
    put(tmp_path, "sys/class/thermal/thermal_zone2/temp", "39000")
    r = read_sensors(tmp_path)
    assert r.cpu_temp_c == 45.0 and r.cpu_temp_source == "thermal:x86_pkg_temp"
    assert list(r.temperatures) == ["thermal:acpitz", "thermal:iwlwifi_1", "thermal:x86_pkg_temp"]
    assert r.throttling is None and r.fans == [] and r.problems == []


def test_unknown_zone_falls_back_to_first(tmp_path: Path, put) -> None:
    put(tmp_path, "sys/class/thermal/thermal_zone0/type", "board")
    put(tmp_path, "sys/class/thermal/thermal_zone0/temp", "33000")
    assert read_sensors(tmp_path).cpu_temp_c == 33.0


def test_empty_tree_has_no_sensors(tmp_path: Path) -> None:
    r = read_sensors(tmp_path)
    assert (r.cpu_temp_c, r.cpu_temp_source, r.temperatures, r.fans, r.throttling, r.problems) == (
        None, None, {}, [], None, [],
    )  # fmt: skip


# ---- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "text", "message"),
    [
        ("sys/class/thermal/thermal_zone0/temp", "hot", "not an integer: 'hot'"),
        ("sys/class/thermal/thermal_zone0/temp", "999999", "1000.0 °C is outside"),
        ("sys/class/thermal/thermal_zone0/temp", "", "not an integer: ''"),
        ("sys/class/hwmon/hwmon2/pwm1", "300", "duty 300 outside 0..255"),
        ("sys/class/hwmon/hwmon2/pwm1", "-1", "duty -1 outside"),
        ("sys/class/hwmon/hwmon2/fan1_input", "-5", "negative speed -5"),
        ("sys/class/hwmon/hwmon1/in0_lcrit_alarm", "maybe", "not an integer: 'maybe'"),
        ("sys/devices/platform/soc/soc:firmware/get_throttled", "0xzz", "not a hex flag word"),
        ("sys/devices/platform/soc/soc:firmware/get_throttled", "1ffffffff", "out of range"),
    ],
)
def test_garbage_files_are_reported_and_other_sensors_still_read(
    sysfs: Path, rel: str, text: str, message: str, put
) -> None:
    path = put(sysfs, rel, text)
    r = read_sensors(sysfs)
    assert len(r.problems) == 1
    assert str(path) in r.problems[0] and message in r.problems[0]
    # Whatever broke, the other sensors are still there.
    assert r.temperatures.get("hwmon:cpu_thermal") == pytest.approx(51.234)
    assert path.read_text() == text + "\n"  # nothing was rewritten


def test_bad_cpu_zone_falls_back_to_hwmon(sysfs: Path, put) -> None:
    put(sysfs, "sys/class/thermal/thermal_zone0/temp", "nan")
    r = read_sensors(sysfs)
    assert r.cpu_temp_c == pytest.approx(51.234) and r.cpu_temp_source == "hwmon:cpu_thermal"


def test_unreadable_file_is_a_sensor_error(tmp_path: Path) -> None:
    (tmp_path / "temp").mkdir()  # reading a directory fails with EISDIR, as a broken driver's EIO would
    with pytest.raises(SensorError, match="unreadable") as info:
        read_millicelsius(tmp_path / "temp")
    assert info.value.path == tmp_path / "temp"
    assert read_millicelsius(tmp_path / "missing") is None
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SensorError, match="unreadable"):
        read_millicelsius(tmp_path / "bin")
