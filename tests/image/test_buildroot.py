"""buildroot/ cannot be built here (Buildroot downloads its sources), so check what can be checked:
shell scripts (shellcheck), defconfig and Kconfig syntax, that every referenced file exists, RAUC
configs, the genimage layouts (real genimage over placeholder inputs), the U-Boot boot script
(mkimage) and the Pi 5 tryboot backend's behaviour."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BR = REPO / "buildroot"
SCRIPTS = [
    *BR.rglob("*.sh"),
    REPO / "image" / "build",
    REPO / "image" / "overlay" / "usr" / "lib" / "smeshbox" / "firstboot",
    REPO / "scripts" / "setup.d" / "image.sh",
]
DEFCONFIG_LINE = re.compile(r'^(#.*|BR2_[A-Za-z0-9_]+=(y|"[^"]*"|\d+|0x[0-9a-fA-F]+)|)$')
EXTERNAL_REF = re.compile(
    r"\$\(BR2_EXTERNAL_SMESHBOX_PATH\)/([^\s\"')]+)|\$BR2_EXTERNAL_SMESHBOX_PATH/([^\s\"')]+)"
)


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/apt/image.txt)")


def test_shell_scripts_pass_shellcheck() -> None:
    need("shellcheck")
    done = subprocess.run(["shellcheck", "-x", *map(str, SCRIPTS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_external_tree_layout() -> None:
    desc = (BR / "external.desc").read_text()
    assert re.search(r"^name: [A-Za-z0-9_]+$", desc, re.M)
    assert "package/*/*.mk" in (BR / "external.mk").read_text()
    for package in (BR / "package").iterdir():
        mk = (package / f"{package.name}.mk").read_text()
        upper = package.name.upper().replace("-", "_")
        assert f"{upper}_VERSION =" in mk and f"{upper}_SITE =" in mk
        assert re.search(r"^\$\(eval \$\((python|cmake|generic|autotools)-package\)\)$", mk, re.M)
        assert f"config BR2_PACKAGE_{upper}\n" in (package / "Config.in").read_text()


@pytest.mark.parametrize("defconfig", sorted((BR / "configs").glob("*_defconfig")), ids=lambda p: p.name)
def test_defconfig_syntax(defconfig: Path) -> None:
    names = []
    for number, line in enumerate(defconfig.read_text().splitlines(), 1):
        assert DEFCONFIG_LINE.match(line), f"{defconfig.name}:{number}: {line!r}"
        if "=" in line and not line.startswith("#"):
            names.append(line.split("=", 1)[0])
    assert len(names) == len(set(names)), "a symbol is set twice"
    for symbol in ("BR2_aarch64", "BR2_INIT_SYSTEMD", "BR2_PACKAGE_RAUC", "BR2_PACKAGE_SMESHBOX",
                   "BR2_ROOTFS_OVERLAY", "BR2_ROOTFS_POST_IMAGE_SCRIPT"):
        assert symbol in names


def test_every_referenced_file_exists() -> None:
    checked = 0
    for path in [*BR.rglob("*_defconfig"), *BR.rglob("Config.in"), *BR.rglob("*.mk")]:
        for match in EXTERNAL_REF.finditer(path.read_text()):
            relative = match.group(1) or match.group(2)
            if "*" in relative:
                continue
            assert (BR / relative).exists(), f"{path.relative_to(REPO)} references missing {relative}"
            checked += 1
    assert checked >= 10
    assert (REPO / "image" / "overlay" / "etc" / "fstab").exists()  # the shared overlay


@pytest.mark.parametrize("conf", [*BR.rglob("rauc-system.conf"), REPO / "image/rauc/system.conf"],
                         ids=lambda p: p.parent.name)
def test_rauc_system_configs(conf: Path) -> None:
    parser = configparser.ConfigParser()
    parser.read_string(conf.read_text())
    assert parser["system"]["compatible"] == "@COMPATIBLE@"
    assert parser["system"]["bootloader"] in ("grub", "uboot", "custom")
    assert parser["keyring"]["path"] == "/etc/rauc/keyring.pem"
    boot = [s for s in parser.sections() if s.startswith("slot.") and "bootname" in parser[s]]
    assert sorted(parser[s]["bootname"] for s in boot) == ["A", "B"]
    for section in parser.sections():
        if section.startswith("slot."):
            assert {"device", "type"} <= set(parser[section])
            parent = parser[section].get("parent")
            assert parent is None or f"slot.{parent}" in parser
    if parser["system"]["bootloader"] == "custom":
        handler = parser["handlers"]["bootloader-custom-backend"]
        assert (conf.parent / "overlay" / handler.lstrip("/")).is_file()


@pytest.mark.parametrize("board", ["rpi4", "rpi5"])
def test_genimage_layouts_assemble(board: str, tmp_path: Path) -> None:
    need("genimage")
    need("mcopy")
    config = BR / "board" / board / "genimage.cfg"
    text = config.read_text()
    inputs = tmp_path / "in"
    names = set(re.findall(r'"([^"]+)"', text)) | set(re.findall(r'image = "([^"]+)"', text))
    produced = set(re.findall(r"^image (\S+) \{", text, re.M))
    for name in names - produced:
        if re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", name):
            continue  # a partition UUID
        if name in ("gpt", "true", "F", "L"):
            continue
        target = inputs / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("overlays"):
            target.mkdir()
            (target / "README").write_text("dt overlays")
        elif name.endswith(".ext4"):
            subprocess.run(["mke2fs", "-q", "-t", "ext4", str(target), "8M"], check=True)
        else:
            target.write_bytes(b"placeholder " + name.encode())
    (tmp_path / "root").mkdir()
    done = subprocess.run(
        ["genimage", "--config", str(config), "--inputpath", str(inputs), "--outputpath",
         str(tmp_path / "out"), "--rootpath", str(tmp_path / "root"), "--tmppath", str(tmp_path / "tmp")],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    table = subprocess.run(["sfdisk", "--json", str(tmp_path / "out" / "sdcard.img")], capture_output=True,
                           text=True, check=True).stdout
    assert "5d3b6a52-7c1e-4a8e-9a57-2f0c7a1b5e14".upper() in table.upper()  # data, as fstab expects


def test_uboot_boot_script_compiles(tmp_path: Path) -> None:
    need("mkimage")
    source = BR / "board/rpi4/boot.cmd"
    command = ["mkimage", "-A", "arm64", "-T", "script", "-C", "none", "-d", str(source), str(tmp_path / "x")]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = (BR / "board/rpi4/boot.cmd").read_text()
    assert "BOOT_A_LEFT" in text and "rauc.slot=${raucslot}" in text


def test_pi5_tryboot_backend(tmp_path: Path) -> None:
    script = BR / "board/rpi5/overlay/usr/lib/rauc/rpi-tryboot.sh"
    autoboot = tmp_path / "autoboot.txt"
    shutil.copy(BR / "board/rpi5/autoboot.txt", autoboot)
    cmdline = tmp_path / "cmdline"
    env = {"AUTOBOOT": str(autoboot), "STATE": str(tmp_path / "data/bad"), "PATH": "/usr/bin:/bin",
           "REBOOT_PARAM": str(tmp_path / "reboot-param"), "CMDLINE": str(cmdline)}

    def rauc(*args: str, slot: str = "A") -> str:
        cmdline.write_text(f"console=serial0 ro rauc.slot={slot}\n")
        done = subprocess.run(["sh", str(script), *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert rauc("get-current") == "A" and rauc("get-primary") == "A"
    rauc("set-primary", "B")  # what `rauc install` does after writing B
    assert "[tryboot]\nboot_partition=3" in autoboot.read_text()
    assert (tmp_path / "reboot-param").read_text().strip() == "0 tryboot"
    assert rauc("get-primary") == "A"  # not committed until B proves itself
    rauc("set-state", "B", "good", slot="B")  # the health gate on B
    assert rauc("get-primary", slot="B") == "B"
    assert "[all]\ntryboot_a_b=1\nboot_partition=3" in autoboot.read_text()
    rauc("set-state", "A", "bad", slot="B")
    assert rauc("get-state", "A", slot="B") == "bad" and rauc("get-state", "B", slot="B") == "good"
    rauc("set-primary", "A", slot="B")
    assert rauc("get-state", "A", slot="B") == "good"
    done = subprocess.run(["sh", str(script), "set-primary", "C"], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "unknown slot" in done.stderr
