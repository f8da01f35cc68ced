"""Drives holding PoST data in pieces: ``postcli -fromFile/-toFile`` folders (one per machine that
made a file range), none of them a whole dataset where the box looks for one (top or
``smeshbox/``). The drive is offered for a merge: :func:`find_pieces` lists the folders,
:func:`describe` says what they are in words, :func:`merge_pieces` merges them into ``smeshbox/``
with ``appliance.post.merge`` (files renamed on the drive, so no second copy of the data is
needed; every check runs before a file moves, and a merge cut short resumes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance.drives.volume import DATA_SUBDIR
from appliance.post.layout import list_files
from appliance.post.merge import MergeError, MergeReport, merge_datasets
from appliance.post.metadata import METADATA_FILE, MetadataError, read_metadata

__all__ = ["MergeError", "Pieces", "describe", "find_pieces", "merge_pieces"]
SKIP = {"lost+found", DATA_SUBDIR}
MAX_FOLDERS = 64  # a drive full of someone's folders is not scanned without end


@dataclass(frozen=True)
class Pieces:
    """Partial datasets found on a drive: folders relative to its top, and what they hold."""

    folders: list[str]
    summary: str


def find_pieces(top: Path) -> list[Path]:
    """Folders one or two levels below ``top`` holding ``postdata_metadata.json`` (sorted)."""
    found: list[Path] = []
    seen = 0
    for child in sorted(p for p in top.iterdir() if p.is_dir() and p.name not in SKIP):
        for folder in (child, *sorted(p for p in child.iterdir() if p.is_dir())):
            seen += 1
            if seen > MAX_FOLDERS:
                return found
            if (folder / METADATA_FILE).is_file():
                found.append(folder)
    return found


def describe(top: Path, folders: list[Path]) -> Pieces | None:
    """The offer in words, or None when nothing there looks like PoST data."""
    held: list[str] = []
    ids: set[str] = set()
    total = 0
    for folder in folders:
        try:
            meta = read_metadata(folder)
        except (MetadataError, OSError):
            continue
        ids.add(meta.node_id.hex())
        total = max(total, meta.num_files)
        indices = [index for index, _ in list_files(folder)]
        span = f"files {indices[0]}-{indices[-1]}" if indices else "no files"
        held.append(f"{folder.relative_to(top)} ({span})")
    if not held:
        return None
    whose = f"identity {next(iter(ids))[:12]}…" if len(ids) == 1 else f"{len(ids)} different identities"
    summary = (
        f"{len(held)} partial PoST dataset(s) of {whose}, {total} files in all: {', '.join(held)}. "
        "Merge them into one dataset to use this drive."
    )
    return Pieces([str(f.relative_to(top)) for f in folders], summary)


def merge_pieces(
    top: Path, folders: list[str], scrypt_n: int, progress: Callable[[str], None] | None = None
) -> MergeReport:
    """Merges the pieces into ``top/smeshbox`` (blocking: run it in a thread). Raises MergeError
    with the reason when they do not make one valid dataset; nothing is moved then."""
    sources = [top / folder for folder in folders]
    for source in sources:  # the folders came from the page: they must be on this drive
        if not source.resolve().is_relative_to(top.resolve()) or not (source / METADATA_FILE).is_file():
            raise MergeError(f"{source} is not a PoST folder on this drive")
    return merge_datasets(sources, top / DATA_SUBDIR, scrypt_n, move=True, progress=progress)
