"""Initialization: end to end against the reference, stop/pause/resume, torn writes, the external
batch writer, refusals, and read-only / full disks (real tmpfs mounts when root)."""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import replace

import pytest

from appliance.post import layout
from appliance.post.initializer import Initializer
from appliance.post.labels import LabelBatch, commitment, compute_batch, compute_labels
from appliance.post.metadata import MetadataError, read_metadata, write_metadata
from appliance.post.params import vrf_threshold
from appliance.post.writer import STATE_FILE, BatchRejected, InitDiskError, InitError, LabelWriter

pytestmark = pytest.mark.usefixtures("need_labels")
COM = commitment(bytes([1]) * 32, bytes([2]) * 32)


def _on_disk(path, meta) -> bytes:
    return b"".join((path / layout.file_name(i)).read_bytes() for i in range(meta.num_files))


def _expected_nonce(fulls: list[bytes], total: int) -> int | None:
    below = [i for i in range(total) if fulls[i] < vrf_threshold(total)]
    return min(below, key=lambda i: (fulls[i], i)) if below else None


@pytest.fixture(scope="module")
def ref_fulls(ref) -> list[bytes]:
    return [ref.full_label(COM, i, 16) for i in range(320)]


def test_end_to_end_matches_reference(tmp_path, make_meta, ref_fulls) -> None:
    meta = make_meta(labels_per_unit=160, num_units=2)  # 320 labels in five 1 KiB files
    seen = []
    result = Initializer(tmp_path, meta, scrypt_n=16, threads=3, job_labels=24).run(progress=seen.append)
    assert result.complete and result.position == 320
    assert [i for i, _ in layout.list_files(tmp_path)] == [0, 1, 2, 3, 4]
    layout.check_files(tmp_path, meta)
    assert _on_disk(tmp_path, meta) == b"".join(f[:16] for f in ref_fulls)
    stored = read_metadata(tmp_path)
    nonce = _expected_nonce(ref_fulls, 320)
    assert nonce is not None and stored.nonce == nonce == result.nonce
    assert stored.nonce_value == ref_fulls[nonce][:16] and stored.last_position == 320
    assert seen[-1].position == 320 and seen[-1].eta_seconds == 0
    assert all(a.position < b.position for a, b in itertools.pairwise(seen))
    # running again is a no-op
    again = Initializer(tmp_path, meta, scrypt_n=16).run()
    assert again.complete and again.nonce == nonce and _on_disk(tmp_path, meta)[:16] == ref_fulls[0][:16]


def test_stop_resume_and_torn_tail_are_byte_identical(tmp_path, make_meta) -> None:
    meta = make_meta(labels_per_unit=1000, num_units=3)
    stop = threading.Event()

    def stop_early(progress) -> None:
        if progress.position >= 700:
            stop.set()

    first = Initializer(tmp_path, meta, 32, threads=2, job_labels=50, commit_interval=0).run(stop, stop_early)
    assert not first.complete and 700 <= first.position < 3000
    state = json.loads((tmp_path / STATE_FILE).read_text())
    assert state["Position"] == first.position == read_metadata(tmp_path).last_position
    # a crash between the data write and the commit leaves bytes past the durable position
    last_file = layout.list_files(tmp_path)[-1][1]
    with open(last_file, "ab") as handle:
        handle.write(b"\xee" * 40)
    (tmp_path / layout.file_name(60)).write_bytes(b"junk")
    result = Initializer(tmp_path, meta, 32, threads=2, job_labels=64).run()
    assert result.complete
    assert _on_disk(tmp_path, meta) == compute_labels(COM, 32, 0, 3000)
    assert not (tmp_path / layout.file_name(60)).exists()
    full = compute_batch(COM, 32, 0, 3000)
    assert result.nonce == (full.min_index if full.min_label < vrf_threshold(3000) else None)


def test_pause_holds_then_continues(tmp_path, make_meta) -> None:
    meta = make_meta(labels_per_unit=400, num_units=1)
    pause = threading.Event()
    paused_at = []

    def on_progress(progress) -> None:
        if not paused_at:
            paused_at.append(progress.position)
            pause.set()
            threading.Timer(0.3, pause.clear).start()

    result = Initializer(tmp_path, meta, 16, threads=2, job_labels=40).run(None, on_progress, pause)
    assert result.complete and paused_at
    assert _on_disk(tmp_path, meta) == compute_labels(COM, 16, 0, 400)


