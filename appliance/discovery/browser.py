"""Finding Smeshboxes on the LAN: browse ``_smeshbox._tcp`` and resolve each instance to host, port,
addresses and TXT (``smeshbox find``, the helper without ``--box``); and :func:`resolve_host`, a
``.local`` name (``smeshbox.local``) to its IPv4 addresses over mDNS — without relying on the
computer's own resolver, which on many PCs does not do mDNS."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from zeroconf import AddressResolverIPv4, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from appliance.discovery.interfaces import addresses_of, choose_interfaces, list_interfaces
from appliance.discovery.manager import SMESHBOX_TYPE


@dataclass(frozen=True)
class FoundBox:
    name: str  # instance label, e.g. "Smeshbox 3fa9c2-2"
    host: str
    port: int
    addresses: list[str]
    version: str
    node: str
    api_path: str

    @property
    def api_url(self) -> str:
        return f"http://{self.addresses[0]}:{self.port}{self.api_path}"


def _txt(info: AsyncServiceInfo, key: str) -> str:
    value = info.decoded_properties.get(key)
    return value or ""


async def find_smeshboxes(
    interfaces: Sequence[str] | None = None, timeout: float = 5.0, want: int | None = None
) -> list[FoundBox]:
    """Browses until ``want`` boxes are resolved or ``timeout`` seconds pass; sorted by name.

    ``interfaces`` are names as for the announcer (None = every LAN interface).
    """
    addresses = addresses_of(choose_interfaces(await asyncio.to_thread(list_interfaces), interfaces))
    if not addresses:
        return []
    found: dict[str, FoundBox] = {}
    pending: set[asyncio.Task[None]] = set()
    done = asyncio.Event()
    aiozc = AsyncZeroconf(interfaces=addresses, ip_version=IPVersion.V4Only)

    async def resolve(name: str) -> None:
        info = AsyncServiceInfo(SMESHBOX_TYPE, name)
        if not await info.async_request(aiozc.zeroconf, int(timeout * 1000)) or not info.port:
            return
        found[name] = FoundBox(
            name=name[: -len(SMESHBOX_TYPE) - 1], host=(info.server or "").rstrip("."), port=info.port,
            addresses=info.parsed_addresses(IPVersion.V4Only), version=_txt(info, "version"),
            node=_txt(info, "node"), api_path=_txt(info, "api"),
        )  # fmt: skip
        if want is not None and len(found) >= want:
            done.set()

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
            task = asyncio.get_running_loop().create_task(resolve(name))
            pending.add(task)
            task.add_done_callback(pending.discard)
        elif state_change is ServiceStateChange.Removed:
            found.pop(name, None)

    browser = AsyncServiceBrowser(aiozc.zeroconf, [SMESHBOX_TYPE], handlers=[on_change])
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout)
    finally:
        await browser.async_cancel()
        for task in list(pending):
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await aiozc.async_close()
    return sorted(found.values(), key=lambda box: box.name)


async def resolve_host(
    name: str, interfaces: Sequence[str] | None = None, timeout: float = 3.0
) -> list[str]:
    """The IPv4 addresses answering for ``name`` (``smeshbox.local``) over mDNS; [] if none does."""
    host = name.rstrip(".") + "."
    addresses = addresses_of(choose_interfaces(await asyncio.to_thread(list_interfaces), interfaces))
    if not addresses:
        return []
    aiozc = AsyncZeroconf(interfaces=addresses, ip_version=IPVersion.V4Only)
    try:
        resolver = AddressResolverIPv4(host)
        if not await resolver.async_request(aiozc.zeroconf, int(timeout * 1000)):
            return []
        return resolver.parsed_addresses(IPVersion.V4Only)
    finally:
        await aiozc.async_close()
