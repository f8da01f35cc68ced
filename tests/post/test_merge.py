"""``post merge``: postcli-style partial folders become one dataset that check, prove and verify accept,
byte-identical to a local init; every inconsistent input is refused and leaves the target untouched."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.post import native
from appliance.post.initializer import Initializer
from appliance.post.labels import full_label
from appliance.post.layout import file_label_range, file_name
from appliance.post.merge import MergeError, merge_datasets
from appliance.post.metadata import PostMetadata, read_metadata, write_metadata
from appliance.post.params import commitment, vrf_threshold

pytestmark = pytest.mark.usefixtures("need_labels")
ROOT = Path(__file__).resolve().parents[2]
N = 16
CHALLENGE = "ab" * 32
EASY = ["--k1", "8", "--k2", "12", "--pow-difficulty", "ff" * 32]


def postcli_subset(datadir: Path, meta: PostMetadata, first: int, last: int) -> None:
    """What ``postcli -fromFile first -toFile last`` leaves (spacemeshos/post@d483b39
    initialization/initialization.go ``initFile``): files first..last and a metadata whose Nonce /
    NonceValue (16 bytes) is the smallest label below PowDifficulty within those files, or none."""
    datadir.mkdir(parents=True)
    com = commitment(meta.node_id, meta.commitment_atx_id)
    best: tuple[bytes, int] | None = None
    for index in range(first, last + 1):
        start, end = file_label_range(meta, index)
        data, hit = native.labels(com, N, start, end - start, vrf_threshold=vrf_threshold(meta.total_labels))
        (datadir / file_name(index)).write_bytes(data)
        if hit is not None and (best is None or hit.label < best[0]):
            best = (hit.label, hit.index)
    nonce = None if best is None else best[1]
    write_metadata(datadir, replace(meta, nonce=nonce, nonce_value=None if best is None else best[0][:16]))


def post(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", "post", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture
def subsets(tmp_path: Path, make_meta) -> tuple[PostMetadata, list[Path]]:
    meta = make_meta()  # 8 files of 64 labels
    parts = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    for path, (first, last) in zip(parts, [(0, 2), (3, 5), (6, 7)], strict=True):
        postcli_subset(path, meta, first, last)
    return meta, parts


@pytest.mark.usefixtures("need_k2pow")
def test_merge_equals_local_init_and_proves(tmp_path: Path, subsets) -> None:
    meta, parts = subsets
    local = tmp_path / "local"
    assert Initializer(local, meta, N, threads=2).run().complete
    merged = tmp_path / "merged"
    proc = post("merge", *parts, "--into", merged, "--scrypt-n", N, "--samples", 8)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["files"] == 8 and report["copied_files"] == 8 and report["sampled_labels"] == 64
    for index in range(8):
        assert (merged / file_name(index)).read_bytes() == (local / file_name(index)).read_bytes()
    # the smallest of the subsets' nonces is kept, the one a single local init finds
    claimed = [read_metadata(p) for p in parts]
    assert sum(m.nonce is not None for m in claimed) >= 2, "the fixture should give competing nonces"
    assert read_metadata(merged) == read_metadata(local)
    assert report["nonce"] == min((m.nonce_value, m.nonce) for m in claimed if m.nonce is not None)[1]

    assert json.loads(post("check", "--datadir", merged, "--fraction", 100).stdout)["ok"] is True
    proc = post("prove", "--datadir", merged, "--challenge", CHALLENGE, *EASY, "--threads", 2)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "proof.json").write_text(proc.stdout)
    verify = post(
        "verify",
        "--datadir",
        merged,
        "--challenge",
        CHALLENGE,
        "--proof",
        tmp_path / "proof.json",
        *EASY,
        "--scrypt-n",
        N,
    )
    assert verify.returncode == 0 and json.loads(verify.stdout) == {"valid": True}, verify.stderr
    # running it again (e.g. after a power cut mid-merge) copies nothing and changes nothing
    again = merge_datasets(parts, merged, N)
    assert again.copied_files == 0 and read_metadata(merged) == read_metadata(local)


def test_merge_move_into_a_source(tmp_path: Path, subsets) -> None:
    meta, parts = subsets
    report = merge_datasets(parts[1:], parts[0], N, move=True)
    assert report.moved_files == 5 and report.copied_files == 0
    assert not list(parts[1].glob("*.bin"))
    assert read_metadata(parts[0]).last_position == meta.total_labels


def test_moving_merge_cut_short_resumes(tmp_path: Path, subsets) -> None:
    """A power cut after some files were renamed into the target, before its metadata (written
    last): the target's files count as a source, so the next run finishes the same dataset."""
    meta, parts = subsets
    into = tmp_path / "into"
    into.mkdir()
    for index in (3, 4):  # what the first run had moved when the power went
        (parts[1] / file_name(index)).rename(into / file_name(index))
    steps: list[str] = []
    report = merge_datasets(parts, into, N, move=True, progress=steps.append)
    assert report.moved_files == 6 and read_metadata(into).last_position == meta.total_labels
    assert sorted(p.name for p in into.glob("*.bin")) == sorted(file_name(i) for i in range(8))
    assert steps[0] == "reading 3 folder(s)" and "placing file 8 of 8" in steps


