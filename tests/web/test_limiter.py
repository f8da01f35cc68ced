"""Login limiting under attack (appliance.web.auth_limit through appliance.web.auth and over HTTP): a
parallel burst from one client gets at most its budget checked, guessing spread over many addresses
slows checks down but never locks the owner out, the waiting line is bounded and leaks nothing, and
onboarding's first password goes to exactly one of two racing requests."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import nacl.pwhash
import pytest

from appliance.web import auth as authmod
from appliance.web.auth import Auth, RateLimitedError, WrongPasswordError
from appliance.web.auth_limit import client_key
from tests.web.conftest import PASSWORD, Api, Clock, World

FAST = {"opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN, "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN}
OWNER = "the owner's password"


def make(tmp_path: Path, spacing: float = 0.02) -> Auth:
    auth = Auth(tmp_path, clock=Clock(), **FAST)  # type: ignore[arg-type]
    auth.limiter.spacing = spacing
    return auth


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every password that reached argon2id, in order."""
    seen: list[bytes] = []
    real = authmod._argon2_verify

    def counted(stored: bytes, password: bytes) -> bool:
        seen.append(password)
        return real(stored, password)

    monkeypatch.setattr(authmod, "_argon2_verify", counted)
    return seen


async def _outcome(coro: Any) -> str:
    try:
        await coro
    except RateLimitedError:
        return "limited"
    except WrongPasswordError:
        return "wrong"
    return "ok"


async def test_parallel_burst_from_one_client_checks_at_most_five(
    tmp_path: Path, checks: list[bytes]
) -> None:
    auth = make(tmp_path)
    await auth.set_initial_password(OWNER)
    outcomes = await asyncio.gather(*(_outcome(auth.login("10.0.0.9", f"guess {i:03}")) for i in range(200)))
    assert len(checks) == 5
    assert outcomes.count("wrong") == 5 and outcomes.count("limited") == 195
    assert await _outcome(auth.login("10.0.0.9", OWNER)) == "limited"  # now locked, not checked
    assert len(checks) == 5
    assert await _outcome(auth.login("10.0.0.10", OWNER)) == "ok"  # another client is not punished


async def test_parallel_burst_over_http(api: Api, world: World, checks: list[bytes]) -> None:
    await api.onboard_password()
    world.auth.limiter.spacing = 0.02

    async def guess(i: int) -> int:
        resp = await api.client.post("/api/v1/auth/login", json={"password": f"guess number {i}"})
        return resp.status

    statuses = await asyncio.gather(*(guess(i) for i in range(200)))
    assert len(checks) <= 5 and statuses.count(401) == len(checks)
    assert statuses.count(429) == 200 - len(checks)


async def test_owner_logs_in_after_a_distributed_guess_flood(tmp_path: Path) -> None:
    auth = make(tmp_path)
    await auth.set_initial_password(OWNER)
    for i in range(31):  # the budget of the whole box used up from 31 addresses
        assert await _outcome(auth.login(f"10.0.1.{i}", "a wrong guess")) == "wrong"
    assert auth.limiter.under_attack
    token, _ = await auth.login("10.0.2.1", OWNER)  # slowed down, not refused
    assert auth.session(token) is not None


async def test_owner_goes_ahead_of_addresses_that_have_failed(tmp_path: Path, checks: list[bytes]) -> None:
    auth = make(tmp_path, spacing=0.05)
    await auth.set_initial_password(OWNER)
    attackers = [f"10.0.3.{i}" for i in range(30)]
    for address in attackers:
        assert await _outcome(auth.login(address, "first wrong guess")) == "wrong"
    checks.clear()
    flood = [asyncio.create_task(_outcome(auth.login(a, f"guess {n}"))) for a in attackers for n in range(3)]
    await asyncio.sleep(0)  # every flood attempt is waiting in line now
    assert await _outcome(auth.login("10.0.4.1", OWNER)) == "ok"
    # At most the check already under way and the one being paced went before the owner.
    assert checks.index(OWNER.encode()) <= 2
    outcomes = await asyncio.gather(*flood)
    assert outcomes.count("ok") == 0 and outcomes.count("wrong") == 90
    assert all(e.pending == 0 for e in auth.limiter._clients.values())


async def test_checks_are_paced_while_under_attack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = make(tmp_path, spacing=0.05)
    auth.limiter.global_per_minute = 3
    await auth.set_initial_password(OWNER)
    started: list[float] = []
    real = authmod._argon2_verify

    def timed(stored: bytes, password: bytes) -> bool:
        started.append(loop.time())
        return real(stored, password)

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(authmod, "_argon2_verify", timed)
    await asyncio.gather(*(_outcome(auth.login(f"10.0.5.{i}", "wrong guess")) for i in range(8)))
    paced = started[4:]  # from the 4th failure on the box is under attack
    gaps = [b - a for a, b in itertools.pairwise(paced)]
    assert gaps and min(gaps) >= 0.04


