"""``python -m appliance hw`` commands, called through their register/run pair."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from appliance.hw import cli


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser)
    return cli.run(parser.parse_args(argv))


def test_screen_command_writes_a_png_with_the_qr(sysfs: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "screen.png"
    url = "http://198.51.100.7:8080/"
    assert (
        run(["screen", "--out", str(out), "--url", url, "--ip", "198.51.100.7", "--sysfs", str(sysfs)]) == 0
    )
    assert json.loads(capsys.readouterr().out)["png"] == str(out)
    with Image.open(out) as img:
        assert img.size == (512, 256)
        assert [r.text.lower() for r in zxingcpp.read_barcodes(img)] == [url]  # upper case: a smaller code


def test_sensors_command_prints_json(sysfs: Path, capsys) -> None:
    assert run(["sensors", "--sysfs", str(sysfs)]) == 0
    reading = json.loads(capsys.readouterr().out)
    assert reading["cpu_temp_c"] == pytest.approx(51.234) and reading["fans"][0]["pwm"] == 128


def test_bad_scale_is_refused(tmp_path: Path, capsys) -> None:
    assert run(["screen", "--out", str(tmp_path / "x.png"), "--scale", "0", "--sysfs", str(tmp_path)]) == 2
    assert "scale 0 outside" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
