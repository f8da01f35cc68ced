"""The durable, resumable writer of PoST data: label batches in, ``postdata_<i>.bin`` files out.

It accepts ``LabelBatch``es in index order from anyone (this box's threads or, later, a LAN
peer), optionally re-computes samples to check them, appends them to the files, and on
``commit()`` fsyncs the data and then atomically records the durable position together with the
running VRF minimum in ``smeshbox_init_state.json`` (the 32-byte value has no home in the
metadata, whose ``Nonce`` is only an index). On open it truncates whatever lies beyond the durable
position, so a kill -9 or power cut at any instant resumes to byte-identical files.
"""

from __future__ import annotations

import errno
import json
import os
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from appliance.chain import MAINNET
from appliance.post import native
from appliance.post.labels import LabelBatch, full_label
from appliance.post.layout import LABEL_SIZE, DataFileError, file_label_range, file_name, list_files
from appliance.post.metadata import PostMetadata, metadata_path, read_metadata, write_metadata
from appliance.post.params import commitment, vrf_threshold
from appliance.system.files import atomic_write_json, fsync_dir

STATE_FILE = "smeshbox_init_state.json"
#: mainnet's scrypt N (the chain preset's): what a dataset without a recorded N was made with
DEFAULT_SCRYPT_N = MAINNET.scrypt_n
_DISK_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EIO}


class InitError(RuntimeError):
    """Initialization cannot go on; the message says why. Data already committed is kept."""


class InitDiskError(InitError):
    """The disk refused a write (full, read-only, no permission)."""


class BatchRejected(InitError):
    """A label batch handed to the writer is out of order or fails its sample check."""


