"""mDNS discovery: the box announces itself (``_smeshbox._tcp`` and ``_http._tcp``) on its LAN
interfaces and follows address changes; a browser helper finds boxes. The only importer of zeroconf."""

from appliance.discovery.browser import FoundBox, find_smeshboxes, resolve_host
from appliance.discovery.interfaces import DiscoveryError, Interface, choose_interfaces
from appliance.discovery.manager import (
    HTTP_TYPE,
    SMESHBOX_TYPE,
    DiscoveryConfig,
    DiscoveryManager,
    DiscoverySnapshot,
)

__all__ = [
    "HTTP_TYPE",
    "SMESHBOX_TYPE",
    "DiscoveryConfig",
    "DiscoveryError",
    "DiscoveryManager",
    "DiscoverySnapshot",
    "FoundBox",
    "Interface",
    "choose_interfaces",
    "find_smeshboxes",
    "resolve_host",
]
