"""Boots the Smeshbox image under qemu-system-aarch64 (UEFI from AAVMF, GRUB, virtio disk/net, an
i6300esb watchdog) and talks to it without ssh: the serial console is logged to test-artifacts/,
the web API is forwarded to a 127.0.0.1 port, and commands run through the QEMU guest agent
(virtio-serial; the agent only starts where that port exists, i.e. never on a Pi)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

AAVMF = Path("/usr/share/AAVMF")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Exec:
    code: int
    out: str
    err: str


class GuestAgent:
    def __init__(self, path: Path) -> None:
        self.path = path

    def call(self, command: str, arguments: dict | None = None, timeout: float = 30.0) -> object:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(timeout)
            sock.connect(str(self.path))
            stream = sock.makefile("rwb")
            sync = int(time.time() * 1000) % 2**31
            # guest-sync-delimited flushes stale output of earlier, abandoned sessions.
            stream.write(json.dumps({"execute": "guest-sync-delimited", "arguments": {"id": sync}}).encode())
            stream.flush()
            while True:
                line = stream.readline()
                if not line:
                    raise ConnectionError("guest agent closed the connection")
                line = line.lstrip(b"\xff").strip()
                if line and json.loads(line).get("return") == sync:
                    break
            message = {"execute": command, **({"arguments": arguments} if arguments else {})}
            stream.write(json.dumps(message).encode())
            stream.flush()
            reply = json.loads(stream.readline())
        if "error" in reply:
            raise RuntimeError(f"guest agent {command}: {reply['error']}")
        return reply.get("return")

    def ping(self) -> bool:
        try:
            self.call("guest-ping", timeout=3)
            return True
        except (OSError, ConnectionError, ValueError, RuntimeError):
            return False

    def run(self, command: str, timeout: float = 300.0) -> Exec:
        started = self.call("guest-exec", {"path": "/bin/sh", "arg": ["-c", command], "capture-output": True})
        pid = started["pid"]  # type: ignore[index]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status: dict = self.call("guest-exec-status", {"pid": pid})  # type: ignore[assignment]
            if status["exited"]:
                out, err = (
                    base64.b64decode(status.get(key, "")).decode(errors="replace")
                    for key in ("out-data", "err-data")
                )
                return Exec(status.get("exitcode", -1), out, err)
            time.sleep(0.5)
        raise TimeoutError(f"guest command did not finish in {timeout}s: {command}")


class Vm:
    """One QEMU machine over a disk image; ``boot()`` may be called again after ``kill()``."""

    def __init__(self, disk: Path, workdir: Path, log_dir: Path, name: str = "vm") -> None:
        self.disk = disk
        self.workdir = workdir
        self.log_dir = log_dir
        self.name = name
        self.api_port = free_port()
        self.vars = workdir / "AAVMF_VARS.fd"
        shutil.copyfile(AAVMF / "AAVMF_VARS.fd", self.vars)
        self.agent = GuestAgent(workdir / "qga.sock")
        self.proc: subprocess.Popen[bytes] | None = None
        self.boots = 0
        self.serial = log_dir / f"{name}-serial.log"

    def serial_text(self) -> str:
        return self.serial.read_text(errors="replace") if self.serial.exists() else ""

    def boot(self) -> None:
        self.boots += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.serial.open("a") as log:
            log.write(f"\n===== boot {self.boots} =====\n")
        self.agent.path.unlink(missing_ok=True)
        command = [
            "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1024",
            "-display", "none", "-no-user-config", "-nodefaults",
            "-drive", f"if=pflash,format=raw,unit=0,file={AAVMF / 'AAVMF_CODE.fd'},readonly=on",
            "-drive", f"if=pflash,format=raw,unit=1,file={self.vars}",
            "-drive", f"if=none,id=hd0,file={self.disk},format=raw,cache=unsafe",
            "-device", "virtio-blk-pci,drive=hd0,bootindex=0",
            "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{self.api_port}-:80",
            "-device", "virtio-net-pci,netdev=n0,romfile=",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,path={self.agent.path},server=on,wait=off,id=qga0",
            "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
            "-device", "i6300esb", "-action", "watchdog=reset",
            "-serial", f"file:{self.workdir / 'serial.tmp'}",
        ]
        self._serial_offset = 0
        (self.workdir / "serial.tmp").unlink(missing_ok=True)
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def pump_serial(self) -> str:
        """Appends new console output to the artifact log; returns this boot's output so far."""
        tmp = self.workdir / "serial.tmp"
        if not tmp.exists():
            return ""
        text = tmp.read_text(errors="replace")
        with self.serial.open("a") as log:
            log.write(text[self._serial_offset :])
        self._serial_offset = len(text)
        return text

    def wait_for_agent(self, timeout: float = 300.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            self.pump_serial()
            if self.proc is not None and self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"qemu exited with {self.proc.returncode}: {err}")
            if self.agent.path.exists() and self.agent.ping():
                return time.monotonic() - started
            time.sleep(2)
        raise TimeoutError(f"guest agent not up in {timeout}s; see {self.serial}")

    def wait_for_reboot(self, timeout: float = 600.0) -> None:
        """Waits until the guest reboots by itself (QEMU stays up; GRUB prints its banner again)."""
        seen = self.pump_serial().count("smeshbox: booting slot")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pump_serial().count("smeshbox: booting slot") > seen:
                return
            time.sleep(2)
        raise TimeoutError(f"no reboot within {timeout}s; see {self.serial}")

    def kill(self) -> None:
        """A power cut: SIGKILL, nothing flushed."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.pump_serial()
        self.proc = None

    def shutdown(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.pump_serial()
        self.proc = None
