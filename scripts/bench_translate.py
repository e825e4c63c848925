#!/usr/bin/env python3
"""Translation cost of engine="python" beside ppci's Python target.

    python scripts/bench_translate.py [--functions 240]

For the largest benchmark module and for a generated module of about 100 KB with 240
functions (loops of integer, float and memory work; see ``generated``), time
translation + compilation + instantiation in a fresh process with the cache off, and its
peak memory (VmHWM, minus what the process held before loading the module); the same
for ppci 0.5.8 with target='python' when it is installed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

WORKER = r"""
import json, sys, time
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) * 1024
runner, path = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
if runner == 'fayasm':
    import fayasm
    base = hwm(); t0 = time.perf_counter()
    m = fayasm.Module(data)
    t1 = time.perf_counter()
    inst = fayasm.instantiate(m, engine='python')  # translate, compile, exec, instantiate
    t2 = time.perf_counter()
    src = fayasm.translate(m)  # once more, to time translation alone
    t3 = time.perf_counter()
    out = dict(decode_validate=t1 - t0, translate_and_load=t2 - t1, total=t2 - t0,
               of_which_translate=t3 - t2, source_bytes=len(src))
else:
    import ppci.wasm
    base = hwm(); t0 = time.perf_counter()
    m = ppci.wasm.Module(data)
    imports = {}
    has_sections = hasattr(m, 'get_definitions_per_section')
    for imp in m.get_definitions_per_section()['import'] if has_sections else []:
        pass
    try:
        inst = ppci.wasm.instantiate(m, imports, target='python')
        ok = True
    except Exception as e:
        ok = repr(e)[:200]
    t3 = time.perf_counter()
    out = dict(total=t3 - t0, ok=ok)
out['peak_extra_mb'] = (hwm() - base) / 1e6
out['peak_mb'] = hwm() / 1e6
print(json.dumps(out))
"""


def measure(runner: str, path: Path) -> dict:
    env = dict(os.environ, FAYASM_CACHE="0")
    r = subprocess.run([sys.executable, "-c", WORKER, runner, str(path)], capture_output=True,
                       text=True, env=env, timeout=1800)
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def _function(k: int, body_rounds: int) -> str:
    """One generated function: a counted loop of integer, float and memory work, a
    branch table and a call to the previous function."""
    parts = []
    for r in range(body_rounds):
        c = (k * 31 + r * 7) % 97 + 1
        parts.append(
            f"(local.set $a (i32.add (i32.mul (local.get $a) (i32.const {c})) "
            f"(i32.load offset={(r * 4) % 64} (i32.and (local.get $i) (i32.const 1020)))))"
            f"(i32.store offset={(r * 8) % 64} (i32.and (local.get $a) (i32.const 1020)) "
            f"(i32.xor (local.get $a) (i32.shr_u (local.get $i) (i32.const {r % 31 + 1}))))"
            f"(local.set $x (f64.add (f64.mul (local.get $x) (f64.const 0.5{r})) "
            f"(f64.convert_i32_s (local.get $a))))"
            f"(local.set $b (i64.rotl (i64.add (local.get $b) (i64.extend_i32_u (local.get $a))) "
            f"(i64.const {r % 63 + 1})))")
    call = f"(local.set $a (i32.add (local.get $a) (call $f{k - 1} (local.get $i))))" if k else ""
    return (f"(func $f{k} (export \"f{k}\") (param $n i32) (result i32) "
            f"(local $i i32) (local $a i32) (local $b i64) (local $x f64)"
            f"(block $done (loop $top (br_if $done (i32.ge_u (local.get $i) (local.get $n))) "
            f"{''.join(parts)}"
            f"(block $c2 (block $c1 (block $c0 (br_table $c0 $c1 $c2 "
            f"(i32.rem_u (local.get $i) (i32.const 3))))"
            f"(local.set $a (i32.add (local.get $a) (i32.const 1))) (br $c2))"
            f"(local.set $a (i32.sub (local.get $a) (i32.const 1))))"
            f"(local.set $i (i32.add (local.get $i) (i32.const 1))) (br $top)))"
            f"{call}"
            f"(i32.add (local.get $a) (i32.add (i32.wrap_i64 (local.get $b)) "
            f"(i32.wrap_i64 (i64.reinterpret_f64 (local.get $x))))))")


def generated(functions: int, out: Path, target_kb: int = 100) -> Path:
    """A module of ``functions`` functions and about ``target_kb`` KB."""
    import fayasm

    rounds = 1
    while True:
        wat = f"(module (memory 1) {' '.join(_function(k, rounds) for k in range(functions))})"
        data = fayasm.Module(wat).binary
        if len(data) >= target_kb * 1000 or rounds > 50:
            break
        rounds += 1
    path = out / f"generated_{functions}.wasm"
    path.write_bytes(data)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--functions", type=int, default=240)
    args = ap.parse_args()
    try:
        import ppci  # noqa: F401
        runners = ["fayasm", "ppci"]
    except ImportError:
        runners = ["fayasm"]
    largest = max((HERE / "bench").glob("*.wasm"), key=lambda p: p.stat().st_size)
    with tempfile.TemporaryDirectory() as tmp:
        gen = generated(args.functions, Path(tmp))
        import fayasm

        for path in (largest, gen):
            m = fayasm.Module(path.read_bytes())
            print(f"{path.name}: {path.stat().st_size / 1e3:.0f} KB, {len(m.syntax.funcs)} "
                  f"functions, {sum(len(f.body) for f in m.syntax.funcs):,} instructions",
                  flush=True)
            for runner in runners:
                r = measure(runner, path)
                print(f"  {runner:7} {json.dumps(r)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
