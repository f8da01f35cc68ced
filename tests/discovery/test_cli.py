"""``python -m appliance find``: a table for people, JSON on --json, a plain sentence when no box
answered (and a non-zero exit, so scripts can tell)."""

from __future__ import annotations

import argparse
import json

import pytest

from appliance.discovery import cli
from appliance.discovery.browser import FoundBox

BOXES = [FoundBox("Smeshbox 3fa9c2", "smeshbox.local", 80, ["192.168.1.20"], "0.1.0", "3fa9c2", "/api/v1"),
         FoundBox("Smeshbox 9f743a-2", "smeshbox-2.local", 8080, ["192.168.1.31", "10.0.0.4"], "0.1.0", "9f",
                  "/api/v1")]


def _run(monkeypatch: pytest.MonkeyPatch, boxes: list[FoundBox], *flags: str) -> int:
    async def fake_find(interfaces: object, timeout: float) -> list[FoundBox]:
        return boxes

    monkeypatch.setattr(cli, "find_smeshboxes", fake_find)
    parser = argparse.ArgumentParser()
    cli.register(parser)
    return cli.run(parser.parse_args(list(flags)))


def test_table_by_default(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(monkeypatch, BOXES) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "OPEN", "IN", "A", "BROWSER", "ADDRESS", "VERSION"]
    assert "http://smeshbox.local/" in lines[1] and "http://smeshbox-2.local:8080/" in lines[2]
    assert "192.168.1.31, 10.0.0.4" in lines[2] and lines[-1] == "2 boxes found."
    assert lines[1].index("http://") == lines[2].index("http://")  # columns line up


def test_json_on_request_and_nothing_found(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(monkeypatch, BOXES[:1], "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["api_url"] == "http://192.168.1.20:80/api/v1"
    assert _run(monkeypatch, [], "--timeout", "2") == 1
    assert capsys.readouterr().out.startswith("No Smeshbox answered within 2 s.")
    assert _run(monkeypatch, [], "--json") == 1
    assert json.loads(capsys.readouterr().out) == []
