"""The daemon's configuration and state-directory layout.

One state directory holds everything the box keeps (``/var/lib/smeshbox`` on the box)::

    <state>/lock                   single-instance lock (appliance.system.lock)
    <state>/config.json            DaemonConfig, written atomically
    <state>/identities/<n>.key     go-spacemesh style keys (appliance.node.identity)
    <state>/drives/<fs-uuid>/      mount points of the data drives (noatime)
    <state>/drives.json            what the box knows about each drive (DriveRecord per fs UUID)
    <state>/dev-drives/            --dev only: backing files of the loop-device drives

Reads tolerate a missing file (defaults) but never a corrupt one silently: a corrupt config raises
:class:`ConfigError` naming the file, and is left in place for a person to look at.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.system.files import atomic_write_json

BOX_STATE_DIR = Path("/var/lib/smeshbox")


class ConfigError(ValueError):
    """A config/state file exists but cannot be used; the message names the file and the field."""


#: chain facts a config.json once held: refused with where they live now
CHAIN_FIELDS = ("labels_per_unit", "scrypt_n")


@dataclass
class PostSettings:
    """This machine's PoST knobs for new datasets. Labels per unit and scrypt N are the chain's
    (``appliance.chain.ChainParams``, from ``network.json``), never set here."""

    max_file_size: int = 4 << 30
    #: bytes left free on a drive when sizing the number of units (filesystem slack, metadata)
    free_margin: int = 256 << 20
    #: upper bound of units per drive (0 = as many as fit)
    max_units: int = 0
    threads: int = 1
    #: what new datasets commit to: the chain's golden ATX, set at start (node mode may change it)
    commitment_atx_id: str = "00" * 32


@dataclass
class HelpersSettings:
    """LAN computers that initialize for the box: off unless ``host`` (the box's LAN address, where
    the broker and the helper API listen) is set."""

    host: str = ""
    api_port: int = 8442
    broker_port: int = 0  # 0: chosen once and kept in the peers state


@dataclass
class DaemonConfig:
    listen_host: str = "0.0.0.0"
    listen_port: int = 80
    post: PostSettings = field(default_factory=PostSettings)
    #: folders whose files may back loop-device drives (--dev); other loop devices are ignored
    loop_backing_dirs: list[str] = field(default_factory=list)
    #: the web server's share of the daemon's file descriptors (appliance.web.connections): at most
    #: this many connections in all, and per client; the rest of the unit's LimitNOFILE is the PoST
    #: work's and the node's, which a flood of web clients must never starve
    web_max_connections: int = 256
    web_max_per_client: int = 32
    helpers: HelpersSettings = field(default_factory=HelpersSettings)


@dataclass(frozen=True)
class StateLayout:
    root: Path

    @property
    def lock(self) -> Path:
        return self.root / "lock"

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def identities(self) -> Path:
        return self.root / "identities"

    @property
    def drives(self) -> Path:
        return self.root / "drives"

    @property
    def drives_db(self) -> Path:
        return self.root / "drives.json"

    @property
    def dev_drives(self) -> Path:
        return self.root / "dev-drives"

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.identities.mkdir(exist_ok=True, mode=0o700)
        self.drives.mkdir(exist_ok=True)


def _from_dict(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected an object, found {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        default = getattr(cls(), name)
        if dataclasses.is_dataclass(default):
            values[name] = _from_dict(type(default), value, f"{where}.{name}")
        elif type(default) is int and (type(value) is not int or value < 0):
            raise ConfigError(f"{where}.{name}: expected a non-negative integer, found {value!r}")
        elif not isinstance(value, type(default)):
            raise ConfigError(f"{where}.{name}: expected {type(default).__name__}, found {value!r}")
        else:
            values[name] = value
    return cls(**values)


def load_config(path: str | os.PathLike[str]) -> DaemonConfig:
    p = Path(path)
    try:
        raw = p.read_text()
    except FileNotFoundError:
        return DaemonConfig()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    post = data.get("post") if isinstance(data, dict) else None
    moved = sorted(set(post) & set(CHAIN_FIELDS)) if isinstance(post, dict) else []
    if moved:
        raise ConfigError(f"{p}: post.{', post.'.join(moved)}: a fact of the chain, not of this machine; "
                          "set it in network.json (next to config.json)")
    config = _from_dict(DaemonConfig, data, str(p))
    if config.post.max_file_size % 16 or config.post.max_file_size < 1024:
        raise ConfigError(f"{p}: post.max_file_size must be a multiple of 16, >= 1024")
    return config


def save_config(path: str | os.PathLike[str], config: DaemonConfig) -> None:
    atomic_write_json(path, dataclasses.asdict(config))
