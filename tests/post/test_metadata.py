"""postdata_metadata.json: round trip, Go-written files, and every corruption case."""

from __future__ import annotations

import base64
import json

import pytest

from appliance.post.metadata import METADATA_FILE, MetadataError, PostMetadata, read_metadata, write_metadata

GO_WRITTEN = {
    "NodeId": base64.b64encode(bytes([1]) * 32).decode(),
    "CommitmentAtxId": base64.b64encode(bytes([2]) * 32).decode(),
    "LabelsPerUnit": 4294967296,
    "NumUnits": 4,
    "MaxFileSize": 4294967296,
    "Nonce": 123456,
    "NonceValue": "00112233445566778899aabbccddeeff",
    "LastPosition": 17179869184,
}


def _write_raw(tmp_path, text: str) -> None:
    (tmp_path / METADATA_FILE).write_text(text)


def test_round_trip_and_pascal_case(tmp_path, make_meta) -> None:
    meta = PostMetadata(bytes(range(32)), bytes(range(32, 64)), 1 << 32, 4, 4 << 30, 7, bytes(16), 99)
    write_metadata(tmp_path, meta)
    data = json.loads((tmp_path / METADATA_FILE).read_text())
    assert list(data) == [
        "NodeId",
        "CommitmentAtxId",
        "LabelsPerUnit",
        "NumUnits",
        "MaxFileSize",
        "Nonce",
        "NonceValue",
        "LastPosition",
    ]
    assert base64.b64decode(data["NodeId"]) == bytes(range(32))
    assert read_metadata(tmp_path) == meta
    assert [p.name for p in tmp_path.iterdir()] == [METADATA_FILE]  # no temp file left behind
    fresh = make_meta()
    write_metadata(tmp_path, fresh)
    data = json.loads((tmp_path / METADATA_FILE).read_text())
    assert data["Nonce"] is None and data["LastPosition"] is None and "NonceValue" not in data
    assert read_metadata(tmp_path) == fresh


def test_reads_go_written_file_with_nonce_value(tmp_path) -> None:
    _write_raw(tmp_path, json.dumps(GO_WRITTEN, indent=2))
    meta = read_metadata(tmp_path)
    assert meta.nonce == 123456 and meta.nonce_value == bytes.fromhex(GO_WRITTEN["NonceValue"])
    assert meta.total_labels == 1 << 34 and meta.num_files == 64 and meta.last_position == 1 << 34
    write_metadata(tmp_path, meta)
    assert json.loads((tmp_path / METADATA_FILE).read_text()) == GO_WRITTEN


def test_go_file_without_optional_fields(tmp_path) -> None:
    data = {k: v for k, v in GO_WRITTEN.items() if k not in ("Nonce", "NonceValue", "LastPosition")}
    _write_raw(tmp_path, json.dumps(data))
    meta = read_metadata(tmp_path)
    assert meta.nonce is None and meta.nonce_value is None and meta.last_position is None


def _with(**changes):
    data = dict(GO_WRITTEN)
    for key, value in changes.items():
        if value is KeyError:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("", None, "empty"),
        (json.dumps(GO_WRITTEN)[:40], None, "truncated"),
        ("\x00\xff garbage", None, "not valid JSON"),
        ("[1, 2]", None, "JSON object"),
        (_with(NodeId=KeyError), "NodeId", "missing"),
        (_with(NodeId=base64.b64encode(bytes(31)).decode()), "NodeId", "32 bytes"),
        (_with(CommitmentAtxId="!!not base64!!"), "CommitmentAtxId", "base64"),
        (_with(CommitmentAtxId=12), "CommitmentAtxId", "base64"),
        (_with(LabelsPerUnit="4294967296"), "LabelsPerUnit", "integer"),
        (_with(LabelsPerUnit=0), "LabelsPerUnit", "between"),
        (_with(NumUnits=True), "NumUnits", "integer"),
        (_with(NumUnits=1.5), "NumUnits", "integer"),
        (_with(NumUnits=-1), "NumUnits", "negative"),
        (_with(MaxFileSize=1000), "MaxFileSize", "between"),
        (_with(MaxFileSize=4096 + 8), "MaxFileSize", "multiple of 16"),
        (_with(Nonce=1 << 34), "Nonce", "between"),
        (_with(NonceValue="zz"), "NonceValue", "hex"),
        (_with(NonceValue="0011"), "NonceValue", "16"),
        (_with(LastPosition=(1 << 34) + 1), "LastPosition", "between"),
        (_with(LabelsPerUnit=1 << 63, NumUnits=4), "NumUnits", "2^64"),
    ],
)
def test_corruption_is_named(tmp_path, text: str, field: str | None, words: str) -> None:
    _write_raw(tmp_path, text)
    with pytest.raises(MetadataError) as info:
        read_metadata(tmp_path)
    assert info.value.field == field
    assert words in str(info.value)
    assert METADATA_FILE in str(info.value)
    assert (tmp_path / METADATA_FILE).read_text() == text  # reading never touches the file


def test_missing_and_unreadable(tmp_path) -> None:
    with pytest.raises(MetadataError, match="does not exist"):
        read_metadata(tmp_path)
    (tmp_path / METADATA_FILE).write_bytes(b"\xff\xfe{")
    with pytest.raises(MetadataError, match="UTF-8"):
        read_metadata(tmp_path)


def test_write_refuses_invalid_and_keeps_old(tmp_path, make_meta) -> None:
    good = make_meta()
    write_metadata(tmp_path, good)
    before = (tmp_path / METADATA_FILE).read_bytes()
    with pytest.raises(MetadataError, match="MaxFileSize"):
        write_metadata(tmp_path, make_meta(max_file_size=1030))
    assert (tmp_path / METADATA_FILE).read_bytes() == before


def test_write_to_read_only_dir_keeps_old(mount, make_meta) -> None:
    disk = mount()
    write_metadata(disk.path, make_meta())
    disk.read_only()
    try:
        with pytest.raises(OSError):
            write_metadata(disk.path, make_meta(num_units=3))
    finally:
        disk.read_write()
    assert read_metadata(disk.path) == make_meta()
