"""The OpenAPI 3.1 document of ``/api/v1``: the one description of every request and response.

The app validates request bodies against the schemas here (jsonschema), and the tests validate every
response against them, so the document cannot drift from what the server does.
"""

from __future__ import annotations

from typing import Any

from appliance import __version__
from appliance.web import openapi_init, openapi_status
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
    "Health": _obj({"status": {"enum": ["ok", "starting", "degraded", "failing"]},
                    "problems": _list(_ref("Problem")), "version": _STR}),
    "Problem": _obj({"id": _STR, "component": _STR, "severity": {"enum": ["warning", "error"]},
                     "reason": _STR, "remedy": _STR, "since": _NUM}),
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
            "gateways": {**_URLS, "maxItems": 1},
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
        {"node_id": _STR, "merge_folders": _list(_STR)},
    ),
    "Drives": _obj({"drives": _list(_ref("Drive"))}),
    "Forgotten": _obj({"status": {"const": "forgotten"}}),
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
    "BackupBody": _obj(
        {
            "password": {**_PASSWORD, "description": "protects the file: 12+ characters, 5+ different"},
            "admin_password": {**_PASSWORD, "description": "the box's admin password, asked again"},
        }
    ),
    "RestoreBody": _obj(
        {"password": _PASSWORD, "backup": {"type": "string", "maxLength": 49152, "description": "base64"}}
    ),
    "Restored": _obj({"node_ids": _list(_STR)}),
    "Logs": _obj({"names": _list(_STR)}),
    "ResetBody": _obj(
        {
            "confirm": {"const": "factory reset"},
            "identities": {
                "enum": ["keep", "wipe"],
                "description": "keep: the drives' PoST data stays usable; wipe: the keys go too",
            },
        }
    ),
    "Accepted": _obj({"status": {"const": "accepted"}}),
}


# ---- node mode ("with my Spacemesh node": the box as the post-service of the person's node) ----
_HEX64: Schema = {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}
_PRESET: Schema = _obj(
    {"k1": {"type": "integer", "minimum": 1}, "k2": {"type": "integer", "minimum": 2},
     "pow_difficulty": _HEX64,
     "scrypt_n": {"type": "integer", "minimum": 2}, "labels_per_unit": {"type": "integer", "minimum": 1},
     "min_num_units": {"type": "integer", "minimum": 1}},
    {"max_num_units": {"type": "integer", "minimum": 1}, "name": _STR, "default_address": _STR,
     "default_public_api": _STR, "genesis": _NUM, "epoch_seconds": _NUM, "phase_shift": _NUM,
     "cycle_gap": _NUM},
)
_PROGRESS: Schema = {"oneOf": [_obj({"nonce_start": _INT, "nonce_end": _INT, "stage": _STR, "position": _INT,
                                     "total": _INT}), {"type": "null"}]}
