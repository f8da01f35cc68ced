"""Device tokens (appliance.web.auth_device): only tokens this box signed are known, the key is kept
0600 across restarts, and a damaged key only forgets the devices."""

from __future__ import annotations

import os
from pathlib import Path

from appliance.web.auth_device import KEY_FILE, DeviceTokens


async def test_tokens_are_signed_by_this_box_and_survive_a_restart(tmp_path: Path) -> None:
    tokens = DeviceTokens(tmp_path)
    assert tokens.check(None) is None and not (tmp_path / KEY_FILE).exists()  # nothing until needed
    token = await tokens.issue()
    device = tokens.check(token)
    assert device is not None and os.stat(tmp_path / KEY_FILE).st_mode & 0o777 == 0o600
    assert DeviceTokens(tmp_path).check(token) == device
    (tmp_path / "other").mkdir()
    other = await DeviceTokens(tmp_path / "other").issue()  # another box's
    for bad in (other, token[:-1], token + "0", "x" * len(token), token.replace(".", "-"), ""):
        assert tokens.check(bad) is None, bad
    (tmp_path / KEY_FILE).write_bytes(b"short")
    forgetful = DeviceTokens(tmp_path)
    assert forgetful.check(token) is None
    assert forgetful.check(await forgetful.issue()) is not None
