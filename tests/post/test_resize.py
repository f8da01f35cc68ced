"""Resizing a dataset mid-init keeps the labels written: after growing or shrinking (past the
recorded VRF minimum too, which forces a re-scan) and finishing, files and metadata — the VRF
nonce included — are byte-identical to a dataset initialized at the new size from scratch."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from appliance.post.initializer import Initializer
from appliance.post.metadata import PostMetadata, read_metadata
from appliance.post.resize import ResizeError, apply_resize, plan_resize
from appliance.post.writer import read_init_state

NODE, ATX = b"\x07" * 32, b"\x09" * 32
LPU, N, FILE = 256, 16, 1024  # 64 labels per file


def _meta(units: int) -> PostMetadata:
    return PostMetadata(NODE, ATX, LPU, units, FILE)


def _partial(datadir: Path, units: int, stop_at: int) -> int:
    stop = threading.Event()

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        if p.position >= stop_at:
            stop.set()

    return Initializer(datadir, _meta(units), scrypt_n=N, job_labels=32).run(stop, progress).position


def _files(datadir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(datadir.glob("postdata_*.bin"))}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[int, tuple[dict[str, bytes], PostMetadata]]:  # type: ignore[no-untyped-def]
    out = {}
    for units in (1, 2, 4):
        path = tmp_path_factory.mktemp(f"fresh{units}")
        assert Initializer(path, _meta(units), scrypt_n=N).run().complete
        out[units] = (_files(path), read_metadata(path))
    return out


@pytest.mark.parametrize(("units", "stop_at", "new_units"), [
    (2, 300, 4),  # grow: everything kept, the minimum checked against the lower threshold
    (4, 200, 2),  # shrink, nothing beyond the new end yet
    (4, 700, 1),  # shrink below what was written: labels beyond are dropped, the minimum searched again
    (1, 96, 4),
])
def test_resize_keeps_labels_and_ends_identical_to_a_fresh_dataset(tmp_path, fresh, units, stop_at,
                                                                   new_units) -> None:
    written = _partial(tmp_path, units, stop_at)
    assert 0 < written < units * LPU
    plan = plan_resize(tmp_path, new_units)
    assert plan.kept == min(written, new_units * LPU) and plan.dropped == written - plan.kept
    apply_resize(tmp_path, plan)
    assert read_init_state(tmp_path).position == plan.kept
    result = Initializer(tmp_path, _meta(new_units), scrypt_n=N).run()
    assert result.complete
    files, meta = fresh[new_units]
    assert _files(tmp_path) == files
    done = read_metadata(tmp_path)
    assert (done.num_units, done.nonce, done.nonce_value) == (new_units, meta.nonce, meta.nonce_value)


def test_a_shrink_past_the_recorded_minimum_searches_the_kept_labels(tmp_path, fresh) -> None:
    _partial(tmp_path, 4, 700)
    assert read_init_state(tmp_path).vrf_index >= LPU  # this dataset's minimum lies beyond 1 unit
    plan = plan_resize(tmp_path, 1)
    assert plan.rescanned and plan.state.vrf_index == fresh[1][1].nonce


def test_unreadable_labels_refuse_the_resize_and_change_nothing(tmp_path) -> None:
    _partial(tmp_path, 4, 700)
    state_before = (tmp_path / "smeshbox_init_state.json").read_bytes()
    meta_before = (tmp_path / "postdata_metadata.json").read_bytes()
    (tmp_path / "postdata_1.bin").write_bytes(b"")  # a file cut short under the data
    with pytest.raises(ResizeError, match="shorter"):
        plan_resize(tmp_path, 1)
    assert (tmp_path / "smeshbox_init_state.json").read_bytes() == state_before
    assert (tmp_path / "postdata_metadata.json").read_bytes() == meta_before


def test_data_this_box_did_not_write_cannot_be_resized(tmp_path) -> None:
    assert Initializer(tmp_path, _meta(1), scrypt_n=N).run().complete
    (tmp_path / "smeshbox_init_state.json").unlink()
    with pytest.raises(ResizeError, match="not written by this box"):
        plan_resize(tmp_path, 2)