_OPT_STR: Schema = {"type": ["string", "null"]}
SCHEMAS.update({
    "NodeModeIdentity": _obj({
        "node_id": _STR, "name": _STR, "drive_id": _STR, "key_file": _STR, "address": _STR,
        "phase": {"enum": ["waiting for data", "connecting", "connected", "retrying", "stopped"]},
        "state": {"enum": ["Idle", "Proving", "DoneProving"]}, "message": _STR, "challenge": _OPT_STR,
        "progress": _PROGRESS, "proofs_delivered": _INT, "last_proof_at": _OPT_NUM,
        "last_proof_challenge": _OPT_STR, "last_request_at": _OPT_NUM, "next_attempt_at": _OPT_NUM,
        "connected": _BOOL,
    }),
    "NodeMode": _obj({
        "mode": {"enum": ["light", "node"]}, "chosen": _BOOL, "node_address": _STR, "public_api": _STR,
        "preset": _STR, "custom": {"oneOf": [_PRESET, {"type": "null"}]}, "tls_domain": _STR, "tls": _BOOL,
        "presets": _list(_PRESET), "commitment_atx_id": _STR, "reason": _STR, "warning": _STR,
        "next_proof_expected_at": _OPT_NUM,
        "identities": _list(_ref("NodeModeIdentity")),
    }),
    "NodeModePatch": _obj({}, {
        "mode": {"enum": ["light", "node"]}, "node_address": {"type": "string", "maxLength": 300},
        "public_api": {"type": "string", "maxLength": 300}, "preset": {"type": "string", "maxLength": 32},
        "custom": _PRESET, "tls_domain": {"type": "string", "maxLength": 253},
        "commitment_atx_id": {"type": "string", "maxLength": 64},
    }, minProperties=1),
    "NodeModeTls": _obj({k: {"type": "string", "minLength": 1, "maxLength": 65536}
                         for k in ("ca_cert", "cert", "key")}),
    "NodeKeyUpload": _obj({"key": {"type": "string", "minLength": 1, "maxLength": 512}}),
    "KeyAdopted": _obj({"node_id": _STR, "name": _STR, "stored": _BOOL, "replaced": _BOOL}),
    "NodeEarnings": _obj({"available": _BOOL, "where": _STR, "node": {"oneOf": [_obj({
        "sync": _STR, "current_layer": _INT, "applied_layer": _INT, "connected_peers": _INT,
        "layers_per_epoch": _INT, "identities": _list(_obj({
            "node_id": _STR, "total_smidge": _INT,
            "atxs": _list(_obj({"id": _STR, "publish_epoch": _INT, "num_units": _INT, "weight": _INT})),
            "rewards": _list(_obj({"layer": _INT, "total": _INT, "coinbase": _STR})),
        })),
    }), {"type": "null"}]}}),
})


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
    # 403: foreign Origin; 408: a body that trickles in slower than the box waits
    codes = {400, 403, 408, 413, 415, 500, *errors} if body else {500, *errors}
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
    "/drives/{drive_id}/forget": {
        "post": {
            **_op("Stop waiting for a missing drive (its identity stays)", "Forgotten",
                  errors=(404, 409, 503, 504)),
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
            errors=(404, 409, 429, 504),
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
_NODE_ID = [{"name": "node_id", "in": "path", "required": True, "schema": _STR}]
PATHS.update({
    "/nodemode": {
        "get": _op("How the box earns; node mode's settings and each identity's post-service", "NodeMode",
                   errors=(503,)),
        "patch": _op("Change node mode's settings", "NodeMode", "NodeModePatch", errors=(503, 504)),
    },
    "/nodemode/tls": {
        "put": _op("Store the node's CA and this box's client certificate and key (0600)", "NodeMode",
                   "NodeModeTls", errors=(503, 504)),
        "delete": _op("Forget the TLS files", "NodeMode", errors=(503, 504)),
    },
    "/nodemode/earnings": {
        "get": _op("Each identity's ATXs and rewards, from the node's public API (v2alpha1)", "NodeEarnings",
                   errors=(503, 504)),
    },
    "/nodemode/commitment": {
        "post": _op("Commit new datasets to the node's highest ATX (ActivationService.Highest)", "NodeMode",
                    errors=(409, 503, 504)),
    },
    "/nodemode/identities/{node_id}/key": {
        "get": {**_op("The identity's go-spacemesh key file, for the node's data/identities/", None,
                      binary="application/octet-stream", errors=(400, 404, 503, 504)),
                "parameters": _NODE_ID},
        "put": {**_op("Give the box an identity's key from the node (its own, or a new one for unfinished "
                      "data)", "KeyAdopted", "NodeKeyUpload", errors=(404, 409, 503, 504)),
                "parameters": _NODE_ID},
    },
})

# Helpers that initialize for the box (appliance/web/peers.py owner routes).
_HELPER = _obj(
    {
        "name": _STR,
        "labels_per_second": _NUM,
        "labels_accepted": _INT,
        "units_accepted": _INT,
        "units_released": _INT,
        "last_seen": _NUM,
        "state": _STR,
        "seen": _BOOL,
    }
)
SCHEMAS.update(
    {
        "Peers": _obj(
            {
                "enabled": _BOOL,
                "helpers": _list(_STR),
                "broker": _STR,
                "init": {
                    "oneOf": [
                        _obj(
                            {
                                "position": _INT,
                                "total": _INT,
                                "box_labels_per_second": _NUM,
                                "helpers": _list(_HELPER),
                                "buffered_units": _INT,
                                "rejected_units": _INT,
                                "eta_seconds_box_only": _OPT_NUM,
                                "eta_seconds_with_helpers": _OPT_NUM,
                                "events": _list(_STR),
                                "event_count": _INT,
                            }
                        ),
                        {"type": "null"},
                    ]
                },
                "samples_per_unit": _INT,
                "false_accept_if_10pct_wrong": _NUM,
                "helper_api": {"type": ["string", "null"]},
            }
        ),
        "PairingCode": _obj({"code": _STR, "expires_in": _NUM, "command": _STR, "qr": _STR}),
    }
)
PATHS.update(
    {
        "/peers": {"get": _op("Helpers, their rates, and the ETA with and without them", "Peers")},
        "/peers/code": {"post": _op("A one-time code to pair a helper", "PairingCode", errors=(409,))},
        "/peers/helpers/{name}": {
            "delete": {
                **_op("Unpair a helper", None, errors=(404, 409)),
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": _STR}],
            }
        },
    }
)

openapi_status.register(SCHEMAS, PATHS)
openapi_init.register(SCHEMAS, PATHS)


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
