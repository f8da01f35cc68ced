"""PostDataset: one object owns a dataset folder — its files, metadata, progress, the scrypt N it
was made with, and discarding it — on real data made by the real initializer."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from appliance.post.dataset import PostDataset
from appliance.post.initializer import Initializer
from appliance.post.layout import DataFileError
from appliance.post.metadata import MetadataError, PostMetadata
from appliance.post.proof import ProofConfig
from appliance.post.prover import generate_proof
from appliance.post.writer import DEFAULT_SCRYPT_N, STATE_FILE

NODE, ATX = bytes([7]) * 32, bytes([8]) * 32
META = PostMetadata(NODE, ATX, 160, 2, 1024)  # 320 labels in five 1 KiB files


@pytest.fixture
def made(tmp_path: Path, need_labels: None) -> PostDataset:
    Initializer(tmp_path, META, scrypt_n=16, threads=1).run()
    return PostDataset(tmp_path)


def test_a_dataset_made_here(made: PostDataset) -> None:
    meta = made.metadata()
    assert made.has_metadata() and made.node_id() == NODE and meta.total_labels == 320
    assert made.made_here() and made.scrypt_n() == 16  # from the init state, not a default
    assert made.position(meta) == 320 and made.complete(meta)
    assert [p.name for p in made.label_files()] == [f"postdata_{i}.bin" for i in range(5)]
    assert made.label_bytes() == 320 * 16 and made.has_labels()
    made.check_files(meta)


def test_half_made_data_is_not_complete(tmp_path: Path, need_labels: None) -> None:
    stop = threading.Event()
    Initializer(tmp_path, PostMetadata(NODE, ATX, 1 << 14, 4, 1 << 14), scrypt_n=16, threads=1,
                ).run(stop, lambda _progress: stop.set())  # stopped at its first durable point
    dataset = PostDataset(tmp_path)
    meta = dataset.metadata()
    assert 0 < dataset.position(meta) < meta.total_labels and not dataset.complete(meta)


def test_data_made_elsewhere(made: PostDataset, tmp_path: Path) -> None:
    """A PC's postcli writes no init state: all labels count, and scrypt N is the network's."""
    (made.datadir / STATE_FILE).unlink()
    meta = made.metadata()
    assert not made.made_here() and made.scrypt_n() == DEFAULT_SCRYPT_N
    assert PostDataset(made.datadir, default_scrypt_n=16).scrypt_n() == 16
    assert made.complete(meta)


def test_a_short_file_and_bad_metadata_are_named(made: PostDataset) -> None:
    meta = made.metadata()
    with open(made.datadir / "postdata_3.bin", "r+b") as handle:
        handle.truncate(100)
    with pytest.raises(DataFileError, match=r"postdata_3\.bin"):
        made.check_files(meta)
    made.metadata_path.write_text('{"NodeId": 5}')
    with pytest.raises(MetadataError, match="NodeId"):
        made.node_id()


def test_discard_leaves_an_empty_dataset_and_keeps_other_files(made: PostDataset) -> None:
    (made.datadir / "notes.txt").write_text("the person's own file")
    made.discard()
    assert not made.has_metadata() and not made.made_here() and not made.has_labels()
    assert made.label_files() == [] and made.label_bytes() == 0
    assert sorted(p.name for p in made.datadir.iterdir()) == ["notes.txt"]
    made.discard()  # twice is harmless (a power cut during the first)


def test_the_prover_takes_scrypt_n_from_the_dataset(made: PostDataset, tmp_path: Path,
                                                    need_k2pow: None) -> None:
    """No scrypt N handed around: the dataset says which N its labels have, and a copy made
    elsewhere (no init state) is proven with the N its owner gives the dataset."""
    config = ProofConfig(k1=8, k2=12, pow_difficulty=b"\xff" * 32)
    challenge = bytes(range(32))
    proof = generate_proof(made, challenge, config, nonces=288, threads=1)  # verified by itself
    copy = tmp_path / "copy"
    shutil.copytree(made.datadir, copy)
    (copy / STATE_FILE).unlink()
    again = generate_proof(PostDataset(copy, default_scrypt_n=16), challenge, config, nonces=288, threads=1)
    assert again == proof
