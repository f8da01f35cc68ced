"""llvm-mca estimate of cycles per ChaCha20/8 core call per lane for the aarch64 label kernels
(portable, neon4, neon8) on Cortex-A72 (Raspberry Pi 4) and Cortex-A76 (Raspberry Pi 5).

Each kernel is the shipped code (tools/mca_kernel.c includes the product source), compiled with
aarch64-linux-gnu-gcc -O3 -S like the cffi build; the straight-line body of one core call (the
double-round loop is fully unrolled, which is checked) is fed to llvm-mca, and its steady-state
cycles per iteration are divided by the lanes the call computes.

LLVM (14 to 19) has no Cortex-A76 scheduling model: -mcpu=cortex-a76 silently uses the Cortex-A57
one, as cortex-a72 does. The Neoverse N1 is the A76 core (same "Ares" pipelines), and llvm-mca-19
models it, so the A76 column is measured with -mcpu=neoverse-n1 (and says so).

    .venv/bin/python native/tools/mca.py [--cpus cortex-a72,cortex-a76] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NATIVE = Path(__file__).resolve().parents[1]
KERNELS = {  # name: (product source, register sets in lockstep, labels per core call)
    "portable": ("labels_portable.c", 1, 1),
    "neon4": ("labels_neon.c", 1, 4),
    # neon8 runs both sets in lockstep in ROMix's first loop (this core) and staggered, one set at
    # a time with the neon4 core, in the second loop (to hide the V[j] load behind the other set).
    "neon8": ("labels_neon8.c", 2, 8),
}
ITERATIONS = 200
STAND_IN = {"cortex-a76": "neoverse-n1"}  # cpu -> the llvm-mca model used for it (see above)


class McaError(RuntimeError):
    """A tool is missing or its output could not be understood."""


def find_tool(*names: str) -> str:
    for name in names:
        if path := shutil.which(name):
            return path
    raise McaError(f"not installed: {', '.join(names)} (Debian: gcc-aarch64-linux-gnu, llvm-19)")


def kernel_asm(source: str, sets: int, workdir: Path) -> str:
    """The instructions of mca_core (one ChaCha20/8 core call), without directives, labels and ret."""
    out = workdir / f"{source}.s"
    cmd = [find_tool("aarch64-linux-gnu-gcc"), "-O3", "-std=gnu11", "-S", "-o", str(out),
           f'-DMCA_SOURCE="{source}"', f"-DMCA_SETS={sets}", f"-I{NATIVE / 'src'}", f"-I{NATIVE / 'include'}",
           str(NATIVE / "tools" / "mca_kernel.c")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise McaError(f"compiling {source} failed:\n{proc.stderr}")
    text = out.read_text()
    body = function_body(text, "mca_core", source)
    tail_call = re.fullmatch(r"b\s+(\S+)\n", body)
    if tail_call:  # gcc kept the core out of line: measure that function
        body = function_body(text, tail_call.group(1), source)
    if re.search(r"^(b|b\.\w+|cbn?z|tbn?z|bl)\s", body, re.M):
        raise McaError(f"{source}: the core is not straight-line code; unroll it")
    return body


def function_body(text: str, name: str, source: str) -> str:
    """The instructions of one function of gcc's assembly, without directives, labels and ret."""
    match = re.search(rf"^{re.escape(name)}:\n(.*?)^\s*\.size\s+{re.escape(name)},", text, re.S | re.M)
    if not match:
        raise McaError(f"{name} not found in the assembly of {source}")
    body = []
    for line in match.group(1).splitlines():
        line = line.split("//")[0].strip()
        if not line or line.startswith(".") or line.endswith(":") or line == "ret":
            continue
        body.append(line)
    return "\n".join(body) + "\n"


def mca_cycles(asm: str, cpu: str, workdir: Path) -> float:
    src = workdir / "body.s"
    src.write_text(asm)
    model = STAND_IN.get(cpu, cpu)
    cmd = [find_tool("llvm-mca-19", "llvm-mca"), "-mtriple=aarch64-linux-gnu", f"-mcpu={model}",
           f"-iterations={ITERATIONS}", str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    match = re.search(r"^Total Cycles:\s+(\d+)", proc.stdout, re.M)
    if proc.returncode or not match:
        raise McaError(f"llvm-mca -mcpu={cpu} failed:\n{proc.stderr or proc.stdout}")
    return int(match.group(1)) / ITERATIONS


def measure(cpus: list[str]) -> dict[str, dict[str, float]]:
    """{kernel: {cpu: cycles per core call per lane}} plus the instruction count per call."""
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (source, sets, lanes) in KERNELS.items():
            asm = kernel_asm(source, sets, Path(tmp))
            row: dict[str, float] = {"instructions": float(asm.count("\n"))}
            for cpu in cpus:
                row[cpu] = mca_cycles(asm, cpu, Path(tmp)) / lanes
            results[name] = row
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", default="cortex-a72,cortex-a76")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    cpus = args.cpus.split(",")
    try:
        results = measure(cpus)
    except McaError as exc:
        print(f"mca: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    models = ", ".join(f"{cpu} modelled as {model}" for cpu, model in STAND_IN.items() if cpu in cpus)
    print(f"cycles per ChaCha20/8 core call per lane (llvm-mca, steady state; {models or 'no stand-ins'})")
    print(f"{'kernel':10s} {'instr/call':>10s} " + " ".join(f"{cpu:>11s}" for cpu in cpus))
    for name, row in results.items():
        cells = " ".join(f"{row[cpu]:11.1f}" for cpu in cpus)
        print(f"{name:10s} {row['instructions']:10.0f} {cells}")
    for cpu in cpus:
        best = min(results["neon4"][cpu], results["neon8"][cpu])
        print(f"{cpu}: NEON {results['portable'][cpu] / best:.2f}x portable per lane")
    return 0


if __name__ == "__main__":
    sys.exit(main())
