"""``python -m appliance post <init|prove|verify|labels|check|bench|merge|serve>``.

``serve`` is post-rs's ``service`` binary (flags and defaults of spacemeshos/post-rs @
a2d155a2a1c13c59559737634262b67686e503b1 ``service/src/main.rs``): the box as the post-service of a
go-spacemesh node. It is run by ``appliance.node.serve_cli`` (the node domain speaks gRPC).

JSON goes to stdout (``labels`` prints one hex label per line), human text to stderr; exit 0 on
success, non-zero with a one-line reason otherwise (usage errors included).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

from appliance.chain import MAINNET
from appliance.post import native
from appliance.post.layout import DataFileError
from appliance.post.metadata import DEFAULT_MAX_FILE_SIZE, MetadataError, PostMetadata, read_metadata
from appliance.post.params import MAINNET_POW_DIFFICULTY, commitment
from appliance.post.proof import Proof, ProofConfig, ProofFormatError
from appliance.post.writer import DEFAULT_SCRYPT_N, InitError

U64_MAX = (1 << 64) - 1
_LABELS_CHUNK = 4096


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message}\n")


def _hex32(text: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not hex") from None
    if len(value) != 32:
        raise argparse.ArgumentTypeError(f"must be 64 hex characters (32 bytes), got {len(text)} characters")
    return value


def _bounded(low: int, high: int = U64_MAX) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


def _float_above_zero(high: float, what: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not 0 < value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not {what}")
        return value

    return parse


_percent = _float_above_zero(100.0, "a percentage in (0, 100]")
_positive_float = _float_above_zero(float("inf"), "positive")


def _scrypt_n(text: str) -> int:
    value = _bounded(2, (1 << 31))(text)
    if value & (value - 1):
        raise argparse.ArgumentTypeError(f"{value} is not a power of two")
    return value


def _threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=_bounded(1, 1024), default=os.cpu_count() or 1)


def register(parser: argparse.ArgumentParser) -> None:
    """Adds the subcommands to ``parser``."""
    parser.error = _OneLineParser.error.__get__(parser)  # type: ignore[method-assign]
    sub = parser.add_subparsers(
        dest="post_command", metavar="SUBCOMMAND", required=True, parser_class=_OneLineParser
    )
    init = sub.add_parser("init", help="create (or resume) PoST data")
    init.add_argument("--datadir", required=True, type=Path)
    init.add_argument("--node-id", required=True, type=_hex32)
    init.add_argument("--commitment-atx-id", required=True, type=_hex32)
    init.add_argument("--labels-per-unit", required=True, type=_bounded(1))
    init.add_argument("--num-units", required=True, type=_bounded(1, (1 << 32) - 1))
    init.add_argument("--max-file-size", type=_bounded(1024), default=DEFAULT_MAX_FILE_SIZE)
    init.add_argument("--scrypt-n", type=_scrypt_n, default=DEFAULT_SCRYPT_N)
    _threads(init)

    prove = sub.add_parser("prove", help="generate a proof for a challenge")
    prove.add_argument("--datadir", required=True, type=Path)
    prove.add_argument("--challenge", required=True, type=_hex32)
    prove.add_argument("--k1", type=_bounded(1, (1 << 32) - 1), default=MAINNET.k1)
    prove.add_argument("--k2", type=_bounded(2, (1 << 32) - 1), default=MAINNET.k2)
    prove.add_argument("--nonces", type=_bounded(16, 4096), default=288)
    prove.add_argument("--pow-difficulty", type=_hex32, default=MAINNET_POW_DIFFICULTY)
    prove.add_argument("--k2pow-service", metavar="URL", help="k2pow-service doing the RandomX")
    _threads(prove)

    verify = sub.add_parser("verify", help="verify a proof against the metadata in --datadir")
    verify.add_argument("--datadir", required=True, type=Path)
    verify.add_argument("--challenge", required=True, type=_hex32)
    verify.add_argument("--proof", required=True, type=Path)
    verify.add_argument("--k1", type=_bounded(1, (1 << 32) - 1), default=MAINNET.k1)
    verify.add_argument("--k2", type=_bounded(2, (1 << 32) - 1), default=MAINNET.k2)
    verify.add_argument("--k3", type=_bounded(1, (1 << 32) - 1), default=None)
    verify.add_argument("--pow-difficulty", type=_hex32, default=MAINNET_POW_DIFFICULTY)
    verify.add_argument("--scrypt-n", type=_scrypt_n, default=DEFAULT_SCRYPT_N)

    labels = sub.add_parser("labels", help="print labels as hex, one per line")
    labels.add_argument("--node-id", required=True, type=_hex32)
    labels.add_argument("--commitment-atx-id", required=True, type=_hex32)
    labels.add_argument("--start", required=True, type=_bounded(0))
    labels.add_argument("--count", required=True, type=_bounded(1))
    labels.add_argument("--scrypt-n", type=_scrypt_n, default=DEFAULT_SCRYPT_N)

    check = sub.add_parser("check", help="recompute a sample of the labels on disk")
    check.add_argument("--datadir", required=True, type=Path)
    check.add_argument("--fraction", type=_percent, default=0.1, help="percent of labels per file")

    bench = sub.add_parser("bench", help="measure labels/s and the proving scan")
    bench.add_argument("--seconds", type=_positive_float, default=2.0)

    merge = sub.add_parser("merge", help="merge postcli -fromFile/-toFile folders into one dataset")
    merge.add_argument("sources", nargs="+", type=Path, metavar="SRC")
    merge.add_argument("--into", required=True, type=Path)
    merge.add_argument("--scrypt-n", type=_scrypt_n, default=DEFAULT_SCRYPT_N)
    merge.add_argument("--samples", type=_bounded(1, 1 << 20), default=16, help="labels recomputed per file")
    merge.add_argument("--move", action="store_true", help="rename files instead of copying them")
    _register_serve(sub.add_parser("serve", help="serve proofs to a go-spacemesh node (post-rs service)"))


def _nonces(text: str) -> int:
    value = _bounded(16, 256 * 16)(text)
    if value % 16:
        raise argparse.ArgumentTypeError("nonces must be multiple of 16")
    return value


def _register_serve(serve: argparse.ArgumentParser) -> None:
    """post-rs service's flags, with its defaults (the POST configuration defaults are mainnet's)."""
    serve.add_argument("-d", "--dir", required=True, type=Path, help="directory of POST data")
    serve.add_argument("-a", "--address", required=True, help="the node's grpc-post-listener, http://HOST:PORT")
    serve.add_argument("--reconnect-interval-s", type=_bounded(0, 86400), default=5,
                       help="time to wait before reconnecting to the node (doubles while it stays away)")
    serve.add_argument("--max-retries", type=_bounded(0), default=None,
                       help="maximum number of retries to connect to the node (default: infinite)")
    serve.add_argument("--watch-pid", type=_bounded(1, (1 << 31) - 1), default=None,
                       help="watch PID and exit if it dies")
    serve.add_argument("--operator-address", default=None, help="HOST:PORT for the operator /status endpoint")
    config = serve.add_argument_group("POST configuration")
    config.add_argument("--min-num-units", type=_bounded(1, (1 << 32) - 1), default=MAINNET.min_num_units)
    config.add_argument("--max-num-units", type=_bounded(1, (1 << 32) - 1), default=MAINNET.max_num_units)
    config.add_argument("--k1", type=_bounded(1, (1 << 32) - 1), default=MAINNET.k1)
    config.add_argument("--k2", type=_bounded(2, (1 << 32) - 1), default=MAINNET.k2)
    config.add_argument("--pow-difficulty", type=_hex32, default=MAINNET_POW_DIFFICULTY)
    config.add_argument("-n", dest="scrypt_n", type=_scrypt_n, default=DEFAULT_SCRYPT_N, help="scrypt N")
    config.add_argument("-r", dest="scrypt_r", type=_bounded(1, 1), default=1, help="scrypt r (only 1)")
    config.add_argument("-p", dest="scrypt_p", type=_bounded(1, 1), default=1, help="scrypt p (only 1)")
    settings = serve.add_argument_group("POST settings")
    settings.add_argument("--threads", type=_bounded(0, 1024), default=1, help="0 = all threads")
    settings.add_argument("--nonces", type=_nonces, default=128)
    settings.add_argument("--randomx-mode", choices=("fast", "light"), default="fast")
    tls = serve.add_argument_group("TLS configuration", "either all of --ca-cert/--cert/--key or none")
    tls.add_argument("--ca-cert", type=Path, default=None)
    tls.add_argument("--cert", type=Path, default=None)
    tls.add_argument("--key", type=Path, default=None)
    tls.add_argument("--domain", default=None, help="name to check the node's certificate against")
    serve.add_argument("--remote-k2pow", default=None, help="base URL of a post-rs k2pow-service")
    serve.add_argument("--remote-k2pow-parallelism", type=_bounded(1, 1024), default=5)
    serve.add_argument("--remote-k2pow-backoff", type=_bounded(0, 3600), default=5)


def _serve(args: argparse.Namespace) -> int:
    from appliance.node.serve_cli import serve  # the node domain owns gRPC

    return serve(args)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _emit(value: Any) -> None:
    print(json.dumps(value), flush=True)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _signum, _frame: stop.set())
    return stop


def _init(args: argparse.Namespace) -> int:
    from appliance.post.initializer import Initializer, InitProgress

    meta = PostMetadata(
        args.node_id, args.commitment_atx_id, args.labels_per_unit, args.num_units, args.max_file_size
    )
    meta.validate("--max-file-size/--labels-per-unit/--num-units")
    stop = _stop_on_signals()
    last = [0.0]

    def progress(p: InitProgress) -> None:
        now = time.monotonic()
        if now - last[0] >= 2 or p.position == p.total:
            last[0] = now
            eta = f"{p.eta_seconds:.0f} s" if p.eta_seconds is not None else "?"
            _say(
                f"init: {p.position}/{p.total} labels ({100 * p.fraction:.1f}%), "
                f"{p.labels_per_second:.0f} labels/s, ETA {eta}"
            )

    initializer = Initializer(args.datadir, meta, args.scrypt_n, args.threads)
    result = initializer.run(stop, progress)
    _emit(asdict(result))
    if not result.complete:
        _say(f"init stopped at label {result.position} of {result.total}; run again to resume")
        return 3
    return 0


def _prove(args: argparse.Namespace) -> int:
    from appliance.post.prover import ProveProgress, generate_proof
    from appliance.post.remote_k2pow import RemoteK2pow

    config = ProofConfig(args.k1, args.k2, args.pow_difficulty)
    if args.nonces % native.NONCES_PER_AES:
        raise ValueError(f"--nonces must be a multiple of {native.NONCES_PER_AES}, got {args.nonces}")
    stop = _stop_on_signals()

    last = [0.0]

    def progress(p: ProveProgress) -> None:
        now = time.monotonic()
        if p.position == p.total or now - last[0] >= 2:
            last[0] = now
            what = "nonce groups with k2pow" if p.stage == "k2pow" else "labels scanned"
            span = f"nonces {p.nonce_start}..{p.nonce_end - 1}"
            _say(f"prove: pass {p.pass_index} ({span}): {p.position}/{p.total} {what}")

    proof = generate_proof(
        args.datadir,
        args.challenge,
        config,
        args.nonces,
        args.threads,
        cancel=stop,
        progress=progress,
        # a helper's k2pow-service does the RandomX work; a helper that fails or lies is dropped
        # and the box computes the rest itself
        pow_source=RemoteK2pow(args.k2pow_service, max_errors=5) if args.k2pow_service else None,
        pow_fallback=True,
    )
    _emit(proof.to_json())
    return 0


def _verify(args: argparse.Namespace) -> int:
    from appliance.post.verifier import ALL, VerifyError, VerifyMode, verify_proof

    meta = read_metadata(args.datadir)
    try:
        proof = Proof.from_json(json.loads(args.proof.read_text()))
    except json.JSONDecodeError as exc:
        raise ProofFormatError(f"{args.proof}: not valid JSON ({exc})") from exc
    config = ProofConfig(args.k1, args.k2, args.pow_difficulty)
    mode = ALL if args.k3 is None else VerifyMode.subset(args.k3, os.urandom(32))
    try:
        verify_proof(
            proof,
            node_id=meta.node_id,
            commitment_atx_id=meta.commitment_atx_id,
            challenge=args.challenge,
            num_units=meta.num_units,
            labels_per_unit=meta.labels_per_unit,
            config=config,
            scrypt_n=args.scrypt_n,
            mode=mode,
        )
    except VerifyError as exc:
        _emit(
            {
                "valid": False,
                "error": type(exc).__name__,
                "reason": str(exc),
                "index_id": getattr(exc, "index_id", None),
            }
        )
        _say(f"error: invalid proof: {exc}")
        return 1
    _emit({"valid": True})
    _say("proof is valid")
    return 0


def _labels(args: argparse.Namespace) -> int:
    if args.start + args.count - 1 > U64_MAX:
        raise ValueError(
            f"--start + --count exceeds 2^64 (last index would be {args.start + args.count - 1})"
        )
    com = commitment(args.node_id, args.commitment_atx_id)
    out = sys.stdout
    for at in range(args.start, args.start + args.count, _LABELS_CHUNK):
        count = min(_LABELS_CHUNK, args.start + args.count - at)
        data, _ = native.labels(com, args.scrypt_n, at, count)
        out.write("".join(data[i : i + 16].hex() + "\n" for i in range(0, len(data), 16)))
    out.flush()
    return 0


def _check(args: argparse.Namespace) -> int:
    from appliance.post.check import check_data

    report = check_data(args.datadir, args.fraction, threads=os.cpu_count() or 1)
    _emit({**asdict(report), "ok": report.ok})
    for bad in report.bad:
        _say(f"bad label {bad.index}: {bad.file} offset {bad.offset}")
    if not report.ok:
        reason = f"{len(report.bad)} bad label(s)" if report.bad else report.vrf_error
        _say(f"error: data check failed: {reason}")
        return 1
    _say(f"checked {report.checked} labels in {report.files} files: all good")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from appliance.post.bench import run_bench

    _emit(run_bench(args.seconds, _say))
    return 0


def _merge(args: argparse.Namespace) -> int:
    from appliance.post.merge import merge_datasets

    report = merge_datasets(args.sources, args.into, args.scrypt_n, args.samples, args.move)
    _emit(asdict(report))
    _say(
        f"merged {report.files} files ({report.labels} labels) into {report.into}; "
        f"VRF nonce {report.nonce} from {report.nonce_source}; {report.sampled_labels} labels recomputed"
    )
    return 0


_COMMANDS = {
    "init": _init,
    "prove": _prove,
    "verify": _verify,
    "labels": _labels,
    "check": _check,
    "bench": _bench,
    "merge": _merge,
    "serve": _serve,
}
_EXPECTED = (
    MetadataError,
    DataFileError,
    InitError,
    ProofFormatError,
    native.PostNativeError,
    ValueError,
    OSError,
    RuntimeError,
)


def run(args: argparse.Namespace) -> int:
    try:
        return _COMMANDS[args.post_command](args)
    except _EXPECTED as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        _say(f"error: {reason}")
        return 1
