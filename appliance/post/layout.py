"""Where each label lives: ``postdata_<i>.bin`` naming and ordering, sizes, and label readers (spec §3).

File i holds labels [i·labels_per_file, min(total, (i+1)·labels_per_file)); every file but the last
is exactly ``max_file_size`` bytes. Missing or short files raise ``DataFileError`` naming the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from appliance.post.metadata import PostMetadata

LABEL_SIZE = 16
FILE_PATTERN = re.compile(r"^postdata_(\d+)\.bin$")
SCAN_BATCH_BYTES = 1 << 20


class DataFileError(ValueError):
    """A postdata file is missing, short, too long, or unreadable; ``path`` names it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def file_name(index: int) -> str:
    return f"postdata_{index}.bin"


def list_files(datadir: Path | str) -> list[tuple[int, Path]]:
    """The postdata files present, numerically ordered (as post-rs's reader does)."""
    found = []
    for entry in os.scandir(datadir):
        match = FILE_PATTERN.match(entry.name)
        if match:
            found.append((int(match.group(1)), Path(entry.path)))
    return sorted(found)


def file_label_range(meta: PostMetadata, file_index: int) -> tuple[int, int]:
    """[first, end) global label indices of file ``file_index``."""
    first = file_index * meta.labels_per_file
    return first, min(meta.total_labels, first + meta.labels_per_file)


def locate(meta: PostMetadata, index: int) -> tuple[int, int]:
    """(file index, byte offset in that file) of label ``index``."""
    if not 0 <= index < meta.total_labels:
        raise IndexError(f"label {index} is outside 0..{meta.total_labels - 1}")
    return index // meta.labels_per_file, (index % meta.labels_per_file) * LABEL_SIZE


def expected_size(meta: PostMetadata, file_index: int) -> int:
    first, end = file_label_range(meta, file_index)
    return (end - first) * LABEL_SIZE


def check_files(datadir: Path | str, meta: PostMetadata) -> None:
    """Raises DataFileError unless every file of a complete data set exists with its exact size."""
    for file_index in range(meta.num_files):
        path = Path(datadir) / file_name(file_index)
        want = expected_size(meta, file_index)
        try:
            have = path.stat().st_size
        except FileNotFoundError as exc:
            raise DataFileError(path, f"is missing (expected {want} bytes)") from exc
        if have < want:
            raise DataFileError(path, f"is short: {have} bytes, expected {want}")
        if have > want:
            raise DataFileError(path, f"is too long: {have} bytes, expected {want}")


def read_labels(datadir: Path | str, meta: PostMetadata, start: int, count: int) -> bytes:
    """``count`` labels from global index ``start``, across file boundaries."""
    out = bytearray()
    index = start
    while index < start + count:
        file_index, offset = locate(meta, index)
        _, end = file_label_range(meta, file_index)
        take = min(start + count, end) - index
        path = Path(datadir) / file_name(file_index)
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                data = handle.read(take * LABEL_SIZE)
        except FileNotFoundError as exc:
            raise DataFileError(path, "is missing") from exc
        if len(data) != take * LABEL_SIZE:
            raise DataFileError(
                path,
                f"is short: no label {index + len(data) // LABEL_SIZE} at offset "
                f"{offset + len(data) // LABEL_SIZE * LABEL_SIZE}",
            )
        out += data
        index += take
    return bytes(out)


@dataclass(frozen=True)
class Batch:
    """One read unit of the proving scan: labels from global index ``start``."""

    start: int
    data: bytes


def iter_batches(
    datadir: Path | str, meta: PostMetadata, batch_bytes: int = SCAN_BATCH_BYTES
) -> Iterator[Batch]:
    """post-rs ``read_data``: each file read in ``batch_bytes`` pieces; batch start = byte position/16."""
    check_files(datadir, meta)
    for file_index in range(meta.num_files):
        first, end = file_label_range(meta, file_index)
        with open(Path(datadir) / file_name(file_index), "rb") as handle:
            offset = 0
            size = (end - first) * LABEL_SIZE
            while offset < size:
                data = handle.read(min(batch_bytes, size - offset))
                if not data:
                    raise DataFileError(handle.name, f"shrank while reading at offset {offset}")
                yield Batch(first + offset // LABEL_SIZE, data)
                offset += len(data)
