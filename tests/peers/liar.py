"""A malicious helper for the end-to-end test: the real pairing, broker and upload path, but every
unit it uploads has one label flipped (and it keeps the right VRF candidate, to pass that check).

Run as ``python liar.py BOX_URL CODE CONFIG``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from appliance.peers.helper import BoxClient, UnitRunner, pair, run_worker
from appliance.peers.units import Unit
from appliance.post.labels import compute_batch


class LyingRunner(UnitRunner):
    def __call__(self, unit: Unit) -> None:
        batch = compute_batch(unit.commitment, unit.scrypt_n, unit.start, unit.count, self.threads)
        labels = bytearray(batch.labels)
        for at in range(0, len(labels), 16 * 7):  # one label in seven is garbage
            labels[at] ^= 0xFF
        query = ""
        if batch.min_index is not None and batch.min_label is not None:
            query = f"?min_index={batch.min_index}&min_label={batch.min_label.hex()}"
        status, reply = self.client.put_labels(f"/api/v1/peers/units/{unit.unit_id}{query}", bytes(labels))
        print(f"liar upload: {status} {reply}", file=sys.stderr, flush=True)


def main() -> None:
    box, code, config = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    creds = pair(box, code, "liar", config, 1000.0)
    client = BoxClient(box, str(creds["token"]), str(creds["ca_file"]))
    run_worker(creds, 1, runner=LyingRunner(client, 1), hello_seconds=0.5)


if __name__ == "__main__":
    main()
