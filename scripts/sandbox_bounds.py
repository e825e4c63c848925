"""Measure what hostile guests can take from the host, per engine: peak RSS and time of
each attack in a fresh subprocess (so one attack's memory does not hide another's).

    python scripts/sandbox_bounds.py                 # every attack on every engine
    python scripts/sandbox_bounds.py --attacks cap64 --engines jit

Attacks:
  cap64    a guest grows memory toward 1 GiB, touching every page, under
           ResourceLimits(memory="64MiB")
  tables   a module declaring 8 tables of 10M elements (refused: ResourceLimitError)
  fill4g   memory.fill over a 4 GiB memory with no limits (how much RSS the fill costs
           beyond the memory itself)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

CHILD = textwrap.dedent("""
    import json, sys, time
    import fayasm
    attack, engine = sys.argv[1], sys.argv[2]
    t = time.perf_counter()
    outcome = ""
    try:
        if attack == "cap64":
            wat = '''(module (memory 1)
             (func (export "grab") (param i32) (result i32) (local i32)
               (loop $l (if (i32.ne (memory.grow (i32.const 16)) (i32.const -1))
                 (then (local.set 1 (i32.add (local.get 1) (i32.const 16)))
                   (memory.fill (i32.mul (i32.sub (memory.size) (i32.const 16))
                                         (i32.const 65536)) (i32.const 1) (i32.const 1048576))
                   (br_if $l (i32.lt_u (local.get 1) (local.get 0))))))
               (local.get 1)))'''
            inst = fayasm.instantiate(fayasm.Module(wat), engine=engine,
                                      limits=fayasm.ResourceLimits(memory="64MiB"))
            outcome = f"grew {inst.exports.grab(16384)} pages of 16384 asked"
        elif attack == "tables":
            tables = " ".join("(table 10000000 funcref)" for _ in range(8))
            fayasm.instantiate(fayasm.Module(f"(module {tables})"), engine=engine)
            outcome = "instantiated"
        elif attack == "fill4g":
            wat = '''(module (memory 65535) (func (export "f")
                       (memory.fill (i32.const 0) (i32.const 7) (i32.const 0xFFFF0000))))'''
            fayasm.instantiate(fayasm.Module(wat), engine=engine).exports.f()
            outcome = "filled 4 GiB - 64 KiB"
    except fayasm.Error as e:
        outcome = f"{type(e).__name__}: {str(e).splitlines()[0][:60]}"
    # VmHWM (this process's peak RSS): ru_maxrss would keep the forking parent's peak.
    with open("/proc/self/status") as f:
        hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - t,
                      "rss_mb": hwm / 1024}))
""")

ATTACKS = ["cap64", "tables", "fill4g"]
ENGINES = ["interpreter", "python", "jit"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--attacks", default=",".join(ATTACKS))
    ap.add_argument("--engines", default=",".join(ENGINES))
    args = ap.parse_args()
    env = dict(os.environ, FAYASM_CACHE_DIR=tempfile.mkdtemp(prefix="fayasm-bounds-"))
    print(f"{'attack':8} {'engine':12} {'peak RSS MB':>11} {'seconds':>8}  outcome")
    for attack in args.attacks.split(","):
        for engine in args.engines.split(","):
            r = subprocess.run([sys.executable, "-c", CHILD, attack, engine],
                               capture_output=True, text=True, env=env)
            if r.returncode != 0:
                print(f"{attack:8} {engine:12} {'-':>11} {'-':>8}  CRASHED rc={r.returncode}: "
                      f"{r.stderr.strip().splitlines()[-1:]}")
                continue
            got = json.loads(r.stdout)
            print(f"{attack:8} {engine:12} {got['rss_mb']:11.0f} {got['seconds']:8.2f}  "
                  f"{got['outcome']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
