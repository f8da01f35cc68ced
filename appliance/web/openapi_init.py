"""The OpenAPI part of getting PoST data faster — helpers turned on from the page, the pairing
code's QR image, merging postcli pieces found on a drive — added to the one document by
:func:`register` (``openapi.py`` calls it once its helpers exist)."""

from __future__ import annotations

from typing import Any


def register(schemas: dict[str, Any], paths: dict[str, Any]) -> None:
    from appliance.web.openapi import _STR, _obj, _op

    schemas.update(
        {
            # host: the box's own address helpers reach; left out, the box's LAN address
            "Merging": _obj({"status": {"const": "merging"}}),
            "PeersEnable": _obj({}, {"host": {"type": "string", "minLength": 2, "maxLength": 45}}),
        }
    )
    paths.update(
        {
            "/peers/enable": {
                "post": _op(
                    "Turn helpers on (broker and helper API on the LAN address), now and after restarts",
                    "Peers",
                    "PeersEnable",
                    errors=(409,),
                )
            },
            "/peers/disable": {
                "post": _op(
                    "Turn helpers off (pairings are kept); the box goes on alone", "Peers", errors=(409,)
                )
            },
            "/drives/{drive_id}/merge": {
                "post": {
                    **_op(
                        "Merge the partial PoST datasets (postcli pieces) an offered drive holds, then "
                        "adopt the drive; progress and a refusal's reason are in the drive's reason",
                        "Merging",
                        errors=(404, 409),
                    ),
                    "parameters": [{"name": "drive_id", "in": "path", "required": True, "schema": _STR}],
                }
            },
        }
    )
