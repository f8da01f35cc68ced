"""The setup hotspot's DNS: every name resolves to the box, so whatever a phone looks up on the
hotspot — its captive-portal probe host first — lands on the box's setup page.

A UDP responder on the hotspot address (dnslib does the wire format). Only A queries get an answer
(the box's IPv4 address, a short TTL so phones forget it after setup); AAAA and the rest get an
empty NOERROR answer, which makes clients fall back to IPv4 rather than give up. Malformed packets
are dropped without an answer — a responder must never be made to send junk — and oversized ones
are not parsed at all.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging

from dnslib import QTYPE, RCODE, RR, A, DNSError, DNSRecord

log = logging.getLogger(__name__)

MAX_QUERY = 512  # classic DNS-over-UDP size; a query is far smaller
TTL = 10


def answer(query: bytes, box_address: str) -> bytes | None:
    """The reply to one query packet, or None to stay silent (malformed, or not a query)."""
    if len(query) > MAX_QUERY:
        return None
    try:
        request = DNSRecord.parse(query)
    except (DNSError, ValueError, IndexError, UnicodeError):
        return None
    if request.header.qr or request.header.opcode != 0 or not request.questions:
        return None
    reply = request.reply()  # copies id and question, sets QR/AA/RA
    reply.header.rcode = RCODE.NOERROR
    for question in request.questions:
        if question.qtype in (QTYPE.A, QTYPE.ANY):
            reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(box_address), ttl=TTL))
    return reply.pack()


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, box_address: str) -> None:
        self.box_address = box_address
        self.transport: asyncio.DatagramTransport | None = None
        self.answered = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = answer(data, self.box_address)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)
            self.answered += 1


class CaptiveDNS:
    """``await start()`` binds ``host:port`` (port 0 = any, see :attr:`port`); ``stop()`` closes."""

    def __init__(self, box_address: str, host: str | None = None, port: int = 53) -> None:
        ipaddress.IPv4Address(box_address)  # a bad address fails here, not on the first query
        self.box_address = box_address
        self.host = host or box_address
        self.port = port
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _Protocol | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: _Protocol(self.box_address), local_addr=(self.host, self.port))
        self._transport, self._protocol = transport, protocol
        self.port = transport.get_extra_info("sockname")[1]
        log.info("captive DNS on %s:%d answers everything with %s", self.host, self.port, self.box_address)

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._transport = self._protocol = None

    @property
    def answered(self) -> int:
        return self._protocol.answered if self._protocol else 0
