#!/usr/bin/env python3
"""Deep nesting: what each stage costs for a function nested N deep, at several N.

    python scripts/bench_nesting.py [--depths 10000,50000,100000,200000] [--cases 10000]

The function (fayasm.testing.nesting.nested_wat) nests blocks, ifs and loops in turn
around a br_table switch of CASES cases (a parser's yy_reduce), N levels in all. Per
depth, each in a fresh process: parsing the WAT, decoding and validating its binary,
printing it, and per engine the compile (the interpreter's preparation; the python
engine's translation and CPython's compile of it; the jit's lazy tier, which compiles
the function on its first call, and the whole-module O2 build its worker process does,
counted as that process's CPU time, its start-up and decoding included)
and the run (six calls). Then inputs past the limits: text nested 1,000,000 deep and
10 MB tokens for the lexer. Times are process CPU seconds (other load on a small
machine disturbs them less than wall time); "us/level" is the row's total over N,
which stays flat when the cost is linear. RSS is the peak of the depth's process.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ["FAYASM_CACHE"] = "0"  # every stage does its work
os.environ["FAYASM_JIT_LAZY_ABOVE"] = "0"  # the jit's lazy tier, whatever the module's size


def _cpu(fn):
    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


def one_depth(depth: int, cases: int) -> dict:
    """Every stage on the function nested ``depth`` deep (run in a child process)."""
    import fayasm
    from fayasm import engines
    from fayasm.testing.nesting import SKIP, expected, nested_wat
    from fayasm.text.printer import print_module

    args = (0, 7, cases - 1, cases, -1, SKIP)
    want = [expected(cases, x) for x in args]
    wat = nested_wat(depth, cases)
    out: dict = {"depth": depth, "instructions": 0}
    module, out["parse"] = _cpu(lambda: fayasm.Module(wat))
    out["instructions"] = len(module.syntax.funcs[0].body)
    binary = module.binary
    _, out["decode+validate"] = _cpu(lambda: fayasm.Module(binary))
    _, out["print"] = _cpu(lambda: print_module(module.syntax))
    for engine in ("interpreter", "python", "jit"):
        m = fayasm.Module(binary)
        if engine == "python":
            _, out["python translate"] = _cpu(lambda: fayasm.translate(m))  # noqa: B023
        # _cpu calls each lambda at once, in this iteration: B023 does not apply.
        inst, t_inst = _cpu(lambda: fayasm.instantiate(m, engine=engine))  # noqa: B023
        f = inst.exports.f
        first, t_first = _cpu(lambda: f(args[0]))  # noqa: B023
        rest, t_run = _cpu(lambda: [f(x) for x in args])  # noqa: B023
        assert [first] + rest[1:] == want, (engine, first, rest)
        if engine == "jit":
            out["jit compile (lazy tier)"] = t_inst + t_first
            # The O2 build runs in a worker process: its CPU time, once it is done.
            engines.get("jit").wait_idle()
            done = resource.getrusage(resource.RUSAGE_CHILDREN)
            out["jit O2 build (worker)"] = done.ru_utime + done.ru_stime
        else:
            what = "prepare" if engine == "interpreter" else "compile (with translate)"
            out[f"{engine} {what}"] = t_inst + t_first
        out[f"{engine} run"] = t_run
    out["rss MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return out


def past_limits() -> dict:
    """Inputs the front end must refuse, or take, in linear time and memory."""
    import fayasm
    from fayasm.text.lexer import tokenize

    n = 1_000_000
    texts = {
        "1,000,000 nested folded ifs (refused)":
            "(module (func (param i32)" + " (if (local.get 0) (then" * n + ")) " * n + "))",
        "1,000,000 nested plain ifs (refused)":
            "(module (func (param i32)" + " local.get 0 if" * n + " end" * n + "))",
    }
    out = {}
    for what, text in texts.items():
        t = time.process_time()
        try:
            fayasm.Module(text)
            result = "accepted"
        except fayasm.CompileError as e:
            result = str(e).split(": ", 1)[-1]
        out[what] = (time.process_time() - t, result)
    binary = b"\0asm\1\0\0\0" + _deep_binary(n)
    t = time.process_time()
    try:
        fayasm.Module(binary)
        result = "accepted"
    except fayasm.CompileError as e:
        result = str(e)
    out["binary nested 1,000,000 deep (refused)"] = (time.process_time() - t, result)
    size = 10_000_000
    lex = {
        "10 MB string": '(data "' + "a" * size + '")',
        "10 MB of \\00 escapes": '(data "' + "\\00" * (size // 3) + '")',
        "10 MB of commas": "," * size,
        "10 MB unclosed string": '"' + "a" * size,
    }
    for what, text in lex.items():
        t = time.process_time()
        tokenize(text)
        out[what] = (time.process_time() - t, "lexed")
    return out


def _deep_binary(n: int) -> bytes:
    """Type, function and code sections of one function with ``n`` nested blocks."""
    from fayasm.binary.leb128 import encode_u as u32

    body = b"\0" + b"\x02\x40" * n + b"\x0b" * (n + 1)
    code = u32(1) + u32(len(body)) + body
    return (b"\x01\x04\x01\x60\x00\x00" + b"\x03\x02\x01\x00"
            + b"\x0a" + u32(len(code)) + code)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--depths", default="10000,50000,100000,200000")
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--past-limits", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one_depth(a.one, min(a.cases, a.one // 2))))
        return 0
    if a.past_limits:
        out = past_limits()
        out["rss MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(json.dumps(out))
        return 0
    rows = []
    for depth in map(int, a.depths.split(",")):
        child = subprocess.run([sys.executable, __file__, "--one", str(depth),
                                "--cases", str(a.cases)],
                               capture_output=True, text=True)
        if child.returncode:
            print(f"depth {depth}: failed\n{child.stderr[-2000:]}")
            return 1
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
    stages = [k for k in rows[0] if k not in ("depth", "instructions", "rss MB")]
    print(f"CPU seconds per stage; switch of {a.cases} cases innermost "
          f"(fewer when the depth is below twice that)")
    head = f"{'stage':32}" + "".join(f"{r['depth']:>10,}" for r in rows) + "   us/level"
    print(head)
    print(f"{'instructions':32}" + "".join(f"{r['instructions']:>10,}" for r in rows))
    for k in stages:
        per = ", ".join(f"{1e6 * r[k] / r['depth']:.0f}" for r in rows)
        print(f"{k:32}" + "".join(f"{r[k]:>10.2f}" for r in rows) + f"   {per}")
    print(f"{'peak RSS (MB)':32}" + "".join(f"{r['rss MB']:>10}" for r in rows))
    child = subprocess.run([sys.executable, __file__, "--past-limits"], capture_output=True,
                           text=True)
    if child.returncode:
        print(f"past the limits: failed\n{child.stderr[-2000:]}")
        return 1
    print("\nPast the limits (CPU seconds):")
    out = json.loads(child.stdout.strip().splitlines()[-1])
    rss = out.pop("rss MB")
    for what, (t, result) in out.items():
        print(f"  {what:42} {t:6.2f}  {result}")
    print(f"  peak RSS of that process: {rss} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
