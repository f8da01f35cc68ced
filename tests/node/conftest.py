"""Shared fixtures for node tests: the conformance vectors from the spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

VECTORS_PATH = Path(__file__).resolve().parents[3] / "shared" / "spec" / "node-vectors.json"


def load_vectors() -> dict[str, Any]:
    if not VECTORS_PATH.exists():
        pytest.skip(f"conformance vectors not found at {VECTORS_PATH}")
    return json.loads(VECTORS_PATH.read_text())


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return load_vectors()
