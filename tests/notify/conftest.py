"""Local receivers on loopback: an ntfy-compatible HTTP endpoint (aiohttp) and an SMTP server
(aiosmtpd), each recording what arrived."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiohttp import web


@dataclass
class Ntfy:
    url: str
    got: list[dict[str, str]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
async def ntfy(aiohttp_server: Any) -> AsyncIterator[Ntfy]:
    box = Ntfy("")

    async def publish(request: web.Request) -> web.Response:
        # ntfy's publish API: the body is the message, Title/Priority/Tags are headers
        headers = request.headers
        box.got.append({"topic": request.match_info["topic"], "message": await request.text(),
                        "title": headers.get("Title", ""), "priority": headers.get("Priority", "")})
        return web.json_response({"id": str(len(box.got))}, status=box.status)

    app = web.Application()
    app.router.add_post("/{topic}", publish)
    server = await aiohttp_server(app)
    box.url = str(server.make_url("/smeshbox-test"))
    yield box


class _Handler:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@dataclass
class Smtp:
    host: str
    port: int
    handler: _Handler


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = _Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp("127.0.0.1", port, handler)
    finally:
        controller.stop()
