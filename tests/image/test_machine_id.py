"""The machine-id keeper (image/overlay/usr/lib/smeshbox/machine-id) on the host, with the real boot
loader tools each target uses: grub-editenv on a real grubenv (QEMU image), fw_setenv on a real
U-Boot environment file (Pi 4), and a Pi 5 boot partition's cmdline.txt. The QEMU test
(test_image.py) shows the id surviving real reboots; these cover the cases a VM cannot reach
cheaply: a corrupt stored id, a lost boot loader entry, no valid id at all, the Pi boot loaders."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "image/overlay/usr/lib/smeshbox/machine-id"
BOOT_ID = "0123456789abcdef0123456789abcdef"
OTHER_ID = "fedcba9876543210fedcba9876543210"


@dataclass
class Box:
    root: Path
    env: dict[str, str]

    @property
    def store(self) -> Path:
        return Path(self.env["STORE"])

    def run(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sh", str(SCRIPT)], env=self.env, capture_output=True, text=True)

    def ok(self) -> str:
        done = self.run()
        assert done.returncode == 0, done.stderr
        return done.stdout


def make_box(tmp_path: Path, bootloader: str, **extra: str) -> Box:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/machine-id").write_text(BOOT_ID + "\n")
    (tmp_path / "system.conf").write_text(f"[system]\ncompatible=x\nbootloader={bootloader}\n")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "ETC_ID": str(tmp_path / "etc/machine-id"),
           "STORE": str(tmp_path / "data/etc/machine-id"), "RAUC_CONF": str(tmp_path / "system.conf"),
           **extra}
    return Box(tmp_path, env)


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/apt/image.txt)")


@pytest.fixture
def grub_box(tmp_path: Path) -> Box:
    need("grub-editenv")
    grubenv = tmp_path / "grubenv"
    subprocess.run(["grub-editenv", str(grubenv), "create"], check=True)
    subprocess.run(["grub-editenv", str(grubenv), "set", "ORDER=A B", "A_OK=1"], check=True)
    return make_box(tmp_path, "grub", GRUBENV=str(grubenv))


def grubenv(box: Box) -> dict[str, str]:
    out = subprocess.run(["grub-editenv", box.env["GRUBENV"], "list"], check=True, capture_output=True,
                         text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def test_first_boot_persists_this_boots_id_and_hands_it_to_grub(grub_box: Box) -> None:
    assert BOOT_ID in grub_box.ok()
    assert grub_box.store.read_text().strip() == BOOT_ID
    assert grubenv(grub_box) == {"ORDER": "A B", "A_OK": "1", "MACHINE_ID": BOOT_ID}
    # the next boots change nothing: the files are not rewritten
    stamps = (grub_box.store.stat().st_mtime_ns, Path(grub_box.env["GRUBENV"]).stat().st_mtime_ns)
    grub_box.ok()
    assert stamps == (grub_box.store.stat().st_mtime_ns, Path(grub_box.env["GRUBENV"]).stat().st_mtime_ns)


def test_the_stored_id_wins_over_a_transient_one(grub_box: Box) -> None:
    """The boot loader lost its entry (say a replaced ESP): this boot ran with a transient id, but the
    box keeps the id it always had."""
    grub_box.store.parent.mkdir(parents=True)
    grub_box.store.write_text(OTHER_ID + "\n")
    grub_box.ok()
    assert grub_box.store.read_text().strip() == OTHER_ID
    assert grubenv(grub_box)["MACHINE_ID"] == OTHER_ID


def test_a_corrupt_stored_id_is_kept_aside_and_replaced(grub_box: Box) -> None:
    grub_box.store.parent.mkdir(parents=True)
    grub_box.store.write_bytes(b"\x00\x00garbage after a power cut")
    done = grub_box.run()
    assert done.returncode == 0, done.stderr
    assert "is not a machine id" in done.stderr
    assert grub_box.store.read_text().strip() == BOOT_ID
    assert Path(f"{grub_box.store}.corrupt").read_bytes() == b"\x00\x00garbage after a power cut"
    assert grubenv(grub_box)["MACHINE_ID"] == BOOT_ID


def test_no_valid_id_anywhere_fails_and_writes_nothing(grub_box: Box) -> None:
    Path(grub_box.env["ETC_ID"]).write_text("")
    done = grub_box.run()
    assert done.returncode == 1 and "no valid id" in done.stderr
    assert not grub_box.store.exists()
    assert "MACHINE_ID" not in grubenv(grub_box)


def test_pi4_uboot_environment(tmp_path: Path) -> None:
    need("fw_setenv")
    env_file, config, defaults = tmp_path / "uboot.env", tmp_path / "fw_env.config", tmp_path / "default.env"
    env_file.write_bytes(bytes(0x4000))
    config.write_text(f"{env_file} 0x0000 0x4000\n")
    defaults.write_text("")
    # what U-Boot's boot.cmd leaves behind after its first saveenv
    subprocess.run(["fw_setenv", "-c", str(config), "-f", str(defaults), "BOOT_ORDER", "A B"], check=True,
                   capture_output=True)
    box = make_box(tmp_path, "uboot", FW_CONFIG=str(config))
    box.ok()
    printed = subprocess.run(["fw_printenv", "-c", str(config)], capture_output=True, text=True).stdout
    assert f"smeshbox_machine_id={BOOT_ID}" in printed.splitlines()
    assert "BOOT_ORDER=A B" in printed.splitlines()


def test_pi5_cmdline_of_the_booted_slot(tmp_path: Path) -> None:
    bootfs, cmdline = tmp_path / "bootB", tmp_path / "cmdline"
    bootfs.mkdir()
    line = "console=serial0,115200 root=PARTLABEL=rootB rootfstype=ext4 ro rootwait panic=10 rauc.slot=B"
    (bootfs / "cmdline.txt").write_text(f"{line} systemd.machine_id={OTHER_ID}\n")
    cmdline.write_text(line + "\n")
    box = make_box(tmp_path, "custom", BOOTFS=str(bootfs), CMDLINE=str(cmdline))
    box.store.parent.mkdir(parents=True)
    box.store.write_text(BOOT_ID + "\n")
    box.ok()
    assert (bootfs / "cmdline.txt").read_text() == f"{line} systemd.machine_id={BOOT_ID}\n"
    box.ok()  # idempotent: one argument, not two
    assert (bootfs / "cmdline.txt").read_text().count("systemd.machine_id=") == 1
    # the next boot runs with the id: the boot partition is not even opened
    cmdline.write_text(f"{line} systemd.machine_id={BOOT_ID}\n")
    (tmp_path / "next").mkdir()
    assert BOOT_ID in make_box(tmp_path / "next", "custom", BOOTFS=str(tmp_path / "absent"),
                               CMDLINE=str(cmdline), STORE=str(box.store)).ok()
    cmdline.write_text("console=serial0 ro\n")
    done = box.run()
    assert done.returncode == 1 and "no rauc.slot=" in done.stderr


def test_an_unknown_boot_loader_is_an_error(tmp_path: Path) -> None:
    done = make_box(tmp_path, "barebox").run()
    assert done.returncode == 1 and "unknown boot loader 'barebox'" in done.stderr
