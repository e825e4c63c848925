"""Which relaxed SIMD choice wasmtime makes on this machine, per instruction.

Runs each of the 20 relaxed instructions on wasmtime (``Config.wasm_relaxed_simd``) with
random and edge-case operands and lists, per instruction, the choices of the spec
(runtime/numerics/relaxed.py) that agree with every result, NaN lanes compared as "both
NaN" (their bits are nondeterministic anyway). fayasm.testing.relaxed.WASMTIME_X86 holds
what this printed on x86-64.

    python scripts/relaxed_wasmtime.py [--samples N] [--seed S]
"""
from __future__ import annotations

import argparse
import random
import sys

from fayasm import isa
from fayasm.runtime.numerics import relaxed as R

F32_EDGES = [0x7FC00000, 0xFFC00000, 0x7FA00000, 0x80000000, 0, 0x7F800000, 0xFF800000,
             0x4F000000, 0xCF000001, 0x4F800000, 0x3F800000, 0xBF800000, 0x3F800001]
F64_EDGES = [0x7FF8000000000000, 0x8000000000000000, 0, 0x41E0000000000000,
             0xC1E0000000200000, 0x41F0000000000000, 0x7FF0000000000000, 0xFFF8000000000001]
BYTE_EDGES = [0, 0xFF, 0x80, 0x7F, 0x10, 0x8F, 0x81]
HALF_EDGES = [0x8000, 0x7FFF, 0xFFFF, 0, 0x4000]


def operand(rng: random.Random, op) -> int:
    if "f32x4" in op.name:
        return sum((rng.choice(F32_EDGES) if rng.random() < 0.5 else rng.getrandbits(32))
                   << (32 * i) for i in range(4))
    if "f64x2" in op.name:
        return sum((rng.choice(F64_EDGES) if rng.random() < 0.5 else rng.getrandbits(64))
                   << (64 * i) for i in range(2))
    if rng.random() < 0.3:
        return sum(rng.choice(BYTE_EDGES) << (8 * i) for i in range(16))
    if rng.random() < 0.3:
        return sum(rng.choice(HALF_EDGES) << (16 * i) for i in range(8))
    return rng.getrandbits(128)


def same(op, x: int, y: int) -> bool:
    if x == y:
        return True
    if not op.nan:
        return False
    w = 32 if op.shape == "f32x4" else 64
    frac = 23 if w == 32 else 52
    top = (1 << (w - frac - 1)) - 1

    def nan(b):
        return (b >> frac) & top == top and b & ((1 << frac) - 1)
    lanes = [((x >> (w * i)) & ((1 << w) - 1), (y >> (w * i)) & ((1 << w) - 1))
             for i in range(128 // w)]
    return all(a == b or (nan(a) and nan(b)) for a, b in lanes)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    try:
        import wasmtime
    except ImportError:
        print("needs the wasmtime package", file=sys.stderr)
        return 2
    ops = [op for op in isa.ALL if op.relaxed]
    funcs = []
    for k, op in enumerate(ops):
        vecs = " ".join(f"(i64x2.replace_lane 1 (i64x2.splat (local.get {2 * i})) "
                        f"(local.get {2 * i + 1}))" for i in range(len(op.params)))
        funcs.append(f'(func (export "f{k}") (param i64 i64 i64 i64 i64 i64) '
                     f'(v128.store (i32.const 0) ({op.name} {vecs})))')
    config = wasmtime.Config()
    config.wasm_relaxed_simd = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    module = wasmtime.Module(engine, '(module (memory (export "m") 1) ' + " ".join(funcs) + ")")
    inst = wasmtime.Instance(store, module, [])
    mem = inst.exports(store)["m"]
    rng = random.Random(args.seed)

    def signed64(x):
        return x - (1 << 64) if x >> 63 else x
    for k, op in enumerate(ops):
        f = inst.exports(store)[f"f{k}"]
        n = R.PARAMS[R.PARAM[op.name]]
        fits = set(range(n))
        odd = 0
        for _ in range(args.samples):
            vals = [operand(rng, op) for _ in op.params]
            flat = []
            for x in vals + [0] * (3 - len(vals)):
                flat += [signed64(x & (2**64 - 1)), signed64(x >> 64)]
            f(store, *flat)
            got = int.from_bytes(bytes(mem.read(store, 0, 16)), "little")
            agree = {c for c in range(n) if same(op, R.variant(op.name, c)(*vals), got)}
            odd += not agree
            fits &= agree or fits
        print(f"{op.name:40} choices {sorted(fits)}" + (f"  ({odd} results fit none)"
                                                          if odd else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
