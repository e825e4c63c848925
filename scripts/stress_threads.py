"""Several Python threads call the same instance at once, on each engine.

    python scripts/stress_threads.py [--threads 4] [--seconds 30] [--engine all|NAME,...]

Every thread calls exports of one shared instance, picked at random: host callbacks (the
host function sometimes yields with time.sleep(0)), a host function calling back into the
instance, a load at address -1 after a host call (a Trap), unbounded recursion
(Exhaustion), a host function that hits Python's recursion limit on its own (its
RecursionError comes back unchanged), memory written and read back around a host call,
plain computation. Each outcome is checked (values, error types, messages, backtraces).
``sys.setswitchinterval`` is tiny, so threads switch all the time. Every couple of seconds
one thread swaps in a new instance of a slightly different module (a new constant), so
modules are compiled and instantiated while other threads run; the engine "jit-lazy" runs
the jit with every module on the lazy tier (functions compiled on their first call, by
whichever thread gets there) and a fresh cache, so the background O2 build is swapped in
while threads run;
"jit-metered" runs metered code (a deadline far away: fuel is counted down natively and
refilled through the runtime every few thousand units).

Each engine runs in its own subprocess, restarted if it dies, so a crash shows up as an
exit code. Reported per engine: calls made, crashes (subprocesses that died), wrong
results. ``--json`` prints one JSON object instead of the table.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

ENGINES = ["interpreter", "python", "jit", "jit-lazy", "jit-metered"]

WAT = """(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (import "env" "deep" (func $deep (param i32) (result i32)))
  (memory 1)
  (func $leaf (export "leaf") (param i32) (result i32)
    (i32.add (local.get 0) (i32.const K)))
  (func (export "callback") (param i32) (result i32)
    (i32.add (call $host (local.get 0)) (i32.const K)))
  (func (export "nested") (param i32) (result i32)
    (i32.add (call $reenter (local.get 0)) (i32.const 1)))
  (func (export "trap_after_host") (param i32) (result i32)
    (drop (call $host (local.get 0)))
    (i32.load (i32.const -1)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func $inner (param i32) (result i32)
    (i32.add (call $deep (local.get 0)) (i32.const 1)))
  (func $mid (param i32) (result i32)
    (i32.add (call $inner (local.get 0)) (i32.const 1)))
  (func (export "outer") (param i32) (result i32)
    (i32.add (call $mid (local.get 0)) (i32.const 1)))
  (func (export "memory") (param i32 i32) (result i32)
    (i32.store (local.get 0) (local.get 1))
    (drop (call $host (local.get 1)))
    (i32.load (local.get 0)))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"""

FIB = [0, 1]
while len(FIB) < 30:
    FIB.append(FIB[-1] + FIB[-2])


# -- the child: one engine, several threads ------------------------------------------------------
class Generation:
    """An instance of the module with constant ``k``, and its host functions."""

    def __init__(self, fayasm, engine: str, k: int, metered: bool = False):
        self.k = k
        box = []

        def host(n):
            if n % 3 == 0:
                time.sleep(0)
            return 2 * n

        def reenter(n):
            if n % 2:
                time.sleep(0)
            return 3 * box[0].exports.leaf(n)

        def deep(n):
            return deep(n) + 1  # Python's recursion limit: the host's own RecursionError

        imports = {"env": {"host": host, "reenter": reenter, "deep": deep}}
        self.module = fayasm.Module(WAT.replace("K", str(k)), name=f"stress{k}")
        self.inst = fayasm.instantiate(self.module, imports=imports, engine=engine,
                                       deadline=3600.0 if metered else None)
        box.append(self.inst)


def _check(fayasm, gen: Generation, op: str, n: int, slot: int):
    """Run one operation; None if the outcome is right, else a description."""
    ex = gen.inst.exports
    try:
        if op == "callback":
            got, want = ex.callback(n), 2 * n + gen.k
        elif op == "nested":
            got, want = ex.nested(n), 3 * (n + gen.k) + 1
        elif op == "memory":
            got, want = ex.memory(slot, n), n
        elif op == "fib":
            got, want = ex.fib(n % 18), FIB[n % 18]
        elif op == "trap_after_host":
            got, want = ex.trap_after_host(n), "Trap"
        elif op == "recurse":
            got, want = ex.recurse(n), "Exhaustion"
        elif op == "outer":
            got, want = ex.outer(n), "RecursionError"
        else:
            raise ValueError(op)
    except fayasm.Error as e:
        got = (type(e).__name__, str(e).split("\n")[0], list(e.frames)[:3])
        if op == "trap_after_host":
            return None if got == ("Trap", "out of bounds memory access",
                                   ["trap_after_host"]) else f"{op}({n}): {got}"
        if op == "recurse":
            return None if got[:2] == ("Exhaustion", "call stack exhausted") and \
                got[2] == ["recurse"] * len(got[2]) and got[2] else f"{op}({n}): {got}"
        return f"{op}({n}): {got}"
    except RecursionError as e:  # a host function's own comes back unchanged
        return None if op == "outer" else f"{op}({n}): RecursionError: {e}"
    except BaseException as e:  # noqa: BLE001 - anything else is a wrong result
        return f"{op}({n}): {type(e).__name__}: {e}"
    return None if got == want else f"{op}({n}) = {got!r}, expected {want!r}"


def child(engine: str, nthreads: int, seconds: float) -> None:
    import fayasm

    sys.setswitchinterval(1e-5)
    engine_name = "jit" if engine.startswith("jit") else engine
    metered = engine == "jit-metered"
    current = [Generation(fayasm, engine_name, 1, metered)]
    ops = ["callback", "nested", "memory", "fib", "trap_after_host", "recurse", "outer",
           "callback", "nested", "memory", "fib"]
    counts = [[0, 0] for _ in range(nthreads)]  # per thread: calls, wrong
    samples: list[str] = []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def worker(tid: int) -> None:
        rng = random.Random(tid)
        next_swap = time.monotonic() + 2.0
        while time.monotonic() < stop:
            if tid == 0 and time.monotonic() > next_swap:
                current[0] = Generation(fayasm, engine_name, current[0].k + 1, metered)
                next_swap = time.monotonic() + 2.0
            gen = current[0]
            op = rng.choice(ops)
            problem = _check(fayasm, gen, op, rng.randrange(1000), 64 + 8 * tid)
            c = counts[tid]
            c[0] += 1
            if problem is not None:
                c[1] += 1
                with lock:
                    if len(samples) < 5:
                        samples.append(problem)

    def report() -> None:
        calls = sum(c[0] for c in counts)
        wrong = sum(c[1] for c in counts)
        print(json.dumps({"calls": calls, "wrong": wrong, "samples": samples}), flush=True)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(nthreads)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        report()
    report()


# -- the parent: one subprocess per engine, restarted after a crash ------------------------------
def run_engine(engine: str, nthreads: int, seconds: float) -> dict:
    result = {"engine": engine, "calls": 0, "crashes": 0, "wrong": 0, "exits": [],
              "samples": []}
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fayasm-stress-") as cache:
        env = dict(os.environ)
        if engine == "jit-lazy":
            env["FAYASM_JIT_LAZY_ABOVE"] = "0"
            env["FAYASM_CACHE_DIR"] = cache  # no cached O2 code: every module tiers up
        while True:
            left = seconds - (time.monotonic() - start)
            if left < 0.5:
                break
            cmd = [sys.executable, os.path.abspath(__file__), "--child", engine,
                   "--threads", str(nthreads), "--seconds", f"{left:.2f}"]
            try:
                proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, timeout=left + 120)
                rc, out, err = proc.returncode, proc.stdout, proc.stderr
            except subprocess.TimeoutExpired as e:
                rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
            lines = [ln for ln in out.decode(errors="replace").splitlines()
                     if ln.startswith("{")]
            last = json.loads(lines[-1]) if lines else {"calls": 0, "wrong": 0, "samples": []}
            result["calls"] += last["calls"]
            result["wrong"] += last["wrong"]
            result["samples"] += last["samples"][:5 - len(result["samples"])]
            result["exits"].append(rc)
            if rc != 0:
                result["crashes"] += 1
                tail = err.decode(errors="replace").strip().splitlines()[-3:]
                if len(result["samples"]) < 8:
                    result["samples"].append(f"exit {rc}: {' | '.join(tail)}")
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--seconds", type=float, default=30.0, help="per engine")
    p.add_argument("--engine", default="all", help="all, or names separated by commas "
                   f"({', '.join(ENGINES)})")
    p.add_argument("--json", action="store_true")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child, args.threads, args.seconds)
        return 0
    engines = ENGINES if args.engine == "all" else args.engine.split(",")
    results = []
    for engine in engines:
        if engine not in ENGINES:
            p.error(f"unknown engine {engine!r}")
        r = run_engine(engine, args.threads, args.seconds)
        results.append(r)
        if not args.json:
            print(f"{engine:12} threads={args.threads} seconds={args.seconds:g} "
                  f"calls={r['calls']} crashes={r['crashes']} wrong={r['wrong']}", flush=True)
            for s in r["samples"]:
                print(f"    {s}", flush=True)
    if args.json:
        print(json.dumps(results))
    return 0 if all(r["crashes"] == 0 and r["wrong"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
