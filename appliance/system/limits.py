"""File descriptors held back for the PoST work, so the web side can never starve it.

A flood of half-open connections once used every descriptor under the unit's ``LimitNOFILE``: the
smeshers then died with EMFILE. :func:`reserve_descriptors` raises the soft ``RLIMIT_NOFILE`` to
the hard limit and splits it: ``reserved`` descriptors are never handed to web connections (data
files, the node's HTTP sessions, the event loop, logs), and the web server is given a connection
cap below the rest, which it enforces by refusing to accept beyond it.
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: descriptors kept for everything but inbound web connections
RESERVED = 1024
#: at most this many inbound web connections, however high the limit (a box serves one household)
WEB_CAP = 512
#: a soft limit to ask for when the hard one is unlimited
UNLIMITED_TARGET = 65536


@dataclass(frozen=True)
class DescriptorBudget:
    limit: int  # the soft RLIMIT_NOFILE now in force
    reserved: int  # never used by web connections
    web_connections: int  # the web server's cap on open connections


def reserve_descriptors(reserved: int = RESERVED, web_cap: int = WEB_CAP) -> DescriptorBudget:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:  # a container may forbid it: work within what we have
            log.warning("cannot raise the descriptor limit from %d to %d: %s", soft, target, exc)
    limit = UNLIMITED_TARGET if soft == resource.RLIM_INFINITY else soft
    reserve = min(reserved, limit // 2)  # a tiny limit still leaves the web side something
    return DescriptorBudget(limit, reserve, max(8, min(web_cap, limit - reserve)))
