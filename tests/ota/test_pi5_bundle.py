"""Pi 5 releases carry the boot partition: Buildroot's real post-build/post-image scripts (over
placeholder firmware and kernel) feed ``make-release``, whose bundle holds the root, the slot-neutral
boot image and the hook that writes the target slot's cmdline.txt. The hook runs against a real FAT
image, and a real ``rauc install`` (RAUC's service on a private D-Bus, four loop devices, the board's
tryboot backend) writes slot B and arms a one-shot tryboot of it."""

from __future__ import annotations

import configparser
import contextlib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.ota.cli import main
from appliance.ota.release import build_bundle
from tests.drives.conftest import Loops

from .conftest import RELEASE_TOOLS, make_keys, need_tools

REPO = Path(__file__).resolve().parents[2]
BOARDS = REPO / "buildroot" / "board"
HOOK = BOARDS / "rpi5" / "bundle-hook.sh"
TRYBOOT = BOARDS / "rpi5" / "overlay" / "usr" / "lib" / "rauc" / "rpi-tryboot.sh"
# What Buildroot leaves in BINARIES_DIR before post-image (firmware, DTB, kernel or U-Boot).
FIRMWARE = {
    "rpi5": ["rpi-firmware/bcm2712-rpi-5-b.dtb", "Image"],
    "rpi4": ["rpi-firmware/bcm2711-rpi-4-b.dtb", "rpi-firmware/start4.elf", "rpi-firmware/fixup4.dat",
             "rpi-firmware/cmdline.txt", "u-boot.bin", "boot.scr"],
}
AUTOBOOT_TRY_B = "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n"
# fusefat leaves the FAT's clean-shutdown bits unset, which mtools refuses to read without this.
MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


@dataclass
class BuildOutput:
    images: Path  # BINARIES_DIR after post-image
    target: Path  # TARGET_DIR after post-build
    keys: Path

    def release(self) -> dict[str, str]:
        return json.loads((self.images / "release.json").read_text())


