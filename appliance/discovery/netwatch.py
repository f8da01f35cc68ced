"""Wakes the loop when this network namespace's links or IPv4/IPv6 addresses change.

A NETLINK_ROUTE socket subscribed to the link and address multicast groups; the kernel pushes a
message on every change, so the announcer re-reads interfaces only when something happened. The
messages themselves are not parsed (any change triggers a full, cheap re-scan).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV6_IFADDR = 0x100


class NetlinkWatcher:
    def __init__(self, changed: asyncio.Event) -> None:
        self._changed = changed
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> bool:
        """Subscribes; False when netlink is unavailable (the caller then falls back to polling)."""
        try:
            sock = socket.socket(
                socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK, socket.NETLINK_ROUTE
            )
            sock.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))
        except OSError:
            return False
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)
        return True

    def _readable(self) -> None:
        assert self._sock is not None
        with contextlib.suppress(OSError):  # EAGAIN when drained, ENOBUFS after an overflow
            while self._sock.recv(65536):  # drain: one wake-up per burst is enough
                pass
        self._changed.set()

    def stop(self) -> None:
        if self._sock is not None and self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
        self._sock = None
