"""Each outside library is imported in exactly one domain (the brief's rule), checked on the AST so
a stray import anywhere in appliance/ fails CI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "appliance"

# module prefix -> the only package directories (relative to appliance/) allowed to import it
OWNERS: dict[str, tuple[str, ...]] = {
    "pyudev": ("drives",),
    "smbus2": ("hw",),
    "systemd": ("system",),
    "zeroconf": ("discovery",),
    "appliance.post._native": ("post",),
    "grpc": ("node", "devnet"),  # the devnet plays a go-spacemesh node (devnet/fakenode.py)
    "celery": ("peers",),
    "kombu": ("peers",),
    "redis": ("peers",),
    "pyopencl": ("peers",),
    "ijson": ("node",),
    "smtplib": ("notify",),
    "dbus_fast": ("hostnet",),
    "dnslib": ("hostnet",),
    "gpiod": ("hw",),
    "segno": ("hw",),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:  # relative import inside a package: resolve against the file's package
                parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
                names.add(".".join((*parts, node.module)))
            else:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _domain(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else ""


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_library_imported_only_by_its_owner(library: str) -> None:
    offenders = []
    for path in SOURCES:
        for name in _imports(path):
            if (name == library or name.startswith(library + ".")) and _domain(path) not in OWNERS[library]:
                offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_rauc_cli_only_in_ota() -> None:
    offenders = [
        str(path.relative_to(PACKAGE.parent))
        for path in SOURCES
        if _domain(path) != "ota" and '"rauc"' in path.read_text()
    ]
    assert not offenders, offenders


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(path.relative_to(PACKAGE.parent))
        for path in SOURCES
        if "_pb2" not in path.name and ast.get_docstring(ast.parse(path.read_text())) is None
    ]
    assert not missing, missing


# The web layer sits above every domain and the composition root above everything: a domain that
# imported the page would make the page's shapes its own, and one that imported the root would
# start depending on how the box happens to be put together.
WEB_IMPORTERS = ("web", "composition")


def test_no_domain_imports_the_web_layer() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in SOURCES
        if _domain(path) not in WEB_IMPORTERS
        for name in _imports(path)
        if name == "appliance.web" or name.startswith("appliance.web.")
    ]
    assert not offenders, "\n".join(offenders)


def test_only_the_composition_root_imports_itself() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in SOURCES
        if _domain(path) != "composition"
        for name in _imports(path)
        if name == "appliance.composition" or name.startswith("appliance.composition.")
    ]
    assert not offenders, "\n".join(offenders)
