"""The interface the web layer uses for notifications, and its plain result type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Delivery:
    channel: str  # "webhook" | "email"
    ok: bool
    detail: str  # what happened, in words
    title: str
    at: float  # unix seconds


class NotifyService(Protocol):
    def settings(self) -> dict[str, Any]:
        """The settings without the SMTP password (``smtp_password_set`` instead)."""

    async def update(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """Checks and stores a change (NotifyConfigError → ServiceError('invalid') by the adapter)."""

    async def test(self) -> list[Delivery]:
        """Sends a test notice to every configured channel now and says how each went."""

    def recent(self) -> list[Delivery]:
        """The latest deliveries, newest first."""
