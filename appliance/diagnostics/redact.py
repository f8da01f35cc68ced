"""Secrets out of everything a support bundle carries: JSON values under secret-sounding keys, and
``key=value`` / ``"key": "value"`` pairs in text lines (logs), are replaced by a marker."""

from __future__ import annotations

import re
from typing import Any

REMOVED = "[removed]"
SECRET_KEY = re.compile(r"(pass(word|phrase)?|psk|secret|token|private|priv_?key|key$|hash|mnemonic|seed|"
                        r"cookie|session|csrf|credential|auth)", re.IGNORECASE)
_PAIR = re.compile(
    r"""(?P<key>["']?[A-Za-z0-9_.-]*(?:pass(?:word|phrase)?|psk|secret|token|private|key|hash|mnemonic|seed|"""
    r"""cookie|session|csrf|credential)[A-Za-z0-9_.-]*["']?)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s,;&}]+)""", re.IGNORECASE)


def redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REMOVED if isinstance(k, str) and SECRET_KEY.search(k) else redact_json(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    return _PAIR.sub(lambda m: f"{m.group('key')}{m.group('sep')}{REMOVED}", text)
