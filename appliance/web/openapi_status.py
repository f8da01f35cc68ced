"""The OpenAPI part of the top card (``/summary``) and of notifications (``/notify``), added to the
one document by :func:`register` (``openapi.py`` calls it once its helpers exist)."""

from __future__ import annotations

from typing import Any


def register(schemas: dict[str, Any], paths: dict[str, Any]) -> None:
    from appliance.web.openapi import _BOOL, _INT, _NUM, _OPT_NUM, _STR, _list, _obj, _op, _ref

    severity = {"enum": ["warning", "error"]}
    schemas.update({
        "Problem": _obj({"id": _STR, "component": _STR, "severity": severity, "reason": _STR,
                         "remedy": _STR, "since": _NUM}),
        "NextEvent": _obj({"what": _STR, "at": _OPT_NUM, "detail": _STR}),
        "IdentityEarning": _obj({"node_id": _STR, "drive": _STR, "earned_smidge": _INT, "rewards": _INT}),
        "Summary": _obj({
            "mode": _STR,
            "state": {"enum": ["earning", "preparing", "waiting", "stopped", "trouble"]},
            "headline": _STR, "why": _STR, "next": _list(_ref("NextEvent")),
            "earned_smidge": _INT, "earned_known": _BOOL, "earned_note": _STR,
            "identities": _list(_ref("IdentityEarning")), "needs": _list(_ref("Problem")),
        }),
        "Delivery": _obj({"channel": _STR, "ok": _BOOL, "detail": _STR, "title": _STR, "at": _NUM}),
        "Deliveries": _obj({"deliveries": _list(_ref("Delivery"))}),
        "Notify": _obj({
            "enabled": _BOOL, "webhook_url": _STR, "smtp_host": _STR, "smtp_port": _INT,
            "smtp_starttls": _BOOL, "smtp_user": _STR, "smtp_password_set": _BOOL, "mail_from": _STR,
            "mail_to": _STR, "recent": _list(_ref("Delivery")),
        }),
        "NotifyPatch": _obj({}, {
            "enabled": _BOOL,
            "webhook_url": {"type": "string", "maxLength": 512},
            "smtp_host": {"type": "string", "maxLength": 253},
            "smtp_port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "smtp_starttls": _BOOL,
            "smtp_user": {"type": "string", "maxLength": 256},
            "smtp_password": {"type": "string", "maxLength": 256},
            "mail_from": {"type": "string", "maxLength": 256},
            "mail_to": {"type": "string", "maxLength": 256},
        }, minProperties=1),
        "Empty": _obj({}),
        "Sessions": _obj({"count": _INT}),
    })
    paths.update({
        "/summary": {"get": _op("The top card: earning?, next, earned, what needs the person", "Summary",
                                errors=(503,))},
        "/notify": {
            "get": _op("Notification settings (never the SMTP password)", "Notify", errors=(503,)),
            "patch": _op("Change notification settings", "Notify", "NotifyPatch", errors=(503, 504)),
        },
        "/sessions": {"get": _op("How many devices are logged in", "Sessions")},
        "/sessions/end-others": {"post": _op("Log out every other device", "Sessions", "Empty")},
        "/notify/test": {"post": _op("Send a test notification now", "Deliveries", "Empty",
                                     errors=(503, 504))},
    })
