"""The jit's guard-page mode (translator/llvm/guard.py): 32-bit memories accessed without
bounds checks, faults past the end turned into traps by the native fault handler, every
other fault still ending the process; and the explicit-check fallback."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

import fayasm
from fayasm import Func, FuncType, Memory, Trap, Val
from fayasm.runtime import memory

pytest.importorskip("llvmlite")

from fayasm.translator.llvm import guard

pytestmark = pytest.mark.skipif(not guard.supported(), reason="guard pages: x86-64 Linux only")

PAGE = 65536


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FAYASM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(memory, "GUARD_PAGES", True)


def instance(wat: str, engine: str = "jit", imports=None):
    return fayasm.instantiate(fayasm.Module(wat), imports=imports, engine=engine)


# (load, store, value type, access bytes) of every plain access width.
ACCESSES = [
    ("i32.load8_u", "i32.store8", "i32", 1), ("i32.load16_u", "i32.store16", "i32", 2),
    ("i32.load", "i32.store", "i32", 4), ("i64.load8_s", "i64.store8", "i64", 1),
    ("i64.load16_s", "i64.store16", "i64", 2), ("i64.load32_u", "i64.store32", "i64", 4),
    ("i64.load", "i64.store", "i64", 8), ("f32.load", "f32.store", "f32", 4),
    ("f64.load", "f64.store", "f64", 8), ("v128.load", "v128.store", "v128", 16),
]
OFFSETS = [0, 1, 3, 4096, PAGE - 1, PAGE, 0xFFFFFFFF]


def _edge_module(load: str, store: str, t: str, offset: int) -> str:
    return f"""(module (memory (export "mem") 1 3)
      (func (export "load") (param i32) (result {t}) ({load} offset={offset} (local.get 0)))
      (func (export "drop") (param i32) (drop ({load} offset={offset} (local.get 0))))
      (func (export "store") (param i32 {t}) ({store} offset={offset} (local.get 0) (local.get 1)))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"""


def _outcome(f, *args):
    try:
        return ("ok", [v.bits for v in f.invoke(list(args))])
    except Trap as e:
        return ("trap", str(e).splitlines()[0])


def _value(t: str) -> Val:
    return Val.from_bits(t, (1 << (8 * {"i32": 4, "i64": 8, "f32": 4, "f64": 8,
                                          "v128": 16}[t])) - 3)


@pytest.mark.parametrize("load,store,t,size", ACCESSES, ids=[a[0] for a in ACCESSES])
def test_every_width_and_offset_at_the_edge_traps_as_the_interpreter_does(load, store, t, size):
    for offset in OFFSETS:
        wat = _edge_module(load, store, t, offset)
        jit, ref = instance(wat), instance(wat, "interpreter")
        assert jit.engine_state.guarded
        for grown in (0, 1):
            end = (1 + grown) * PAGE
            # The last addresses in bounds, the first ones out, and far beyond.
            addrs = {end - size - offset + d for d in (-1, 0, 1, 2, size)}
            addrs |= {0, end, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF - offset}
            for a in sorted(x & 0xFFFFFFFF for x in addrs):
                av = Val.from_bits("i32", a)
                v = _value(t)
                for name, args in (("load", [av]), ("drop", [av]), ("store", [av, v])):
                    got = _outcome(jit.exports[name], *args)
                    want = _outcome(ref.exports[name], *args)
                    assert got == want, (load, offset, grown, hex(a), name)
                assert jit.exports.mem.read(0, end) == ref.exports.mem.read(0, end)
            jit.exports.grow(1)
            ref.exports.grow(1)


def test_memory_grow_makes_pages_accessible_and_the_rest_still_traps():
    e = instance("""(module (memory (export "mem") 1)
      (func (export "ld") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "st") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))""").exports
    with pytest.raises(Trap, match="out of bounds memory access"):
        e.st(PAGE, 5)
    assert e.grow(2) == 1
    e.st(3 * PAGE - 4, 9)
    assert e.ld(3 * PAGE - 4) == 9
    with pytest.raises(Trap, match="out of bounds memory access"):
        e.ld(3 * PAGE - 3)
    e.mem.grow(1)  # grown from Python: native code sees it as well
    assert e.ld(4 * PAGE - 4) == 0
    with pytest.raises(Trap):
        e.ld(4 * PAGE)


def test_a_memory_shared_by_instances_traps_in_each_and_grows_for_all():
    a = instance("""(module (memory (export "mem") 1 4)
      (func (export "ld") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))""")
    b = instance("""(module (import "a" "mem" (memory 1 4))
      (func (export "st") (param i32 i32) (i32.store offset=8 (local.get 0) (local.get 1))))""",
                 imports={"a": a.exports})
    assert a.engine_state.guarded and b.engine_state.guarded
    with pytest.raises(Trap, match="out of bounds memory access"):
        b.exports.st(PAGE - 8, 1)
    assert a.exports.grow(1) == 1
    b.exports.st(PAGE - 8, 77)
    assert a.exports.ld(PAGE) == 77
    with pytest.raises(Trap, match="out of bounds memory access"):
        a.exports.ld(2 * PAGE - 2)


def test_a_fault_in_wasm_called_from_a_host_call_traps_and_the_caller_still_traps():
    inner = instance("""(module (memory 1)
      (func (export "oob") (result i32) (i32.load (i32.const 65535))))""")
    seen = []

    def host():
        try:
            inner.exports.oob()
        except Trap as e:
            seen.append(str(e).splitlines()[0])
        return 1

    outer = instance("""(module (import "h" "f" (func $f (result i32))) (memory 1)
      (func (export "run") (result i32) (drop (call $f)) (i32.load (i32.const 65534))))""",
                     imports={"h": {"f": host}})
    with pytest.raises(Trap, match="out of bounds memory access") as info:
        outer.exports.run()
    assert seen == ["out of bounds memory access"]
    assert info.value.frames[0] == "run"


def test_a_host_exception_after_a_fault_in_a_nested_entry_reaches_the_caller():
    inner = instance("""(module (memory 1)
      (func (export "oob") (i32.store (i32.const 70000) (i32.const 1))))""")

    def host():
        inner.exports.oob()  # its Trap propagates out of the host call

    outer = instance("""(module (import "h" "f" (func $f)) (func (export "run") (call $f)))""",
                     imports={"h": {"f": host}})
    with pytest.raises(Trap, match="out of bounds memory access"):
        outer.exports.run()


def test_faults_on_several_threads_at_once_each_trap_on_their_own_thread():
    e = instance("""(module (memory 1)
      (func (export "spin") (param i32 i32) (result i32) (local i32)
        (loop $l
          (local.set 2 (i32.add (local.get 2) (i32.load (i32.and (local.get 2) (i32.const 1020)))))
          (br_if $l (i32.gt_s (local.tee 0 (i32.sub (local.get 0) (i32.const 1))) (i32.const 0))))
        (i32.load (local.get 1))))""").exports
    results: dict[int, str] = {}

    def work(k):
        out = []
        for i in range(200):
            try:
                e.spin(50 + k, PAGE + k * 8 if i % 2 else 16)
                out.append("ok")
            except Trap as t:
                out.append(str(t).splitlines()[0])
        results[k] = ",".join(sorted(set(out)))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: "ok,out of bounds memory access" for k in range(4)}


def _run(code: str, env=None) -> subprocess.CompletedProcess:
    full = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=full, timeout=120)


def test_a_segfault_outside_jit_code_still_kills_the_process():
    # With the handler installed (an instance in guard mode has trapped), a wild read
    # from Python, and one inside a host call at a guard address, crash as before:
    # Python's faulthandler, installed first, still reports it.
    for wild in ("8", "mem.address + 2 * 65536"):
        r = _run(f"""
            import ctypes, faulthandler
            faulthandler.enable()
            import fayasm
            def host():
                ctypes.string_at({wild}, 8)
            m = fayasm.Module('''(module (import "h" "f" (func $f)) (memory (export "m") 1)
              (func (export "oob") (result i32) (i32.load (i32.const 65536)))
              (func (export "call") (call $f)))''')
            inst = fayasm.instantiate(m, imports={{"h": {{"f": host}}}}, engine="jit")
            mem = inst.exports.m
            assert inst.engine_state.guarded
            try:
                inst.exports.oob()
            except fayasm.Trap:
                print("trapped", flush=True)
            inst.exports.call()
            print("survived", flush=True)
            """)
        assert r.stdout == "trapped\n", (wild, r.stdout, r.stderr)
        assert r.returncode == -11, (wild, r.returncode, r.stderr)
        assert "Fatal Python error: Segmentation fault" in r.stderr


def test_a_segfault_outside_jit_code_without_faulthandler_kills_the_process():
    r = _run("""
        import ctypes, fayasm
        inst = fayasm.instantiate(fayasm.Module('(module (memory 1))'), engine="jit")
        assert inst.engine_state.guarded
        ctypes.string_at(8, 8)
        print("survived")
        """)
    assert r.returncode == -11 and "survived" not in r.stdout


def test_a_segfault_after_faulthandler_was_enabled_over_the_handler_ends_with_one_report():
    """Two handlers chaining to each other (the jit's put back over a faulthandler that
    chains to the jit's) end a real crash once, not in a loop of reports."""
    r = _run("""
        import ctypes, faulthandler, fayasm
        wat = '(module (memory 1) (func (export "f") (drop (i32.load (i32.const 65536)))))'
        a = fayasm.instantiate(fayasm.Module(wat), engine="jit")
        faulthandler.enable()
        b = fayasm.instantiate(fayasm.Module(wat), engine="jit")
        try:
            b.exports.f()
        except fayasm.Trap:
            print("trapped", flush=True)
        ctypes.string_at(8, 8)
        print("survived")
        """)
    assert r.stdout == "trapped\n" and r.returncode == -11, (r.returncode, r.stderr[-2000:])
    assert r.stderr.count("Fatal Python error: Segmentation fault") == 1, r.stderr[-2000:]


def test_the_handler_is_put_back_over_a_faulthandler_enabled_after_it():
    r = _run("""
        import faulthandler, fayasm
        wat = '(module (memory 1) (func (export "f") (drop (i32.load (i32.const 65536)))))'
        a = fayasm.instantiate(fayasm.Module(wat), engine="jit")
        faulthandler.enable()  # now first in line, chaining to the jit's handler
        b = fayasm.instantiate(fayasm.Module(wat), engine="jit")
        for inst in (a, b):
            try:
                inst.exports.f()
            except fayasm.Trap as e:
                print(str(e).splitlines()[0])
        """)
    assert r.stdout == "out of bounds memory access\n" * 2, r.stderr


# -- the choice of mode -------------------------------------------------------------------------
WAT = """(module (memory (export "mem") 1)
  (func (export "ld") (param i32) (result i32) (i32.load (local.get 0))))"""


def test_guard_pages_off_gives_explicit_checks_with_the_same_traps(monkeypatch, capfd):
    monkeypatch.setattr(memory, "GUARD_PAGES", False)
    monkeypatch.setenv("FAYASM_DEBUG_GUARD", "1")
    inst = instance(WAT)
    assert not inst.engine_state.guarded
    assert "explicit bounds checks (FAYASM_GUARD_PAGES=0)" in capfd.readouterr().err
    with pytest.raises(Trap, match="out of bounds memory access"):
        inst.exports.ld(PAGE - 3)


def test_an_imported_memory_without_a_guard_reservation_gives_explicit_checks(monkeypatch):
    monkeypatch.setattr(memory, "GUARD_PAGES", False)
    plain = Memory(1)
    monkeypatch.setattr(memory, "GUARD_PAGES", True)
    assert not plain.guarded and Memory(1).guarded
    inst = instance("""(module (import "m" "mem" (memory 1))
      (func (export "ld") (param i32) (result i32) (i32.load (local.get 0))))""",
                    imports={"m": {"mem": plain}})
    assert not inst.engine_state.guarded
    assert "memory 0 has no guard reservation" in guard.reason([plain])
    with pytest.raises(Trap, match="out of bounds memory access"):
        inst.exports.ld(PAGE)
    # The same module with a guarded memory: guard-mode code, same results.
    inst2 = instance("""(module (import "m" "mem" (memory 1))
      (func (export "ld") (param i32) (result i32) (i32.load (local.get 0))))""",
                     imports={"m": {"mem": Memory(1)}})
    assert inst2.engine_state.guarded
    with pytest.raises(Trap, match="out of bounds memory access"):
        inst2.exports.ld(PAGE)


def test_memory64_keeps_its_checks():
    m64 = Memory(1, address="i64")
    assert not m64.guarded
    inst = instance("""(module (memory i64 1)
      (func (export "ld") (param i64) (result i32) (i32.load (local.get 0))))""")
    assert not inst.engine_state.guarded
    with pytest.raises(Trap, match="out of bounds memory access"):
        inst.exports.ld(PAGE - 2)


def test_a_failed_reservation_falls_back_to_explicit_checks():
    # A low address-space limit: 8 GiB cannot be reserved, the plain reservation can.
    r = _run("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
        import fayasm
        inst = fayasm.instantiate(fayasm.Module('''(module (memory 1)
          (func (export "ld") (param i32) (result i32) (i32.load (local.get 0))))'''),
          engine="jit")
        print(inst.engine_state.guarded)
        try:
            inst.exports.ld(65536)
        except fayasm.Trap as e:
            print(str(e).splitlines()[0])
        """)
    assert r.stdout == "False\nout of bounds memory access\n", r.stderr


def test_inspect_reports_the_bounds_check_mode(tmp_path):
    path = tmp_path / "m.wat"
    path.write_text(WAT)
    code = ("import sys; from fayasm.cli import main; "
            f"sys.exit(main(['inspect', '{path}', '--engine', 'jit']))")
    out = _run(code)
    assert "jit: memory accesses: guard pages" in out.stdout, out.stderr
    off = _run(code, {"FAYASM_GUARD_PAGES": "0"})
    assert "jit: memory accesses: explicit bounds checks (FAYASM_GUARD_PAGES=0)" in off.stdout


def test_guard_mode_code_has_no_memory_checks_and_checked_code_has():
    from fayasm.translator.llvm.module import module_text

    m = fayasm.Module(WAT)
    assert "icmp sgt i64" not in module_text(m, guard=True)
    assert "icmp sgt i64" in module_text(m)


def test_a_host_function_of_guard_mode_gets_a_fault_handler_chained_ahead_of_it():
    # A host call's Python code reading past the end of a guarded memory is not jit code:
    # the process ends (checked above); here, a Func host reading in bounds is fine.
    inst = instance(WAT)
    mem = inst.exports.mem

    def host(a):
        return int.from_bytes(mem.read(a, 4), "little")

    user = instance("""(module (import "h" "f" (func $f (param i32) (result i32)))
      (func (export "g") (param i32) (result i32) (call $f (local.get 0))))""",
                    imports={"h": {"f": Func(host, FuncType(["i32"], ["i32"]))}})
    assert user.exports.g(4) == 0
    with pytest.raises(Trap, match="out of bounds memory access"):
        user.exports.g(PAGE)


# -- what LLVM may not do to an access that traps by faulting -------------------------------------
ORDER = """(module (memory (export "mem") 1) (global $g (export "g") (mut i32) (i32.const 0))
  (func (export "two_stores") (param i32)
    (i32.store (local.get 0) (i32.const 0x11111111))
    (i32.store offset=4 (local.get 0) (i32.const 0x22222222)))
  (func (export "four_bytes") (param i32)
    (i32.store8 (local.get 0) (i32.const 1)) (i32.store8 offset=1 (local.get 0) (i32.const 2))
    (i32.store8 offset=2 (local.get 0) (i32.const 3))
    (i32.store8 offset=3 (local.get 0) (i32.const 4)))
  (func (export "global_then_load") (param i32) (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (i32.load (local.get 0)))
  (func (export "store_between_globals") (param i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (i32.store (local.get 0) (i32.const 5))
    (global.set $g (i32.add (global.get $g) (i32.const 1))))
  (func (export "times_zero") (param i32) (result i32)
    (i32.mul (i32.load (local.get 0)) (i32.const 0)))
  (func (export "overwritten") (param i32) (result i32) (local i32)
    (local.set 1 (i32.load (local.get 0))) (i32.const 7))
  (func (export "minus_itself") (param i32) (result i32)
    (i32.sub (i32.load (local.get 0)) (i32.load (local.get 0))))
  (func (export "low_byte") (param i32) (result i32)
    (i32.and (i32.load (local.get 0)) (i32.const 255)))
  (func (export "store_then_load") (param i32 i32) (result i32)
    (i32.store (local.get 0) (i32.const 9)) (i32.load (local.get 1)))
  (func (export "fill_loop") (param i32 i32)
    (loop $l
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (i32.store (local.get 0) (global.get $g))
      (local.set 0 (i32.add (local.get 0) (i32.const 4)))
      (br_if $l (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))))))"""

ORDER_CALLS = [("two_stores", [PAGE - 4]), ("four_bytes", [PAGE - 2]),
               ("global_then_load", [PAGE]), ("store_between_globals", [PAGE - 1]),
               ("times_zero", [PAGE]), ("overwritten", [PAGE]), ("minus_itself", [PAGE - 2]),
               ("low_byte", [PAGE - 1]), ("store_then_load", [PAGE - 4, PAGE]),
               ("fill_loop", [PAGE - 40, 20])]


def test_guard_mode_keeps_merged_dead_and_reordered_accesses_exact():
    """Regression: with plain loads and stores, LLVM merged two stores straddling the end
    (the one in bounds was lost), and deleted loads whose value was dropped, overwritten
    or multiplied by 0 (no trap at all)."""
    m = fayasm.Module(ORDER)
    jit, ref = (fayasm.instantiate(m, engine=e) for e in ("jit", "interpreter"))
    assert jit.engine_state.guarded
    for name, args in ORDER_CALLS:
        got = _outcome(jit.exports[name], *[Val.from_bits("i32", a) for a in args])
        want = _outcome(ref.exports[name], *[Val.from_bits("i32", a) for a in args])
        assert got == want, name
        assert jit.exports.g.value == ref.exports.g.value, name
        assert jit.exports.mem.read(PAGE - 64, 64) == ref.exports.mem.read(PAGE - 64, 64), name


def test_a_memory_dying_while_the_registry_is_locked_is_removed_without_a_deadlock():
    """Regression: a memory collected while the registry's lock was held (a collection
    while it made its array) ran a finalizer that waited for that lock for ever."""
    import gc

    cycle: list = [Memory(1)]
    cycle.append(cycle)  # only the collector frees it
    guard.register(cycle[0])
    base = cycle[0].address
    assert (base, base + cycle[0].reservation) in guard.registered()
    del cycle
    done = threading.Event()

    def collect_while_locked():
        with guard._LOCK:  # the state a collection inside the module sees
            gc.collect()
        done.set()

    threading.Thread(target=collect_while_locked, daemon=True).start()
    assert done.wait(30), "the finalizer deadlocked"
    new = Memory(1)
    guard.register(new)  # publishes the removal left pending
    lows = [lo for lo, _ in guard.registered()]
    assert lows.count(new.address) == 1
    assert new.address == base or base not in lows


# -- the spec suite in explicit-check mode --------------------------------------------------------
# tests/test_spec.py runs all of spec/2.0 on the jit in the default mode (guard pages).
# These files cover every memory access width, offset and alignment at the edges, growth,
# bulk memory and SIMD loads and stores: the explicit-check code the fallback runs. The
# whole suite in this mode: FAYASM_GUARD_PAGES=0 FAYASM_ENGINES=jit pytest tests/test_spec.py
EXPLICIT_SPEC = ["address", "align", "endianness", "float_memory", "load", "memory",
                 "memory_grow", "memory_trap", "bulk", "memory_copy", "memory_fill",
                 "simd_address", "simd_load", "simd_store", "simd_load_splat"]


@pytest.mark.parametrize("name", EXPLICIT_SPEC)
def test_spec_memory_files_pass_on_the_jit_with_explicit_checks(name, monkeypatch):
    from conftest import SPEC_DIR

    from fayasm import features
    from fayasm.wast.parse import parse_script
    from fayasm.wast.runner import NOT_RUN, PASSED, Runner

    path = SPEC_DIR / "2.0" / f"{name}.wast"
    if not path.exists():
        pytest.skip(f"spec suite not found in {SPEC_DIR}")
    monkeypatch.setattr(memory, "GUARD_PAGES", False)
    with features.using(features.WASM2):
        report = Runner("jit", source=str(path)).run(
            parse_script(path.read_text(encoding="utf-8"), source=str(path)))
    failures = [f"line {o.line}: {o.kind}: {o.detail}" for o in report.failures]
    assert not failures, "\n".join(failures[:20])
    assert report.count(NOT_RUN) == 0 and report.count(PASSED) == len(report.outcomes)


def test_a_second_memory_traps_at_its_own_end_in_guard_mode():
    e = instance("""(module (memory $a 1) (memory $b (export "b") 2)
      (func (export "ld") (param i32) (result i64) (i64.load $b offset=4 (local.get 0)))
      (func (export "st") (param i32) (i64.store $b (local.get 0) (i64.const -1)))
      (func (export "ld0") (param i32) (result i32) (i32.load $a (local.get 0))))""")
    assert e.engine_state.guarded
    x = e.exports
    x.st(2 * PAGE - 8)
    assert x.ld(2 * PAGE - 12) == -1
    for f, a in ((x.ld, 2 * PAGE - 11), (x.st, 2 * PAGE - 7), (x.ld0, PAGE - 3)):
        with pytest.raises(Trap, match="out of bounds memory access"):
            f(a)
    assert x.ld0(PAGE - 4) == 0


def test_a_fault_after_catching_a_host_exception_is_a_trap():
    # A try_table's handler takes a WasmException out of a host call: the trampoline
    # puts the thread block's HOST word back first, or the next out-of-bounds access
    # would be taken for a crash outside wasm (guard.py chains those to the default).
    r = _run("""
        import fayasm
        from fayasm.runtime import memory
        assert memory.GUARD_PAGES
        t = fayasm.Tag([])

        def host():
            raise fayasm.WasmException(t, ())

        m = fayasm.Module('''(module
          (import "h" "e" (tag $e)) (import "h" "f" (func $f)) (memory 1)
          (func (export "run") (result i32)
            (block $h (try_table (catch $e $h) (call $f)) (return (i32.const 0)))
            (i32.load (i32.const 70000))))''')
        inst = fayasm.instantiate(m, imports={"h": {"e": t, "f": host}}, engine="jit")
        for _ in range(3):
            try:
                inst.exports.run()
            except fayasm.Trap as e:
                print(e.code)
    """)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["memory_out_of_bounds"] * 3
