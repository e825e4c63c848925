#!/usr/bin/env python3
"""Snapshot figures: what a snapshot of a 64 MiB memory costs on each engine against a plain
copy of that memory, and the time to first call of a pre-initialized real-size module
against running its initialization each time.

    python scripts/snapshot_bench.py [--engines interpreter,python,jit] [--mib 64]
                                     [--repeat 5] [--no-real]

Memory: a module with one memory of --mib MiB, filled with pseudo-random bytes. Per engine:
``inst.snapshot()``, ``fayasm.restore(module, snap)`` (a new instance in that state),
``to_bytes()`` and ``Snapshot.from_bytes``, each the best of --repeat, against ``bytes()``
of the memory's view and a write of that many bytes into a fresh memory (a plain copy out,
and in).

Real size: Lua 5.4 (lua.wasm from scripts/build_real_programs.py, which builds it or says
why it cannot), given an exported ``init`` that runs the C constructors, makes a Lua state
(lua_newstate) and opens the ten standard libraries (luaL_requiref with each luaopen_*),
keeping the state in a new global, and a ``work`` export that uses the state (require
"string" through package.loaded, then the length of a fresh table). Per engine: a fresh
instance, ``init`` then ``work`` each time, against the module ``fayasm snapshot --init
init`` writes (instantiate, then ``work``) and against ``fayasm.restore`` of a snapshot
taken after ``init``. Each is the best of --repeat, after one warm-up run that fills the
compile caches, from an already decoded Module (decoding is the same for both).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import fayasm
from fayasm import isa
from fayasm.preinit import initialized_module
from fayasm.runtime.types import GlobalType, ValType
from fayasm.syntax import Data, Export, Function, Global, Instr


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# -- the memory figures -------------------------------------------------------------------
def memory_figures(engines: list[str], mib: int, repeat: int) -> list[dict]:
    pages = mib * 16
    m = fayasm.Module(f'(module (memory (export "m") {pages}) '
                      '(func (export "f") (result i32) (i32.load (i32.const 4096))))')
    data = os.urandom(1 << 20) * mib
    rows = []
    ref = fayasm.Memory(pages)
    ref.view[:] = data  # touched, as the instance's memory is

    def copy_in() -> None:
        fresh = fayasm.Memory(pages)
        fresh.view[:] = data
    for engine in engines:
        inst = fayasm.instantiate(m, engine=engine)
        inst.exports.m.write(0, data)
        snap = inst.snapshot()
        blob = snap.to_bytes()
        r = fayasm.restore(m, snap, engine=engine)
        assert r.exports.f() == inst.exports.f()
        assert bytes(r.exports.m.view) == data
        # Interleaved, each the best of its own runs, so that load on the machine hits the
        # copies and the snapshots alike.
        steps = {"copy_out": partial(bytes, ref.view), "snapshot": inst.snapshot,
                 "copy_in": copy_in, "restore": partial(fayasm.restore, m, snap, engine=engine),
                 "to_bytes": snap.to_bytes,
                 "from_bytes": partial(fayasm.Snapshot.from_bytes, blob)}
        times: dict[str, list[float]] = {k: [] for k in steps}
        for _ in range(repeat):
            for k, fn in steps.items():
                times[k].append(best(fn, 1))
        rows.append(dict(engine=engine, **{k: min(v) for k, v in times.items()}))
    return rows


# -- the real-size module -----------------------------------------------------------------
LIBS = ["_G", "package", "coroutine", "table", "io", "os", "string", "math", "utf8", "debug"]
OPENERS = {"_G": "luaopen_base", "package": "luaopen_package",
           "coroutine": "luaopen_coroutine", "table": "luaopen_table", "io": "luaopen_io",
           "os": "luaopen_os", "string": "luaopen_string", "math": "luaopen_math",
           "utf8": "luaopen_utf8", "debug": "luaopen_debug"}


def _i(name: str, *imm) -> Instr:
    return Instr(isa.OPS[name], tuple(imm))


def lua_with_init(path: Path) -> fayasm.Module:
    """lua.wasm with ``init`` and ``work`` exports (see the module docstring), built from
    the functions its name section names and the table slots its element segments give."""
    m = fayasm.Module.from_file(path)
    s = m.syntax
    by_name = {v: k for k, v in s.names.funcs.items()}
    slot = {}
    for e in s.elems:
        if e.offset:
            base = e.offset[0].imm[0]
            for j, item in enumerate(e.init):
                if item and item[0].op.name == "ref.func":
                    slot[item[0].imm[0]] = base + j
    need = ["__wasm_call_ctors", "lua_newstate", "l_alloc", "luaL_requiref", "lua_settop",
            "malloc", "lua_createtable", "luaL_len", *OPENERS.values()]
    missing = [n for n in need if n not in by_name]
    if missing:
        raise SystemExit(f"lua.wasm does not name {missing}: rebuild it with "
                         "scripts/build_real_programs.py")
    names = b"".join(n.encode() + b"\0" for n in LIBS)
    offsets, at = {}, 0
    for n in LIBS:
        offsets[n] = at
        at += len(n) + 1
    types = list(s.types)
    ft = fayasm.FuncType((), (ValType.I32,))
    if ft not in types:
        raise SystemExit("lua.wasm has no () -> i32 type to give init and work")
    tidx = types.index(ft)
    nfuncs = len(s.func_types())
    gl = len(s.global_types())  # the new globals: the Lua state, the names' address
    seg = len(s.datas)
    call = lambda n: _i("call", by_name[n])  # noqa: E731
    init = [call("__wasm_call_ctors"),
            _i("i32.const", slot[by_name["l_alloc"]]), _i("i32.const", 0),
            call("lua_newstate"), _i("global.set", gl),
            _i("i32.const", len(names)), call("malloc"), _i("global.set", gl + 1),
            _i("global.get", gl + 1), _i("i32.const", 0), _i("i32.const", len(names)),
            _i("memory.init", seg, 0)]
    for n in LIBS:
        init += [_i("global.get", gl), _i("global.get", gl + 1), _i("i32.const", offsets[n]),
                 _i("i32.add"), _i("i32.const", slot[by_name[OPENERS[n]]]),
                 _i("i32.const", 1), call("luaL_requiref"),
                 _i("global.get", gl), _i("i32.const", -2), call("lua_settop")]
    init += [_i("global.get", gl)]
    work = [_i("global.get", gl), _i("global.get", gl + 1), _i("i32.const", offsets["string"]),
            _i("i32.add"), _i("i32.const", slot[by_name["luaopen_string"]]),
            _i("i32.const", 0), call("luaL_requiref"),
            _i("global.get", gl), _i("i32.const", 3), _i("i32.const", 0),
            call("lua_createtable"),
            _i("global.get", gl), _i("i32.const", -1), call("luaL_len"), _i("i32.wrap_i64"),
            _i("global.get", gl), _i("i32.const", -3), call("lua_settop")]
    s.funcs.append(Function(tidx, (), init))
    s.funcs.append(Function(tidx, (), work))
    s.globals += [Global(GlobalType(ValType.I32, True), [_i("i32.const", 0)]),
                  Global(GlobalType(ValType.I32, True), [_i("i32.const", 0)])]
    s.datas.append(Data(init=names))
    s.data_count = len(s.datas)
    s.exports += [Export("init", fayasm.ExternKind.FUNC, nfuncs),
                  Export("work", fayasm.ExternKind.FUNC, nfuncs + 1)]
    from fayasm.binary.encode import encode

    return fayasm.Module(encode(s, names=True), name="lua-init")


def real_figures(engines: list[str], repeat: int) -> list[dict]:
    import build_real_programs

    try:
        path = build_real_programs.build(["lua"], quiet=True)["lua"]
    except build_real_programs.Unavailable as e:
        print(f"real-size figures skipped: {e}")
        return []
    m = lua_with_init(path)
    return [_real_row(m, engine, repeat) for engine in engines]


def _wasi() -> fayasm.WasiConfig:
    return fayasm.WasiConfig(argv=["lua"])


def _real_row(m: fayasm.Module, engine: str, repeat: int) -> dict:
    base = fayasm.instantiate(m, engine=engine, wasi=_wasi())
    base.exports.init()
    expected = base.exports.work()
    snap = base.snapshot()
    pre = fayasm.Module(initialized_module(m, snap, drop_export="init"))

    def fresh() -> None:
        inst = fayasm.instantiate(m, engine=engine, wasi=_wasi())
        inst.exports.init()
        assert inst.exports.work() == expected

    def preinit() -> None:
        assert fayasm.instantiate(pre, engine=engine, wasi=_wasi()).exports.work() == expected

    def restored() -> None:
        assert fayasm.restore(m, snap, engine=engine, wasi=_wasi()).exports.work() == expected
    for fn in (fresh, preinit, restored):  # warm the compile caches
        fn()
    return dict(engine=engine, fresh=best(fresh, repeat), preinit=best(preinit, repeat),
                restore=best(restored, repeat), size=len(m.binary),
                memory=len(snap.mems[0][1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", default="interpreter,python,jit")
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-real", action="store_true", help="leave the Lua figures out")
    args = ap.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    ms = lambda t: f"{t * 1000:9.1f} ms"  # noqa: E731
    print(f"{args.mib} MiB memory (best of {args.repeat})")
    print(f"{'engine':12} {'snapshot':>12} {'restore':>12} {'to_bytes':>12} {'from_bytes':>12}"
          f" {'copy out':>12} {'copy in':>12}  snapshot/copy out, restore/copy in")
    for r in memory_figures(engines, args.mib, args.repeat):
        print(f"{r['engine']:12} {ms(r['snapshot']):>12} {ms(r['restore']):>12} "
              f"{ms(r['to_bytes']):>12} {ms(r['from_bytes']):>12} {ms(r['copy_out']):>12} "
              f"{ms(r['copy_in']):>12}  {r['snapshot'] / r['copy_out']:.2f}x, "
              f"{r['restore'] / r['copy_in']:.2f}x")
    if args.no_real:
        return 0
    rows = real_figures(engines, args.repeat)
    if rows:
        print(f"\nLua 5.4 ({rows[0]['size']:,} bytes, {rows[0]['memory']:,} bytes of memory "
              f"after init): time to first call (best of {args.repeat})")
        print(f"{'engine':12} {'init each time':>16} {'pre-initialized':>16} {'restored':>12}"
              "  init each time / pre-initialized")
        for r in rows:
            print(f"{r['engine']:12} {ms(r['fresh']):>16} {ms(r['preinit']):>16} "
                  f"{ms(r['restore']):>12}  {r['fresh'] / r['preinit']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
