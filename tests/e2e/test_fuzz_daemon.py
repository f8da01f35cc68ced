"""Schemathesis against the whole ``run --dev`` daemon (real drives and jobs managers over loop
devices, the node supervisor, the real identity store, logs and update adapters): no request it
generates gets a 5xx, every status and body is as documented, and the daemon logs no unhandled
error. The web tests' fuzz run covers the web layer over in-memory managers; this one covers the
adapters and managers behind it, where the earlier 500s came from. Operations that end the session
(logout, factory reset) and the endless event stream are left out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis

from tests.e2e.conftest import PASSWORD, DevDaemon, require_root_loops
from tests.web.fuzzing import api_schema, bounded, check, log_in

pytestmark = [pytest.mark.slow, pytest.mark.root]
CREDENTIALS: dict[str, str] = {}
schema = api_schema(r"^/(events|auth/logout|factory-reset)$", CREDENTIALS)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, requests.Session]]:
    require_root_loops()
    box = DevDaemon(Path(tmp_path_factory.mktemp("fuzz-daemon")))
    try:
        box.wait_ready()
        box.onboard()
        base = f"{box.url}/api/v1"
        yield base, log_in(base, "/auth/login", PASSWORD, CREDENTIALS)
        assert "unhandled error" not in box.text(), box.text()[-4000:]
        assert box.stop() == 0, box.text()[-4000:]
    finally:
        box.force_cleanup()


@schema.parametrize()
@bounded(8)
def test_the_daemon_never_answers_5xx(case: schemathesis.Case, daemon: tuple[str, requests.Session]) -> None:
    check(case, daemon)
