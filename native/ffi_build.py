"""cffi out-of-line API-mode build of the PoST core as ``appliance.post._native``.

The cdef is derived from the one public header, so sizes and signatures come from the C side
and are never duplicated in Python. Run by setuptools (``cffi_modules`` in setup.py) or directly.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cffi import FFI

NATIVE = Path(__file__).resolve().parent
HEADER = NATIVE / "include" / "smeshpost.h"
SOURCES = sorted(str(p.relative_to(NATIVE.parent)) for p in (NATIVE / "src").glob("*.c"))

_DEFINE = re.compile(r"^#define\s+(SP_[A-Z0-9_]+)\s+\(?-?\d+\)?\s*(/\*.*)?$")


def cdef_from_header(text: str) -> str:
    """Keeps declarations and integer #defines (values filled in by the compiler); drops the rest of
    the preprocessor and the C++ guards, which only wrap the declarations."""
    text = re.sub(r'#ifdef __cplusplus\s*extern "C" \{\s*#endif', "", text)
    text = re.sub(r"#ifdef __cplusplus\s*\}\s*#endif", "", text)
    out, values = [], {}
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            match = _DEFINE.match(stripped)
            if match:
                out.append(f"#define {match.group(1)} ...")
                values[match.group(1)] = stripped.split()[2]
            continue
        out.append(line)
    body = "\n".join(out)
    # cffi's parser wants literal array lengths in declarations.
    for name, value in values.items():
        body = body.replace(f"[{name}]", f"[{value}]")
    return body


ffibuilder = FFI()
ffibuilder.cdef(cdef_from_header(HEADER.read_text()))
ffibuilder.set_source(
    "appliance.post._native",
    '#include "smeshpost.h"',
    sources=SOURCES,
    include_dirs=[str(NATIVE / "include"), str(NATIVE / "src")],
    libraries=["randomx"],
    extra_compile_args=["-O3", "-std=gnu11", "-fvisibility=hidden", "-Wall", "-Wextra"],
    extra_link_args=os.environ.get("SMESHPOST_LDFLAGS", "").split(),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
