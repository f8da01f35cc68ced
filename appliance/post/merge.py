"""Merging partial PoST datasets (``postcli -fromFile/-toFile`` folders) into one valid dataset.

postcli can initialize a subset of the files on each of several machines; its README
(spacemeshos/post@d483b39ce60e1d3c1c3c623dd502b5eee956ce77 ``cmd/postcli/README.md``, "Initializing
a subset of PoST data") leaves the merge to the operator: copy the ``postdata_<i>.bin`` files
together and pick, by hand, the subset whose ``NonceValue`` is smallest. Each subset's
``postdata_metadata.json`` holds the VRF nonce of *its own* files only
(``initialization/initialization.go`` keeps the smallest label below PowDifficulty seen while
writing; ``vrf_search.go`` skips files outside [FromFileIdx, ToFileIdx]).

``merge_datasets`` does that merge and refuses anything that would give a dataset the node then
fails to prove with: sources of another identity or geometry, a file of the wrong size (an
interrupted postcli run), a file that two sources hold with different bytes, a missing file, a
sampled label that does not recompute, a claimed nonce whose label does not recompute or is not
below the threshold. It keeps the smallest whole label as the nonce, and writes the merged metadata
plus this box's init-state sidecar last (atomically), so a power cut mid-merge leaves a folder the
next run finishes. Files are copied (temp file, fsync, rename) or, with ``move``, renamed; a target
holding files of a merge cut short (no metadata yet: it is written last) counts as a source, so a
moving merge resumes too. ``progress`` hears each step in words.
"""

from __future__ import annotations

import filecmp
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from appliance.post import native
from appliance.post.labels import full_label
from appliance.post.layout import LABEL_SIZE, expected_size, file_label_range, file_name, list_files
from appliance.post.metadata import PostMetadata, metadata_path, read_metadata, write_metadata
from appliance.post.params import commitment, vrf_threshold
from appliance.post.writer import STATE_FILE, InitState
from appliance.system.files import atomic_write_json, fsync_dir

_IDENTITY = (
    ("node_id", "NodeId"),
    ("commitment_atx_id", "CommitmentAtxId"),
    ("labels_per_unit", "LabelsPerUnit"),
    ("num_units", "NumUnits"),
    ("max_file_size", "MaxFileSize"),
)
_COPY_CHUNK = 8 << 20


class MergeError(ValueError):
    """The sources cannot be merged into one valid dataset; the message says which file and why."""


@dataclass(frozen=True)
class MergeReport:
    """What a merge did: the dataset's size, the nonce kept and how many labels were recomputed."""

    into: str
    files: int
    labels: int
    nonce: int
    nonce_value: str
    nonce_source: str
    sampled_labels: int
    copied_files: int
    moved_files: int


@dataclass(frozen=True)
class _Source:
    path: Path
    meta: PostMetadata
    files: dict[int, Path]