def _fails(parts: list[Path], into: Path, *words: str) -> None:
    with pytest.raises(MergeError) as info:
        merge_datasets(parts, into, N)
    for word in words:
        assert word in str(info.value), str(info.value)
    assert not (into / "postdata_metadata.json").exists()


def test_merge_refuses_other_identity(tmp_path: Path, subsets) -> None:
    meta, parts = subsets
    write_metadata(parts[1], replace(read_metadata(parts[1]), node_id=bytes(32)))
    _fails(parts, tmp_path / "out", "NodeId differs")
    write_metadata(
        parts[1], replace(read_metadata(parts[1]), node_id=meta.node_id, commitment_atx_id=bytes(32))
    )
    _fails(parts, tmp_path / "out", "CommitmentAtxId differs")
    write_metadata(
        parts[1], replace(read_metadata(parts[1]), commitment_atx_id=meta.commitment_atx_id, num_units=3)
    )
    _fails(parts, tmp_path / "out", "NumUnits differs")


def test_merge_refuses_bad_files(tmp_path: Path, subsets) -> None:
    _meta, parts = subsets
    out = tmp_path / "out"
    _fails(parts[:2], out, "files 6-7 of 8 are in no source")
    path = parts[1] / file_name(4)
    good = path.read_bytes()
    path.write_bytes(good[:-16])
    _fails(parts, out, "postdata_4.bin", "is 1008 bytes", "interrupted")
    path.write_bytes(good[:16] + bytes([good[16] ^ 1]) + good[17:])
    with pytest.raises(MergeError, match="does not recompute"):
        merge_datasets(parts, out, N, samples_per_file=64)
    path.write_bytes(good)
    (parts[2] / file_name(4)).write_bytes(bytes(len(good)))  # a second, different copy of file 4
    _fails(parts, out, "postdata_4.bin is in", "different bytes")
    (parts[2] / file_name(4)).write_bytes(good)  # the same copy twice is fine
    assert merge_datasets(parts, out, N).files == 8


def test_merge_refuses_forged_nonce(tmp_path: Path, subsets) -> None:
    _meta, parts = subsets
    holder = next(p for p in parts if read_metadata(p).nonce is not None)
    meta = read_metadata(holder)
    write_metadata(holder, replace(meta, nonce_value=bytes(16)))
    _fails(parts, tmp_path / "out", "NonceValue", "is not the label at Nonce")
    com, threshold = commitment(meta.node_id, meta.commitment_atx_id), vrf_threshold(meta.total_labels)
    not_below = next(i for i in range(meta.total_labels) if full_label(com, N, i) >= threshold)
    write_metadata(holder, replace(meta, nonce=not_below, nonce_value=None))
    _fails(parts, tmp_path / "out", "not below the VRF threshold")
    for part in parts:
        write_metadata(part, replace(read_metadata(part), nonce=None, nonce_value=None))
    _fails(parts, tmp_path / "out", "no source holds a VRF nonce")
