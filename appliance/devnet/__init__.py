"""The built-in devnet: PoET servers and a gateway that validates like a node, on 127.0.0.1 with
seconds-long epochs and fault switches (``Devnet``; ``python -m appliance devnet``)."""
