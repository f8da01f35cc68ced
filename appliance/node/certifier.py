"""Client of a PoET certifier: trades the identity's initial PoST for a registration certificate.

go-spacemesh asks the certifier a PoET names in ``/v1/info`` for a certificate before registering
and only falls back to the proof of work when that fails (``activation/poet.go`` ``authorize``,
``activation/certifier.go`` ``CertifierClient.Certify`` @ cc65f271f3e21b519532f2924ab227ccf352c2de):
``POST {url}/certify`` with JSON ``{proof{nonce, indices, pow}, metadata{node_id, commitment_atx_id,
challenge, num_units}}`` (Go's encoding/json: bytes as base64) answers ``{certificate, signature,
pub_key}``. The reply is checked as Go checks it — the signer is the advertised certifier key, the
ed25519 signature covers the SCALE ``CertOnWire{Pubkey ≤32, Expiration *{compact64}}`` (poet
``shared/cert.go`` @ 3bff6482), it names our identity and has not expired.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from appliance.node import signing
from appliance.node.http import RemoteProtocolError, b64, b64_field, parse_json_object, request
from appliance.node.poet_client import Certificate
from appliance.node.scale import ScaleError, decode_all
from appliance.node.wire import PostV1

ZERO_CHALLENGE = bytes(32)  # the initial PoST is proven on shared.ZeroChallenge
MAX_REPLY = 16 << 10


@dataclass(frozen=True)
class IssuedCertificate:
    certificate: Certificate
    expiration: float | None  # unix seconds; None never expires


def decode_certificate(data: bytes) -> tuple[bytes, int | None]:
    return decode_all(data, lambda d: (d.byte_slice(32), d.option(lambda d2: d2.compact())))


def check_certificate(
    url: str, cert: Certificate, certifier_pubkey: bytes, node_id: bytes, now: float
) -> IssuedCertificate:
    """``shared.VerifyCertificate``; a bad one is the certifier's protocol error."""
    if not signing.verify_raw(certifier_pubkey, cert.data, cert.signature):
        raise RemoteProtocolError(url, "certificate signature does not verify with the certifier's key")
    try:
        pubkey, expiration = decode_certificate(cert.data)
    except ScaleError as exc:
        raise RemoteProtocolError(url, f"malformed certificate: {exc}") from None
    if pubkey != node_id:
        raise RemoteProtocolError(url, "certificate is for another identity")
    if expiration is not None and expiration < now:
        raise RemoteProtocolError(url, "certificate is expired")
    return IssuedCertificate(cert, None if expiration is None else float(expiration))


async def certify(
    session: aiohttp.ClientSession,
    url: str,
    certifier_pubkey: bytes,
    node_id: bytes,
    commitment_atx: bytes,
    num_units: int,
    post: PostV1,
    now: float,
    timeout: float = 30.0,
) -> IssuedCertificate:
    endpoint = url.rstrip("/") + "/certify"
    body = {
        "proof": {"nonce": post.nonce, "indices": b64(post.indices), "pow": post.pow},
        "metadata": {
            "node_id": b64(node_id),
            "commitment_atx_id": b64(commitment_atx),
            "challenge": b64(ZERO_CHALLENGE),
            "num_units": num_units,
        },
    }
    _, reply = await request(session, "POST", endpoint, json_body=body, timeout=timeout, max_bytes=MAX_REPLY)
    obj = parse_json_object(endpoint, reply)
    if b64_field(endpoint, obj, "pub_key", 32) != certifier_pubkey:
        raise RemoteProtocolError(endpoint, "pubkey is invalid")  # the Go client's words
    cert = Certificate(
        b64_field(endpoint, obj, "certificate", max_size=256), b64_field(endpoint, obj, "signature", 64)
    )
    return check_certificate(endpoint, cert, certifier_pubkey, node_id, now)


def cert_to_json(issued: IssuedCertificate) -> dict:
    return {
        "data": issued.certificate.data.hex(),
        "signature": issued.certificate.signature.hex(),
        "expiration": issued.expiration,
    }


def cert_from_json(obj: dict) -> IssuedCertificate:
    return IssuedCertificate(
        Certificate(bytes.fromhex(obj["data"]), bytes.fromhex(obj["signature"])), obj.get("expiration")
    )
