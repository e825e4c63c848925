"""What one call from Python costs: ``add(2, 3)`` on a trivial export, per fayasm engine,
on the jit also through ``inst.exports.add`` each time, through ``invoke([Val])`` and on a
metered instance (``fuel=``: metering.enter/leave around it), and on wasmtime-py when it is
installed, in one run, with a bare ctypes call of libc's ``labs`` for reference.

    python scripts/call_cost.py                # about 20 s
    python scripts/call_cost.py --calls 20000 --repeats 5

Each row calls the export in a plain Python loop (whose own cost is included, as it is in
any caller's loop) ``--calls`` times, ``--repeats`` times, interleaving the rows so that
load on a shared machine falls on all of them alike; a row's µs per call is its fastest
repeat. A plain Python function is measured too, as the floor. The last lines are what the
README quotes: how many times as many calls per second the jit makes as wasmtime-py, and
as a bare ctypes call.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import fayasm
from fayasm import Val, engines

WAT = """(module (func (export "add") (param i32 i32) (result i32)
  (i32.add (local.get 0) (local.get 1))))"""


def fayasm_rows(module) -> list:
    rows = []
    for engine in ("jit", "python", "interpreter"):
        if engine not in engines.available():
            continue
        add = fayasm.instantiate(module, engine=engine).exports.add
        assert add(2, 3) == 5
        rows.append((f"fayasm {engine}: add(2, 3)", lambda n, f=add: _loop(f, n)))
    if "jit" in engines.available():
        inst = fayasm.instantiate(module, engine="jit")
        rows.append(("fayasm jit: inst.exports.add(2, 3)", lambda n, i=inst: _loop_exports(i, n)))
        add = inst.exports.add
        args = [Val.i32(2), Val.i32(3)]
        assert add.invoke(args)[0].value == 5
        rows.append(("fayasm jit: add.invoke([Val, Val])",
                     lambda n, f=add.invoke: _loop1(f, args, n)))
        add = fayasm.instantiate(module, engine="jit", fuel=1 << 60).exports.add
        assert add(2, 3) == 5
        rows.append(("fayasm jit, metered: add(2, 3)", lambda n, f=add: _loop(f, n)))
    return rows


def ctypes_row():
    """A bare ctypes call of a C function of two arguments (libc's ``labs`` takes one; the
    second is ignored by the C convention), the cost ctypes adds to any call."""
    labs = ctypes.CDLL(None).labs
    labs.argtypes = [ctypes.c_long, ctypes.c_long]
    labs.restype = ctypes.c_long
    assert labs(-2, 3) == 2
    return ("ctypes: labs(2, 3)", lambda n: _loop(labs, n))


def wasmtime_row(module):
    try:
        import wasmtime
    except ImportError:
        return None
    store = wasmtime.Store()
    inst = wasmtime.Instance(store, wasmtime.Module(store.engine, module.binary), [])
    add = inst.exports(store)["add"]
    assert add(store, 2, 3) == 5
    return ("wasmtime-py: add(store, 2, 3)", lambda n: _loop_store(add, store, n))


def _loop(f, n):
    for _ in range(n):
        f(2, 3)


def _loop_exports(inst, n):
    for _ in range(n):
        inst.exports.add(2, 3)


def _loop1(f, args, n):
    for _ in range(n):
        f(args)


def _loop_store(f, store, n):
    for _ in range(n):
        f(store, 2, 3)


def _python_add(a, b):
    return a + b


def measure(rows, calls: int, repeats: int) -> dict:
    best = {name: float("inf") for name, _ in rows}
    gc.disable()
    try:
        for _ in range(repeats):
            for name, run in rows:  # interleaved: load hits every row alike
                t = time.perf_counter()
                run(calls)
                best[name] = min(best[name], (time.perf_counter() - t) / calls)
    finally:
        gc.enable()
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=50_000, help="calls per repeat (default 50,000)")
    p.add_argument("--repeats", type=int, default=7, help="repeats per row (default 7)")
    args = p.parse_args(argv)
    if args.calls < 1 or args.repeats < 1:
        p.error("--calls and --repeats must be 1 or more")
    module = fayasm.Module(WAT)
    rows = [("python function: add(2, 3)", lambda n: _loop(_python_add, n))]
    rows.append(ctypes_row())
    rows += fayasm_rows(module)
    wt = wasmtime_row(module)
    if wt is not None:
        rows.append(wt)
    best = measure(rows, args.calls, args.repeats)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"µs per call, fastest of {args.repeats} x {args.calls:,} calls "
          f"(load average {load:.1f} on {os.cpu_count()} CPUs)")
    width = max(len(name) for name in best)
    for name, t in best.items():
        print(f"  {name:<{width}}  {t * 1e6:7.2f} µs  {1 / t:12,.0f} calls/s")
    jit = best.get("fayasm jit: add(2, 3)")
    if wt is not None and jit is not None:
        ratio = best[wt[0]] / jit
        print(f"fayasm jit makes {ratio:.0f}x as many calls per second as wasmtime-py")
    if jit is not None:
        ratio = best["ctypes: labs(2, 3)"] / jit
        print(f"fayasm jit makes {ratio:.1f}x as many calls per second as a bare ctypes call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
