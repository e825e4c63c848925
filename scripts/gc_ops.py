"""What one GC instruction costs per engine (issue 17): a loop running it --count times,
minus the same loop without it, in µs per execution, measured in one run. The jit's
figures say what its design costs (docs/architecture.md, GC on the jit): allocations,
casts and conversions call back into Python, field and element accesses of numeric and
``any`` fields run natively, i31 values and ref.eq are plain integer code.

    python scripts/gc_ops.py                       # all engines, 200,000 per instruction
    python scripts/gc_ops.py --count 1000000 --engines jit
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import fayasm

BODIES = {
    "none": "",
    "struct.new": "(drop (struct.new $n (local.get $n) (ref.null $n)))",
    "struct.get i32": "(local.set $s (i32.add (local.get $s) (struct.get $n 0 (local.get $x))))",
    "struct.set i32": "(struct.set $n 0 (local.get $x) (local.get $n))",
    "struct.get ref": "(local.set $y (struct.get $n 1 (local.get $x)))",
    "struct.set ref": "(struct.set $n 1 (local.get $x) (local.get $x))",
    "array.get i32": "(local.set $s (array.get $a (local.get $v) (i32.const 1)))",
    "ref.i31+get_s": "(local.set $s (i31.get_s (ref.i31 (local.get $n))))",
    "ref.eq": "(local.set $s (ref.eq (local.get $x) (local.get $y)))",
    "ref.test": "(local.set $s (ref.test (ref $n) (local.get $x)))",
}


def module() -> fayasm.Module:
    funcs = []
    for k, (name, body) in enumerate(BODIES.items()):
        funcs.append(f"""(func (export "f{k}") (param $n i32) (result i32) (local $s i32)
          (local $x (ref null $n)) (local $y (ref null $n)) (local $v (ref null $a))
          (local.set $x (struct.new $n (i32.const 1) (ref.null $n)))
          (local.set $v (array.new $a (i32.const 3) (i32.const 4)))
          (loop $l {body}
            (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
          (local.get $s))  ;; {name}
""")
    return fayasm.Module("(module (type $n (struct (field (mut i32)) (field (mut (ref null $n)))))"
                         " (type $a (array (mut i32)))" + "".join(funcs) + ")")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--engines", nargs="+", default=["interpreter", "python", "jit"])
    args = ap.parse_args()
    m, n = module(), args.count
    names = list(BODIES)
    rows = {}
    for engine in args.engines:
        inst = fayasm.instantiate(m, engine=engine)
        per = []
        for k in range(len(names)):
            f = inst.exports[f"f{k}"]
            f(1000)  # compiled, warm
            start = time.perf_counter()
            f(n)
            per.append((time.perf_counter() - start) / n * 1e6)
        rows[engine] = per
    if hasattr(os, "getloadavg"):
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"µs per instruction (loop minus the empty loop), {n:,} each")
    print(f"{'instruction':<16}" + "".join(f"{e:>13}" for e in rows))
    for k, name in enumerate(names):
        cells = [per[k] if k == 0 else per[k] - per[0] for per in rows.values()]
        print(f"{name if k else 'empty loop':<16}" + "".join(f"{c:>13.3f}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
