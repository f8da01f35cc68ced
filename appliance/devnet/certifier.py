"""A PoET certifier for the devnet: checks an identity's initial PoST and signs a certificate for it.

The HTTP shape is what go-spacemesh's ``CertifierClient.Certify`` sends and reads
(``activation/certifier.go`` @ cc65f271f3e21b519532f2924ab227ccf352c2de): ``POST /certify`` with
``{proof{nonce, indices, pow}, metadata{node_id, commitment_atx_id, challenge, num_units}}`` →
``{certificate, signature, pub_key}``; the certificate is poet's SCALE ``CertOnWire`` with an
expiration (``shared/cert.go`` @ 3bff6482). The PoST proof goes through the real verifier.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

import nacl.signing
from aiohttp import web

from appliance.devnet import gowire
from appliance.devnet._web import Reject as _Reject
from appliance.devnet._web import json_handler
from appliance.node.clock import TimeSource

# checks an initial PoST (post, node_id, commitment ATX, num_units); raises Reject when invalid
PostCheck = Callable[[gowire.GoPost, bytes, bytes, int], None]


class DevnetCertifier:
    def __init__(self, time: TimeSource, check_post: PostCheck, ttl: float = 3600.0) -> None:
        self.time = time
        self.ttl = ttl  # how long a certificate stays valid
        self.key = nacl.signing.SigningKey.generate()
        self._check_post = check_post
        self.issued = 0
        self.down = False  # a fault switch: answer 503 to every request

    @property
    def pubkey(self) -> bytes:
        return bytes(self.key.verify_key)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 << 10)
        app.router.add_post("/certify", json_handler(self._certify, lambda exc: {"error": exc.message}))
        return app

    async def _certify(self, request: web.Request) -> dict[str, Any]:
        if self.down:
            raise _Reject(503, "certifier unavailable")
        try:
            body = json.loads(await request.read())
            proof, meta = body["proof"], body["metadata"]
            post = gowire.GoPost(int(proof["nonce"]), _unb64(proof["indices"]), int(proof["pow"]))
            node_id = _unb64(meta["node_id"], 32)
            commitment = _unb64(meta["commitment_atx_id"], 32)
            challenge = _unb64(meta["challenge"], 32)
            num_units = int(meta["num_units"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise _Reject(400, "malformed certify request") from None
        if challenge != bytes(32):
            raise _Reject(400, "the initial PoST is proven on the zero challenge")
        try:
            await asyncio.to_thread(self._check_post, post, node_id, commitment, num_units)
        except _Reject as exc:
            raise _Reject(403, exc.message) from None
        data = gowire.encode_certificate(node_id, int(self.time.now() + self.ttl))
        self.issued += 1
        return {
            "certificate": base64.b64encode(data).decode(),
            "signature": base64.b64encode(self.key.sign(data).signature).decode(),
            "pub_key": base64.b64encode(self.pubkey).decode(),
        }


def _unb64(value: Any, size: int | None = None) -> bytes:
    if not isinstance(value, str) or len(value) > 4096:
        raise ValueError("expected base64")
    raw = base64.b64decode(value, validate=True)
    if size is not None and len(raw) != size:
        raise ValueError(f"expected {size} bytes")
    return raw
