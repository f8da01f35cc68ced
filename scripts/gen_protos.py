"""Regenerates the Python code of the vendored spacemeshos/api protos in appliance/node/proto/.

protoc emits absolute imports (``from spacemesh.v1 import post_types_pb2``, and for grpc-gateway's
``protoc-gen-openapiv2/options`` that spacemesh/v2alpha1 imports, ``from protoc_gen_openapiv2...``);
protoc writes that folder as ``protoc_gen_openapiv2``. The imports are rewritten to
the package the files live in, so the vendored tree needs no entry on sys.path. Run with the
project's venv: ``.venv/bin/python scripts/gen_protos.py``.
"""

from __future__ import annotations

import re
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1] / "appliance" / "node" / "proto"
PACKAGE = "appliance.node.proto"


def main() -> int:
    import google.api  # googleapis-common-protos ships google/api/visibility.proto

    protos = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*.proto"))
    includes = [
        f"-I{ROOT}",
        f"-I{resources.files('grpc_tools') / '_proto'}",
        f"-I{Path(google.api.__path__[0]).parents[1]}",
    ]
    args = ["protoc", *includes, f"--python_out={ROOT}", f"--grpc_python_out={ROOT}", *protos]
    if protoc.main(args) != 0:
        return 1
    for path in ROOT.rglob("*_pb2*.py"):
        text = path.read_text()
        if path.name.endswith("_pb2_grpc.py") and "Stub" not in text:
            path.unlink()  # a file without services: protoc's empty gRPC module is noise
            continue
        fixed = re.sub(r"^from (spacemesh|protoc_gen_openapiv2)\.", rf"from {PACKAGE}.\1.", text, flags=re.M)
        if fixed != text:
            path.write_text(fixed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
