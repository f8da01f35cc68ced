"""The client of post-rs's k2pow-service HTTP protocol: a box hands each nonce group's RandomX
proof of work to a helper PC and polls for it, as post-rs's prover does
(spacemeshos/post-rs@a2d155a2a1c13c59559737634262b67686e503b1 ``src/pow/service.rs``:
``GET {url}/job/{miner hex}/{group}/{challenge[..8] hex}/{difficulty hex}``; 201 and 429 mean
back off and ask again, 200 carries the u64, 500 an error).

The box stays the judge: the prover verifies every returned pow with its own RandomX context
(one hash) before using it, and falls back to searching locally if the service fails or lies.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

HTTP_TIMEOUT = 30.0


class RemoteK2PowError(RuntimeError):
    """The service failed, answered something outside the protocol, or the wait was cancelled."""


class RemoteK2Pow:
    """Polls one k2pow-service at ``url`` (see module docstring)."""

    def __init__(
        self, url: str, cancel: threading.Event | None = None, backoff: float = 1.0, max_errors: int = 5
    ) -> None:
        self.url = url.rstrip("/")
        self.cancel = cancel or threading.Event()
        self.backoff = backoff
        self.max_errors = max_errors

    def prove(self, group: int, challenge: bytes, miner_id: bytes, difficulty: bytes) -> int:
        if not 0 <= group <= 255:
            raise RemoteK2PowError(f"nonce group {group} does not fit the protocol's u8")
        path = f"/job/{miner_id.hex()}/{group}/{challenge[:8].hex()}/{difficulty.hex()}"
        errors = 0
        while not self.cancel.is_set():
            try:
                with urllib.request.urlopen(self.url + path, timeout=HTTP_TIMEOUT) as response:
                    status, body = response.status, response.read().decode(errors="replace")
            except urllib.error.HTTPError as exc:
                status, body = exc.code, exc.read().decode(errors="replace")
            except (urllib.error.URLError, OSError) as exc:
                errors += 1
                if errors >= self.max_errors:
                    raise RemoteK2PowError(f"k2pow service {self.url} unreachable: {exc}") from exc
                self.cancel.wait(self.backoff)
                continue
            if status == 200:
                try:
                    value = int(body.strip())
                except ValueError:
                    raise RemoteK2PowError(f"k2pow service answered 200 with {body[:80]!r}") from None
                if not 0 <= value < 1 << 64:
                    raise RemoteK2PowError(f"k2pow service answered {value}, not a u64")
                return value
            if status in (201, 429):
                self.cancel.wait(self.backoff)
                continue
            raise RemoteK2PowError(f"k2pow service answered {status}: {body[:200]}")
        raise RemoteK2PowError("cancelled while waiting for the k2pow service")
