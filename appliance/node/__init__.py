"""The light node: identities (ed25519, go-spacemesh key files), addresses, signing and ECVRF, the
SCALE wire messages, the clock, the durable per-identity epoch state machine (``smesher``), the
PoET and gateway clients, mode B (``postservice``), and ``LightNode`` for the daemon."""
