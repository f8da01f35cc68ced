"""A real ``redis-server`` owned by the box: started on a given address with a generated config,
an ACL file (one user per paired helper, plus the box's own), stopped and restarted cleanly.

The server's ``default`` user is switched off, so nothing on the LAN can talk to the broker without
credentials; helper users may touch only their own queue's keys (see ``helper_acl``). On a box the
same config is used by the systemd unit; in dev and tests the code starts the process itself.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from appliance.peers.tlsca import TlsFiles, ensure_ca
from appliance.system.files import atomic_write_text

BOX_USER = "box"
START_TIMEOUT = 10.0


class RedisError(RuntimeError):
    """The broker could not be started, reached or changed; the message says why."""


def free_port(host: str) -> int:
    """A port the kernel calls free on ``host`` (redis-server cannot report a port 0 choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def queue_name(helper: str) -> str:
    return f"helper.{helper}"


def helper_acl(helper: str, password: str) -> list[str]:
    """ACL SETUSER rules for a helper: a Celery worker's needs on its own queue and nothing else.

    Key patterns: its queue (kombu adds priority suffixes to the list name), kombu's binding sets
    and its ack bookkeeping. Commands: lists, hashes, sets, sorted sets, strings for the
    transport, MULTI/EXEC, PING/AUTH, EVAL(SHA) of kombu's Lua; no admin, no dangerous (CONFIG,
    KEYS, FLUSHALL, DEBUG...), no pub/sub (workers run without remote control, gossip, mingle)."""
    return [
        "reset",
        "on",
        f">{password}",
        f"~{queue_name(helper)}*",
        "~_kombu.binding*",
        "~unacked*",
        "resetchannels",
        "-@all",
        "+@list",
        "+@hash",
        "+@set",
        "+@sortedset",
        "+@string",
        "+@transaction",
        "+@connection",
        "-@dangerous",
        "-@admin",
        # kombu's atomic ack bookkeeping is a Lua script; scripts run under the same key ACL
        "+eval",
        "+evalsha",
        "+script|load",
        "+script|exists",
        "+time",
        "+exists",
        "+del",
        "+expire",
        "+pexpire",
        "+type",
    ]


@dataclass(frozen=True)
class RedisAddress:
    """Where the broker listens (TLS only) and the CA certificate that vouches for it."""

    host: str
    port: int
    ca_file: Path

    def url(self, user: str, password: str, db: int = 0) -> str:
        return f"rediss://{user}:{password}@{self.host}:{self.port}/{db}"

    def client(self, user: str, password: str) -> redis.Redis:
        return redis.Redis(
            host=self.host,
            port=self.port,
            username=user,
            password=password,
            ssl=True,
            ssl_ca_certs=str(self.ca_file),
            ssl_cert_reqs="required",
            socket_timeout=5,
            socket_connect_timeout=5,
            retry=Retry(NoBackoff(), 0),  # a refused password is an answer, not a reason to retry
        )


class RedisServer:
    """One ``redis-server`` process bound to ``host`` with its files under ``state_dir``."""

    def __init__(self, state_dir: Path | str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state_dir = Path(state_dir)
        self.host = host
        port_file = self.state_dir / "port"
        if not port and port_file.exists():  # helpers saved this port when they paired
            port = int(port_file.read_text())
        self.port = port or free_port(host)
        self._proc: subprocess.Popen[bytes] | None = None
        self.tls: TlsFiles | None = None
        self._password_file = self.state_dir / "box.password"

    @property
    def address(self) -> RedisAddress:
        return RedisAddress(self.host, self.port, self.state_dir / "tls" / "ca.pem")

    @property
    def box_password(self) -> str:
        if not self._password_file.exists():
            atomic_write_text(self._password_file, secrets.token_urlsafe(24), mode=0o600)
        return self._password_file.read_text().strip()

    def box_url(self) -> str:
        return self.address.url(BOX_USER, self.box_password)

    def _write_config(self) -> Path:
        acl = self.state_dir / "users.acl"
        text = acl.read_text() if acl.exists() else "user default off\n"
        if f"user {BOX_USER} " not in text:  # the box's own user, seeded before the first start
            digest = hashlib.sha256(self.box_password.encode()).hexdigest()
            text += f"user {BOX_USER} on #{digest} ~* &* +@all\n"
            atomic_write_text(acl, text, mode=0o600)
        tls = self.tls = ensure_ca(self.state_dir / "tls", self.host)
        config = self.state_dir / "redis.conf"
        atomic_write_text(
            config,
            "\n".join(
                [
                    f"bind {self.host}",
                    "port 0",  # no plain-text port at all: TLS with the box's CA only
                    f"tls-port {self.port}",
                    f"tls-cert-file {tls.server_cert}",
                    f"tls-key-file {tls.server_key}",
                    f"tls-ca-cert-file {tls.ca_cert}",
                    # helpers prove who they are with their ACL password, not a client certificate
                    "tls-auth-clients no",
                    "protected-mode yes",
                    f"dir {self.state_dir}",
                    f"aclfile {acl}",
                    # the queue survives a Redis restart: leases are re-derived by the box anyway
                    "appendonly yes",
                    "save ''",
                    "daemonize no",
                    f"logfile {self.state_dir / 'redis.log'}",
                ]
            )
            + "\n",
            mode=0o600,
        )
        return config

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisError("redis-server is not installed (Debian package redis-server)")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.state_dir / "port", f"{self.port}\n")
        config = self._write_config()
        self._proc = subprocess.Popen([binary, str(config)], stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.client().ping()
                return
            except (redis.ConnectionError, redis.AuthenticationError, redis.ResponseError) as exc:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RedisError(f"redis-server on {self.host}:{self.port} did not start: {exc}") from exc
                time.sleep(0.05)

    def client(self) -> redis.Redis:
        return self.address.client(BOX_USER, self.box_password)

    def set_helper(self, helper: str, password: str) -> None:
        """Creates or replaces the helper's ACL user and persists the ACL file."""
        with self.client() as conn:
            conn.execute_command("ACL", "SETUSER", helper, *helper_acl(helper, password))
            conn.execute_command("ACL", "SAVE")

    def remove_helper(self, helper: str) -> None:
        """Deletes the helper's user; Redis drops its open connections at once."""
        with self.client() as conn:
            conn.execute_command("ACL", "DELUSER", helper)
            conn.execute_command("ACL", "SAVE")

    def stop(self, kill: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


__all__ = ["BOX_USER", "RedisAddress", "RedisError", "RedisServer", "free_port", "helper_acl", "queue_name"]