def buildroot_output(tmp: Path, board: str) -> BuildOutput:
    """Runs the board's real post-build and post-image scripts over placeholder Buildroot outputs."""
    need_tools(*RELEASE_TOOLS, "genimage", "mkfs.vfat", "mcopy")
    keys, target, images = tmp / "keys", tmp / "target", tmp / "images"
    tmp.mkdir()
    make_keys(keys)
    shutil.copytree(REPO / "image/overlay", target)  # Buildroot copies the shared overlay first
    env = {**os.environ, "SMESHBOX_KEYS": str(keys), "TARGET_DIR": str(target),
           "BUILD_DIR": str(tmp / "build")}
    subprocess.run([BOARDS / "common/post-build.sh", target, board], env=env, check=True, capture_output=True)
    for name in FIRMWARE[board]:
        (images / name).parent.mkdir(parents=True, exist_ok=True)
        (images / name).write_bytes(f"{board} {name} ".encode() + os.urandom(4096))
    (images / "rpi-firmware/overlays").mkdir()
    (images / "rpi-firmware/overlays/README").write_text("dt overlays\n")
    if board == "rpi5":  # Buildroot's rpi-firmware package installs the board's config.txt
        shutil.copy(BOARDS / board / "config.txt", images / "rpi-firmware/config.txt")
    root = tmp / "root"
    (root / "usr/lib/smeshbox").mkdir(parents=True)
    (root / "usr/lib/smeshbox/hello").write_text("the new release\n")
    (root / "usr/lib/smeshbox/payload").write_bytes(os.urandom(256 * 1024))
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", root, images / "rootfs.ext4", "16M"], check=True)
    done = subprocess.run([BOARDS / "common/post-image.sh", images, board], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return BuildOutput(images, target, keys)


@pytest.fixture
def pi5(tmp_path: Path) -> BuildOutput:
    return buildroot_output(tmp_path / "pi5", "rpi5")


def make_release(build: BuildOutput, out: Path) -> Path:
    argv = ["make-release", "--from", str(build.images), "--keys", str(build.keys), "--out", str(out)]
    assert main(argv) == 0
    return out / f"smeshbox-{build.release()['version']}.raucb"


def rauc_info(bundle: Path, keys: Path) -> dict:
    argv = ["rauc", "info", "--output-format=json", f"--keyring={keys}/ca.cert.pem", str(bundle)]
    info = subprocess.run(argv, capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    return json.loads(info.stdout)


def copy_sparse(source: Path, target: Path) -> None:
    subprocess.run(["cp", "--sparse=always", source, target], check=True)


def fat_file(image: Path, name: str) -> bytes:
    return subprocess.run(["mcopy", "-i", str(image), f"::{name}", "-"], capture_output=True, check=True,
                          env=MTOOLS_ENV).stdout


def fat_names(image: Path) -> list[str]:
    listing = subprocess.run(["mdir", "-b", "-i", str(image), "::"], capture_output=True, text=True,
                             check=True, env=MTOOLS_ENV).stdout
    return sorted(line.removeprefix("::/") for line in listing.split())


def test_pi5_release_carries_the_boot_image_and_its_hook(pi5: BuildOutput, tmp_path: Path) -> None:
    bundle = make_release(pi5, tmp_path / "release")
    info = rauc_info(bundle, pi5.keys)
    assert (info["compatible"], info["version"]) == ("smeshbox-rpi5-arm64", pi5.release()["version"])
    images = {name: spec for image in info["images"] for name, spec in image.items()}
    assert {name: (spec["filename"], spec["hooks"]) for name, spec in images.items()} == {
        "rootfs": ("rootfs.ext4", []), "bootfs": ("bootfs.vfat", ["post-install"])}
    extracted = tmp_path / "extracted"
    subprocess.run(["rauc", "extract", f"--keyring={pi5.keys}/ca.cert.pem", bundle, extracted],
                   check=True, capture_output=True)
    assert "[hooks]\nfilename=bundle-hook.sh\n" in (extracted / "manifest.raucm").read_text()
    assert (extracted / "bundle-hook.sh").read_bytes() == HOOK.read_bytes()
    assert os.access(extracted / "bundle-hook.sh", os.X_OK)
    # The boot image is the slot A image with the cmdline left as the board's template.
    boot = extracted / "bootfs.vfat"
    assert fat_names(boot) == fat_names(pi5.images / "bootA.vfat")
    assert fat_file(boot, "Image") == (pi5.images / "Image").read_bytes()
    assert fat_file(boot, "cmdline.txt") == (BOARDS / "rpi5/cmdline.txt").read_bytes()
    assert b"root=PARTLABEL=rootA " in fat_file(pi5.images / "bootA.vfat", "cmdline.txt")
    assert b"rauc.slot=A\n" in fat_file(pi5.images / "bootA.vfat", "cmdline.txt")


def test_pi4_release_stays_rootfs_only(tmp_path: Path) -> None:
    pi4 = buildroot_output(tmp_path / "pi4", "rpi4")
    assert not (pi4.images / "bootfs.vfat").exists() and not (pi4.images / "bundle-hook.sh").exists()
    info = rauc_info(make_release(pi4, tmp_path / "release"), pi4.keys)
    assert info["compatible"] == "smeshbox-rpi4-arm64"
    assert [list(image) for image in info["images"]] == [["rootfs"]]


def test_post_build_enables_the_shared_overlays_units(pi5: BuildOutput) -> None:
    """Buildroot copies the overlay but enables no unit of it: post-build must, as image/build does."""
    system = pi5.target / "etc/systemd/system"
    overlay = REPO / "image/overlay/etc/systemd/system"
    units = sorted(path.name for path in overlay.glob("smeshbox*.service"))
    assert "smeshbox-machine-id.service" in units and "smeshbox.service" in units
    wants = system / "multi-user.target.wants"
    assert sorted(path.name for path in wants.glob("smeshbox*.service")) == units
    # systemctl --root links inside the target: absolute paths as the box will see them
    assert all(os.readlink(wants / unit) == f"/etc/systemd/system/{unit}" for unit in units)


def test_a_boot_image_without_its_hook_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    build = tmp_path / "images"
    build.mkdir()
    for name in ("rootfs.ext4", "bootfs.vfat"):
        (build / name).write_bytes(b"image")
    (build / "release.json").write_text(json.dumps({"version": "1.0.0", "compatible": "c"}))
    out = ["--out", str(tmp_path / "release")]
    assert main(["make-release", "--from", str(build), *out]) == 1
    err = capsys.readouterr().err
    assert "bootfs.vfat needs the bundle hook" in err and "bundle-hook.sh does not exist" in err
    assert len(err.strip().splitlines()) == 1
    (build / "bootfs.vfat").unlink()
    assert main(["make-release", "--from", str(build), "--hook", str(HOOK), *out]) == 1
    assert "has no boot image to act on (--bootfs)" in capsys.readouterr().err


# --- the hook and the install on real FAT file systems and loop devices ---------------------------------


def need_root_and_fat() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (mounts, loop devices)")
    if not kernel_has_vfat():
        need_tools("fusefat")


@functools.cache  # modprobe once per run, not once per test
def kernel_has_vfat() -> bool:
    if shutil.which("modprobe"):
        subprocess.run(["modprobe", "-q", "vfat"], capture_output=True)
    return "\tvfat\n" in Path("/proc/filesystems").read_text()


@contextlib.contextmanager
def fat_mounted(image: Path, where: Path) -> Iterator[Path]:
    """The kernel's vfat, or where the kernel has none (some CI kernels) the fusefat driver."""
    where.mkdir()
    if kernel_has_vfat():
        subprocess.run(["mount", "-t", "vfat", "-o", "loop", image, where], check=True)
    else:
        subprocess.run(["fusefat", "-o", "rw+", image, where], check=True, capture_output=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", where], check=True)


BOX_ID = "0123456789abcdef0123456789abcdef"


def with_machine_id(cmdline: Path) -> str:
    return cmdline.read_text().rstrip("\n") + f" systemd.machine_id={BOX_ID}\n"


def run_hook(
    mount_point: Path, bootname: str, parent: str, machine_id: str = ""
) -> subprocess.CompletedProcess[str]:
    """The hook as RAUC 1.8 runs it for a boot slot: the parent's bootname, the slot mounted; the
    box's machine id file (empty: a box that has none yet)."""
    name = parent.replace("rootfs", "bootfs") or "bootfs.1"
    id_file = mount_point.parent / "machine-id"
    id_file.write_text(machine_id + "\n" if machine_id else "")
    env = {"PATH": os.environ["PATH"], "MACHINE_ID_FILE": str(id_file),
           "RAUC_SLOT_NAME": name, "RAUC_SLOT_CLASS": "bootfs",
           "RAUC_SLOT_TYPE": "vfat", "RAUC_SLOT_DEVICE": "/dev/disk/by-partlabel/bootB",
           "RAUC_SLOT_BOOTNAME": bootname, "RAUC_SLOT_PARENT": parent,
           "RAUC_SLOT_MOUNT_POINT": str(mount_point), "RAUC_IMAGE_NAME": "bootfs.vfat",
           "RAUC_MOUNT_PREFIX": str(mount_point.parent)}
    return subprocess.run([HOOK, "slot-post-install"], env=env, capture_output=True, text=True)


@pytest.mark.root
@pytest.mark.parametrize("slot", ["A", "B"])
def test_hook_writes_the_slots_cmdline(pi5: BuildOutput, tmp_path: Path, slot: str) -> None:
    need_root_and_fat()
    image = tmp_path / "boot.vfat"
    copy_sparse(pi5.images / "bootfs.vfat", image)
    with fat_mounted(image, tmp_path / "mnt") as mount_point:
        done = run_hook(mount_point, slot, f"rootfs.{'AB'.index(slot)}")
    assert done.returncode == 0, done.stderr
    # exactly what post-image gives the factory image of that slot
    assert fat_file(image, "cmdline.txt") == (pi5.images / f"cmdline-{slot}.txt").read_bytes()
    assert fat_names(image) == fat_names(pi5.images / "bootfs.vfat")  # no temp file left behind
    assert fat_file(image, "Image") == (pi5.images / "Image").read_bytes()


@pytest.mark.root
def test_hook_carries_the_boxs_machine_id(pi5: BuildOutput, tmp_path: Path) -> None:
    need_root_and_fat()
    image = tmp_path / "boot.vfat"
    copy_sparse(pi5.images / "bootfs.vfat", image)
    with fat_mounted(image, tmp_path / "mnt") as mount_point:
        done = run_hook(mount_point, "B", "rootfs.1", machine_id=BOX_ID)
    assert done.returncode == 0, done.stderr
    assert fat_file(image, "cmdline.txt").decode() == with_machine_id(pi5.images / "cmdline-B.txt")


@pytest.mark.root
@pytest.mark.parametrize(("bootname", "parent"), [("C", "rootfs.1"), ("", "rootfs.1"), ("b", "rootfs.1"),
                                                  ("B", ""), ("A B", "rootfs.1")])
def test_hook_refuses_a_slot_it_cannot_tell(pi5: BuildOutput, tmp_path: Path, bootname: str,
                                            parent: str) -> None:
    need_root_and_fat()
    image = tmp_path / "boot.vfat"
    copy_sparse(pi5.images / "bootfs.vfat", image)
    with fat_mounted(image, tmp_path / "mnt") as mount_point:
        done = run_hook(mount_point, bootname, parent)
    assert done.returncode != 0
    assert done.stderr.startswith("bundle-hook: cannot tell the target slot of bootfs.")
    assert len(done.stderr.splitlines()) == 1
    assert fat_file(image, "cmdline.txt") == (BOARDS / "rpi5/cmdline.txt").read_bytes()
    assert fat_names(image) == fat_names(pi5.images / "bootfs.vfat")


@pytest.mark.root
def test_hook_refuses_a_slot_specific_boot_image(pi5: BuildOutput, tmp_path: Path) -> None:
    need_root_and_fat()
    image = tmp_path / "boot.vfat"
    copy_sparse(pi5.images / "bootA.vfat", image)  # a bundle built from slot A's image by mistake
    with fat_mounted(image, tmp_path / "mnt") as mount_point:
        done = run_hook(mount_point, "B", "rootfs.1")
    assert done.returncode != 0 and "holds no @SLOT@ template" in done.stderr
    assert fat_file(image, "cmdline.txt") == (pi5.images / "cmdline-A.txt").read_bytes()


def sha256(path: Path, size: int | None = None) -> str:
    with path.open("rb") as handle:
        return hashlib.sha256(handle.read(size) if size is not None else handle.read()).hexdigest()


@dataclass
class Pi5Host:
    """A Pi 5's slots on loop devices, its tryboot backend's files, RAUC's service on a private bus."""

    slots: dict[str, Path]  # rootA, bootA, rootB, bootB -> backing image file
    autoboot: Path
    reboot_param: Path
    bad_state: Path
    env: dict[str, str]
    service_log: Path

    def install(self, bundle: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["rauc", "install", str(bundle)], env=self.env, capture_output=True, text=True,
                              timeout=120)

    def digests(self) -> dict[str, str]:
        return {name: sha256(image) for name, image in self.slots.items()}


def system_conf(build: BuildOutput, devices: dict[str, str], tmp: Path) -> Path:
    """The system.conf post-build installed, pointed at loop devices, tmp state and the repo's backend."""
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(build.target / "etc/rauc/system.conf")
    conf["system"]["statusfile"] = str(tmp / "status.raucs")
    conf["system"]["mountprefix"] = str(tmp / "mnt")
    conf["system"]["bundle-formats"] = "plain"  # see plain_bundle()
    conf["handlers"]["bootloader-custom-backend"] = str(TRYBOOT)
    conf["keyring"]["path"] = str(build.keys / "ca.cert.pem")
    for section in (s for s in conf.sections() if s.startswith("slot.")):
        slot = conf[section]
        bootname = slot.get("bootname") or conf[f"slot.{slot['parent']}"]["bootname"]
        slot["device"] = devices[slot["type"].replace("ext4", "root").replace("vfat", "boot") + bootname]
    path = tmp / "system.conf"
    with path.open("w") as handle:
        conf.write(handle, space_around_delimiters=False)
    return path


def mount_path(tmp: Path) -> str:
    """PATH for RAUC's `mount -t vfat` of a boot slot: the kernel's vfat, or fusefat where it has none."""
    if kernel_has_vfat():
        return os.environ["PATH"]
    shim = tmp / "bin"
    shim.mkdir()
    (shim / "mount").write_text('#!/bin/sh\nif [ "$1" = -t ] && [ "$2" = vfat ]; then shift 2; '
                                'exec fusefat -o rw+ "$@"; fi\nexec /usr/bin/mount "$@"\n')
    (shim / "mount").chmod(0o755)
    return f"{shim}:{os.environ['PATH']}"


def plain_bundle(build: BuildOutput, out: Path, bootfs: Path | None = None) -> Path:
    """The bundle make-release builds, in RAUC's plain format: installing a verity bundle needs
    dm-verity, which test hosts' kernels may lack. Same manifest, images and hook otherwise."""
    release = build.release()
    return build_bundle(build.images / "rootfs.ext4", release["version"], release["compatible"],
                        build.keys / "signing.cert.pem", build.keys / "signing.key.pem", out,
                        bootfs=bootfs or build.images / "bootfs.vfat", hook=build.images / "bundle-hook.sh",
                        bundle_format="plain")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_service(service: subprocess.Popen, env: dict[str, str], log: Path) -> str | None:
    """The booted slot, once the service answers. It claims its bus name a moment before it has set
    its properties (status then says compatible/booted null), so wait for those too."""
    for _ in range(100):
        status = subprocess.run(["rauc", "status", "--output-format=json"], env=env, capture_output=True)
        if status.returncode == 0 and json.loads(status.stdout)["compatible"] is not None:
            return json.loads(status.stdout)["booted"]
        if service.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"rauc service did not come up:\n{log.read_text()[-2000:]}")


@pytest.fixture
def pi5_host(pi5: BuildOutput, tmp_path: Path) -> Iterator[Pi5Host]:
    need_root_and_fat()
    need_tools("dbus-daemon", "losetup", "mount", "umount")
    if not Path("/dev/loop-control").exists():
        pytest.skip("no /dev/loop-control: the kernel has no loop device support here")
    host = tmp_path / "host"
    loops = Loops(host / "slots", host / "state")
    loops.folder.mkdir(parents=True)
    processes: list[subprocess.Popen] = []
    try:
        # Slot A runs the factory image post-image made; slot B holds an older release.
        slots = {name: loops.image(f"{name}.img", size) for name, size in
                 (("rootA", 32 << 20), ("bootA", 64 << 20), ("rootB", 32 << 20), ("bootB", 64 << 20))}
        copy_sparse(pi5.images / "bootA.vfat", slots["bootA"])
        old = host / "old"
        (old / "usr/lib/smeshbox").mkdir(parents=True)
        (old / "usr/lib/smeshbox/hello").write_text("the running release\n")
        for root in ("rootA", "rootB"):
            subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", old, slots[root]], check=True)
        subprocess.run(["mkfs.vfat", slots["bootB"]], check=True, capture_output=True)
        (old / "cmdline.txt").write_text("root=PARTLABEL=rootB rauc.slot=B quiet\n")
        (old / "Image").write_text("the old kernel\n")
        subprocess.run(["mcopy", "-i", slots["bootB"], old / "cmdline.txt", old / "Image", "::"], check=True)
        devices = {name: loops.attach(image) for name, image in slots.items()}

        bus_conf = host / "bus.conf"
        bus_conf.write_text(
            '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
            ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
            "<busconfig><type>system</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>\n"
            '<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>'
            '<allow receive_sender="*"/></policy></busconfig>\n')
        bus = subprocess.Popen(["dbus-daemon", f"--config-file={bus_conf}", "--nofork", "--print-address=1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        processes.append(bus)
        assert bus.stdout is not None
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus.stdout.readline().strip()}

        autoboot = host / "boot/autoboot.txt"
        autoboot.parent.mkdir()
        shutil.copy(BOARDS / "rpi5/autoboot.txt", autoboot)
        (host / "cmdline").write_bytes((pi5.images / "cmdline-A.txt").read_bytes())  # we run slot A
        pi = Pi5Host(slots, autoboot, host / "run/reboot-param", host / "data/rauc/tryboot-bad", env,
                     host / "rauc-service.log")
        box_id = host / "data/etc/machine-id"  # the box's persistent id, which the hook carries over
        box_id.parent.mkdir(parents=True)
        box_id.write_text(BOX_ID + "\n")
        backend = {"AUTOBOOT": str(autoboot), "STATE": str(pi.bad_state),
                   "REBOOT_PARAM": str(pi.reboot_param), "CMDLINE": str(host / "cmdline"),
                   "PATH": mount_path(host), "MACHINE_ID_FILE": str(box_id)}
        conf = system_conf(pi5, devices, loops.folder)
        with pi.service_log.open("w") as log:
            service = subprocess.Popen(["rauc", "service", f"--conf={conf}", "--override-boot-slot=A"],
                                       env={**env, **backend}, stdout=log, stderr=subprocess.STDOUT)
        processes.append(service)
        booted = wait_for_service(service, env, pi.service_log)
        assert booted == "A"
        yield pi
    finally:
        for process in reversed(processes):
            stop(process)
        loops.cleanup()


def failed(pi: Pi5Host, done: subprocess.CompletedProcess[str]) -> str:
    return f"{done.stdout[-1000:]}\n{done.stderr[-1000:]}\nservice:\n{pi.service_log.read_text()[-3000:]}"


@pytest.mark.root
def test_rauc_installs_root_and_boot_into_slot_b_and_arms_tryboot(pi5_host: Pi5Host, pi5: BuildOutput,
                                                                  tmp_path: Path) -> None:
    before = pi5_host.digests()
    done = pi5_host.install(plain_bundle(pi5, tmp_path / "release.raucb"))
    assert done.returncode == 0, failed(pi5_host, done)
    after = pi5_host.digests()
    assert (after["rootA"], after["bootA"]) == (before["rootA"], before["bootA"])
    rootfs = pi5.images / "rootfs.ext4"
    assert sha256(pi5_host.slots["rootB"], rootfs.stat().st_size) == sha256(rootfs)
    boot_b = pi5_host.slots["bootB"]
    assert fat_file(boot_b, "cmdline.txt").decode() == with_machine_id(pi5.images / "cmdline-B.txt")
    assert fat_file(boot_b, "Image") == (pi5.images / "Image").read_bytes()  # the new kernel
    assert pi5_host.autoboot.read_text() == AUTOBOOT_TRY_B
    assert pi5_host.reboot_param.read_text() == "0 tryboot\n"
    assert "bundle-hook: bootfs.1 boots rootB" in pi5_host.service_log.read_text()


@pytest.mark.root
def test_a_tampered_bundle_is_refused_and_slot_b_is_untouched(pi5_host: Pi5Host, pi5: BuildOutput,
                                                             tmp_path: Path) -> None:
    bundle = plain_bundle(pi5, tmp_path / "release.raucb")
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    bundle.write_bytes(bytes(data))
    before = pi5_host.digests()
    autoboot = pi5_host.autoboot.read_text()
    done = pi5_host.install(bundle)
    assert done.returncode != 0, failed(pi5_host, done)
    assert "signature verification failed" in done.stdout + done.stderr
    assert pi5_host.digests() == before
    assert pi5_host.autoboot.read_text() == autoboot and not pi5_host.reboot_param.exists()


@pytest.mark.root
def test_a_failing_hook_fails_the_install_and_slot_b_is_not_booted(pi5_host: Pi5Host, pi5: BuildOutput,
                                                                  tmp_path: Path) -> None:
    bundle = plain_bundle(pi5, tmp_path / "release.raucb", bootfs=pi5.images / "bootA.vfat")  # slot-specific
    before = pi5_host.digests()
    autoboot = pi5_host.autoboot.read_text()
    done = pi5_host.install(bundle)
    assert done.returncode != 0, failed(pi5_host, done)
    assert "holds no @SLOT@ template" in pi5_host.service_log.read_text()
    after = pi5_host.digests()
    assert (after["rootA"], after["bootA"]) == (before["rootA"], before["bootA"])
    # RAUC marked B bad before writing it and never activated it: no tryboot is armed.
    assert pi5_host.autoboot.read_text() == autoboot and not pi5_host.reboot_param.exists()
    assert pi5_host.bad_state.read_text().split() == ["B"]
