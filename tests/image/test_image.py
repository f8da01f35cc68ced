"""The image under QEMU, in order: first boot (healthy appliance, data grown, read-only root),
OTA refusals that write nothing, a successful update into slot B, an update whose health gate
fails (back on the old slot with the reason), and a power cut during an install.

One VM for the module (tests depend on the previous one's state); serial output and the build log
go to test-artifacts/image/."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from appliance.ota.manifest import canonical

from .conftest import derive_rootfs, make_release
from .qemu import Vm

pytestmark = [pytest.mark.qemu, pytest.mark.slow, pytest.mark.root, pytest.mark.timeout(1800)]
OTA = "/opt/smeshbox/venv/bin/python -m appliance.ota"
STATE = "/var/lib/smeshbox/ota/state.json"
SLOT_B = "/dev/disk/by-partuuid/5d3b6a52-7c1e-4a8e-9a57-2f0c7a1b5e13"


def sh(vm: Vm, command: str, timeout: float = 300.0) -> str:
    done = vm.agent.run(command, timeout)
    assert done.code == 0, f"{command}: exit {done.code}\n{done.out}\n{done.err}"
    return done.out


def rauc_status(vm: Vm) -> dict:
    return json.loads(sh(vm, "rauc status --detailed --output-format=json"))


def version(vm: Vm) -> str:
    return json.loads(sh(vm, "cat /usr/lib/smeshbox/release.json"))["version"]


def gate_done(vm: Vm, timeout: float = 400.0) -> None:
    """Waits until this boot's OTA health gate has finished (it is a oneshot)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = vm.agent.run("systemctl show -p ActiveState --value smeshbox-ota-gate.service").out.strip()
        if state in ("active", "failed"):
            return
        time.sleep(3)
    raise TimeoutError("the OTA gate did not finish")


def last_result(vm: Vm) -> dict:
    return json.loads(sh(vm, f"cat {STATE}"))["last_result"]


def slot_b_untouched(vm: Vm) -> bool:
    return vm.agent.run(f"cmp -s -n 4194304 {SLOT_B} /dev/zero").code == 0


def grubenv(vm: Vm) -> dict:
    out = sh(vm, "grub-editenv /boot/efi/EFI/BOOT/grubenv list")
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def machine_id_kept(vm: Vm) -> str:
    """This boot runs with the id kept on data (the root's /etc/machine-id is empty), handed over by
    GRUB on the kernel command line; the persistent journal therefore continues across boots."""
    running = sh(vm, "cat /etc/machine-id").strip()
    assert running == sh(vm, "cat /data/etc/machine-id").strip()
    assert f"systemd.machine_id={running}" in sh(vm, "cat /proc/cmdline").split()
    assert grubenv(vm)["MACHINE_ID"] == running
    assert sh(vm, "ls /var/log/journal").split() == [running]
    return running


def healthy(body: dict) -> bool:
    """ok, or degraded by the clock alone: the guest reaches no time server (nothing leaves the
    test's sandbox), which the box rightly reports as a warning."""
    problems = body.get("problems", [])
    return body.get("status") == "ok" or (
        body.get("status") == "degraded" and bool(problems)
        and all(p.get("component") == "clock" for p in problems)
    )


