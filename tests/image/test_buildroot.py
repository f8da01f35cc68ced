"""buildroot/ cannot be built here (Buildroot downloads its sources), so check what can be checked:
shell scripts (shellcheck), defconfig and Kconfig syntax, that every referenced file exists, RAUC
configs, the genimage layouts (real genimage over placeholder inputs), the U-Boot boot script
(mkimage), the Pi 5 tryboot backend's behaviour, and that the smeshbox package selects every runtime
dependency in pyproject.toml, with our own packages' versions and .hash files consistent."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BR = REPO / "buildroot"
SCRIPTS = [
    *BR.rglob("*.sh"),
    REPO / "image" / "build",
    REPO / "image" / "overlay" / "usr" / "lib" / "smeshbox" / "firstboot",
    REPO / "image" / "overlay" / "usr" / "lib" / "smeshbox" / "machine-id",
    REPO / "scripts" / "setup.d" / "image.sh",
]
DEFCONFIG_LINE = re.compile(r'^(#.*|BR2_[A-Za-z0-9_]+=(y|"[^"]*"|\d+|0x[0-9a-fA-F]+)|)$')
EXTERNAL_REF = re.compile(
    r"\$\(BR2_EXTERNAL_SMESHBOX_PATH\)/([^\s\"')]+)|\$BR2_EXTERNAL_SMESHBOX_PATH/([^\s\"')]+)"
)
PACKAGES = sorted(p for p in (BR / "package").iterdir() if p.is_dir())

# Kconfig symbols our tree uses but Buildroot defines, each checked to exist in buildroot/buildroot
# master of late August 2026 (it has python-cryptography 50.0.1, released 2026-08-25; segno 1.6.6,
# smbus2 0.6.1), newer than the 2026.05 release, by reading package/<name>/{Config.in,<name>.mk}
# there. Add to it only what you have checked the same way.
UPSTREAM_SYMBOLS = {
    "BR2_INSTALL_LIBSTDCPP", "BR2_TOOLCHAIN_USES_GLIBC", "BR2_TOOLCHAIN_USES_MUSL",
    "BR2_PACKAGE_HOST_RUSTC_TARGET_ARCH_SUPPORTS",  # package/rustc/Config.in.host
    "BR2_PACKAGE_HAS_UDEV", "BR2_PACKAGE_SYSTEMD", "BR2_PACKAGE_PYTHON3",
    "BR2_PACKAGE_PYTHON_NUMPY_ARCH_SUPPORTS", "BR2_PACKAGE_PYTHON_GRPCIO_ARCH_SUPPORTS",
    *(f"BR2_PACKAGE_PYTHON_{name}" for name in (
        "AIOHTTP", "CFFI", "CRYPTOGRAPHY", "GRPCIO", "IFADDR", "JSONSCHEMA", "NUMPY", "PILLOW",
        "PROTOBUF", "PYNACL", "PYUDEV", "SEGNO", "SMBUS2", "SYSTEMD", "ZEROCONF")),
    # the helpers' broker and its client stack, checked in buildroot/buildroot@e991fa0 (2026-08-22):
    # package/redis (8.10.0, BUILD_TLS with libopenssl), python-redis 7.4.0, python-click,
    # python-dateutil, python-packaging; redis's own `depends on` toolchain symbols
    "BR2_PACKAGE_REDIS", "BR2_PACKAGE_PYTHON_REDIS", "BR2_PACKAGE_PYTHON_CLICK",
    "BR2_PACKAGE_PYTHON_DATEUTIL", "BR2_PACKAGE_PYTHON_PACKAGING", "BR2_USE_MMU", "BR2_STATIC_LIBS",
    "BR2_TOOLCHAIN_GCC_AT_LEAST_4_9", "BR2_TOOLCHAIN_HAS_ATOMIC", "BR2_TOOLCHAIN_HAS_THREADS_NPTL",
    # hostnet/hw/node dependencies, checked in buildroot/buildroot@e991fa0: python-dbus-fast (5.0.14,
    # older than our pin), python-googleapis-common-protos (1.74.0, older), python-gpiod (2.5.0, our
    # pin; selects libgpiod2, hence its `depends on` headers >= 5.10 and !libgpiod, which smeshbox
    # repeats), yajl 2.1.0 (python-ijson's C backend). dnslib and ijson are ours (package/python-*).
    "BR2_PACKAGE_PYTHON_DBUS_FAST", "BR2_PACKAGE_PYTHON_GOOGLEAPIS_COMMON_PROTOS",
    "BR2_PACKAGE_PYTHON_GPIOD", "BR2_TOOLCHAIN_HEADERS_AT_LEAST_5_10", "BR2_PACKAGE_LIBGPIOD",
    "BR2_PACKAGE_YAJL",
}
# pyproject names whose Buildroot package is not python-<name>.
BUILDROOT_NAME = {"systemd-python": "python-systemd"}
# The archive suffix of Buildroot's cargo download post-process (BR_FMT_VERSION_cargo, -cargo4 since
# 2025.05: docs/manual/migrating.adoc); maturin and setuptools-rust packages are hashed under it.
CARGO_SUFFIX = "-cargo4"
# Packages whose vendored archive hash cannot be computed offline (needs crates.io): their .hash says
# so and names the archive in a comment. Drop a package from here once its hash is filled in.
VENDORED_HASH_PENDING = {"python-blake3"}
# Packages with no .hash: the source is not reachable from here to compute one (GitHub tarball).
HASH_MISSING = {"randomx"}
HASH_LINE = re.compile(r"^(md5|sha1|sha224|sha256|sha384|sha512)  ([0-9a-f]+)  (\S+)$")
HASH_LENGTH = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/apt/image.txt)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    """pyproject's runtime dependencies (with the systemd extra), normalized name -> pinned version."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    found = {}
    for spec in [*project["dependencies"], *project["optional-dependencies"]["systemd"]]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", spec.strip())
        assert match, f"pyproject dependency {spec!r} is not pinned with =="
        found[normalize(match.group(1))] = match.group(2)
    return found


