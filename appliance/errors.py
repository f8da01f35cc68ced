"""The one refusal every domain's user-facing service raises: :class:`ServiceError`, a sentence a
person can act on plus a ``kind`` the web layer maps to an HTTP status. It lives here, below every
domain, so that services in system/, node/ and the composition need not import the web layer for it."""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal["invalid", "not_found", "conflict", "unavailable"]


class ServiceError(Exception):
    """A manager refused a request. ``kind``: invalid → 400, not_found → 404, conflict → 409,
    unavailable → 503."""

    def __init__(self, reason: str, kind: ErrorKind = "conflict") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