@dataclass(frozen=True)
class InitState:
    """The durable progress of an initialization (the sidecar file)."""

    commitment: bytes
    scrypt_n: int
    position: int
    vrf_index: int | None = None
    vrf_label: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "Version": 1,
            "Commitment": self.commitment.hex(),
            "ScryptN": self.scrypt_n,
            "Position": self.position,
            "VrfIndex": self.vrf_index,
            "VrfLabel": self.vrf_label.hex() if self.vrf_label is not None else None,
        }

    @classmethod
    def from_json(cls, data: Any, path: Path) -> InitState:
        try:
            label = data["VrfLabel"]
            state = cls(
                bytes.fromhex(data["Commitment"]),
                int(data["ScryptN"]),
                int(data["Position"]),
                None if data["VrfIndex"] is None else int(data["VrfIndex"]),
                None if label is None else bytes.fromhex(label),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InitError(f"{path}: init state is damaged ({exc!r})") from exc
        if len(state.commitment) != 32 or (state.vrf_label is not None and len(state.vrf_label) != 32):
            raise InitError(f"{path}: init state has wrong-length commitment or VRF label")
        return state


def read_init_state(datadir: Path | str) -> InitState | None:
    path = Path(datadir) / STATE_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InitError(f"{path}: init state is not valid JSON: {exc}") from exc
    return InitState.from_json(data, path)


def datadir_scrypt_n(datadir: Path | str, default: int = DEFAULT_SCRYPT_N) -> int:
    """The scrypt N this box initialized ``datadir`` with (the metadata does not record it)."""
    state = read_init_state(datadir)
    return state.scrypt_n if state is not None else default


def _disk_error(path: Path, exc: OSError) -> InitError:
    reason = exc.strerror or str(exc)
    if exc.errno in _DISK_ERRNOS:
        return InitDiskError(
            f"cannot write {path}: {reason}; data already written is kept, "
            "fix the disk and run again to resume"
        )
    return InitError(f"cannot write {path}: {reason}")


_IDENTITY = ("node_id", "commitment_atx_id", "labels_per_unit", "num_units", "max_file_size")


class LabelWriter:
    """Appends label batches in index order to the files of ``datadir`` (see module docstring)."""

    def __init__(
        self,
        datadir: Path | str,
        meta: PostMetadata,
        scrypt_n: int = DEFAULT_SCRYPT_N,
        verify_samples: int = 0,
        rng: random.Random | None = None,
    ) -> None:
        meta.validate()
        self.datadir = Path(datadir)
        self.scrypt_n = scrypt_n
        self.verify_samples = verify_samples
        self._rng = rng or random.Random()
        self._commitment = commitment(meta.node_id, meta.commitment_atx_id)
        self._threshold = vrf_threshold(meta.total_labels)
        self._fds: dict[int, int] = {}
        try:
            self.datadir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _disk_error(self.datadir, exc) from exc
        self.meta = self._adopt_metadata(meta)
        self._state = self._recover()
        self._durable = self._state.position

    # ------------------------------------------------------------ opening and recovery

    def _adopt_metadata(self, meta: PostMetadata) -> PostMetadata:
        if not metadata_path(self.datadir).exists():
            return meta
        existing = read_metadata(self.datadir)
        for field in _IDENTITY:
            if getattr(existing, field) != getattr(meta, field):
                raise InitError(
                    f"{metadata_path(self.datadir)}: holds PoST data with a different {field} "
                    "(use another data directory)"
                )
        return existing

    def _recover(self) -> InitState:
        state = read_init_state(self.datadir)
        if state is None:
            if list_files(self.datadir):
                raise InitError(
                    f"{self.datadir}: has postdata files but no {STATE_FILE}; refusing to "
                    "overwrite data this box did not write"
                )
            state = InitState(self._commitment, self.scrypt_n, 0)
            self._save(state)
            return state
        if state.commitment != self._commitment or state.scrypt_n != self.scrypt_n:
            raise InitError(
                f"{self.datadir / STATE_FILE}: was started with another commitment or scrypt N "
                f"(N={state.scrypt_n})"
            )
        self._truncate_to(state.position)
        if self._metadata_for(state) != self.meta:  # e.g. killed between the state and metadata writes
            self._save(state)
        return state

    def _truncate_to(self, position: int) -> None:
        """Drops every byte beyond the durable ``position`` (a write the commit never covered)."""
        changed = False
        for file_index, path in list_files(self.datadir):
            first, end = file_label_range(self.meta, file_index)
            keep = max(0, min(position, end) - first) * LABEL_SIZE if first < self.meta.total_labels else 0
            size = path.stat().st_size
            if size < keep:
                raise DataFileError(path, f"is short: {size} bytes but {keep} were recorded as written")
            if size == keep and (keep or first < position):
                continue
            changed = True
            try:
                if keep == 0:
                    path.unlink()
                else:
                    with open(path, "r+b") as handle:
                        handle.truncate(keep)
                        os.fsync(handle.fileno())
            except OSError as exc:
                raise _disk_error(path, exc) from exc
        if changed:
            fsync_dir(self.datadir)

    def _metadata_for(self, state: InitState) -> PostMetadata:
        vrf = state.vrf_label
        return replace(
            self.meta,
            last_position=state.position,
            nonce=state.vrf_index,
            nonce_value=vrf[:16] if vrf is not None else None,
        )

    def _save(self, state: InitState) -> None:
        meta = self._metadata_for(state)
        try:
            atomic_write_json(self.datadir / STATE_FILE, state.to_json())
            write_metadata(self.datadir, meta)
        except OSError as exc:
            raise _disk_error(self.datadir / STATE_FILE, exc) from exc
        self.meta = meta

    # ------------------------------------------------------------ appending

    @property
    def position(self) -> int:
        """Labels appended so far (durable after ``commit()``)."""
        return self._state.position

    @property
    def durable_position(self) -> int:
        return self._durable

    @property
    def complete(self) -> bool:
        return self._durable == self.meta.total_labels

    @property
    def vrf(self) -> tuple[int, bytes] | None:
        if self._state.vrf_index is None or self._state.vrf_label is None:
            return None
        return self._state.vrf_index, self._state.vrf_label

    def check_batch(self, batch: LabelBatch, recompute: bool = True) -> None:
        """Raises BatchRejected unless ``batch`` is the next, well-formed range and (``recompute``)
        its claimed minimum and ``verify_samples`` random labels recompute."""
        if batch.start != self.position:
            raise BatchRejected(f"batch starts at label {batch.start}, the writer is at {self.position}")
        if len(batch.labels) % LABEL_SIZE or batch.count == 0:
            raise BatchRejected("batch length is not a positive multiple of 16 bytes")
        if batch.start + batch.count > self.meta.total_labels:
            raise BatchRejected(
                f"batch ends at label {batch.start + batch.count}, beyond {self.meta.total_labels}"
            )
        if (batch.min_index is None) != (batch.min_label is None):
            raise BatchRejected("batch minimum needs both index and label")
        if batch.min_label is not None and len(batch.min_label) != native.FULL_LABEL_SIZE:
            raise BatchRejected(f"batch minimum label must be {native.FULL_LABEL_SIZE} bytes")
        if batch.min_index is not None and not batch.start <= batch.min_index < batch.start + batch.count:
            raise BatchRejected(f"batch minimum index {batch.min_index} lies outside the batch")
        if not recompute:
            return
        claimed = batch.min_index, batch.min_label
        if claimed[0] is not None and full_label(self._commitment, self.scrypt_n, claimed[0]) != claimed[1]:
            raise BatchRejected(f"batch minimum label at {batch.min_index} does not recompute")
        for offset in self._rng.sample(range(batch.count), min(self.verify_samples, batch.count)):
            expect, _ = native.labels(self._commitment, self.scrypt_n, batch.start + offset, 1)
            if batch.labels[offset * LABEL_SIZE : (offset + 1) * LABEL_SIZE] != expect:
                raise BatchRejected(f"label {batch.start + offset} of the batch does not recompute")

    def append(self, batch: LabelBatch, commit: bool = True) -> None:
        """Writes ``batch``; with ``verify_samples`` > 0 (batches from elsewhere) it is checked first:
        samples recomputed and its claimed minimum label recomputed."""
        self.check_batch(batch, recompute=self.verify_samples > 0)
        index, data = batch.start, memoryview(batch.labels)
        while data:
            file_index = index // self.meta.labels_per_file
            first, end = file_label_range(self.meta, file_index)
            take = min(end - index, len(data) // LABEL_SIZE)
            self._write(file_index, (index - first) * LABEL_SIZE, data[: take * LABEL_SIZE])
            data = data[take * LABEL_SIZE :]
            index += take
        state = replace(self._state, position=index)
        best = state.vrf_label if state.vrf_label is not None else self._threshold
        if batch.min_label is not None and batch.min_label < best:
            state = replace(state, vrf_index=batch.min_index, vrf_label=batch.min_label)
        self._state = state
        if commit:
            self.commit()

    def _write(self, file_index: int, offset: int, data: memoryview) -> None:
        path = self.datadir / file_name(file_index)
        try:
            fd = self._fds.get(file_index)
            if fd is None:
                created = not path.exists()
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
                self._fds[file_index] = fd
                if created:
                    fsync_dir(self.datadir)
            while data:
                written = os.pwrite(fd, data, offset)
                data, offset = data[written:], offset + written
        except OSError as exc:
            raise _disk_error(path, exc) from exc

    def commit(self) -> None:
        """Makes everything appended durable: fsync the data, then record the position atomically."""
        for file_index, fd in sorted(self._fds.items()):
            try:
                os.fsync(fd)
            except OSError as exc:
                raise _disk_error(self.datadir / file_name(file_index), exc) from exc
        self.close_files()
        if self._state.position != self._durable or self.meta.last_position != self._durable:
            self._save(self._state)
            self._durable = self._state.position

    def close_files(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
