"""``python -m appliance find``: list the Smeshboxes announced on the LAN as JSON."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json

from appliance.discovery.browser import find_smeshboxes


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to listen (default 3)")
    parser.add_argument("--interface", action="append", dest="interfaces", help="only this interface")


def run(args: argparse.Namespace) -> int:
    boxes = asyncio.run(find_smeshboxes(args.interfaces, timeout=args.timeout))
    print(json.dumps([dataclasses.asdict(box) | {"api_url": box.api_url} for box in boxes], indent=2))
    return 0
