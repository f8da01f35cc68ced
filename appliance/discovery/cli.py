"""``python -m appliance find``: list the Smeshboxes announced on the LAN — a table for people by
default, JSON with ``--json`` (for scripts) — and say so plainly when none answered."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from collections.abc import Sequence

from appliance.discovery.browser import FoundBox, find_smeshboxes


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to listen (default 3)")
    parser.add_argument("--interface", action="append", dest="interfaces", help="only this interface")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def table(boxes: Sequence[FoundBox], timeout: float) -> str:
    if not boxes:
        return (f"No Smeshbox answered within {timeout:g} s. Is it powered, on this network, and past its "
                "first minute? Try --timeout 10, or open http://smeshbox.local in a browser.")
    rows = [("NAME", "OPEN IN A BROWSER", "ADDRESS", "VERSION")]
    for box in boxes:
        port = "" if box.port == 80 else f":{box.port}"
        rows.append((box.name, f"http://{box.host or box.addresses[0]}{port}/",
                     ", ".join(box.addresses) or "-", box.version or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([*lines, f"{len(boxes)} box{'es' if len(boxes) != 1 else ''} found."])


def run(args: argparse.Namespace) -> int:
    boxes = asyncio.run(find_smeshboxes(args.interfaces, timeout=args.timeout))
    if args.json:
        print(json.dumps([dataclasses.asdict(box) | {"api_url": box.api_url} for box in boxes], indent=2))
    else:
        print(table(boxes, args.timeout))
    return 0 if boxes else 1
