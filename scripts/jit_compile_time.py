"""Time from module bytes to the first call on engine="jit", cold and warm, for a big
generated module (default: 2,000 functions of about 60 instructions each: a loop over
memory, arithmetic, branches, direct and indirect calls).

    python scripts/jit_compile_time.py [--funcs 2000] [--wasm FILE]

Cold runs use an empty cache directory, warm runs the cache the cold run filled (after the
cold run's background O2 build is done); each run is a fresh subprocess with the engine
already loaded (import_s). Reports decode+validate and compile+instantiate separately.
The cache directory also holds fayasm.validcache's memo, so a warm run's decode_validate_s
is the decoding of a binary known valid: its function bodies and validation are left for
whoever needs them (the jit's cached code needs neither).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def generate(nfuncs: int) -> str:
    """WAT text of a module with ``nfuncs`` functions (i32, i32) -> i32."""
    out = ["(module", "  (type $t (func (param i32 i32) (result i32)))",
           "  (memory (export \"memory\") 1)",
           f"  (table {nfuncs} funcref)",
           "  (global $g (mut i32) (i32.const 7))"]
    for i in range(nfuncs):
        callee = (i * 7 + 1) % nfuncs
        out.append(f"""  (func $f{i} (type $t) (local $i i32) (local $acc i32) (local $x i64)
    (local.set $acc (i32.add (local.get 0) (i32.const {i})))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (i32.and (local.get 1) (i32.const 15))))
        (local.set $acc (i32.add (local.get $acc)
          (i32.load offset={4 * (i % 64)} (i32.and (i32.shl (local.get $i) (i32.const 2))
                                             (i32.const 1020)))))
        (i32.store offset=4096 (i32.shl (local.get $i) (i32.const 2))
          (i32.xor (local.get $acc) (i32.const {i * 2654435761 % 2**31})))
        (local.set $x (i64.mul (i64.extend_i32_u (local.get $acc)) (i64.const {i + 3})))
        (local.set $acc (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (if (result i32) (i32.gt_u (local.get 1) (i32.const 64))
      (then (call $f{callee} (local.get $acc) (i32.shr_u (local.get 1) (i32.const 1))))
      (else
        (global.set $g (i32.add (global.get $g) (local.get $acc)))
        (if (result i32) (i32.gt_u (local.get 1) (i32.const 32))
          (then (call_indirect (type $t) (local.get $acc) (i32.const 0)
                  (i32.rem_u (local.get $acc) (i32.const {nfuncs}))))
          (else (i32.rotl (local.get $acc) (global.get $g)))))))""")
        out.append(f"  (export \"f{i}\" (func $f{i}))" if i < 4 else "")
    out.append(f"  (elem (i32.const 0) func {' '.join(f'$f{i}' for i in range(nfuncs))})")
    out.append(")")
    return "\n".join(line for line in out if line)


_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
import fayasm
from fayasm import engines
jit = engines.get("jit")  # loaded (LLVM readied) once per process, as bench.py does
t1 = time.perf_counter()
data = open({path!r}, "rb").read()
m = fayasm.Module(data)
t2 = time.perf_counter()
inst = fayasm.instantiate(m, engine="jit")
t3 = time.perf_counter()
f = inst.exports[{export!r}]
r = f(*[1] * len(f.type.params))
t4 = time.perf_counter()
out = {{"import_s": t1 - t0, "decode_validate_s": t2 - t1,
        "compile_instantiate_s": t3 - t2, "first_call_s": t4 - t3,
        "bytes_to_first_call_s": t4 - t1}}
# Let the background O2 build (lazy tier) finish and reach the cache before exiting,
# so the warm runs measure loading the optimised code.
w0 = time.perf_counter()
jit.wait_idle()
out["o2_ready_after_s"] = time.perf_counter() - w0 + (t4 - t2)
print(json.dumps(out))
"""


def run_child(path: str, export: str, cache: str) -> dict:
    env = dict(os.environ, FAYASM_CACHE_DIR=cache)
    env.pop("FAYASM_CACHE", None)
    code = _CHILD.format(repo=str(REPO), path=path, export=export)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--funcs", type=int, default=2000)
    ap.add_argument("--wasm", help="time this module instead (its first exported function)")
    ap.add_argument("--warm-runs", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    import fayasm

    with tempfile.TemporaryDirectory(prefix="fayasm-jit-time-") as tmp:
        if args.wasm:
            path = args.wasm
            m = fayasm.Module(open(path, "rb").read())
        else:
            m = fayasm.Module(generate(args.funcs))
            path = os.path.join(tmp, "big.wasm")
            with open(path, "wb") as f:
                f.write(m.binary)
        export = next(e.name for e in m.exports if str(e.kind) == "func")
        size = sum(len(f.body) for f in m.syntax.funcs)
        print(f"module: {len(m.syntax.funcs)} functions, {size} instructions, "
              f"{os.path.getsize(path)} bytes")
        cache = os.path.join(tmp, "cache")
        cold = run_child(path, export, cache)
        print("cold: " + ", ".join(f"{k} {v:.3f}" for k, v in cold.items()))
        # The background O2 build of the cold run may still be running when the process
        # ends; the warm runs find whatever it cached.
        for _ in range(args.warm_runs):
            warm = run_child(path, export, cache)
            print("warm: " + ", ".join(f"{k} {v:.3f}" for k, v in warm.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
