#!/usr/bin/env python3
"""Front-end speed: decode+validate throughput, and parsing+validating the spec suite.

    python scripts/bench_frontend.py [--copies N] [--repeat R]

1. Builds the largest module the project's own C makes (scripts/bench_validate.c, its
   kernels instantiated N times per element type, clang --target=wasm32-wasi -O2) and
   times fayasm.Module(bytes) on it: decoding plus validation, in MB/s (caches off),
   and Module() again once fayasm.validcache knows the binary is valid.
2. Times parsing every .wast script of the 2.0 spec suite and building (validating)
   every module in it that must be valid or invalid.
Times are process CPU seconds, best of R runs (other load on a small machine disturbs
CPU time less than wall time).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fayasm
from fayasm.binary import decode
from fayasm.validate import validate


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def spec_suite(spec: Path) -> tuple[int, int]:
    from fayasm.errors import CompileError
    from fayasm.wast.parse import parse_script
    from fayasm.wast.script import AssertInvalid, ModuleDef

    scripts = modules = 0
    for path in sorted(spec.glob("*.wast")):
        for cmd in parse_script(path.read_text(encoding="utf-8"), source=str(path)):
            d = cmd if isinstance(cmd, ModuleDef) else getattr(cmd, "module", None)
            if isinstance(cmd, (ModuleDef, AssertInvalid)) and d is not None:
                try:
                    if d.kind == "text":
                        fayasm.Module.from_syntax(d.module)
                    else:
                        fayasm.Module(d.data)
                except CompileError:
                    pass
                modules += 1
        scripts += 1
    return scripts, modules


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import bench_validate

    with tempfile.TemporaryDirectory() as tmp:
        wasm = bench_validate.build(args.copies, False, Path(tmp))
        data = wasm.read_bytes()
    m = decode(data)
    instrs = sum(len(f.body) for f in m.funcs)
    print(f"module: {len(data) / 1e6:.2f} MB, {len(m.funcs)} functions, {instrs:,} instructions")
    d = best(lambda: decode(data), args.repeat)
    v = best(lambda: validate(m), args.repeat)
    # Module() of a binary it validated before only decodes its sections
    # (fayasm.validcache): measure the full work with the caches off, then that path.
    os.environ["FAYASM_CACHE"] = "0"
    both = best(lambda: fayasm.Module(data), args.repeat)
    with tempfile.TemporaryDirectory() as cache:
        os.environ.update(FAYASM_CACHE="1", FAYASM_CACHE_DIR=cache)
        fayasm.Module(data)  # recorded as valid
        known = best(lambda: fayasm.Module(data), args.repeat)
    os.environ["FAYASM_CACHE"] = "0"  # the spec suite below: full work too
    mb = len(data) / 1e6
    print(f"  decode              {d:6.2f} s  {mb / d:5.2f} MB/s")
    print(f"  validate            {v:6.2f} s  {mb / v:5.2f} MB/s")
    print(f"  decode + validate   {both:6.2f} s  {mb / both:5.2f} MB/s  (fayasm.Module)")
    print(f"  known valid         {known:6.3f} s  (fayasm.Module of a binary validated "
          "before: bodies decode on first use)")
    spec = Path(os.environ.get("FAYASM_SPEC_DIR", HERE.parent.parent / "shared" / "spec")) / "2.0"
    if spec.is_dir():
        counts = []
        t = best(lambda: counts.append(spec_suite(spec)), 1)
        scripts, modules = counts[-1]
        print(f"spec 2.0: parse {scripts} scripts and decode/parse+validate {modules} "
              f"modules: {t:.2f} s")
    else:
        print(f"spec suite not found in {spec}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
