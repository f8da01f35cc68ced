"""postdata_<i>.bin naming, ordering, label reading across files and size checks."""

from __future__ import annotations

import pytest

from appliance.post import layout


def _fill(tmp_path, meta) -> bytes:
    """Writes recognisable fake labels (label i = i as 16 little-endian bytes) into the files."""
    data = b"".join(i.to_bytes(16, "little") for i in range(meta.total_labels))
    for file_index in range(meta.num_files):
        first, end = layout.file_label_range(meta, file_index)
        (tmp_path / layout.file_name(file_index)).write_bytes(data[first * 16 : end * 16])
    return data


def test_geometry(make_meta) -> None:
    meta = make_meta(labels_per_unit=100, num_units=3, max_file_size=1024)  # 64 labels per file
    assert meta.labels_per_file == 64 and meta.num_files == 5
    assert layout.file_label_range(meta, 4) == (256, 300)
    assert layout.expected_size(meta, 4) == 44 * 16
    assert layout.locate(meta, 0) == (0, 0)
    assert layout.locate(meta, 65) == (1, 16)
    with pytest.raises(IndexError):
        layout.locate(meta, 300)


def test_listing_is_numeric_and_ignores_others(tmp_path) -> None:
    for name in (
        "postdata_10.bin",
        "postdata_2.bin",
        "postdata_0.bin",
        "postdata_x.bin",
        "postdata_1.bin.tmp",
        "other.bin",
    ):
        (tmp_path / name).write_bytes(b"")
    assert [i for i, _ in layout.list_files(tmp_path)] == [0, 2, 10]


def test_read_labels_across_files(tmp_path, make_meta) -> None:
    meta = make_meta(labels_per_unit=100, num_units=3)
    data = _fill(tmp_path, meta)
    layout.check_files(tmp_path, meta)
    assert layout.read_labels(tmp_path, meta, 60, 70) == data[60 * 16 : 130 * 16]
    batches = list(layout.iter_batches(tmp_path, meta, batch_bytes=512))
    assert batches[0].start == 0 and batches[1].start == 32 and batches[2].start == 64
    assert b"".join(b.data for b in batches) == data


def test_missing_short_and_long_files_are_named(tmp_path, make_meta) -> None:
    meta = make_meta(labels_per_unit=100, num_units=3)
    _fill(tmp_path, meta)
    (tmp_path / "postdata_2.bin").unlink()
    with pytest.raises(layout.DataFileError, match=r"postdata_2\.bin: is missing"):
        layout.check_files(tmp_path, meta)
    with pytest.raises(layout.DataFileError, match=r"postdata_2\.bin: is missing"):
        layout.read_labels(tmp_path, meta, 130, 1)
    (tmp_path / "postdata_2.bin").write_bytes(bytes(100))
    with pytest.raises(layout.DataFileError, match=r"postdata_2\.bin: is short: 100 bytes, expected 1024"):
        layout.check_files(tmp_path, meta)
    with pytest.raises(layout.DataFileError, match=r"postdata_2\.bin: is short: no label 134 at offset 96"):
        layout.read_labels(tmp_path, meta, 130, 10)
    (tmp_path / "postdata_2.bin").write_bytes(bytes(1040))
    with pytest.raises(layout.DataFileError, match="too long"):
        layout.check_files(tmp_path, meta)
