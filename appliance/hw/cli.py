"""``python -m appliance hw ...``: look at the box's senses from a shell.

``screen`` draws the status screen through the real driver into the simulated panel and saves the
PNG (how a dev machine "sees" the OLED); ``sensors`` prints one sensor reading as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from appliance.hw.screen import DisplayStatus, image_to_frame, render_status
from appliance.hw.sensors import read_sensors
from appliance.hw.simbus import SimulatedBus
from appliance.hw.ssd1306 import DEFAULT_ADDRESS, SSD1306


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="hw_command", required=True)
    screen = sub.add_parser("screen", help="render the status screen to a PNG via the simulated panel")
    screen.add_argument("--out", type=Path, required=True)
    screen.add_argument("--name", default="Smeshbox")
    screen.add_argument("--ip", default="")
    screen.add_argument("--url", default="")
    screen.add_argument("--state", default="ready")
    screen.add_argument("--sysfs", type=Path, default=Path("/"), help="temperature from this sysfs root")
    screen.add_argument("--mode", choices=["horizontal", "page"], default="horizontal")
    screen.add_argument("--scale", type=int, default=4)
    sensors = sub.add_parser("sensors", help="print one sensor reading as JSON")
    sensors.add_argument("--sysfs", type=Path, default=Path("/"))


def run(args: argparse.Namespace) -> int:
    reading = read_sensors(args.sysfs)
    if args.hw_command == "sensors":
        print(json.dumps(dataclasses.asdict(reading), indent=2))
        return 0
    if not 1 <= args.scale <= 16:
        print(f"scale {args.scale} outside 1..16", file=sys.stderr)
        return 2
    status = DisplayStatus(args.name, args.ip, args.url, args.state, reading.cpu_temp_c)
    bus = SimulatedBus()
    panel = SSD1306(bus, mode=args.mode)
    panel.init()
    panel.show(image_to_frame(render_status(status)))
    bus.devices[DEFAULT_ADDRESS].save_png(args.out, args.scale)
    print(json.dumps({"png": str(args.out), "bytes_sent": panel.bytes_sent}))
    return 0
