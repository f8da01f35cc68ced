"""``postdata_metadata.json``: reading, validating and atomically writing it field for field (spec §3).

PascalCase keys as post-rs (serde) and the Go ``post`` library write them: base64 ids, ``Nonce``
null or absent, Go's ``NonceValue`` (hex of the 16-byte label at ``Nonce``) read and written, and
``LastPosition``. Every problem raises ``MetadataError`` naming the file and the field.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.system.files import atomic_write_json

METADATA_FILE = "postdata_metadata.json"
DEFAULT_MAX_FILE_SIZE = 4 << 30
MIN_MAX_FILE_SIZE = 1024
U64_MAX = (1 << 64) - 1
U32_MAX = (1 << 32) - 1


class MetadataError(ValueError):
    """The metadata file is missing, unreadable, or a field is wrong; ``field`` names it (or None)."""

    def __init__(self, path: Path | str, reason: str, field: str | None = None) -> None:
        where = f"{path}: field {field}" if field else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = str(path)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class PostMetadata:
    """The identity and geometry of one PoST data directory."""

    node_id: bytes
    commitment_atx_id: bytes
    labels_per_unit: int
    num_units: int
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    nonce: int | None = None
    nonce_value: bytes | None = None
    last_position: int | None = None

    @property
    def total_labels(self) -> int:
        return self.labels_per_unit * self.num_units

    @property
    def labels_per_file(self) -> int:
        return self.max_file_size // 16

    @property
    def num_files(self) -> int:
        return -(-self.total_labels // self.labels_per_file)

    def validate(self, path: Path | str = METADATA_FILE) -> None:
        """Raises MetadataError for the first field that is out of range or inconsistent."""
        for field, value in (("NodeId", self.node_id), ("CommitmentAtxId", self.commitment_atx_id)):
            if len(value) != 32:
                raise MetadataError(path, f"must be 32 bytes, got {len(value)}", field)
        _check_int(path, "LabelsPerUnit", self.labels_per_unit, 1, U64_MAX)
        _check_int(path, "NumUnits", self.num_units, 1, U32_MAX)
        _check_int(path, "MaxFileSize", self.max_file_size, MIN_MAX_FILE_SIZE, U64_MAX)
        if self.max_file_size % 16:
            raise MetadataError(path, f"must be a multiple of 16, got {self.max_file_size}", "MaxFileSize")
        if self.total_labels > U64_MAX:
            raise MetadataError(path, "LabelsPerUnit × NumUnits exceeds 2^64 - 1", "NumUnits")
        if self.nonce is not None:
            _check_int(path, "Nonce", self.nonce, 0, self.total_labels - 1)
        if self.nonce_value is not None and len(self.nonce_value) not in (16, 32):
            raise MetadataError(path, f"must be 16 (or 32) bytes, got {len(self.nonce_value)}", "NonceValue")
        if self.last_position is not None:
            _check_int(path, "LastPosition", self.last_position, 0, self.total_labels)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "NodeId": base64.b64encode(self.node_id).decode(),
            "CommitmentAtxId": base64.b64encode(self.commitment_atx_id).decode(),
            "LabelsPerUnit": self.labels_per_unit,
            "NumUnits": self.num_units,
            "MaxFileSize": self.max_file_size,
            "Nonce": self.nonce,
        }
        if self.nonce_value is not None:
            data["NonceValue"] = self.nonce_value.hex()
        data["LastPosition"] = self.last_position
        return data

    @classmethod
    def from_json(cls, data: Any, path: Path | str = METADATA_FILE) -> PostMetadata:
        if not isinstance(data, dict):
            raise MetadataError(path, f"must hold a JSON object, got {type(data).__name__}")
        meta = cls(
            node_id=_b64(path, data, "NodeId"),
            commitment_atx_id=_b64(path, data, "CommitmentAtxId"),
            labels_per_unit=_int(path, data, "LabelsPerUnit"),
            num_units=_int(path, data, "NumUnits"),
            max_file_size=_int(path, data, "MaxFileSize"),
            nonce=_int(path, data, "Nonce", optional=True),
            nonce_value=_hex(path, data, "NonceValue"),
            last_position=_int(path, data, "LastPosition", optional=True),
        )
        meta.validate(path)
        return meta


def _check_int(path: Path | str, field: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise MetadataError(path, f"must be between {low} and {high}, got {value}", field)


def _int(path: Path | str, data: dict[str, Any], field: str, optional: bool = False) -> Any:
    if field not in data or data[field] is None:
        if optional:
            return None
        raise MetadataError(path, "is missing", field)
    value = data[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise MetadataError(path, f"must be an integer, got {json.dumps(value)}", field)
    if value < 0:
        raise MetadataError(path, f"must not be negative, got {value}", field)
    return value


def _b64(path: Path | str, data: dict[str, Any], field: str) -> bytes:
    value = data.get(field)
    if not isinstance(value, str):
        raise MetadataError(path, "must be a base64 string" if field in data else "is missing", field)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MetadataError(path, f"is not valid base64 ({exc})", field) from exc
    if len(raw) != 32:
        raise MetadataError(path, f"must decode to 32 bytes, got {len(raw)}", field)
    return raw


def _hex(path: Path | str, data: dict[str, Any], field: str) -> bytes | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MetadataError(path, "must be a hex string", field)
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise MetadataError(path, f"is not valid hex ({exc})", field) from exc


def metadata_path(datadir: Path | str) -> Path:
    return Path(datadir) / METADATA_FILE


def read_metadata(datadir: Path | str) -> PostMetadata:
    """Loads and validates the metadata of ``datadir``."""
    path = metadata_path(datadir)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise MetadataError(path, "does not exist") from exc
    except UnicodeDecodeError as exc:
        raise MetadataError(path, "is not UTF-8 text (garbage?)") from exc
    except OSError as exc:
        raise MetadataError(path, f"cannot be read: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = "is empty" if not text.strip() else f"is not valid JSON (truncated or garbage): {exc}"
        raise MetadataError(path, reason) from exc
    return PostMetadata.from_json(data, path)


def write_metadata(datadir: Path | str, meta: PostMetadata) -> None:
    """Validates and atomically replaces the metadata of ``datadir``."""
    path = metadata_path(datadir)
    meta.validate(path)
    atomic_write_json(path, meta.to_json())
