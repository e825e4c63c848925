"""How often wasmtime leaves fayasm's relaxed SIMD choice, and whether the oracle explains it.

Diffs modules generated with ``GenConfig(focus=<the relaxed SIMD rows>)`` on every engine
and wasmtime, and counts the modules where wasmtime's results differed from the
deterministic profile but fit one allowed choice per instruction (the diff's note says
"allowed by the spec"), and the differences found.

    python scripts/relaxed_oracle.py [--modules N] [--seed S]
"""
from __future__ import annotations

import argparse
import collections
import sys
import time

from fayasm.testing import relaxed
from fayasm.testing.diff import diff
from fayasm.testing.generate import GenConfig, focus_names, random_module
from fayasm.testing.run import wasmtime_available


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", type=int, default=40)
    ap.add_argument("--seed", type=int, default=100)
    args = ap.parse_args(argv)
    if not wasmtime_available():
        print("needs the wasmtime package", file=sys.stderr)
        return 2
    cfg = GenConfig(focus=focus_names(["relaxed_simd"]))
    counts: collections.Counter = collections.Counter()
    t0 = time.perf_counter()
    for seed in range(args.seed, args.seed + args.modules):
        g = random_module(seed, cfg)
        m = g.module()
        r = diff(m, g.plan, wasmtime=True, metered=g.metered)
        counts["modules"] += 1
        counts["with relaxed instructions"] += bool(relaxed.used(m))
        counts["wasmtime differed, allowed"] += any("allowed by the spec" in n for n in r.notes)
        counts["differences"] += r.difference is not None
        if r.difference is not None:
            print(f"seed {seed}: {r.difference.headline()}")
    print(", ".join(f"{k}: {v}" for k, v in counts.items())
          + f" ({time.perf_counter() - t0:.0f} s)")
    return 1 if counts["differences"] else 0


if __name__ == "__main__":
    sys.exit(main())
