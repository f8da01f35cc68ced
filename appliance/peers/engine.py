"""The Celery application both ends share: broker settings, JSON-only serialization, and the one
task a helper runs (``compute_unit``).

JSON only, everywhere (task, result, event and accepted content): a message that claims pickle,
yaml or msgpack is refused by kombu before it is decoded, so a paired PC cannot make the box run
code, nor the box a PC. The task carries only a unit description; the labels go back over the
box's HTTP API with the helper's token (``uploader``), not through the broker.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import Celery

from appliance.peers.redisd import queue_name
from appliance.peers.units import Unit

TASK_NAME = "smeshbox.peers.compute_unit"
JSON_ONLY = ["json"]
UnitRunner = Callable[[Unit], None]


def make_app(broker_url: str, ca_file: Path | str) -> Celery:
    """The app on ``broker_url`` (rediss://), verifying the broker's certificate against ``ca_file``."""
    broker_ssl = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": str(ca_file)}
    app = Celery("smeshbox-peers", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        event_serializer="json",
        accept_content=JSON_ONLY,
        result_accept_content=JSON_ONLY,
        task_ignore_result=True,
        result_backend=None,
        # one unit at a time per helper: the box leases and re-leases, not the broker
        worker_prefetch_multiplier=1,
        task_acks_late=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options={"visibility_timeout": 3600},
        broker_use_ssl=broker_ssl,
        # the box's lease loop must not hang on a broker that is restarting: fail fast, lease later
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2},
    )
    return app


def bind_runner(app: Celery, runner: UnitRunner) -> None:
    """Registers ``compute_unit`` on a helper's app: decode the unit, hand it to ``runner``."""

    @app.task(name=TASK_NAME, ignore_result=True)  # type: ignore[untyped-decorator]
    def compute_unit(unit: dict[str, Any]) -> None:
        runner(Unit.from_json(unit))


def send_unit(app: Celery, helper: str, unit: Unit) -> None:
    """The box leases ``unit`` to ``helper`` through the helper's own queue."""
    app.send_task(TASK_NAME, args=[unit.to_json()], queue=queue_name(helper), serializer="json")
