"""Resumable, hashed bundle download (aiohttp client).

The bundle is written to ``<name>.part`` next to its final name. A restart (power cut, network
drop) re-hashes what is already there and asks the server for the rest with an HTTP Range; a server
that ignores the range gets a fresh start. Bytes are hashed as they arrive; the file is renamed to
its final name only when size and sha256 match the signed manifest. A server sending more than the
manifest's size is cut off at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import aiohttp

from appliance.ota.errors import DownloadError, HashMismatchError
from appliance.system.files import fsync_dir

Progress = Callable[[int, int], None]
CHUNK = 256 * 1024
FLUSH = 4 * 1024 * 1024  # bytes buffered before a write (in a thread) — keeps the loop free


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _hash_existing(path: Path, limit: int) -> tuple[int, hashlib._Hash]:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as handle:
        while done < limit:
            block = handle.read(min(1 << 20, limit - done))
            if not block:
                break
            digest.update(block)
            done += len(block)
    return done, digest


def _append(path: Path, data: bytes, truncate_to: int | None) -> None:
    with path.open("r+b" if path.exists() else "wb") as handle:
        if truncate_to is not None:
            handle.truncate(truncate_to)
        handle.seek(0, os.SEEK_END)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


async def download_bundle(
    session: aiohttp.ClientSession,
    url: str,
    dest: Path,
    size: int,
    sha256: str,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> Path:
    """Fetches ``url`` into ``dest``, resuming a previous ``.part``; returns ``dest`` when verified."""
    if dest.exists():
        done, digest = await asyncio.to_thread(_hash_existing, dest, size + 1)
        if done == size and digest.hexdigest() == sha256:
            return dest
        dest.unlink()
    part = part_path(dest)
    done, digest = 0, hashlib.sha256()
    if part.exists():
        if part.stat().st_size > size:
            part.unlink()
        else:
            done, digest = await asyncio.to_thread(_hash_existing, part, size)
    headers = {"Range": f"bytes={done}-"} if done else {}
    client_timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
    truncate: int | None = None
    try:
        async with session.get(url, headers=headers, timeout=client_timeout) as response:
            if done and response.status == 416 and done == size:
                pass  # everything is already here; verified below
            elif done and response.status == 200:
                done, digest, truncate = 0, hashlib.sha256(), 0  # server ignored the range
            elif done and response.status == 206:
                start = _content_range_start(response.headers.get("Content-Range", ""))
                if start != done:
                    raise DownloadError(f"server resumed at {start}, asked for {done}")
            elif response.status != 200:
                raise DownloadError(f"GET {url}: HTTP {response.status}")
            if progress:
                progress(done, size)
            if response.status in (200, 206):
                buffer = bytearray()
                try:
                    async for block in response.content.iter_chunked(CHUNK):
                        if done + len(buffer) + len(block) > size:
                            raise HashMismatchError(f"server sent more than the signed size {size}")
                        buffer += block
                        digest.update(block)
                        if len(buffer) >= FLUSH:
                            await asyncio.to_thread(_append, part, bytes(buffer), truncate)
                            done, truncate = done + len(buffer), None
                            buffer.clear()
                            if progress:
                                progress(done, size)
                finally:
                    # Keep what arrived, even when the connection dropped: the next attempt resumes
                    # after it, and the final hash catches anything wrong in it.
                    if buffer or truncate is not None:
                        await asyncio.to_thread(_append, part, bytes(buffer), truncate)
                        done += len(buffer)
    except HashMismatchError:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DownloadError(f"GET {url} stopped after {done} of {size} bytes: {exc}") from exc
    if progress:
        progress(done, size)
    if done != size:
        raise DownloadError(f"bundle truncated: got {done} of {size} bytes (resumable)")
    if digest.hexdigest() != sha256:
        part.unlink()
        raise HashMismatchError(f"bundle sha256 {digest.hexdigest()} does not match the manifest")
    os.replace(part, dest)
    fsync_dir(dest.parent)
    return dest


def _content_range_start(value: str) -> int:
    # "bytes 100-199/200"
    try:
        unit, rest = value.split(" ", 1)
        if unit != "bytes":
            raise ValueError(unit)
        return int(rest.split("-", 1)[0])
    except ValueError as exc:
        raise DownloadError(f"bad Content-Range {value!r}") from exc
