"""Request/response plumbing shared by the handlers: typed JSON errors, bounded JSON bodies checked
against the OpenAPI schemas, bounded service calls, and dataclass → JSON responses."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable
from typing import Any, TypeVar

import jsonschema
from aiohttp import web

from appliance.web.connections import reading_body
from appliance.web.openapi import SCHEMAS
from appliance.web.services import ServiceError

T = TypeVar("T")

DEFAULT_BODY_LIMIT = 4096
BODY_TIMEOUT = 10.0  # seconds a request body may take to arrive once its headers are in
MAX_DEPTH = 32  # no documented body nests deeper than 3; RecursionError starts near 1,000
_KIND_STATUS = {"invalid": 400, "not_found": 404, "conflict": 409, "unavailable": 503}
_VALIDATORS: dict[str, jsonschema.Draft202012Validator] = {}


class ApiError(Exception):
    """Becomes ``{"error": code, "reason": reason}`` with HTTP ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        reason: str,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason
        self.headers = headers or {}
        self.extra = extra or {}

    def response(self) -> web.Response:
        body = {"error": self.code, "reason": self.reason, **self.extra}
        return web.json_response(body, status=self.status, headers=self.headers)


def _validator(name: str) -> jsonschema.Draft202012Validator:
    if name not in _VALIDATORS:
        schema = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": SCHEMAS}}
        _VALIDATORS[name] = jsonschema.Draft202012Validator(schema)
    return _VALIDATORS[name]


async def read_json(request: web.Request, schema: str, limit: int = DEFAULT_BODY_LIMIT) -> dict[str, Any]:
    """The request's JSON body, checked for type, size, syntax and schema (→ 415/413/400)."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "too_large", f"the body may be at most {limit} bytes")
    try:
        # bounded in size by the app's client_max_size (413 from aiohttp) and here in time: a body
        # that trickles in must not hold the connection (and a descriptor) for ever
        with reading_body(request):
            raw = await asyncio.wait_for(request.read(), BODY_TIMEOUT)
    except TimeoutError as exc:
        raise ApiError(408, "body_timeout", f"the body did not arrive within {BODY_TIMEOUT:g} s") from exc
    except ConnectionResetError as exc:  # the client left, or the guard evicted it: nobody to tell
        raise ApiError(400, "body_incomplete", "the connection closed before the body arrived") from exc
    if len(raw) > limit:
        raise ApiError(413, "too_large", f"the body may be at most {limit} bytes")
    value = _parse(raw)
    try:
        error = jsonschema.exceptions.best_match(_validator(schema).iter_errors(value))
    except RecursionError as exc:  # a 4 KiB body can still nest deeper than the validator recurses
        raise ApiError(400, "malformed_json", f"the body nests deeper than {MAX_DEPTH} levels") from exc
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "body"
        raise ApiError(400, "invalid", f"{where}: {error.message}"[:300])
    return value


def _parse(raw: bytes) -> Any:
    """JSON text → value; anything a handler could trip over later is refused here with a reason."""
    if _depth(raw) > MAX_DEPTH:
        raise ApiError(400, "malformed_json", f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from exc
    try:
        # JSON may spell a lone UTF-16 surrogate ("\ud800"); Python accepts it into a str that no
        # later .encode() (password hashing, files) can handle, so it is refused at the door.
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        raise ApiError(400, "invalid_text", "the body holds text that is not valid Unicode "
                       "(a lone surrogate such as \\ud800)") from exc
    return value


def _depth(raw: bytes) -> int:
    """The deepest nesting of ``[``/``{`` outside strings: a linear scan, no recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def service_error(exc: ServiceError) -> ApiError:
    return ApiError(_KIND_STATUS.get(exc.kind, 409), exc.kind, exc.reason)


async def call(awaitable: Awaitable[T], timeout: float) -> T:
    """Awaits a service call with a bound; refusals and timeouts become clear JSON errors."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except ServiceError as exc:
        raise service_error(exc) from exc
    except TimeoutError as exc:
        raise ApiError(504, "timeout", f"the box did not answer within {timeout:g} s; try again") from exc


def to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def ok(value: Any) -> web.Response:
    return web.json_response(to_plain(value))
