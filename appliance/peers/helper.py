"""``python -m appliance helper --pair CODE --box HOST``: the program a PC runs to help a box.

It pairs once (the code from the box's page buys its own API token and broker user, saved with
mode 0600 in ``--config``), measures its own labels/s, then runs a Celery worker on its own queue
that computes each leased unit with the native core on every CPU thread, sends heartbeats while it
works (so the box can re-lease a unit if this PC vanishes), and uploads the labels over the box's
HTTP API with its token. A refused heartbeat (the unit went elsewhere, or this PC was removed)
stops the unit at once. Progress goes to stderr as a one-line bar.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.chain import MAINNET
from appliance.peers.engine import bind_runner, make_app
from appliance.peers.redisd import RedisAddress, queue_name
from appliance.peers.units import Unit
from appliance.post.labels import LabelBatch, compute_batch
from appliance.post.labels import merge as merge_batches
from appliance.system.files import atomic_write_json, atomic_write_text

HTTP_TIMEOUT = 60.0
HELPER_API_PORT = 8442
ComputeFn = Callable[[bytes, int, int, int, int], LabelBatch]
DEFAULT_CONFIG = Path.home() / ".config" / "smeshbox-helper.json"


class HelperError(RuntimeError):
    """The box refused or could not be reached; the message says why."""


def _first_use_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class BoxClient:
    """The box's helper API over HTTP (stdlib client: a helper installs nothing beyond the package)."""

    def __init__(self, base: str, token: str | None = None, ca_file: Path | str | None = None) -> None:
        self.base = base.rstrip("/")
        self.token = token
        # With the box CA (after pairing) every certificate is verified; before it, the pairing
        # call accepts the box's certificate as it is (trust on first use, within the code's window).
        self._tls = ssl.create_default_context(cafile=str(ca_file)) if ca_file else _first_use_context()

    def _call(self, method: str, path: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": content_type}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT, context=self._tls) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read() or b"{}")
            except json.JSONDecodeError:
                detail = {}
            return exc.code, detail
        except (urllib.error.URLError, OSError) as exc:
            raise HelperError(f"cannot reach the box at {self.base}: {exc}") from exc

    def post_json(self, path: str, value: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self._call("POST", path, json.dumps(value).encode(), "application/json")

    def put_labels(self, path: str, labels: bytes) -> tuple[int, dict[str, Any]]:
        return self._call("PUT", path, labels, "application/octet-stream")


def measure_rate(threads: int, seconds: float = 1.0, scrypt_n: int = MAINNET.scrypt_n) -> float:
    """This PC's labels/s on the box's parameters (one short run), for unit sizing."""
    count, started = 64, time.monotonic()
    done = 0
    while time.monotonic() - started < seconds:
        compute_batch(bytes(32), scrypt_n, done, count, threads)
        done += count
    return done / (time.monotonic() - started)


def pair(box: str, code: str, name: str, config: Path, rate: float) -> dict[str, Any]:
    status, reply = BoxClient(box).post_json(
        "/api/v1/peers/pair", {"code": code, "name": name, "labels_per_second": rate}
    )
    if status != 200:
        raise HelperError(f"pairing refused ({status}): {reply.get('reason', reply)}")
    ca_pem = reply.pop("ca_pem", None)
    if not isinstance(ca_pem, str) or "BEGIN CERTIFICATE" not in ca_pem:
        raise HelperError("the box sent no CA certificate for its broker")
    config.parent.mkdir(parents=True, exist_ok=True)
    ca_file = config.with_suffix(".ca.pem")
    atomic_write_text(ca_file, ca_pem)
    creds = {**reply, "box": box, "labels_per_second": rate, "ca_file": str(ca_file)}
    atomic_write_json(config, creds, mode=0o600)
    return creds


class UnitRunner:
    """Computes a unit in heartbeat-sized pieces and uploads it (see module docstring)."""

    def __init__(
        self, client: BoxClient, threads: int, piece: int = 4096, compute: ComputeFn = compute_batch
    ) -> None:
        self.client = client
        self.compute = compute
        self.threads = threads
        self.piece = piece
        self.rate = 0.0

    def _bar(self, unit: Unit, done: int) -> None:
        width = 30
        filled = width * done // unit.count
        print(
            f"\r[{'#' * filled}{'.' * (width - filled)}] unit {unit.start}+{unit.count} "
            f"{self.rate:,.0f} labels/s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def __call__(self, unit: Unit) -> None:
        parts: list[LabelBatch] = []
        started, done = time.monotonic(), 0
        while done < unit.count:
            count = min(self.piece, unit.count - done)
            parts.append(
                compute_batch(unit.commitment, unit.scrypt_n, unit.start + done, count, self.threads)
            )
            done += count
            self.rate = done / max(1e-9, time.monotonic() - started)
            self._bar(unit, done)
            status, _ = self.client.post_json(
                f"/api/v1/peers/units/{unit.unit_id}/heartbeat",
                {"done": done, "labels_per_second": self.rate},
            )
            if status != 204 and status != 200:
                print(f"\nunit {unit.unit_id} dropped: the box answered {status}", file=sys.stderr)
                return
        batch = merge_batches(parts)
        query = ""
        if batch.min_index is not None and batch.min_label is not None:
            query = f"?min_index={batch.min_index}&min_label={batch.min_label.hex()}"
        status, reply = self.client.put_labels(f"/api/v1/peers/units/{unit.unit_id}{query}", batch.labels)
        print(
            f"\nunit {unit.start}+{unit.count}: {status} {reply.get('result', reply.get('reason', ''))}",
            file=sys.stderr,
            flush=True,
        )


def _say_hello(client: BoxClient, runner: UnitRunner, every: float, rate: float) -> None:
    """Tells the box every ``every`` seconds that this PC is alive (it leases only to live helpers);
    a 401 means this PC was removed: stop for good."""
    while True:
        try:
            status, reply = client.post_json(
                "/api/v1/peers/hello", {"labels_per_second": runner.rate or rate}
            )
        except HelperError as exc:
            print(f"\n{exc}", file=sys.stderr, flush=True)
        else:
            if status == 401:
                print(
                    f"\nthe box removed this helper: {reply.get('reason', '')}", file=sys.stderr, flush=True
                )
                os._exit(4)
        time.sleep(every)


def run_worker(
    creds: dict[str, Any],
    threads: int,
    piece: int = 4096,
    runner: UnitRunner | None = None,
    hello_seconds: float = 5.0,
    compute: ComputeFn = compute_batch,
) -> None:
    ca_file = Path(str(creds["ca_file"]))
    address = RedisAddress(str(creds["broker_host"]), int(creds["broker_port"]), ca_file)
    app = make_app(address.url(str(creds["broker_user"]), str(creds["broker_password"])), ca_file)
    client = BoxClient(str(creds["box"]), str(creds["token"]), ca_file)
    runner = runner or UnitRunner(client, threads, piece, compute)
    bind_runner(app, runner)
    rate = float(creds.get("labels_per_second", 0.0) or 0.0)
    threading.Thread(target=_say_hello, args=(client, runner, hello_seconds, rate), daemon=True).start()
    worker = app.Worker(
        queues=[queue_name(str(creds["helper"]))],
        pool="solo",
        concurrency=1,
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        loglevel="WARNING",
        quiet=True,
    )
    worker.start()


def _box_url(box: str | None) -> str:
    """``--box`` as a URL: a full URL, HOST or HOST:PORT (the helper API's port, 8442 by default;
    a ``.local`` HOST is looked up over mDNS), or — without ``--box`` — the first Smeshbox that
    answers on the LAN over mDNS."""
    if box is None:
        import asyncio

        from appliance.discovery.browser import find_smeshboxes

        found = asyncio.run(find_smeshboxes(timeout=5.0, want=1))
        if not found or not found[0].addresses:
            raise HelperError("no Smeshbox answered on the LAN (mDNS); give its address with --box")
        print(f"found {found[0].name} at {found[0].addresses[0]}", file=sys.stderr, flush=True)
        box = found[0].addresses[0]
    if "://" in box:
        return box
    host, _, port = box.partition(":")
    if host.lower().rstrip(".").endswith(".local"):
        host = _resolve_local(host)
    return f"https://{host}:{port or HELPER_API_PORT}"


def _resolve_local(name: str) -> str:
    """``smeshbox.local`` → the box's address over mDNS (the box's certificate names its address)."""
    import asyncio

    from appliance.discovery.browser import resolve_host

    found = asyncio.run(resolve_host(name, timeout=3.0))
    if not found:
        raise HelperError(f"nothing answered for {name} on the LAN (mDNS); give the box's address with --box")
    print(f"{name} is {found[0]}", file=sys.stderr, flush=True)
    return found[0]


def _default_name() -> str:
    """This computer's name as a helper name (platform.node works on Linux, Windows and macOS)."""
    name = re.sub(r"[^a-z0-9-]", "-", platform.node().lower().split(".")[0]).strip("-")[:32]
    return name or "helper"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--box", help="the box (HOST, HOST:PORT or URL); found over mDNS when left out")
    parser.add_argument("--pair", metavar="CODE", help="the pairing code shown on the box's page")
    parser.add_argument("--name", default=_default_name(), help="how the box lists this computer")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--heartbeat-labels", type=int, default=4096, help="labels between heartbeats")
    parser.add_argument("--hello-seconds", type=float, default=5.0, help="idle sign of life interval")
    parser.add_argument(
        "--opencl",
        nargs="?",
        const="",
        default=None,
        metavar="DEVICE",
        help="compute on an OpenCL device (a GPU; the first one, or the one whose name contains DEVICE)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        if args.pair:
            box = _box_url(args.box)
            creds = pair(box, args.pair, args.name, args.config, measure_rate(args.threads))
            print(f"paired with {box} as {creds['helper']}", file=sys.stderr, flush=True)
        else:
            try:
                creds = json.loads(args.config.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise HelperError(
                    f"not paired yet ({args.config}: {exc}); run with --pair CODE --box HOST"
                ) from exc
        compute: ComputeFn = compute_batch
        if args.opencl is not None:
            from appliance.peers.opencl import OpenCLLabels, OpenCLUnavailable

            try:
                engine = OpenCLLabels(args.opencl or None)
            except OpenCLUnavailable as exc:
                raise HelperError(str(exc)) from exc
            print(f"computing on {engine.name} (OpenCL)", file=sys.stderr, flush=True)
            compute = engine.compute_batch
        run_worker(
            creds, args.threads, args.heartbeat_labels, hello_seconds=args.hello_seconds, compute=compute
        )
    except HelperError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
