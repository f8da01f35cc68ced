"""Resumable, hashed bundle downloads against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import aiohttp
import pytest

from appliance.ota.download import download_bundle, part_path
from appliance.ota.errors import DownloadError, HashMismatchError

BUNDLE = os.urandom(3 * 1024 * 1024 + 123)  # several write flushes and chunks
SHA = hashlib.sha256(BUNDLE).hexdigest()


async def fetch(server, dest: Path, data: bytes = BUNDLE, sha: str = SHA, size: int | None = None,
                progress=None) -> Path:
    server.files["b.raucb"] = data
    async with aiohttp.ClientSession() as session:
        return await download_bundle(
            session, server.url + "/b.raucb", dest, len(BUNDLE) if size is None else size, sha,
            progress=progress, timeout=5,
        )


async def test_full_download_is_hashed_and_renamed_with_progress(server, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    dest = await fetch(server, tmp_path / "b.raucb", progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == BUNDLE
    assert not part_path(dest).exists()
    assert seen[0] == (0, len(BUNDLE)) and seen[-1] == (len(BUNDLE), len(BUNDLE))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert server.ranges == [None]


async def test_resume_asks_for_the_rest_only(server, tmp_path: Path) -> None:
    dest = tmp_path / "b.raucb"
    part_path(dest).write_bytes(BUNDLE[:1_000_000])
    await fetch(server, dest)
    assert dest.read_bytes() == BUNDLE
    assert server.ranges == ["bytes=1000000-"]


async def test_dropped_connection_keeps_the_part_and_a_retry_completes(server, tmp_path: Path) -> None:
    dest = tmp_path / "b.raucb"
    server.cut_after = 2 * 1024 * 1024 + 5000
    with pytest.raises(DownloadError, match=r"truncated|stopped"):
        await fetch(server, dest)
    kept = part_path(dest).stat().st_size
    assert 0 < kept <= server.cut_after
    assert part_path(dest).read_bytes() == BUNDLE[:kept]
    assert not dest.exists()
    server.cut_after = None
    await fetch(server, dest)
    assert dest.read_bytes() == BUNDLE
    assert server.ranges[-1] == f"bytes={kept}-"


async def test_server_ignoring_range_restarts_cleanly(server, tmp_path: Path) -> None:
    dest = tmp_path / "b.raucb"
    part_path(dest).write_bytes(BUNDLE[:500_000])
    server.honour_range = False
    await fetch(server, dest)
    assert dest.read_bytes() == BUNDLE


async def test_complete_part_gets_416_and_is_verified(server, tmp_path: Path) -> None:
    dest = tmp_path / "b.raucb"
    part_path(dest).write_bytes(BUNDLE)
    await fetch(server, dest)
    assert dest.read_bytes() == BUNDLE


async def test_wrong_bytes_are_a_hash_mismatch_and_discarded(server, tmp_path: Path) -> None:
    dest = tmp_path / "b.raucb"
    evil = bytearray(BUNDLE)
    evil[12345] ^= 1
    with pytest.raises(HashMismatchError, match="does not match"):
        await fetch(server, dest, data=bytes(evil))
    assert not dest.exists() and not part_path(dest).exists()


async def test_corrupt_part_from_before_is_caught_at_the_end(server, tmp_path: Path) -> None:
    dest = tmp_path / "b.raucb"
    part_path(dest).write_bytes(b"\0" * 1000)
    with pytest.raises(HashMismatchError):
        await fetch(server, dest)
    assert not part_path(dest).exists()
    await fetch(server, dest)  # and the next attempt starts over
    assert dest.read_bytes() == BUNDLE


async def test_server_sending_more_than_signed_is_cut_off(server, tmp_path: Path) -> None:
    dest = tmp_path / "b.raucb"
    with pytest.raises(HashMismatchError, match="more than"):
        await fetch(server, dest, data=BUNDLE + b"extra")
    assert not part_path(dest).exists()


async def test_short_bundle_is_truncated_error(server, tmp_path: Path) -> None:
    dest = tmp_path / "b.raucb"
    with pytest.raises(DownloadError, match="truncated"):
        await fetch(server, dest, data=BUNDLE[:-10])
    assert not dest.exists()


async def test_http_error_and_unreachable_server_are_download_errors(server, tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(DownloadError, match="404"):
            await download_bundle(session, server.url + "/missing", tmp_path / "x", 10, SHA, timeout=5)
        with pytest.raises(DownloadError):
            await download_bundle(session, "http://127.0.0.1:9/x", tmp_path / "x", 10, SHA, timeout=5)


async def test_existing_verified_bundle_is_not_downloaded_again(server, tmp_path: Path) -> None:
    dest = tmp_path / "b.raucb"
    dest.write_bytes(BUNDLE)
    await fetch(server, dest)
    assert server.ranges == []
