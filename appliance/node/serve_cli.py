"""``python -m appliance post serve``: one dataset as the post-service of a go-spacemesh node.

A drop-in for post-rs's ``service`` binary (spacemeshos/post-rs @
a2d155a2a1c13c59559737634262b67686e503b1 ``service/src/main.rs``; the flags are declared in
``appliance.post.cli``): it loads the dataset's metadata (and, like post-rs, refuses a dataset whose
unit count is outside ``--min-num-units..--max-num-units``), logs the network parameters and proving
settings, optionally serves the operator ``/status`` endpoint, and runs the post-service until
SIGINT/SIGTERM, until ``--watch-pid`` dies, or until ``--max-retries`` connection attempts failed.
Unlike post-rs it does not exit on a dataset whose initialisation is unfinished: it waits for the
data to complete and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

from appliance.node.operator import OperatorServer
from appliance.node.post_provider import DirectPostProvider
from appliance.node.postservice import PostService, TlsFiles, operator_status, parse_endpoint, post_verifier

log = logging.getLogger("post-service")


def _tls(args: argparse.Namespace) -> TlsFiles | None:
    given = [args.ca_cert, args.cert, args.key]
    if not any(given):
        if args.domain:
            raise ValueError("--domain needs --ca-cert, --cert and --key")
        return None
    if not all(given):
        raise ValueError("TLS needs all of --ca-cert, --cert and --key (or none of them)")
    for path in given:
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
    return TlsFiles(args.ca_cert, args.cert, args.key, args.domain)


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--operator-address {text!r}: expected HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


def serve(args: argparse.Namespace) -> int:
    from appliance.post.dataset import PostDataset
    from appliance.post.proof import ProofConfig

    level = os.environ.get("RUST_LOG", "info").upper()  # post-rs's switch, where it names a level
    logging.basicConfig(
        level=level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO",
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    tls = _tls(args)
    parse_endpoint(args.address, tls is not None)  # a bad address fails now, not in the loop
    dataset = PostDataset(Path(args.dir))
    meta = dataset.metadata()
    if not args.min_num_units <= meta.num_units <= args.max_num_units:
        raise ValueError(
            f"number of units in the POST data is out of range: {meta.num_units} not in "
            f"{args.min_num_units}..={args.max_num_units}"
        )
    config = ProofConfig(args.k1, args.k2, args.pow_difficulty)
    log.info(
        "POST network parameters: %s",
        json.dumps(
            {
                "min_num_units": args.min_num_units,
                "max_num_units": args.max_num_units,
                "k1": args.k1,
                "k2": args.k2,
                "pow_difficulty": args.pow_difficulty.hex().upper(),
                "scrypt": {"n": args.scrypt_n, "r": 1, "p": 1},
            }
        ),
    )
    threads = args.threads or os.cpu_count() or 1
    log.info(
        "POST proving settings: %s",
        json.dumps({"threads": threads, "nonces": args.nonces, "randomx_mode": args.randomx_mode}),
    )
    pow_source = None
    if args.remote_k2pow:
        from appliance.post.remote_k2pow import RemoteK2pow

        log.info("remote k2pow uri: %s", args.remote_k2pow)
        pow_source = RemoteK2pow(args.remote_k2pow, args.remote_k2pow_parallelism, args.remote_k2pow_backoff)
    provider = DirectPostProvider(
        {meta.node_id: dataset},
        config,
        args.nonces,
        threads,
        scrypt_n=args.scrypt_n,
        fast_mode=args.randomx_mode == "fast",
        pow_source=pow_source,
    )
    service = PostService(
        args.address,
        meta.node_id,
        provider,
        post_verifier(config, args.scrypt_n),
        reconnect_interval=float(args.reconnect_interval_s),
        tls=tls,
        max_retries=args.max_retries,
    )
    operator = None
    if args.operator_address:
        host, port = _host_port(args.operator_address)
        operator = OperatorServer(host, port, lambda: operator_status(service.status()))
        log.info("running operator service on %s:%d", host, operator.port)
    return asyncio.run(_main(service, operator, args.watch_pid))


async def _watch_pid(pid: int) -> None:
    log.info("watching PID %d", pid)
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            log.info("PID %d not found", pid)
            return
        except PermissionError:
            pass  # exists, owned by someone else
        await asyncio.sleep(1.0)


async def _main(service: PostService, operator: OperatorServer | None, watch_pid: int | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if operator is not None:
        operator.start()
    await service.start()
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(service.wait())]
    if watch_pid is not None:
        waiters.append(asyncio.ensure_future(_watch_pid(watch_pid)))
    try:
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # MaxRetriesReached surfaces as the command's one-line error
        return 0
    finally:
        for task in waiters:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await service.stop()
        if operator is not None:
            operator.stop()
