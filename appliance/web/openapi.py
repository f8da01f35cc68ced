"""The OpenAPI 3.1 document of ``/api/v1``: the one description of every request and response.

The app validates request bodies against the schemas here (jsonschema), and the tests validate every
response against them, so the document cannot drift from what the server does.
"""

from __future__ import annotations

from typing import Any

from appliance import __version__
from appliance.web import openapi_status
from appliance.web.services import DRIVE_STATES, JOB_STATES

Schema = dict[str, Any]

_STR: Schema = {"type": "string"}
_INT: Schema = {"type": "integer", "minimum": 0}
_NUM: Schema = {"type": "number"}
_BOOL: Schema = {"type": "boolean"}
_OPT_NUM: Schema = {"type": ["number", "null"]}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(name: str) -> Schema:
    return {"oneOf": [_ref(name), {"type": "null"}]}


def _obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None, **extra: Any) -> Schema:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def _list(item: Schema) -> Schema:
    return {"type": "array", "items": item}


_PASSWORD: Schema = {"type": "string", "minLength": 1, "maxLength": 256}
_URLS: Schema = {"type": "array", "maxItems": 8, "items": {"type": "string", "maxLength": 512}}

SCHEMAS: dict[str, Schema] = {
    "Error": _obj({"error": _STR, "reason": _STR}, {"retry_after": _NUM}),
    "Health": _obj({"status": {"enum": ["ok", "starting", "degraded"]}, "version": _STR}),
    "Onboarding": _obj({"password_set": _BOOL, "done": _BOOL}),
    "Session": _obj({"csrf": _STR}),
    "PasswordBody": _obj({"password": _PASSWORD}),
    "ChangePasswordBody": _obj({"old_password": _PASSWORD, "new_password": _PASSWORD}),
    "Settings": _obj(
        {
            "reward_address": _STR,
            "poet_servers": _list(_STR),
            "gateways": _list(_STR),
            "hostname": _STR,
            "onboarded": _BOOL,
        }
    ),
    "SettingsPatch": _obj(
        {},
        {
            "reward_address": {"type": "string", "maxLength": 200},
            "poet_servers": _URLS,
            "gateways": _URLS,
            "hostname": {"type": "string", "maxLength": 63},
        },
        minProperties=1,
    ),
    "Job": _obj(
        {
            "state": {"enum": list(JOB_STATES)},
            "reason": _STR,
            "labels_done": _INT,
            "labels_total": _INT,
            "labels_per_second": _NUM,
            "eta_seconds": _OPT_NUM,
            "paused_by": _list(_STR),
            "check": _STR,
        }
    ),
    "Drive": _obj(
        {
            "id": _STR,
            "state": {"enum": list(DRIVE_STATES)},
            "model": _STR,
            "serial": _STR,
            "size_bytes": _INT,
            "reason": _STR,
            "allocated_bytes": _INT,
            "job": _nullable("Job"),
        },
        {"node_id": _STR},
    ),
    "Drives": _obj({"drives": _list(_ref("Drive"))}),
    "FormatBody": _obj(
        {
            "model": {"type": "string", "maxLength": 200},
            "serial": {"type": "string", "maxLength": 200},
            "size_bytes": _INT,
        }
    ),
    "SizeBody": _obj({"size_bytes": {"type": "integer", "minimum": 1}}),
    "Plan": _obj(
        {
            "drive_id": _STR,
            "size_bytes": _INT,
            "num_units": _INT,
            "labels_per_second": _OPT_NUM,
            "eta_seconds": _OPT_NUM,
        },
        {"shared_with": _INT},
    ),
    "PoetRegistration": _obj({"poet": _STR, "round_id": _STR, "round_end": _NUM}),
    "AtxRecord": _obj({"epoch": _INT, "grade": _STR, "published_at": _OPT_NUM}, {"reason": _STR}),
    "Node": _obj({"epoch": _INT, "layer": _INT, "status": _STR, "identities": _list(_ref("Identity"))}),
    "Identity": _obj(
        {
            "node_id": _STR,
            "status": _STR,
            "poet_registrations": _list(_ref("PoetRegistration")),
            "last_proof_seconds": _OPT_NUM,
            "cycle_gap_budget_seconds": _OPT_NUM,
            "atx_history": _list(_ref("AtxRecord")),
            "next_deadline": _OPT_NUM,
            "next_deadline_what": _STR,
            "eligible_layers": _list(_INT),
            "proposals_published": _INT,
        }
    ),
    "DiskHealth": _obj({"name": _STR, "healthy": _BOOL, "detail": _STR}),
    "Box": _obj(
        {
            "version": _STR,
            "uptime_seconds": _NUM,
            "cpu_temp_c": _OPT_NUM,
            "throttled": _BOOL,
            "undervoltage": _BOOL,
            "disks": _list(_ref("DiskHealth")),
            "hostname": _STR,
        }
    ),
    "Dashboard": _obj({"drives": _list(_ref("Drive")), "node": _ref("Node"), "box": _ref("Box")}),
    "UpdateResult": _obj(
        {
            "from_version": _STR,
            "to_version": _STR,
            "outcome": {"enum": ["success", "rolled-back", "failed", "refused"]},
            "reason": _STR,
            "at": _OPT_NUM,
        }
    ),
    "Update": _obj(
        {
            "current_version": _STR,
            "available_version": {"type": ["string", "null"]},
            "phase": {
                "enum": ["idle", "checking", "downloading", "installing", "rebooting", "gating", "error"]
            },
            "downloaded_bytes": _INT,
            "total_bytes": _INT,
            "error": _STR,
            "last_result": _nullable("UpdateResult"),
        }
    ),
    "UpdateStart": _obj({"version": {"type": "string", "minLength": 1, "maxLength": 64}}),
    "BackupBody": _obj({"password": _PASSWORD}),
    "RestoreBody": _obj(
        {"password": _PASSWORD, "backup": {"type": "string", "maxLength": 49152, "description": "base64"}}
    ),
    "Restored": _obj({"node_ids": _list(_STR)}),
    "Logs": _obj({"names": _list(_STR)}),
    "ResetBody": _obj({"confirm": {"const": "factory reset"}}),
    "Accepted": _obj({"status": {"const": "accepted"}}),
}


