"""Micro-benchmark of hot fayasm.runtime.numerics ops: nanoseconds per call.

    python scripts/bench_numerics.py [NAME ...]

Each op is called as f(*args) on fixed typical operands; the figure is the best of 7
repeats of 200,000 calls, timed in process CPU time (so that other load on the machine
does not count), and includes the call itself (the cost of calling an empty function is
printed for reference).
"""
from __future__ import annotations

import sys
import time
import timeit

from fayasm.runtime.numerics import OPS

V1 = 0x0123456789ABCDEF_FEDCBA9876543210
V2 = 0x3F800000_40000000_C0400000_3F000000
CASES = {
    "i32.add": (0x12345678, 0xFEDCBA98), "i32.sub": (5, 7), "i32.mul": (0x12345, 0x6789A),
    "i32.lt_s": (0x80000000, 5), "i32.eqz": (0,), "i32.shl": (0x12345678, 35),
    "i32.shr_s": (0x87654321, 3), "i32.div_s": (0xFFFFFF85, 7), "i32.rem_u": (1000, 7),
    "i32.clz": (0x00F00000,), "i32.ctz": (0x00F00000,), "i64.add": (1 << 63, 1 << 63),
    "i64.mul": (0x123456789, 0x987654321), "i64.div_s": (0xFFFFFFFFFFFFFF85, 7),
    "f64.add": (1.5, 2.25), "f64.mul": (1.5, 2.25), "f64.div": (1.0, 3.0), "f64.lt": (1.0, 2.0),
    "f64.min": (1.0, 2.0), "f64.sqrt": (2.0,), "f64.floor": (-2.5,), "f64.nearest": (2.5,),
    "f32.add": (1.5, 2.25), "f32.mul": (1.5, 2.25), "f32.div": (1.0, 3.0), "f32.sqrt": (2.0,),
    "f32.neg": (1.5,), "f32.copysign": (1.5, -1.0),
    "i32.trunc_f64_s": (-123.75,), "f64.convert_i32_s": (0xFFFFFF85,),
    "f32.convert_i64_u": (0x7FFFFF4000000001,), "f32.demote_f64": (0.1,),
    "f64.promote_f32": (1.5,), "i32.reinterpret_f32": (1.5,), "f32.reinterpret_i32": (0x3FC00000,),
    "i8x16.add": (V1, V2), "i16x8.add": (V1, V2), "i32x4.add": (V1, V2), "i64x2.add": (V1, V2),
    "i8x16.eq": (V1, V2), "i8x16.lt_s": (V1, V2), "i32x4.min_u": (V1, V2),
    "i16x8.mul": (V1, V2), "i32x4.mul": (V1, V2), "i8x16.shl": (V1, 3),
    "i8x16.shuffle": (V1, V2, tuple(range(31, -1, -2))), "i8x16.swizzle": (V1, V2),
    "i32x4.splat": (7,), "i32x4.extract_lane": (V1, 2), "i32x4.replace_lane": (V1, 7, 2),
    "f32x4.add": (V2, V2), "f32x4.mul": (V2, V2), "f64x2.add": (V1, V2), "f32x4.lt": (V2, V1),
    "f32x4.min": (V2, V1), "i8x16.bitmask": (V1,), "v128.bitselect": (V1, V2, V1 ^ V2),
}


def main(names):
    names = names or list(CASES)
    loop = min(timeit.repeat("f(*a)", setup="f = lambda *a: None; a = (1, 2)", number=200_000,
                             repeat=7, timer=time.process_time)) / 200_000
    print(f"{'op':28} ns/call   (empty call: {loop * 1e9:.0f} ns)")
    for name in names:
        args = CASES[name]
        t = min(timeit.repeat("f(*a)", globals={"f": OPS[name], "a": args},
                              number=200_000, repeat=7, timer=time.process_time)) / 200_000
        print(f"{name:28} {t * 1e9:7.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