async def test_waiting_line_is_bounded_and_leaks_nothing(tmp_path: Path) -> None:
    auth = make(tmp_path, spacing=0.02)
    auth.limiter.global_per_minute = 1
    auth.limiter.max_waiting = 4
    await auth.set_initial_password(OWNER)
    outcomes = await asyncio.gather(*(_outcome(auth.login(f"10.0.6.{i}", "wrong guess")) for i in range(20)))
    assert outcomes.count("limited") >= 10 and outcomes.count("ok") == 0
    assert all(e.pending == 0 for e in auth.limiter._clients.values())
    # Refused attempts were never counted as failures of their clients.
    assert sum(e.failures for e in auth.limiter._clients.values()) == outcomes.count("wrong")


async def test_a_cancelled_waiter_gives_its_turn_and_reservation_back(tmp_path: Path) -> None:
    auth = make(tmp_path, spacing=0.05)
    auth.limiter.global_per_minute = 0  # paced from the start
    await auth.set_initial_password(OWNER)
    first = asyncio.create_task(auth.login("10.0.7.1", "wrong guess"))
    waiting = asyncio.create_task(auth.login("10.0.7.2", "wrong guess"))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(WrongPasswordError):
        await first
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert "10.0.7.2" not in auth.limiter._clients
    await auth.login("10.0.7.2", OWNER)


def test_client_keys() -> None:
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("fe80::1%eth0") == "fe80::/64"
    assert client_key("?") == "?"


async def test_racing_first_passwords_exactly_one_wins(api: Api, world: World) -> None:
    async def claim(i: int) -> tuple[int, str]:
        resp = await api.client.post("/api/v1/onboarding/password", json={"password": f"first password {i}"})
        return resp.status, f"first password {i}"

    results = await asyncio.gather(*(claim(i) for i in range(20)))
    winners = [password for status, password in results if status == 200]
    assert len(winners) == 1 and sorted(s for s, _ in results) == [200] + [409] * 19
    await world.auth.login("10.0.8.1", winners[0])  # the kept password is the winner's
    for _, password in results:
        if password != winners[0]:
            with pytest.raises(WrongPasswordError):
                await world.auth.login("10.0.8.2", password)
            break


async def test_a_known_device_goes_ahead_of_a_flood_from_fresh_addresses(
    tmp_path: Path, checks: list[bytes]
) -> None:
    auth = make(tmp_path, spacing=0.05)
    auth.limiter.max_waiting = 16
    await auth.set_initial_password(OWNER)
    device = await auth.devices.issue()  # what the owner's browser got at its last login
    for i in range(31):
        assert await _outcome(auth.login(f"2001:db8:{i:x}::1", "a wrong guess")) == "wrong"
    checks.clear()
    # Fresh addresses (IPv6 gives an attacker as many as it likes) fill the line ...
    flood = [asyncio.create_task(_outcome(auth.login(f"2001:db8:100:{i:x}::1", "guess"))) for i in range(40)]
    await asyncio.sleep(0)
    # ... and the owner's browser still gets in at once, from an address like theirs.
    assert await _outcome(auth.login("2001:db8:200::1", OWNER, device)) == "ok"
    assert checks.index(OWNER.encode()) <= 2
    outcomes = await asyncio.gather(*flood)
    assert outcomes.count("limited") >= 24 and outcomes.count("ok") == 0
    # A token this box did not sign is an unknown client like any other.
    forged = device[:-1] + ("0" if device[-1] != "0" else "1")
    assert auth.devices.check(forged) is None and auth.devices.check(device) is not None


async def test_a_locked_out_address_does_not_lock_out_the_owners_browser(api: Api, world: World) -> None:
    await api.onboard_password()
    device = api.last.cookies["smeshbox_device"]
    assert device["httponly"] and device["samesite"] == "Strict" and int(device["max-age"]) > 300 * 86400
    api.client.session.cookie_jar.clear()
    for _ in range(5):  # someone on the same address (a shared NAT, the same machine), no cookie
        assert (await api.call("POST", "/api/v1/auth/login", {"password": "a wrong guess"}))[0] == 401
    assert (await api.call("POST", "/api/v1/auth/login", {"password": PASSWORD}))[0] == 429
    owner = {"Cookie": f"smeshbox_device={device.value}"}
    assert (await api.call("POST", "/api/v1/auth/login", {"password": PASSWORD}, headers=owner))[0] == 200
