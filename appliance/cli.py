"""The top-level command line: ``python -m appliance <command> ...``.

Each command lives in its domain; this module only routes to it, importing the domain lazily so
one domain's import cost (or failure) never touches another command. A domain's CLI module exposes
``register(parser)`` to add its arguments and ``run(args) -> int``.
JSON goes to stdout, human text to stderr; exit 0 on success, non-zero with a one-line reason.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from appliance import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "post": ("appliance.post.cli", "PoST data: init, prove, verify, labels, check, bench"),
    "run": ("appliance.composition.daemon", "run the appliance daemon"),
    "devnet": ("appliance.devnet.cli", "run the built-in devnet (PoET + gateway)"),
    "hw": ("appliance.hw.cli", "the box's sensors and OLED status screen"),
    "find": ("appliance.discovery.cli", "find Smeshboxes on the LAN over mDNS"),
    "ota": ("appliance.ota.cli", "signed over-the-air updates"),
    "helper": ("appliance.peers.helper", "help a box initialize: pair with it and compute labels"),
    "peers-box": ("appliance.web.peers", "run the box's helper broker, API and one init with helpers"),
    "k2pow-service": ("appliance.web.k2pow_service", "serve post-rs's k2pow-service protocol for a box"),
    "peers-bench": ("appliance.web.peers_bench", "measure what a helper adds to the box"),
    "diag": ("appliance.web.diagnostics", "the diagnostics page (works when the daemon does not)"),
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m appliance", description="Smeshbox appliance")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints help / version / the usage error and exits
        parser.print_help(sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    command_parser = argparse.ArgumentParser(prog=f"python -m appliance {argv[0]}")
    module.register(command_parser)
    args = command_parser.parse_args(argv[1:])
    return int(module.run(args) or 0)
