"""appliance.config: defaults, round trip, and a clear error for each kind of bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ConfigError, DaemonConfig, StateLayout, load_config, save_config


def test_missing_file_gives_defaults_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    assert load_config(path) == DaemonConfig()
    config = DaemonConfig(listen_port=8080, loop_backing_dirs=["/x"])
    config.post.threads = 4
    save_config(path, config)
    assert load_config(path) == config


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ("[]", "expected an object"),
    ('{"listen_port": "80"}', "listen_port: expected a non-negative integer"),
    ('{"listen_port": -1}', "non-negative"),
    ('{"bogus": 1}', "unknown field"),
    ('{"post": {"scrypt_n": 8192}}', "post.scrypt_n: a fact of the chain.*network.json"),
    ('{"post": {"labels_per_unit": 256, "threads": 2}}', "post.labels_per_unit: a fact of the chain"),
    ('{"post": {"max_file_size": 1000}}', "multiple of 16"),
    ('{"post": 3}', "post: expected an object"),
    ('{"loop_backing_dirs": "/tmp"}', "expected list"),
])
def test_bad_config_is_refused_and_left_in_place(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_config(path)
    assert path.read_text() == content


def test_layout_creates_private_identity_folder(tmp_path: Path) -> None:
    layout = StateLayout(tmp_path / "s")
    layout.create()
    assert layout.drives.is_dir() and (layout.identities.stat().st_mode & 0o777) == 0o700
    assert layout.lock == tmp_path / "s" / "lock" and layout.drives_db.name == "drives.json"
