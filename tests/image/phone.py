"""The "phone" of the Wi-Fi QEMU test, run inside the guest in the phone's network namespace (with
the image's Python; only the standard library and dnslib, which the appliance ships).

    phone.py dhcp IFACE            DHCP DISCOVER/REQUEST on IFACE, prints {"address","prefix","dns",...}
    phone.py dns SERVER NAME       one A query to SERVER, prints the addresses
    phone.py get URL [HOST]        one GET without following redirects, prints {"status","location","body"}
    phone.py post URL JSON         one POST of JSON, prints {"status","body"}

A phone's DHCP client is what the test needs, and the image has none (NetworkManager's is built in):
this one speaks RFC 2131 over a UDP socket bound to the interface, with the broadcast flag set so
the server's answers reach a client that has no address yet.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import sys
import time
import urllib.error
import urllib.request

MAGIC = b"\x63\x82\x53\x63"


def _options(data: bytes) -> dict[int, bytes]:
    found, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        code, length = data[i], data[i + 1]
        found[code] = data[i + 2 : i + 2 + length]
        i += 2 + length
    return found


def dhcp(iface: str) -> dict[str, object]:
    from pathlib import Path

    hw = bytes.fromhex(Path(f"/sys/class/net/{iface}/address").read_text().strip().replace(":", ""))
    xid = random.getrandbits(32)

    def packet(kind: int, extra: bytes = b"") -> bytes:
        head = struct.pack("!BBBBIHHIIII16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, 0, 0, 0, 0,
                           hw.ljust(16, b"\0"), b"", b"")
        return head + MAGIC + bytes([53, 1, kind]) + extra + bytes([55, 3, 1, 3, 6, 255])

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    sock.bind(("0.0.0.0", 68))
    sock.settimeout(2)

    def exchange(kind: int, extra: bytes, want: int) -> tuple[bytes, dict[int, bytes]]:
        for _ in range(15):
            sock.sendto(packet(kind, extra), ("255.255.255.255", 67))
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                try:
                    data = sock.recv(2048)
                except TimeoutError:
                    break
                if len(data) < 244 or data[4:8] != struct.pack("!I", xid) or data[236:240] != MAGIC:
                    continue
                opts = _options(data)
                if opts.get(53) == bytes([want]):
                    return data, opts
        raise SystemExit(f"no DHCP answer on {iface}")

    offer, opts = exchange(1, b"", 2)
    address = offer[16:20]
    ack, opts = exchange(3, bytes([50, 4]) + address + bytes([54, 4]) + opts[54], 5)
    mask = int.from_bytes(opts.get(1, b"\xff\xff\xff\x00"), "big")
    return {"address": socket.inet_ntoa(ack[16:20]), "prefix": bin(mask).count("1"),
            "dns": socket.inet_ntoa(opts[6][:4]) if 6 in opts else "",
            "router": socket.inet_ntoa(opts[3][:4]) if 3 in opts else "",
            "server": socket.inet_ntoa(opts[54])}


def dns(server: str, name: str) -> list[str]:
    from dnslib import DNSRecord

    reply = DNSRecord.parse(DNSRecord.question(name, "A").send(server, 53, timeout=5))
    return [str(rr.rdata) for rr in reply.rr]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def get(url: str, host: str | None = None) -> dict[str, object]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=20) as resp:
            return {"status": resp.status, "location": resp.headers.get("Location", ""),
                    "body": resp.read(65536).decode(errors="replace")}
    except urllib.error.HTTPError as err:
        return {"status": err.code, "location": err.headers.get("Location", ""),
                "body": err.read(65536).decode(errors="replace")}


def post(url: str, body: str) -> dict[str, object]:
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            return {"status": resp.status, "body": resp.read(65536).decode(errors="replace")}
    except urllib.error.HTTPError as err:
        return {"status": err.code, "body": err.read(65536).decode(errors="replace")}


def main(argv: list[str]) -> None:
    command, *args = argv
    result = {"dhcp": dhcp, "dns": dns, "get": get, "post": post}[command](*args)  # type: ignore[operator]
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