def _ranges(indices: list[int]) -> str:
    out: list[str] = []
    for index in indices:
        if out and out[-1].split("-")[-1] == str(index - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{index}"
        else:
            out.append(str(index))
    return ", ".join(out)


def _load(
    path: Path, reference: PostMetadata | None, reference_dir: Path | None, leftover: bool = False
) -> _Source:
    """One source folder; ``leftover``: the target of an interrupted merge, files without metadata."""
    meta = replace(reference, nonce=None, nonce_value=None) if leftover and reference else read_metadata(path)
    if reference is not None:
        for attr, field in _IDENTITY:
            if getattr(meta, attr) != getattr(reference, attr):
                raise MergeError(
                    f"{metadata_path(path)}: {field} differs from {metadata_path(reference_dir or path)}; "
                    "only subsets of one dataset (same id, commitment ATX and geometry) can be merged"
                )
    files: dict[int, Path] = {}
    for index, file in list_files(path):
        if index >= meta.num_files:
            raise MergeError(f"{file}: the dataset has only {meta.num_files} files (0..{meta.num_files - 1})")
        want, have = expected_size(meta, index), file.stat().st_size
        if have != want:
            raise MergeError(
                f"{file}: is {have} bytes, a complete file is {want} (an interrupted postcli run? "
                "run it again for this file range first)"
            )
        files[index] = file
    return _Source(path, meta, files)


def _sample_file(
    com: bytes, scrypt_n: int, meta: PostMetadata, index: int, path: Path, want: int, rng: random.Random
) -> int:
    """Recomputes ``want`` random labels of file ``index``; returns how many were checked."""
    first, end = file_label_range(meta, index)
    offsets = sorted(rng.sample(range(end - first), min(want, end - first)))
    with open(path, "rb") as handle:
        for offset in offsets:
            handle.seek(offset * LABEL_SIZE)
            found = handle.read(LABEL_SIZE)
            expected, _ = native.labels(com, scrypt_n, first + offset, 1)
            if found != expected:
                raise MergeError(
                    f"{path}: label {first + offset} at offset {offset * LABEL_SIZE} does not recompute "
                    f"(found {found.hex()}, expected {expected.hex()}; wrong scrypt N or damaged data)"
                )
    return len(offsets)


def _best_nonce(
    sources: list[_Source], com: bytes, scrypt_n: int, threshold: bytes
) -> tuple[int, bytes, Path]:
    """The smallest whole label among the sources' claimed nonces, each recomputed and checked."""
    best: tuple[bytes, int, Path] | None = None
    for source in sources:
        meta = source.meta
        if meta.nonce is None:
            continue
        where = metadata_path(source.path)
        label = full_label(com, scrypt_n, meta.nonce)
        if meta.nonce_value is not None and label[: len(meta.nonce_value)] != meta.nonce_value:
            raise MergeError(
                f"{where}: NonceValue {meta.nonce_value.hex()} is not the label at Nonce {meta.nonce} "
                f"({label[:16].hex()}); the metadata was edited or belongs to other data"
            )
        if label >= threshold:
            raise MergeError(f"{where}: the label at Nonce {meta.nonce} is not below the VRF threshold")
        if best is None or (label, meta.nonce) < best[:2]:
            best = (label, meta.nonce, source.path)
    if best is None:
        raise MergeError(
            "no source holds a VRF nonce (postcli found none in any subset); run `post init` on a "
            "complete dataset to search for one"
        )
    return best[1], best[0], best[2]


def _place(source: Path, target: Path, move: bool) -> bool:
    """Puts ``source`` at ``target`` durably; returns True if it was renamed (same file system)."""
    if move:
        try:
            os.rename(source, target)
            return True
        except OSError:
            pass  # another file system: copy, then remove the source once the copy is durable
    partial = target.with_name(target.name + ".merging")
    with open(source, "rb") as src, open(partial, "wb") as dst:
        shutil.copyfileobj(src, dst, _COPY_CHUNK)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(partial, target)
    if move:
        source.unlink()
    return False


def merge_datasets(
    sources: list[Path],
    into: Path,
    scrypt_n: int,
    samples_per_file: int = 16,
    move: bool = False,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> MergeReport:
    """Merges the partial datasets ``sources`` into ``into`` (which may already hold some files)."""
    say = progress or (lambda _step: None)
    if not sources:
        raise MergeError("give at least one source folder")
    into = Path(into)
    paths = [Path(s) for s in sources]
    leftover = False
    if into.exists() and into.resolve() not in {p.resolve() for p in paths}:
        if metadata_path(into).exists():
            paths.append(into)  # the target of an earlier (maybe interrupted) merge is a source too
        elif list_files(into):
            leftover = True  # files an interrupted moving merge placed before its metadata
    say(f"reading {len(paths)} folder(s)")
    loaded: list[_Source] = []
    for path in paths:
        loaded.append(_load(path, loaded[0].meta if loaded else None, loaded[0].path if loaded else None))
    if leftover:
        loaded.append(_load(into, loaded[0].meta, loaded[0].path, leftover=True))
    meta = loaded[0].meta
    com = commitment(meta.node_id, meta.commitment_atx_id)
    owner: dict[int, Path] = {}
    for source in loaded:
        for index, file in source.files.items():
            other = owner.get(index)
            if other is None or other.resolve() == file.resolve():
                owner[index] = file
            elif not filecmp.cmp(other, file, shallow=False):
                raise MergeError(
                    f"{file_name(index)} is in {other.parent} and {file.parent} with different bytes"
                )
    missing = [index for index in range(meta.num_files) if index not in owner]
    if missing:
        raise MergeError(
            f"files {_ranges(missing)} of {meta.num_files} are in no source; initialize that range "
            "(postcli -fromFile/-toFile) and merge again"
        )
    rng = random.Random(seed)
    sampled = 0
    for i, file in sorted(owner.items()):
        say(f"recomputing sample labels of file {i + 1} of {meta.num_files}")
        sampled += _sample_file(com, scrypt_n, meta, i, file, samples_per_file, rng)
    say("checking the VRF nonces")
    nonce, label, nonce_source = _best_nonce(loaded, com, scrypt_n, vrf_threshold(meta.total_labels))

    into.mkdir(parents=True, exist_ok=True)
    copied = moved = 0
    for index, file in sorted(owner.items()):
        target = into / file_name(index)
        if file.resolve() == target.resolve():
            continue
        if target.exists() and filecmp.cmp(file, target, shallow=False):
            continue  # placed by an earlier run of this merge
        say(f"placing file {index + 1} of {meta.num_files}")
        if _place(file, target, move):
            moved += 1
        else:
            copied += 1
    fsync_dir(into)
    total = meta.total_labels
    atomic_write_json(into / STATE_FILE, InitState(com, scrypt_n, total, nonce, label).to_json())
    write_metadata(into, replace(meta, nonce=nonce, nonce_value=label[:16], last_position=total))
    return MergeReport(
        str(into),
        meta.num_files,
        total,
        nonce,
        label[:16].hex(),
        str(nonce_source),
        sampled,
        copied,
        moved,
    )
