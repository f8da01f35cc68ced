"""The one HTTP helper the node's clients share: timeouts, bounded bodies, typed failures.

A PoET or gateway on the internet is untrusted: replies are read up to a size limit, decoded
strictly, and every failure becomes one of three errors the state machine knows how to handle —
*unavailable* (retry later), *rejected* (the server said no, with its reason) or *protocol* (the
reply makes no sense; treat the server as faulty).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Any

import aiohttp

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 1 << 20


class RemoteError(Exception):
    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.status = status
        self.reason = message


class RemoteUnavailable(RemoteError):
    """Connection failure, timeout or a 5xx: try again later."""


class RemoteRejected(RemoteError):
    """A 4xx: the server understood and refused (bad signature, too late, conflict...)."""


class RemoteProtocolError(RemoteError):
    """A reply that is too large, not JSON, or of the wrong shape."""


async def request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    json_body: Any = None,
    data: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    ok_statuses: tuple[int, ...] = (200,),
) -> tuple[int, bytes]:
    """Performs one request; returns (status, body) for ``ok_statuses`` and raises otherwise."""
    try:
        async with asyncio.timeout(timeout):
            async with session.request(method, url, json=json_body, data=data, allow_redirects=False) as resp:
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise RemoteProtocolError(
                        url, f"reply of {resp.content_length} bytes is too large", resp.status
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(64 << 10):
                    size += len(chunk)
                    if size > max_bytes:
                        raise RemoteProtocolError(url, f"reply larger than {max_bytes} bytes", resp.status)
                    chunks.append(chunk)
                body = b"".join(chunks)
                status = resp.status
    except TimeoutError as exc:
        raise RemoteUnavailable(url, f"no reply within {timeout:g} s") from exc
    except aiohttp.ClientError as exc:
        raise RemoteUnavailable(url, f"connection failed: {exc.__class__.__name__}") from exc
    if status in ok_statuses:
        return status, body
    raise_for_status(url, status, body)
    raise AssertionError("unreachable")


def raise_for_status(url: str, status: int, body: bytes) -> None:
    """The error a non-OK reply stands for (shared with the streaming PoET proof reader)."""
    message = _error_message(body) or f"HTTP {status}"
    if status >= 500:
        raise RemoteUnavailable(url, f"server error {status}: {message}", status)
    raise RemoteRejected(url, message, status)


def _error_message(body: bytes) -> str:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(value, dict):
        for key in ("message", "error"):
            if isinstance(value.get(key), str):
                return value[key][:500]
    return ""


def parse_json_object(url: str, body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RemoteProtocolError(url, "reply is not JSON") from exc
    if not isinstance(value, dict):
        raise RemoteProtocolError(url, f"reply is a JSON {type(value).__name__}, expected an object")
    return value


def field(url: str, obj: Any, name: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(obj, dict) or name not in obj:
        raise RemoteProtocolError(url, f"reply lacks field {name!r}")
    value = obj[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RemoteProtocolError(url, f"field {name!r} has the wrong type ({type(value).__name__})")
    return value


def b64_field(url: str, obj: Any, name: str, size: int | None = None, max_size: int = 4096) -> bytes:
    text = field(url, obj, name, str)
    return b64_value(url, text, name, size, max_size)


def b64_value(url: str, text: Any, name: str, size: int | None = None, max_size: int = 4096) -> bytes:
    if not isinstance(text, str) or len(text) > max_size * 2:
        raise RemoteProtocolError(url, f"{name} is not base64 text")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RemoteProtocolError(url, f"{name} is not valid base64") from exc
    if size is not None and len(raw) != size:
        raise RemoteProtocolError(url, f"{name} must be {size} bytes, got {len(raw)}")
    return raw


def hex_field(url: str, obj: Any, name: str, size: int | None = None) -> bytes:
    text = field(url, obj, name, str)
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise RemoteProtocolError(url, f"{name} is not hex") from exc
    if size is not None and len(raw) != size:
        raise RemoteProtocolError(url, f"{name} must be {size} bytes, got {len(raw)}")
    return raw


def uint_field(url: str, obj: Any, name: str, maximum: int = (1 << 64) - 1) -> int:
    """protojson writes 64-bit integers as strings and 32-bit ones as numbers; accept both."""
    value = field(url, obj, name, (int, str))
    if isinstance(value, str):
        if not value.isdigit() or len(value) > 20:
            raise RemoteProtocolError(url, f"{name} is not an unsigned integer")
        value = int(value)
    if not 0 <= value <= maximum:
        raise RemoteProtocolError(url, f"{name} out of range")
    return value


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def parse_duration(url: str, text: Any, name: str) -> float:
    """protojson Duration: decimal seconds with an "s" suffix, e.g. "43200s" or "1.5s"."""
    if not isinstance(text, str) or not text.endswith("s") or len(text) > 32:
        raise RemoteProtocolError(url, f"{name} is not a duration")
    try:
        value = float(text[:-1])
    except ValueError as exc:
        raise RemoteProtocolError(url, f"{name} is not a duration") from exc
    if not 0 <= value < 1e10:
        raise RemoteProtocolError(url, f"{name} out of range")
    return value


def format_duration(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"
