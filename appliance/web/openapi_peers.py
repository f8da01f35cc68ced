"""The OpenAPI part of turning helpers on from the page and of the pairing code's QR image, added
to the one document by :func:`register` (``openapi.py`` calls it once its helpers exist)."""

from __future__ import annotations

from typing import Any


def register(schemas: dict[str, Any], paths: dict[str, Any]) -> None:
    from appliance.web.openapi import _obj, _op

    schemas.update(
        {
            # host: the box's own address helpers reach; left out, the box's LAN address
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
        }
    )