def make_vars(package: Path) -> dict[str, str]:
    """The package's single-line `NAME = value` assignments, with $(NAME) references expanded."""
    raw = dict(re.findall(r"^([A-Z0-9_]+) = (.*)$", (package / f"{package.name}.mk").read_text(), re.M))

    def expand(value: str, depth: int = 0) -> str:
        assert depth < 10, f"recursive make variable: {value}"

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            return expand(raw[name], depth + 1) if name in raw else match.group(0)

        return re.sub(r"\$\(([A-Z0-9_]+)\)", one, value)

    return {name: expand(value) for name, value in raw.items()}


def kconfig_symbols(text: str, keyword: str) -> set[str]:
    """Symbols referenced by `select` or `depends on` lines (with continuations), or defined by `config`."""
    text = text.replace("\\\n", " ")
    if keyword == "config":
        return set(re.findall(r"^config (BR2_[A-Z0-9_]+)$", text, re.M))
    lines = re.findall(rf"^\s*{keyword}\s+(.*)$", text, re.M)
    return {s for line in lines for s in re.findall(r"BR2_[A-Za-z0-9_]+", line.split("#")[0])}


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
                   "BR2_ROOTFS_OVERLAY", "BR2_ROOTFS_POST_IMAGE_SCRIPT",
                   # what smeshbox's `depends on` needs: python3; glibc (numpy, rust target); C++
                   "BR2_PACKAGE_PYTHON3", "BR2_TOOLCHAIN_BUILDROOT_GLIBC", "BR2_TOOLCHAIN_BUILDROOT_CXX"):
        assert symbol in names, symbol


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


def test_smeshbox_selects_every_runtime_dependency() -> None:
    selects = kconfig_symbols((BR / "package/smeshbox/Config.in").read_text(), "select")
    wanted = set()
    for name in pins():
        package = BUILDROOT_NAME.get(name, f"python-{name}")
        wanted.add("BR2_PACKAGE_" + package.upper().replace("-", "_"))
    assert not wanted - selects, f"pyproject dependencies not selected: {sorted(wanted - selects)}"
    stale = {s for s in selects if s.startswith("BR2_PACKAGE_PYTHON_")} - wanted
    assert not stale, f"selected but not in pyproject.toml: {sorted(stale)}"


