#!/usr/bin/env python3
"""A stand-in for the ``rauc`` CLI on the host, where no RAUC service and no slots exist (the QEMU
tests in tests/image run the real one). It keeps RAUC's GRUB-backend semantics in a JSON file
(``FAKE_RAUC_STATE``): two slots with a bootname, OK/TRY flags and the boot ORDER; ``install``
refuses a missing/non-bundle file, marks the target bad before writing it (as RAUC does), copies the
bundle's bytes into the target's slot file and makes it primary. Output matches
``rauc status --detailed --output-format=json`` in the fields appliance.ota reads."""

import json
import os
import shutil
import sys
from pathlib import Path

STATE = Path(os.environ["FAKE_RAUC_STATE"])


def load() -> dict:
    return json.loads(STATE.read_text())


def save(state: dict) -> None:
    STATE.write_text(json.dumps(state))
    with STATE.with_suffix(".log").open("a") as log:
        log.write(" ".join(sys.argv[1:]) + "\n")


def other(state: dict) -> str:
    return "B" if state["booted"] == "A" else "A"


def main(argv: list[str]) -> int:
    state = load()
    if argv[:1] == ["status"] and len(argv) >= 2 and argv[1].startswith("mark-"):
        what = argv[1][5:]
        target = argv[2] if len(argv) > 2 else "booted"
        slot = state["booted"] if target == "booted" else other(state) if target == "other" else target
        if what == "good":
            state["ok"][slot], state["try"][slot] = 1, 0
        elif what == "bad":
            state["ok"][slot], state["try"][slot] = 0, 0
        elif what == "active":
            state["order"] = [slot] + [s for s in state["order"] if s != slot]
            state["ok"][slot], state["try"][slot] = 1, 0
        else:
            print(f"unknown mark {what}", file=sys.stderr)
            return 1
        save(state)
        print(f"marked slot {slot} as {what}")
        return 0
    if argv[:1] == ["status"]:
        slots = []
        for index, name in enumerate(("A", "B")):
            slots.append({f"rootfs.{index}": {
                "class": "rootfs", "device": state["devices"][name], "type": "ext4", "bootname": name,
                "state": "booted" if name == state["booted"] else "inactive",
                "boot_status": "good" if state["ok"][name] else "bad",
            }})
        primary = next((s for s in state["order"] if state["ok"][s]), None)
        print(json.dumps({
            "compatible": state["compatible"], "variant": "", "booted": state["booted"],
            "boot_primary": f"rootfs.{'AB'.index(primary)}" if primary else None, "slots": slots,
        }))
        return 0
    if argv[:1] == ["install"] and len(argv) == 2:
        bundle = Path(argv[1])
        if not bundle.is_file():
            print(f"rauc: bundle {bundle} not found", file=sys.stderr)
            return 1
        if state.get("fail_install"):
            print("rauc: signature verification failed", file=sys.stderr)
            return 1
        target = other(state)
        state["ok"][target] = 0  # RAUC marks the target bad before writing it
        save(state)
        shutil.copyfile(bundle, state["devices"][target])
        state = load()
        state["ok"][target], state["try"][target] = 1, 0
        state["order"] = [target] + [s for s in state["order"] if s != target]
        save(state)
        print("Installing: succeeded")
        return 0
    print(f"fake rauc: unsupported {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
