"""The O2 worker of the lazy tier, run as a separate process (tiering.py):

    python -m fayasm.translator.llvm.worker MODULE.wasm OUT.o KEY METERED OPT

Compiles the whole module at OPT, stores the object in the disk cache under KEY (if
caching is on) and writes it to OUT.o for the process that started it. MODULE.wasm is a
temporary copy of the module, removed once read.
"""
from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    wasm_path, out_path, key, metered, opt = argv
    try:
        with open(wasm_path, "rb") as f:
            data = f.read()
    finally:
        try:
            os.remove(wasm_path)
        except OSError:
            pass
    try:
        os.nice(5)  # the interactive process comes first
    except OSError:
        pass
    from fayasm.module import Module

    from . import cache
    from .bundle import build_code

    module = Module(data)
    obj = build_code(module, metered == "1", int(opt))
    cache.store(key, obj)
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(obj)
    os.replace(tmp, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