def test_every_kconfig_symbol_is_defined() -> None:
    texts = [path.read_text() for path in BR.rglob("Config.in")]
    ours = set().union(*(kconfig_symbols(text, "config") for text in texts))
    used = set().union(*(kconfig_symbols(text, kind) for text in texts for kind in ("select", "depends on")))
    unknown = used - ours - UPSTREAM_SYMBOLS
    assert not unknown, f"neither defined here nor checked upstream: {sorted(unknown)}"
    assert not ours & UPSTREAM_SYMBOLS, "an upstream package is redefined by the external tree"
    sourced = set(re.findall(r'^source "\$BR2_EXTERNAL_SMESHBOX_PATH/package/([^/]+)/Config.in"$',
                             (BR / "Config.in").read_text(), re.M))
    assert sourced == {p.name for p in PACKAGES}, "buildroot/Config.in must source every package"


@pytest.mark.parametrize("package", [p for p in PACKAGES if p.name.startswith("python-")],
                         ids=lambda p: p.name)
def test_python_package_mirrors_its_pin(package: Path) -> None:
    upper = package.name.upper().replace("-", "_")
    values = make_vars(package)
    version = values[f"{upper}_VERSION"]
    source = values.get(f"{upper}_SOURCE_PYPI") or values[f"{upper}_SOURCE"]
    assert source.endswith(f"-{version}.tar.gz"), f"{source} is not the sdist of {version}"
    sdist_name = normalize(source.removesuffix(f"-{version}.tar.gz"))
    site = values.get(f"{upper}_SITE_PYPI") or values[f"{upper}_SITE"]
    assert re.fullmatch(r"https://files\.pythonhosted\.org/packages/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{60}",
                        site), site
    if f"{upper}_SOURCE_PYPI" in values:  # upstream's form for a PyPI file saved under the package's name
        assert values[f"{upper}_SITE"] == f"{site}/{source}?buildroot-path=filename"
    pinned = pins()
    for name in (sdist_name, normalize(package.name.removeprefix("python-"))):
        if name in pinned:
            assert version == pinned[name], f"{package.name} {version}, pyproject.toml pins {pinned[name]}"
            break


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_package_hash_file(package: Path) -> None:
    upper = package.name.upper().replace("-", "_")
    values = make_vars(package)
    hash_file = package / f"{package.name}.hash"
    if values.get(f"{upper}_SITE_METHOD") == "local":
        assert not hash_file.exists()  # Buildroot does not check local sources
        return
    if package.name in HASH_MISSING:
        assert not hash_file.exists(), f"{package.name} has a .hash now: drop it from HASH_MISSING"
        return
    assert hash_file.exists(), f"{package.name} has no .hash file"
    text = hash_file.read_text()
    named = set()
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        match = HASH_LINE.match(line)
        assert match, f"{hash_file.name}: {line!r} is not `<algo>  <hash>  <file>`"
        assert len(match.group(2)) == HASH_LENGTH[match.group(1)], line
        named.add(match.group(3))
    version = values[f"{upper}_VERSION"]
    cargo = values.get(f"{upper}_SETUP_TYPE") in ("maturin", "setuptools-rust")
    archive = (f"{package.name}-{version}{CARGO_SUFFIX}.tar.gz" if cargo
               else values.get(f"{upper}_SOURCE", f"{package.name}-{version}.tar.gz"))
    assert version in archive
    if package.name in VENDORED_HASH_PENDING:
        assert archive not in named, f"{archive} is hashed now: drop {package.name} from the pending set"
        assert re.search(rf"^#.*\b{re.escape(archive)}\b", text, re.M), f"name the pending {archive}"
        sdist = values[f"{upper}_SOURCE_PYPI"]  # and record what it is made from
        assert re.search(rf"^# sha256  [0-9a-f]{{64}}  {re.escape(sdist)}$", text, re.M), f"record {sdist}"
    else:
        assert archive in named, f"{hash_file.name} has no hash for {archive}"
    licenses = set(values.get(f"{upper}_LICENSE_FILES", "").split())
    assert licenses, f"{package.name} lists no LICENSE_FILES"
    assert licenses <= named, f"license files without a hash: {sorted(licenses - named)}"
    unchecked = named - licenses - {archive}
    assert not unchecked, f"hashes for files Buildroot never checks: {sorted(unchecked)}"
