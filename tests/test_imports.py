"""Every module imports on its own (catches import cycles, as python-zeroconf's test does)."""

import importlib
import pkgutil
import subprocess
import sys

import pytest

import appliance


def _modules() -> list[str]:
    names = ["appliance"]
    for info in pkgutil.walk_packages(appliance.__path__, "appliance."):
        if info.name.rsplit(".", 1)[-1] in {"__main__"}:
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module", _modules())
def test_module_imports_alone(module: str) -> None:
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_walk_finds_domains() -> None:
    names = _modules()
    for domain in ("post", "drives", "node", "web", "discovery", "hw", "system", "ota", "devnet"):
        assert f"appliance.{domain}" in names
    importlib.import_module("appliance.cli")
