"""A smesher that dies is restarted: an OSError escaping the proof (EMFILE, a drive gone mid-read)
used to end the identity's smeshing until a reboot; now the supervisor rebuilds it from its durable
state with backoff, the health object reports it while it is down, and the chain continues."""

from __future__ import annotations

import errno

import pytest

from appliance.health import HealthMonitor
from appliance.health.tasks import task_check
from appliance.node.lightnode import LightNode
from appliance.supervision import Backoff, Supervisor

from .conftest import node_grades, provider_for, wait_for

pytestmark = pytest.mark.slow


class DiesOnce:
    """The real provider, except that the first proof in a publish epoch dies with EMFILE."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.failures = inner, 0

    async def info(self, node_id: bytes):  # type: ignore[no-untyped-def]
        return await self.inner.info(node_id)

    async def prove(self, node_id: bytes, challenge: bytes):  # type: ignore[no-untyped-def]
        if challenge != bytes(32) and not self.failures:
            self.failures += 1
            raise OSError(errno.EMFILE, "Too many open files")
        return await self.inner.prove(node_id, challenge)


async def test_a_smesher_dying_with_oserror_is_restarted_and_publishes(harness) -> None:
    idents, dirs = harness.identities(1)
    provider = DiesOnce(provider_for(harness.devnet, dirs))
    tasks = Supervisor(Backoff(initial=0.5, maximum=2.0), healthy_after=5.0)
    health = HealthMonitor()
    health.mark_started()
    health.add_check("tasks", task_check(tasks))
    seen: list[str] = []
    tasks.add_listener(lambda: seen.extend(p.reason for p in health.report().problems))
    manager = LightNode(harness.devnet.node_config(), harness.tmp / "state", provider,
                          time_source=harness.devnet.time, identities=idents, supervisor=tasks)
    await manager.start()
    harness.managers.append(manager)
    node_id = idents[0].node_id
    await wait_for(lambda: provider.failures == 1, 60, "the first epoch proof to die")
    await wait_for(lambda: node_grades(manager, node_id).get(2) == "good", 120,
                   "the node's own record of a good ATX for epoch 2")
    assert any("Too many open files" in reason for reason in seen)  # reported while it was down
    assert tasks.get(f"smesher-{node_id.hex()[:12]}").restarts >= 1
    assert not manager.down() and not health.report().problems
