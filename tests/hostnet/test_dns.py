"""The captive DNS over real UDP on loopback: every name is the box, IPv6 gets an empty answer,
junk gets silence and does not stop the next answer."""

from __future__ import annotations

import asyncio
import socket

import pytest
from dnslib import QTYPE, RCODE, DNSRecord

from appliance.hostnet.dns import CaptiveDNS, answer

BOX = "10.42.0.1"


def _ask(port: int, packet: bytes, timeout: float = 2.0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, ("127.0.0.1", port))
        try:
            return sock.recv(4096)
        except TimeoutError:
            return None


@pytest.fixture
async def dns():
    server = CaptiveDNS(BOX, host="127.0.0.1", port=0)
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("name", ["connectivitycheck.gstatic.com", "captive.apple.com",
                                  "www.msftconnecttest.com", "smeshbox.local", "x.example"])
async def test_every_name_is_the_box(dns: CaptiveDNS, name: str) -> None:
    query = DNSRecord.question(name, "A")
    raw = await asyncio.to_thread(_ask, dns.port, query.pack())
    assert raw is not None
    reply = DNSRecord.parse(raw)
    assert reply.header.id == query.header.id and reply.header.rcode == RCODE.NOERROR
    assert [(str(rr.rname).rstrip("."), str(rr.rdata)) for rr in reply.rr] == [(name, BOX)]
    assert reply.rr[0].ttl <= 60  # phones must forget it soon after setup


async def test_ipv6_gets_an_empty_answer_not_an_error(dns: CaptiveDNS) -> None:
    raw = await asyncio.to_thread(_ask, dns.port, DNSRecord.question("captive.apple.com", "AAAA").pack())
    assert raw is not None
    reply = DNSRecord.parse(raw)
    assert reply.header.rcode == RCODE.NOERROR and reply.rr == []
    assert reply.q.qtype == QTYPE.AAAA


TRUNCATED = b"\x12\x34\x01\x00" + b"\x00\x01" * 4 + b"\x3f"  # one question, its name cut off


@pytest.mark.parametrize("junk", [b"", b"\x00", b"\xff" * 11, TRUNCATED, b"A" * 600])
async def test_junk_gets_silence_and_the_next_query_an_answer(dns: CaptiveDNS, junk: bytes) -> None:
    assert answer(junk, BOX) is None
    assert await asyncio.to_thread(_ask, dns.port, junk, 0.3) is None
    raw = await asyncio.to_thread(_ask, dns.port, DNSRecord.question("a.b", "A").pack())
    assert raw is not None and str(DNSRecord.parse(raw).rr[0].rdata) == BOX


def test_a_reply_is_never_answered() -> None:
    reply = DNSRecord.question("a.b", "A").reply()
    assert answer(reply.pack(), BOX) is None  # no reflection loops between two responders


def test_bad_box_address_fails_at_construction() -> None:
    with pytest.raises(ValueError):
        CaptiveDNS("not-an-ip")
