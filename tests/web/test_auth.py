"""appliance.web.auth and appliance.settings on their own: real argon2id hashes, real files, an injected
clock for expiry and lock-out."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nacl.pwhash
import pytest

from appliance.events import EventBus
from appliance.settings import SettingsError, SettingsStore
from appliance.web.auth import (
    AlreadySetError,
    Auth,
    AuthError,
    NotSetError,
    PasswordPolicyError,
    RateLimitedError,
    WrongPasswordError,
)
from tests.web.conftest import Clock
from tests.web.fakes import VALID_ADDRESS, address_parser

FAST = {"opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN, "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN}


def make(tmp_path: Path, clock: Clock | None = None, **kw: object) -> Auth:
    return Auth(tmp_path, clock=clock or Clock(), **{**FAST, **kw})  # type: ignore[arg-type]


async def test_default_parameters_are_argon2id_and_survive_restart(tmp_path: Path) -> None:
    auth = Auth(tmp_path)
    await auth.set_initial_password("a long password")
    stored = json.loads((tmp_path / "auth.json").read_text())["password_hash"]
    assert stored.startswith("$argon2id$") and "m=65536" in stored
    assert os.stat(tmp_path / "auth.json").st_mode & 0o777 == 0o600
    again = Auth(tmp_path)
    token, session = await again.login("1.2.3.4", "a long password")
    assert again.session(token) is session
    with pytest.raises(WrongPasswordError):
        await again.login("1.2.3.4", "a long passwork")


async def test_initial_password_only_once(tmp_path: Path) -> None:
    auth = make(tmp_path)
    with pytest.raises(NotSetError):
        await auth.login("c", "whatever1")
    with pytest.raises(PasswordPolicyError):
        await auth.set_initial_password("short")
    with pytest.raises(PasswordPolicyError):
        await auth.set_initial_password("x" * 257)
    await auth.set_initial_password("first password")
    with pytest.raises(AlreadySetError):
        await auth.set_initial_password("second password")
    await auth.login("c", "first password")


async def test_sessions_expire_idle_and_absolute(tmp_path: Path) -> None:
    clock = Clock()
    auth = make(tmp_path, clock, idle_timeout=100.0, max_age=250.0)
    token, _ = await auth.set_initial_password("first password")
    clock.now += 99
    assert auth.session(token) is not None
    clock.now += 99  # touched at +99, so still within the idle timeout
    assert auth.session(token) is not None
    clock.now += 60  # 258 s old: beyond max_age although active
    assert auth.session(token) is None
    token, _ = await auth.login("c", "first password")
    clock.now += 101
    assert auth.session(token) is None
    assert auth.session(None) is None and auth.session("forged") is None and auth.session("x" * 500) is None


async def test_peeking_does_not_keep_a_session_alive(tmp_path: Path) -> None:
    clock = Clock()
    auth = make(tmp_path, clock, idle_timeout=100.0)
    token, _ = await auth.set_initial_password("first password")
    clock.now += 60
    assert auth.session(token, touch=False) is not None
    clock.now += 60
    assert auth.session(token) is None


async def test_rate_limit_per_client_doubles_and_resets(tmp_path: Path) -> None:
    clock = Clock()
    auth = make(tmp_path, clock)
    await auth.set_initial_password("first password")
    for _ in range(5):
        with pytest.raises(WrongPasswordError):
            await auth.login("10.0.0.9", "guess")
    with pytest.raises(RateLimitedError) as info:
        await auth.login("10.0.0.9", "first password")  # locked: not even checked
    assert info.value.retry_after == 30.0
    await auth.login("10.0.0.7", "first password")  # another client is not punished
    clock.now += 31
    with pytest.raises(WrongPasswordError):
        await auth.login("10.0.0.9", "guess")
    with pytest.raises(RateLimitedError) as info:
        await auth.login("10.0.0.9", "guess")
    assert info.value.retry_after == 60.0  # doubled
    clock.now += 61
    await auth.login("10.0.0.9", "first password")
    with pytest.raises(WrongPasswordError):
        await auth.login("10.0.0.9", "guess")  # success cleared the count: no lock after one


async def test_global_budget_slows_address_spraying_down_without_locking_out(tmp_path: Path) -> None:
    auth = make(tmp_path)
    auth.limiter.spacing = 0.01
    await auth.set_initial_password("first password")
    for i in range(30):
        with pytest.raises(WrongPasswordError):
            await auth.login(f"10.0.1.{i}", "guess")
    assert auth.limiter.under_attack  # checks are paced now (test_limiter measures it)
    await auth.login("10.0.2.1", "first password")


async def test_change_password_ends_other_sessions(tmp_path: Path) -> None:
    auth = make(tmp_path)
    mine, _ = await auth.set_initial_password("first password")
    other, _ = await auth.login("c", "first password")
    with pytest.raises(WrongPasswordError):
        await auth.change_password("c", mine, "wrong password", "second password")
    with pytest.raises(PasswordPolicyError):
        await auth.change_password("c", mine, "first password", "short")
    await auth.change_password("c", mine, "first password", "second password")
    assert auth.session(mine) is not None and auth.session(other) is None
    with pytest.raises(WrongPasswordError):
        await make(tmp_path).login("c", "first password")
    await make(tmp_path).login("c", "second password")


def test_damaged_password_file_is_not_treated_as_unset(tmp_path: Path) -> None:
    (tmp_path / "auth.json").write_text('{"password_h')
    with pytest.raises(AuthError, match="damaged"):
        make(tmp_path)


def test_csrf_comparison(tmp_path: Path) -> None:
    auth = make(tmp_path)
    _, session = auth._new_session()
    assert Auth.csrf_ok(session, session.csrf)
    wrong_last = "B" if session.csrf.endswith("A") else "A"  # always differs from the real token
    assert not Auth.csrf_ok(session, None) and not Auth.csrf_ok(session, session.csrf[:-1] + wrong_last)


async def test_settings_persist_and_reject_atomically(tmp_path: Path) -> None:
    bus = EventBus()
    store = SettingsStore(tmp_path, address_parser, bus)
    assert store.current.hostname == "smeshbox" and not store.current.onboarded
    with pytest.raises(SettingsError, match="Reward address"):
        await store.mark_onboarded()
    await store.update({"reward_address": f"  {VALID_ADDRESS} ", "gateways": ["http://10.0.0.2:9092"]})
    with pytest.raises(SettingsError, match="Box name"):
        await store.update({"reward_address": VALID_ADDRESS, "hostname": "no_underscores"})
    reloaded = SettingsStore(tmp_path, address_parser)
    assert reloaded.current.reward_address == VALID_ADDRESS
    assert reloaded.current.gateways == ["http://10.0.0.2:9092"] and reloaded.current.hostname == "smeshbox"
    assert list(tmp_path.iterdir()) == [tmp_path / "settings.json"]  # no temp files left behind


def test_damaged_settings_file(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{")
    with pytest.raises(SettingsError, match="damaged"):
        SettingsStore(tmp_path, address_parser)
