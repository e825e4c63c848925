"""Measure the call-stack bounds per engine: the depth a recursing guest reaches, its
Exhaustion frames, peak RSS, time and outcome, each case in a fresh subprocess (so a
crash is reported, not suffered, and one case's memory does not hide another's).

    python scripts/stack_bounds.py                       # every case on every engine
    python scripts/stack_bounds.py --cases reenter --engines python --stacks 256k,main

Cases:
  fib       naive recursive fib(100000) on i64 (the frames of issue 19)
  big       a 37-byte module: a function with 50,000 i64 locals calling itself
  reenter   f(n) -> host -> f(n - 1): recursion through a host function and back
  maxstack  fib(100000) under ResourceLimits(max_stack=1000)
Stacks: ``main`` (the main thread as started), ``ulimit2048`` (the main thread under
``ulimit -s 2048``), or a thread stack size such as ``256k``, ``4m``. ``--entry-bytes``
also prints the C stack one host re-entry costs on each engine (x86-64 Linux only: the
stack pointer comes from getcontext).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap

CHILD = textwrap.dedent(r"""
    import json, sys, threading, time
    import fayasm
    case, engine, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    FIB = '''(module (func $fib (export "fib") (param i64) (result i64)
      (if (result i64) (i64.lt_u (local.get 0) (i64.const 2)) (then (local.get 0))
       (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                      (call $fib (i64.sub (local.get 0) (i64.const 2))))))))'''
    REENTER = '''(module (import "env" "h" (func $h (param i32) (result i32)))
      (func $f (export "f") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $h (i32.sub (local.get 0) (i32.const 1))))))))'''

    def leb(n):
        out = bytearray()
        while True:
            b, n = n & 0x7F, n >> 7
            out.append(b | 0x80 if n else b)
            if not n:
                return bytes(out)

    def big():
        code = leb(1) + leb(50000) + b"\x7e" + b"\x10\x00\x0b"
        sec = lambda i, c: bytes([i]) + leb(len(c)) + c
        return (b"\0asm\1\0\0\0" + sec(1, b"\x01\x60\x00\x00") + sec(3, b"\x01\x00")
                + sec(7, b"\x01\x01f\x00\x00") + sec(10, b"\x01" + leb(len(code)) + code))

    result = {}

    def run():
        depth = [0]
        t = time.perf_counter()
        try:
            if case in ("fib", "maxstack"):
                lim = fayasm.ResourceLimits(max_stack=1000) if case == "maxstack" else None
                fib = fayasm.instantiate(fayasm.Module(FIB), engine=engine, limits=lim).exports.fib
                fib(100000)
            elif case == "big":
                fayasm.instantiate(fayasm.Module(big()), engine=engine).exports.f()
            elif case == "reenter":
                box = {}
                def h(x):
                    depth[0] += 1
                    return box["f"](x)
                inst = fayasm.instantiate(fayasm.Module(REENTER), engine=engine,
                                          imports={"env": {"h": h}})
                box["f"] = inst.exports.f
                inst.exports.f(10 ** 9)
            result["outcome"] = "returned"
        except fayasm.Exhaustion as e:
            result["outcome"] = "Exhaustion"
            result["frames"] = len(e.frames)
        except BaseException as e:
            result["outcome"] = f"{type(e).__name__}: {str(e).splitlines()[0][:50]}"
        result["seconds"] = time.perf_counter() - t
        result["host_entries"] = depth[0]

    if size:
        threading.stack_size(size)
        th = threading.Thread(target=run)
        th.start()
        th.join()
    else:
        run()
    # VmHWM (this process's peak RSS): ru_maxrss would keep the forking parent's peak.
    with open("/proc/self/status") as f:
        result["rss_mb"] = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
    print(json.dumps(result))
""")

ENTRY_BYTES_CHILD = textwrap.dedent(r"""
    import ctypes, sys
    import fayasm
    libc = ctypes.CDLL(None)
    buf = ctypes.create_string_buffer(1024)

    def sp():
        libc.getcontext(buf)
        return int.from_bytes(buf.raw[160:168], "little")  # uc_mcontext.gregs[REG_RSP]

    REENTER = '''(module (import "env" "h" (func $h (param i32) (result i32)))
      (func $f (export "f") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $h (i32.sub (local.get 0) (i32.const 1))))))))'''
    for engine in ("interpreter", "python", "jit"):
        box, sps = {}, []
        def h(x):
            sps.append(sp())
            return box["f"](x)
        inst = fayasm.instantiate(fayasm.Module(REENTER), engine=engine, imports={"env": {"h": h}})
        box["f"] = inst.exports.f
        inst.exports.f(40)
        steps = sorted({a - b for a, b in zip(sps[5:], sps[6:])})
        print(f"{engine:12} C stack per host re-entry: {steps} bytes")
""")

CASES = ["fib", "big", "reenter", "maxstack"]
ENGINES = ["interpreter", "python", "jit"]
STACKS = ["main", "ulimit2048", "256k", "512k", "1m", "4m"]


def stack_size(name: str) -> int:
    if name in ("main", "ulimit2048"):
        return 0
    units = {"k": 1 << 10, "m": 1 << 20}
    return int(name[:-1]) * units[name[-1].lower()] if name[-1].lower() in units else int(name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--stacks", default="main",
                    help=f"comma-separated, of: {', '.join(STACKS)} (or any size); "
                    "'all' for these")
    ap.add_argument("--entry-bytes", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ, FAYASM_CACHE_DIR=tempfile.mkdtemp(prefix="fayasm-stack-"))
    if args.entry_bytes:
        r = subprocess.run([sys.executable, "-c", ENTRY_BYTES_CHILD], capture_output=True,
                           text=True, env=env)
        print(r.stdout.rstrip() or r.stderr.strip().splitlines()[-1:])
    stacks = STACKS if args.stacks == "all" else args.stacks.split(",")
    print(f"{'case':9} {'stack':10} {'engine':12} {'frames':>7} {'entries':>7} "
          f"{'RSS MB':>7} {'seconds':>8}  outcome")
    for case in args.cases.split(","):
        for stack in stacks:
            for engine in args.engines.split(","):
                def limit(stack=stack):
                    if stack == "ulimit2048":
                        hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
                        resource.setrlimit(resource.RLIMIT_STACK, (2048 << 10, hard))
                r = subprocess.run([sys.executable, "-c", CHILD, case, engine,
                                    str(stack_size(stack))], capture_output=True, text=True,
                                   env=env, preexec_fn=limit)
                if r.returncode != 0:
                    what = (f"CRASHED (signal {-r.returncode})" if r.returncode < 0
                            else f"FAILED rc={r.returncode}")
                    print(f"{case:9} {stack:10} {engine:12} {'-':>7} {'-':>7} {'-':>7} {'-':>8}  "
                          f"{what} {r.stderr.strip().splitlines()[-1:]}")
                    continue
                g = json.loads(r.stdout)
                print(f"{case:9} {stack:10} {engine:12} {g.get('frames', '-'):>7} "
                      f"{g['host_entries']:>7} {g['rss_mb']:7.0f} {g['seconds']:8.3f}  "
                      f"{g['outcome']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