def _op(
    summary: str,
    response: str | None,
    body: str | None = None,
    *,
    public: bool = False,
    binary: str | None = None,
    errors: tuple[int, ...] = (),
) -> Schema:
    responses: dict[str, Any] = {}
    if binary:
        body_schema = {"type": "object"} if binary == "application/json" else {"type": "string"}
        responses["200"] = {"description": "file", "content": {binary: {"schema": body_schema}}}
    elif response:
        responses["200"] = {"description": "ok", "content": {"application/json": {"schema": _ref(response)}}}
    else:
        responses["204"] = {"description": "done"}
    err = {"content": {"application/json": {"schema": _ref("Error")}}}
    codes = {400, 403, 413, 415, 500, *errors} if body else {500, *errors}  # 403: foreign Origin
    if not public:
        codes |= {401, 403}
    for code in sorted(codes):
        responses[str(code)] = {"description": "error", **err}
    op: Schema = {"summary": summary, "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if public:
        op["security"] = []
    return op


_DRIVE_ID = [{"name": "drive_id", "in": "path", "required": True, "schema": _STR}]

PATHS: dict[str, Schema] = {
    "/health": {"get": _op("Liveness and version", "Health", public=True)},
    "/openapi.json": {"get": _op("This document", None, binary="application/json")},
    "/onboarding": {"get": _op("Where onboarding stands", "Onboarding", public=True)},
    "/onboarding/password": {
        "post": _op(
            "Set the first admin password (once)", "Session", "PasswordBody", public=True, errors=(409,)
        )
    },
    "/onboarding/complete": {"post": _op("Finish onboarding", "Settings", errors=(409,))},
    "/auth/login": {"post": _op("Log in", "Session", "PasswordBody", public=True, errors=(401, 409, 429))},
    "/auth/logout": {"post": _op("Log out", None)},
    "/auth/session": {"get": _op("The current session's CSRF token", "Session")},
    "/auth/password": {"post": _op("Change the password", None, "ChangePasswordBody", errors=(429,))},
    "/settings": {
        "get": _op("Current settings", "Settings"),
        "patch": _op("Change settings", "Settings", "SettingsPatch"),
    },
    "/dashboard": {"get": _op("Everything the dashboard shows", "Dashboard", errors=(503,))},
    "/events": {"get": _op("Live updates (text/event-stream)", None, binary="text/event-stream")},
    "/drives": {"get": _op("Drives", "Drives", errors=(503,))},
    "/drives/{drive_id}/format": {
        "post": {
            **_op(
                "Format a drive (echo what was confirmed)",
                "Accepted",
                "FormatBody",
                errors=(404, 409, 503, 504),
            ),
            "parameters": _DRIVE_ID,
        }
    },
    "/drives/{drive_id}/estimate": {
        "post": {
            **_op(
                "Plan and ETA for a size; changes nothing", "Plan", "SizeBody", errors=(404, 409, 503, 504)
            ),
            "parameters": _DRIVE_ID,
        }
    },
    "/drives/{drive_id}/allocate": {
        "post": {
            **_op("Use this much space", "Plan", "SizeBody", errors=(404, 409, 503, 504)),
            "parameters": _DRIVE_ID,
        }
    },
    "/node": {"get": _op("Node status", "Node", errors=(503,))},
    "/box": {"get": _op("Box health", "Box", errors=(503,))},
    "/identity/backup": {
        "post": _op(
            "Download an encrypted identity backup",
            None,
            "BackupBody",
            binary="application/octet-stream",
            errors=(404, 504),
        )
    },
    "/identity/restore": {
        "post": _op("Restore an identity backup", "Restored", "RestoreBody", errors=(409, 504))
    },
    "/logs": {"get": _op("Downloadable logs", "Logs")},
    "/logs/{name}": {
        "get": {
            **_op("Download one log", None, binary="text/plain", errors=(400, 404)),
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": _STR}],
        }
    },
    "/update": {
        "get": _op("Update status", "Update", errors=(503,)),
        "post": _op("Start an update", "Accepted", "UpdateStart", errors=(409, 503, 504)),
    },
    "/factory-reset": {"post": _op("Factory reset", "Accepted", "ResetBody", errors=(409, 504))},
}

openapi_status.register(SCHEMAS, PATHS)


def document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Smeshbox API", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "smeshbox_session"},
            },
        },
        "security": [{"session": []}],
        "paths": PATHS,
    }
