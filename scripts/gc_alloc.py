"""GC memory management that really collects (issue 17): a guest allocating --count
short-lived structs (default 10,000,000), each one pointing at itself, every eighth one
also held by a new array that it points back at, runs in bounded memory. Per engine, in
one run, each measurement in a fresh process:

- peak RSS (ru_maxrss) of the allocating run and of the same loop allocating nothing,
  and the difference (the issue's bound: within 100 MB);
- time per iteration of both, and the difference: the cost of one struct (plus an
  eighth of an array) with its field writes and read;
- time per iteration of a loop reading a field (and writing it every eighth time)
  against the baseline: the cost of one struct.get (plus an eighth of a struct.set);
- the same module on wasmtime-py (wasm_gc on), when it is installed.

    python scripts/gc_alloc.py                       # all engines, 10,000,000 structs
    python scripts/gc_alloc.py --count 1000000 --engines python

An engine that cannot run the module (the jit before its GC lowering) is reported as such.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

WAT = """(module
  (rec
    (type $node (struct (field $v (mut i32)) (field $next (mut (ref null $node)))
                        (field $owner (mut (ref null $arr)))))
    (type $arr (array (mut (ref null $node)))))
  ;; n iterations, each allocating a struct that points at itself; every eighth also an
  ;; array holding it, which the struct points back at (a cycle through two objects)
  (func (export "alloc") (param $n i32) (result i32)
    (local $i i32) (local $s (ref null $node)) (local $sum i32)
    (loop $l
      (local.set $s (struct.new $node (local.get $i) (ref.null $node) (ref.null $arr)))
      (struct.set $node $next (local.get $s) (local.get $s))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 7)))
        (then (struct.set $node $owner (local.get $s)
                (array.new $arr (local.get $s) (i32.const 1)))))
      (local.set $sum (i32.add (local.get $sum)
        (struct.get $node $v (struct.get $node $next (local.get $s)))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $sum))
  ;; the same loop reading and writing a field of one struct (no allocation in the loop):
  ;; what a field access costs
  (func (export "field") (param $n i32) (result i32)
    (local $i i32) (local $s (ref null $node)) (local $sum i32)
    (local.set $s (struct.new $node (i32.const 1) (ref.null $node) (ref.null $arr)))
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (struct.get $node $v (local.get $s))))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 7)))
        (then (struct.set $node $v (local.get $s) (local.get $i))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $sum))
  ;; the same loop, allocating nothing: the baseline
  (func (export "none") (param $n i32) (result i32)
    (local $i i32) (local $s i32) (local $sum i32)
    (loop $l
      (local.set $s (local.get $i))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 7)))
        (then (local.set $s (i32.add (local.get $s) (i32.const 0)))))
      (local.set $sum (i32.add (local.get $sum) (local.get $s)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $sum))
)"""


def child(runtime: str, export: str, count: int) -> dict:
    """Run one export in this (fresh) process: seconds and peak RSS in KiB."""
    import resource

    if runtime == "wasmtime":
        import wasmtime

        config = wasmtime.Config()
        config.wasm_gc = True
        config.wasm_function_references = True
        store = wasmtime.Store(wasmtime.Engine(config))
        module = wasmtime.Module(store.engine, WAT)
        f = wasmtime.Instance(store, module, []).exports(store)[export]
        call = lambda: f(store, count)  # noqa: E731
    else:
        sys.path.insert(0, ROOT)
        import fayasm

        inst = fayasm.instantiate(fayasm.Module(WAT), engine=runtime)
        call = lambda: inst.exports[export](count)  # noqa: E731
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "result": result}


def measure(runtime: str, export: str, count: int) -> dict:
    p = subprocess.run([sys.executable, __file__, "--child", runtime, export, str(count)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        lines = (p.stderr.strip() or p.stdout.strip() or "failed").splitlines()
        return {"error": lines[-1][:160]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10_000_000)
    ap.add_argument("--engines", nargs="+", default=["interpreter", "python", "jit"])
    ap.add_argument("--no-wasmtime", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        runtime, export, count = args.child
        print(json.dumps(child(runtime, export, int(count))))
        return 0
    runtimes = list(args.engines)
    if not args.no_wasmtime:
        try:
            import wasmtime  # noqa: F401

            runtimes.append("wasmtime")
        except ImportError:
            pass
    n = args.count
    print(f"{n:,} structs (every eighth also an array), each in a cycle; fresh process per "
          f"run; RSS is the process's peak")
    print(f"{'runtime':<12} {'peak RSS alloc':>15} {'peak RSS none':>14} {'difference':>11}"
          f" {'µs/iter alloc':>14} {'µs/iter none':>13} {'µs/struct':>10} {'µs/get':>8}")
    for rt in runtimes:
        a = measure(rt, "alloc", n)
        if "error" in a:
            print(f"{rt:<12} cannot run the module: {a['error']}")
            continue
        b = measure(rt, "none", n)
        if "error" in b:
            print(f"{rt:<12} baseline failed: {b['error']}")
            continue
        f = measure(rt, "field", n)
        mb = (a["rss_kib"] - b["rss_kib"]) / 1024
        per_a, per_b = a["seconds"] / n * 1e6, b["seconds"] / n * 1e6
        get = f"{f['seconds'] / n * 1e6 - per_b:>8.3f}" if "error" not in f else "       -"
        print(f"{rt:<12} {a['rss_kib'] / 1024:>12.1f} MB {b['rss_kib'] / 1024:>11.1f} MB "
              f"{mb:>+8.1f} MB {per_a:>14.3f} {per_b:>13.3f} {per_a - per_b:>10.3f} {get}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
