"""Shared fixtures of the post tests: the pure-Python reference oracle (../shared/spec beside the
clone) and skips for native pieces that have not landed in the C core yet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from appliance.post import native
from appliance.post.metadata import PostMetadata

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec"
NODE_ID = bytes([1]) * 32
# RandomX light mode everywhere in tests (children inherit it): fast mode would build a 2 GiB dataset.
os.environ["SMESHBOX_RANDOMX"] = "light"
ATX_ID = bytes([2]) * 32


@pytest.fixture(scope="session")
def ref() -> ModuleType:
    if not (SPEC / "post_reference.py").exists():
        pytest.fail(f"the reference oracle is missing: {SPEC / 'post_reference.py'}")
    sys.path.insert(0, str(SPEC))
    import post_reference

    return post_reference


def _supported(call) -> bool:
    try:
        call()
    except native.NativeUnsupported:
        return False
    return True


@pytest.fixture(scope="session")
def need_labels() -> None:
    if not _supported(lambda: native.labels(bytes(32), 2, 0, 1)):
        pytest.skip("sp_labels is not in the native module yet")


@pytest.fixture(scope="session")
def need_scan(need_labels: None) -> None:
    if not _supported(lambda: native.label_test(bytes(16), bytes(16), bytes(16), 0, 1)):
        pytest.skip("sp_label_test is not in the native module yet")


@pytest.fixture(scope="session")
def need_k2pow(need_scan: None) -> None:
    from appliance.post import k2pow

    if not _supported(lambda: k2pow.context(False)):
        pytest.skip("sp_k2pow is not in the native module yet")


@pytest.fixture
def make_meta():
    """Metadata of a small data set (node id 0x01×32, ATX id 0x02×32) with several 1 KiB files."""

    def make(labels_per_unit: int = 256, num_units: int = 2, max_file_size: int = 1024) -> PostMetadata:
        return PostMetadata(NODE_ID, ATX_ID, labels_per_unit, num_units, max_file_size)

    return make


class Mount:
    """A directory on its own tmpfs (as root) that a test can make read-only or fill up; without root
    it falls back to directory permissions and ``full`` is unavailable."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        self.root = os.geteuid() == 0 and shutil.which("mount") is not None
        path.mkdir()
        if self.root:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)

    def _set(self, writable: bool) -> None:
        if self.root:
            subprocess.run(
                ["mount", "-o", "remount," + ("rw" if writable else "ro"), str(self.path)], check=True
            )
            return
        for sub in [self.path, *[p for p in self.path.rglob("*") if p.is_dir()]]:
            sub.chmod(0o700 if writable else 0o500)

    def read_only(self) -> None:
        self._set(False)

    def read_write(self) -> None:
        self._set(True)

    def close(self) -> None:
        if self.root:
            subprocess.run(["umount", str(self.path)], check=False)


@pytest.fixture
def mount(tmp_path: Path):
    """A factory of small tmpfs mounts (see ``Mount``), unmounted after the test."""
    made: list[Mount] = []

    def make(size: str = "1m") -> Mount:
        made.append(Mount(tmp_path / f"mnt{len(made)}", size))
        return made[-1]

    yield make
    for item in made:
        item.close()
