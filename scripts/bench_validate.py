"""Measure decoding and validation throughput (MB/s of module bytes).

Usage: python scripts/bench_validate.py [FILE.wasm ...] [--copies N] [--simd]

Times are CPU seconds of this process (best of --repeat runs), which other load on the
machine disturbs less than wall time.

With no files, builds a large module from scripts/bench_validate.c: its kernels
instantiated N times for four element types, compiled by clang --target=wasm32-wasi -O2.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fayasm.binary import decode
from fayasm.validate import validate

TYPES = [("int32_t", "i"), ("int64_t", "l"), ("float", "f"), ("double", "d")]


def build(copies: int, simd: bool, out: Path) -> Path:
    clang = shutil.which("clang")
    if clang is None:
        sys.exit("clang is needed to build the sample module")
    lines = ['#define SAMPLE_NO_MAIN', f'#include "{HERE / "bench_validate.c"}"']
    names = []
    for k in range(copies):
        for ctype, tag in TYPES:
            name = f"{tag}{k}"
            lines.append(f"DEFINE_KERNELS({name}, {ctype}, {k * 4 + 3})")
            names.append(f"run_{name}")
    lines.append("static double (*const runs[])(int) = {" + ", ".join(names) + "};")
    lines.append("int main(int argc, char **argv) { double s = 0;"
                 " for (unsigned i = 0; i < sizeof runs / sizeof *runs; i++)"
                 " s += runs[i](argc * 50); printf(\"%f\\n\", s); return 0; }")
    src = out / "gen.c"
    src.write_text("\n".join(lines) + "\n")
    wasm = out / "gen.wasm"
    cmd = [clang, "--target=wasm32-wasi", "-O2", str(src), "-o", str(wasm)]
    if simd:
        cmd.insert(2, "-msimd128")
    subprocess.run(cmd, check=True)
    return wasm


def measure(path: Path, repeat: int = 3) -> None:
    data = path.read_bytes()
    mb = len(data) / 1e6
    best_dec = best_val = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        module = decode(data)
        t1 = time.process_time()
        info = validate(module)
        t2 = time.process_time()
        best_dec, best_val = min(best_dec, t1 - t0), min(best_val, t2 - t1)
    ninstr = sum(len(f.body) for f in module.funcs)
    print(f"{path.name}: {mb:.2f} MB, {len(info.code)} functions, {ninstr:,} instructions")
    print(f"  decode   {best_dec:6.2f} s  {mb / best_dec:6.2f} MB/s")
    print(f"  validate {best_val:6.2f} s  {mb / best_val:6.2f} MB/s"
          f"  ({ninstr / best_val / 1e6:.2f} M instructions/s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--copies", type=int, default=150)
    ap.add_argument("--simd", action="store_true", help="compile with -msimd128")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    files = args.files
    with tempfile.TemporaryDirectory() as tmp:
        if not files:
            files = [build(args.copies, args.simd, Path(tmp))]
        for f in files:
            measure(f, args.repeat)


if __name__ == "__main__":
    main()
