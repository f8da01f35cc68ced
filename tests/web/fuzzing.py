"""Schemathesis set-up shared by the fuzz runs (the web app over in-memory managers, and the whole
``run --dev`` daemon): the OpenAPI document as a schema, the session as its security scheme, the
checks every response must pass, and a bounded, derandomized hypothesis profile (CI runs the same
cases every time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from appliance.web.openapi import document

# Hypothesis caches into ./.hypothesis by default; keep it with the other (gitignored) test artifacts.
set_hypothesis_home_dir(Path(__file__).resolve().parents[2] / "test-artifacts" / "hypothesis")

# 408 (a body too slow) and 413 (a body over the route's limit) are rejections too; schemathesis'
# default list lacks them.
REJECTIONS = ["400", "401", "403", "404", "405", "408", "409", "413", "415", "429"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def api_schema(exclude: str, credentials: dict[str, str]) -> Any:
    """The document as a schemathesis schema without the paths matching ``exclude``; requests carry
    the session in ``credentials`` (``cookie``, ``csrf``; filled in once the run has logged in) as
    the document's security scheme, so schemathesis also tries them without it."""
    config = schemathesis.Config.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
    )
    schema = schemathesis.openapi.from_dict(document(), config=config).exclude(path_regex=exclude)

    @schema.auth()
    class SessionAuth:
        def get(self, case: schemathesis.Case, ctx: object) -> dict[str, str]:
            return credentials

        def set(self, case: schemathesis.Case, data: dict[str, str], ctx: object) -> None:
            if not data:  # schemathesis also prepares cases while collecting, before the login
                return
            case.cookies = {**(case.cookies or {}), "smeshbox_session": data["cookie"]}
            case.headers = {**(case.headers or {}), "X-CSRF-Token": data["csrf"]}

    return schema


def bounded(max_examples: int) -> Any:
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def log_in(base: str, path: str, password: str, credentials: dict[str, str]) -> requests.Session:
    """POSTs ``password`` to ``path`` (onboarding's first step, or login) and keeps the session for
    the run; returns the HTTP session the cases are sent on."""
    resp = requests.post(f"{base}{path}", json={"password": password}, timeout=30)
    assert resp.status_code == 200, resp.text
    credentials.update(cookie=resp.cookies["smeshbox_session"], csrf=resp.json()["csrf"])
    return requests.Session()


def check(case: schemathesis.Case, live: tuple[str, requests.Session]) -> None:
    """Sends ``case`` to the live server and runs every check on the answer."""
    base, session = live
    case.call_and_validate(base_url=base, session=session, checks=CHECKS, timeout=30)
