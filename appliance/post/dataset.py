"""One PoST dataset: the folder that holds ``postdata_<i>.bin``, ``postdata_metadata.json`` and,
when this box initialized it, ``smeshbox_init_state.json``.

:class:`PostDataset` is what the drives, the jobs and the prover hold instead of a path: it owns the
file names (nobody else globs ``postdata_*.bin``), reading and writing the metadata, how far the
data is written and whether it is complete, discarding the labels, and the parameters the data was
made with — scrypt N lives in the init state (post-rs's metadata has no field for it), the rest in
the metadata. Every method does file I/O: call it in a thread from the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.post.layout import check_files, list_files
from appliance.post.metadata import METADATA_FILE, PostMetadata, read_metadata, write_metadata
from appliance.post.writer import DEFAULT_SCRYPT_N, STATE_FILE, InitState, read_init_state
from appliance.system.files import remove_stale_temp_files


@dataclass(frozen=True)
class PostDataset:
    datadir: Path
    #: scrypt N of data this box did not initialize itself (made on a PC: no init state records it)
    default_scrypt_n: int = DEFAULT_SCRYPT_N

    def __post_init__(self) -> None:
        object.__setattr__(self, "datadir", Path(self.datadir))

    def __str__(self) -> str:
        return str(self.datadir)

    # -- metadata ---------------------------------------------------------------------------------

    @property
    def metadata_path(self) -> Path:
        return self.datadir / METADATA_FILE

    def has_metadata(self) -> bool:
        """Data is here (adopted or begun), as opposed to a folder for a dataset still to make."""
        return self.metadata_path.is_file()

    def metadata(self) -> PostMetadata:
        """The validated metadata; raises :class:`~appliance.post.metadata.MetadataError`."""
        return read_metadata(self.datadir)

    def write_metadata(self, meta: PostMetadata) -> None:
        write_metadata(self.datadir, meta)

    def node_id(self) -> bytes:
        return self.metadata().node_id

    # -- how it was made --------------------------------------------------------------------------

    def init_state(self) -> InitState | None:
        """This box's durable init progress; None for data made elsewhere (or not begun)."""
        return read_init_state(self.datadir)

    def made_here(self) -> bool:
        """This box initialized (or is initializing) the data: its size may still change."""
        return (self.datadir / STATE_FILE).exists()

    def scrypt_n(self, default: int | None = None) -> int:
        """The scrypt N the labels were computed with (proving and checking must use the same);
        for data made elsewhere, which records none, the chain's (``default``)."""
        state = self.init_state()
        if state is not None:
            return state.scrypt_n
        return self.default_scrypt_n if default is None else default

    # -- labels -----------------------------------------------------------------------------------

    def label_files(self) -> list[Path]:
        return [path for _, path in list_files(self.datadir)]

    def label_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.label_files())

    def has_labels(self) -> bool:
        return any(path.stat().st_size for path in self.label_files())

    def position(self, meta: PostMetadata) -> int:
        """Labels durably written: this box's init state, else (made elsewhere) all of them."""
        state = self.init_state()
        return meta.total_labels if state is None else min(state.position, meta.total_labels)

    def complete(self, meta: PostMetadata) -> bool:
        """Every label is written (as far as the metadata and this box's init state say)."""
        if meta.last_position is not None and meta.last_position < meta.total_labels:
            return False
        return self.position(meta) >= meta.total_labels

    def check_files(self, meta: PostMetadata) -> None:
        """Raises :class:`~appliance.post.layout.DataFileError` unless every file is whole."""
        check_files(self.datadir, meta)

    def discard(self) -> None:
        """Deletes the labels, the metadata and the init state: the folder is an empty dataset again
        (a dataset made again for another identity, whose labels all differ)."""
        for path in [*self.label_files(), self.metadata_path, self.datadir / STATE_FILE]:
            path.unlink(missing_ok=True)

    def remove_stale_temp_files(self) -> list[Path]:
        """The temp files a kill -9 mid-write left behind (call only while no writer runs)."""
        return remove_stale_temp_files(self.datadir)
