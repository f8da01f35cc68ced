"""GenesisID and domain-separated signatures against the spec vectors."""

from __future__ import annotations

import base64

from appliance.node.identity import Identity
from appliance.node.signing import Domain, genesis_id, sign, signed_bytes, verify, verify_raw


def test_genesis_id(vectors):
    for v in vectors["genesis_id"]["vectors"]:
        assert genesis_id(v["unix"], v["extra_data"]).hex() == v["genesis_id"]


def test_rfc8032(vectors):
    v = vectors["ed25519"]["rfc8032_test1"]
    assert Identity("t", bytes.fromhex(v["seed"])).sign_raw(b"").hex() == v["signature"]


def test_domain_vectors(vectors):
    seed = bytes.fromhex(vectors["ed25519"]["identity"]["seed"])
    me = Identity("t", seed)
    for name, value in vectors["ed25519"]["domains"].items():
        assert Domain[name] == value
    for v in vectors["ed25519"]["vectors"]:
        prefix, msg = bytes.fromhex(v["prefix"]), bytes.fromhex(v["message"])
        domain = Domain[v["domain"]]
        assert signed_bytes(prefix, domain, msg).hex() == v["signed_bytes"]
        sig = sign(me, prefix, domain, msg)
        assert sig.hex() == v["signature"]
        assert verify(me.node_id, prefix, domain, msg, sig)
        assert not verify(me.node_id, prefix, Domain.HARE, msg, sig)
        assert not verify(me.node_id, prefix, domain, msg + b"x", sig)
    assert not verify_raw(b"short", b"", bytes(64))


def test_poet_submit_example(vectors):
    v = vectors["ed25519"]["poet_submit_example"]
    me = Identity("t", bytes.fromhex(vectors["ed25519"]["identity"]["seed"]))
    prefix = bytes.fromhex(v["prefix_hex"])
    challenge = bytes.fromhex(v["challenge_hex"])
    sig = sign(me, prefix[:20], Domain(prefix[20]), challenge)
    assert sig.hex() == v["signature_hex"]
    assert verify_raw(me.node_id, prefix + challenge, sig)
    b64 = v["json_fields_base64"]
    assert base64.b64encode(sig).decode() == b64["signature"]
    assert base64.b64encode(prefix).decode() == b64["prefix"]