def test_external_writer_checks_batches(tmp_path, make_meta) -> None:
    meta = make_meta(labels_per_unit=200, num_units=1)
    writer = LabelWriter(tmp_path, meta, 16, verify_samples=200)
    good = compute_batch(COM, 16, 0, 100, threads=2)
    tampered = bytearray(good.labels)
    tampered[37 * 16] ^= 1
    for bad, words in [
        (replace(good, labels=bytes(tampered)), "label 37 of the batch"),
        (replace(good, start=5), "starts at label 5"),
        (replace(good, min_label=bytes(32)), "does not recompute"),
        (replace(good, min_index=150), "outside the batch"),
        (replace(good, min_index=None), "both index and label"),
        (replace(good, min_label=good.min_label[:16]), "must be 32 bytes"),
        (LabelBatch(0, b"\x00" * 15), "multiple of 16"),
        (compute_batch(COM, 16, 0, 201), "beyond"),
    ]:
        with pytest.raises(BatchRejected, match=words):
            writer.append(bad)
    assert writer.position == 0 and layout.list_files(tmp_path) == []
    trusting = LabelWriter(tmp_path, meta, 16)  # no recomputation, but malformed batches still fail
    for bad in (LabelBatch(0, b"\x00" * 15), LabelBatch(0, b""), LabelBatch(3, bytes(16))):
        with pytest.raises(BatchRejected):
            trusting.append(bad)
    writer.append(good)
    writer.append(compute_batch(COM, 16, 100, 100))
    assert writer.complete
    assert _on_disk(tmp_path, meta) == compute_labels(COM, 16, 0, 200)


def test_refuses_other_identity_and_foreign_data(tmp_path, make_meta) -> None:
    meta = make_meta(labels_per_unit=64, num_units=1)
    Initializer(tmp_path, meta, 16).run()
    with pytest.raises(InitError, match="different num_units"):
        Initializer(tmp_path, make_meta(labels_per_unit=64, num_units=2), 16)
    with pytest.raises(InitError, match="another commitment or scrypt N"):
        Initializer(tmp_path, meta, 32)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "postdata_0.bin").write_bytes(b"x" * 1024)
    with pytest.raises(InitError, match="refusing to overwrite"):
        Initializer(foreign, meta, 16)
    assert (foreign / "postdata_0.bin").read_bytes() == b"x" * 1024
    (foreign / "postdata_metadata.json").write_text("{garbage")
    with pytest.raises(MetadataError, match="not valid JSON"):
        Initializer(foreign, meta, 16)


def test_short_durable_file_is_reported(tmp_path, make_meta) -> None:
    meta = make_meta(labels_per_unit=256, num_units=1)
    Initializer(tmp_path, meta, 16).run()
    (tmp_path / "postdata_1.bin").write_bytes(bytes(100))
    with pytest.raises(layout.DataFileError, match=r"postdata_1\.bin: is short"):
        Initializer(tmp_path, meta, 16)


def test_read_only_datadir_loses_nothing(mount, make_meta) -> None:
    disk = mount("1m")
    meta = make_meta(labels_per_unit=512, num_units=1)
    stop = threading.Event()
    Initializer(disk.path, meta, 16, job_labels=64, commit_interval=0).run(
        stop, lambda p: stop.set() if p.position >= 200 else None
    )
    before = {p.name: p.read_bytes() for p in disk.path.iterdir()}
    disk.read_only()
    try:
        with pytest.raises(InitDiskError, match="data already written is kept"):
            Initializer(disk.path, meta, 16).run()
        assert {p.name: p.read_bytes() for p in disk.path.iterdir()} == before
    finally:
        disk.read_write()
    assert Initializer(disk.path, meta, 16).run().complete
    assert _on_disk(disk.path, meta) == compute_labels(COM, 16, 0, 512)
    disk.read_only()  # complete data on a read-only disk: init is a no-op, not an error
    try:
        assert Initializer(disk.path, meta, 16).run().complete
    finally:
        disk.read_write()


def test_full_disk_keeps_durable_data_and_resumes(mount, make_meta) -> None:
    disk = mount("64k")
    if not disk.root:
        pytest.skip("filling a disk needs root (a tmpfs mount)")
    meta = make_meta(labels_per_unit=8192, num_units=1, max_file_size=16384)  # 128 KiB of labels
    with pytest.raises(InitDiskError, match="No space left on device"):
        Initializer(disk.path, meta, 16, job_labels=512, commit_interval=0).run()
    durable = read_metadata(disk.path).last_position
    assert durable and durable < 8192
    assert b"".join(p.read_bytes() for _, p in layout.list_files(disk.path))[
        : durable * 16
    ] == compute_labels(COM, 16, 0, durable)
    import subprocess

    subprocess.run(["mount", "-o", "remount,size=1m", str(disk.path)], check=True)
    assert Initializer(disk.path, meta, 16).run().complete
    assert _on_disk(disk.path, meta) == compute_labels(COM, 16, 0, 8192)
    write_metadata(disk.path, read_metadata(disk.path))  # the metadata still validates and rewrites