def health(vm: Vm, timeout: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{vm.api_port}/api/v1/health"
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.loads(response.read())
                if healthy(body):
                    return body
        except (OSError, ValueError) as exc:
            last = exc
        time.sleep(3)
    raise TimeoutError(f"web API not healthy through the forwarded port: {last}")


def test_first_boot_is_healthy(vm: Vm) -> None:
    up = vm.wait_for_agent()
    print(f"boot to guest agent: {up:.0f}s")
    state = vm.agent.run("systemctl is-system-running --wait", timeout=300).out.strip()
    failed = sh(vm, "systemctl --failed --no-legend --plain")
    assert state == "running", f"system {state}; failed units:\n{failed}"
    # the web API through the forwarded port (the daemon's own health)
    assert healthy(health(vm))
    # data was grown to the (1 GiB larger) medium, the root is read-only
    data_mb = int(sh(vm, "df -BM --output=size /data | tail -n1").strip().rstrip("M"))
    assert data_mb > 900, data_mb
    assert "ro" in sh(vm, "findmnt -n -o OPTIONS /").split(",")
    # the machine id is kept on data and handed to GRUB for the next boot
    first_id = sh(vm, "cat /data/etc/machine-id").strip()
    assert first_id == sh(vm, "cat /etc/machine-id").strip() and grubenv(vm)["MACHINE_ID"] == first_id
    assert vm.agent.run("touch /usr/lib/x").code != 0
    # one mDNS responder, time sync, the watchdog armed
    assert sh(vm, "systemctl is-active avahi-daemon systemd-timesyncd").split() == ["active", "active"]
    assert sh(vm, "resolvectl mdns 2>/dev/null || true").count("yes") == 0
    assert "30s" in sh(vm, "systemctl show -p RuntimeWatchdogUSec")
    # booted slot A, the gate marked it good (boot counting reset)
    gate_done(vm)
    status = rauc_status(vm)
    assert status["booted"] == "A" and status["compatible"] == "smeshbox-qemu-arm64"
    env = grubenv(vm)
    assert (env["A_OK"], env["A_TRY"], env["ORDER"]) == ("1", "0", "A B")


@pytest.fixture(scope="module")
def releases(image: Path, server) -> dict[str, str]:
    root = server.root
    derive_rootfs(image, root / "v2", "0.2.0")
    make_release(image, root / "v2", "0.2.0", ["--notes", "second"])
    derive_rootfs(image, root / "v3", "0.3.0", break_native=True)
    make_release(image, root / "v3", "0.3.0", ["--notes", "broken PoST core"])
    urls = {name: server.guest_url(f"{name}/release.json") for name in ("v2", "v3")}
    good = json.loads((root / "v2" / "release.json").read_text())
    bundle = (root / "v2" / "smeshbox-0.2.0.raucb").read_bytes()
    # tampered: the manifest changed after signing
    tampered = json.loads(json.dumps(good))
    tampered["manifest"]["notes"] = "evil"
    variants = {"tampered": tampered}
    # wrong key: a valid signature by a key the box does not trust
    stranger = SigningKey.generate()
    body = good["manifest"]
    signature = stranger.sign(canonical(body)).signature.hex()
    variants["wrongkey"] = {"manifest": body, "signatures": [
        {"key": stranger.verify_key.encode().hex(), "signature": signature}]}
    for name, document in variants.items():
        (root / name).mkdir()
        (root / name / "release.json").write_text(json.dumps(document))
        (root / name / "smeshbox-0.2.0.raucb").write_bytes(bundle)
        urls[name] = server.guest_url(f"{name}/release.json")
    # downgrade: properly signed, version below the running one
    (root / "downgrade").mkdir()
    copy = root / "downgrade" / "smeshbox-0.2.0.raucb"
    copy.write_bytes(bundle)
    make_release(image, root / "downgrade", "0.0.9", ["--bundle", str(copy)])
    urls["downgrade"] = server.guest_url("downgrade/release.json")
    # truncated: the signed manifest is right, the served bundle is cut short
    (root / "truncated").mkdir()
    (root / "truncated" / "release.json").write_text(json.dumps(good))
    (root / "truncated" / "smeshbox-0.2.0.raucb").write_bytes(bundle[: len(bundle) // 2])
    urls["truncated"] = server.guest_url("truncated/release.json")
    return urls


@pytest.mark.parametrize(
    ("name", "reason"),
    [("tampered", "bad-signature"), ("wrongkey", "bad-signature"), ("downgrade", "not-newer"),
     ("truncated", "download")],
)
def test_bad_releases_are_refused_before_writing(vm: Vm, releases, name: str, reason: str) -> None:
    before = rauc_status(vm)
    done = vm.agent.run(f"{OTA} install --no-reboot --url {releases[name]}", timeout=600)
    assert done.code == 1, done.out + done.err
    assert f"ota: {reason}:" in done.err
    assert slot_b_untouched(vm)
    assert rauc_status(vm) == before
    assert last_result(vm)["outcome"] == "refused"
    assert not sh(vm, "ls /data/ota 2>/dev/null | grep -v '\\.part$' || true").strip()


def install_and_reboot(vm: Vm, url: str) -> None:
    sh(vm, f"systemd-run --unit=ota-install-{int(time.time())} {OTA} install --url {url}")
    vm.wait_for_reboot(timeout=900)


def test_update_installs_into_b_and_the_gate_marks_it_good(vm: Vm, releases) -> None:
    install_and_reboot(vm, releases["v2"])
    vm.wait_for_agent()
    gate_done(vm)
    status = rauc_status(vm)
    assert status["booted"] == "B"
    assert version(vm) == "0.2.0"
    result = last_result(vm)
    assert (result["from_version"], result["to_version"], result["outcome"]) == ("0.1.0", "0.2.0", "success")
    env = grubenv(vm)
    assert (env["B_OK"], env["B_TRY"], env["ORDER"].split()[0]) == ("1", "0", "B")
    assert healthy(health(vm))
    # the same machine id after the reboot into the other slot, and the journal of both boots
    machine_id_kept(vm)
    assert len(sh(vm, "journalctl --list-boots --no-pager -q").splitlines()) >= 2


def test_update_failing_the_health_gate_comes_back_with_the_reason(vm: Vm, releases) -> None:
    install_and_reboot(vm, releases["v3"])  # installs into A, boots A
    vm.wait_for_reboot(timeout=600)  # the gate fails on A, marks it bad, reboots
    vm.wait_for_agent()
    gate_done(vm)
    assert rauc_status(vm)["booted"] == "B"
    assert version(vm) == "0.2.0"
    result = last_result(vm)
    assert result["outcome"] == "rolled-back" and result["to_version"] == "0.3.0"
    assert "health gate failed on slot A" in result["reason"] and "post:" in result["reason"]
    assert grubenv(vm)["A_OK"] == "0"
    machine_id_kept(vm)


def test_power_cut_during_install_keeps_the_old_slot(vm: Vm, releases) -> None:
    sh(vm, f"systemd-run --unit=ota-cut {OTA} install --url {releases['v3']}")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # wait until RAUC is writing slot A
        pending = vm.agent.run(f"cat {STATE}").out
        if '"phase": "installing"' in pending:
            break
        time.sleep(1)
    else:
        pytest.fail("the install never started")
    time.sleep(8)
    vm.kill()
    vm.boot()
    vm.wait_for_agent()
    gate_done(vm)
    assert rauc_status(vm)["booted"] == "B"
    assert version(vm) == "0.2.0"
    result = last_result(vm)
    assert result["outcome"] == "failed" and "interrupted" in result["reason"]
    assert healthy(health(vm))
