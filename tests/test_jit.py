"""engine="jit" specifics: traps unwinding native code, host exceptions, exhaustion,
memory growth, the disk cache, the lazy tier, threads, and instances of different engines
linked together."""
from __future__ import annotations

import os
import threading

import pytest

import fayasm
from fayasm import Exhaustion, Func, FuncType, Global, Memory, Table, Trap, Val

pytest.importorskip("llvmlite")

from fayasm.runtime import memory
from fayasm.translator.llvm import cache, jit, tiering


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test compiles into a cache directory of its own."""
    monkeypatch.setenv("FAYASM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FAYASM_CACHE", raising=False)


def jit_instance(wat: str, imports=None, **kw):
    return fayasm.instantiate(fayasm.Module(wat), imports=imports, engine="jit", **kw)


# -- traps --------------------------------------------------------------------------------------
TRAPS = """
(module
  (type $v (func))
  (memory 1)
  (table 4 funcref)
  (elem (i32.const 0) $leaf $middle)
  (func $leaf (i32.store (i32.const 70000) (i32.const 1)))
  (func $middle (call $leaf))
  (func $top (export "top") (call $middle))
  (func (export "indirect") (param i32) (call_indirect (type $v) (local.get 0)))
  (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func (export "rem") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "shift") (param i32 i32) (result i32) (i32.shl (local.get 0) (local.get 1)))
)
"""


@pytest.mark.parametrize("guard_pages", ["0", "1"])
def test_trap_unwinds_nested_native_frames_with_backtrace(guard_pages, monkeypatch):
    monkeypatch.setattr(memory, "GUARD_PAGES", guard_pages == "1")
    inst = jit_instance(TRAPS)
    e = inst.exports
    with pytest.raises(Trap) as info:
        e.top()
    assert info.value.code == "memory_out_of_bounds"
    # Inlining may merge frames; the entry is always there, and so is the innermost
    # function of an explicit check (its trap call names it). A guard-page fault knows
    # only its code address: the innermost frame is the function the faulting access
    # was compiled into, which may be one that inlined it (translator/llvm/guard.py).
    frames = info.value.frames
    innermost = {"leaf"} if not inst.engine_state.guarded else {"leaf", "middle", "top"}
    assert frames[0] in innermost and frames[-1] == "top"
    with pytest.raises(Trap) as info:
        e.indirect(1)
    assert info.value.frames[0] in innermost - {"top"}


@pytest.mark.parametrize("args, message", [
    ((2,), "uninitialized element 2"),
    ((4,), "undefined element 4"),
    ((-1,), "undefined element 4294967295"),
])
def test_call_indirect_traps_name_the_index(args, message):
    e = jit_instance(TRAPS).exports
    with pytest.raises(Trap) as info:
        e.indirect(*args)
    assert info.value.message == message


def test_numeric_traps_and_the_edge_cases_that_must_not_trap():
    e = jit_instance(TRAPS).exports
    for x in (float("nan"), 2.0 ** 31, -2.0 ** 31 - 1, float("inf")):
        with pytest.raises(Trap) as info:
            e.trunc(x)
        assert info.value.code in ("invalid_conversion_to_integer", "integer_overflow")
    assert e.trunc(-2.0 ** 31 - 0.5) == -2 ** 31
    assert e.rem(-2 ** 31, -1) == 0  # the hardware would fault here
    assert e.shift(1, 33) == 2  # counts are taken modulo 32
    with pytest.raises(Trap, match="integer divide by zero"):
        e.rem(1, 0)


def test_many_traps_in_a_row_leave_the_instance_usable():
    e = jit_instance(TRAPS).exports
    for _ in range(2000):
        with pytest.raises(Trap):
            e.top()
    assert e.rem(7, 3) == 1


# -- host functions -----------------------------------------------------------------------------
HOST = """
(module
  (import "env" "cb" (func $cb (param i32) (result i32)))
  (func $f (export "f") (param i32) (result i32)
    (i32.add (call $cb (local.get 0)) (i32.const 1))))
"""


class Boom(Exception):
    pass


def test_host_exception_reaches_caller_through_nested_wasm_and_host_frames():
    inst = None
    problem = Boom("deep")

    def cb(n):
        if n == 0:
            raise problem
        return inst.exports.f(n - 1)  # host -> wasm -> host -> ...

    inst = jit_instance(HOST, {"env": {"cb": cb}})
    with pytest.raises(Boom) as info:
        inst.exports.f(30)
    assert info.value is problem
    inst2 = jit_instance(HOST, {"env": {"cb": lambda n: n * 2}})
    assert inst2.exports.f(20) == 41


def test_host_can_raise_a_trap_and_base_exceptions_pass_through():
    def trap(n):
        raise Trap("unreachable")

    inst = jit_instance(HOST, {"env": {"cb": trap}})
    with pytest.raises(Trap) as info:
        inst.exports.f(1)
    assert info.value.message == "unreachable" and "f" in info.value.frames

    def stop(n):
        raise KeyboardInterrupt

    inst = jit_instance(HOST, {"env": {"cb": stop}})
    with pytest.raises(KeyboardInterrupt):
        inst.exports.f(1)


def test_host_returning_a_bad_value_is_a_fayasm_error():
    inst = jit_instance(HOST, {"env": {"cb": lambda n: "not an int"}})
    with pytest.raises(fayasm.Error):
        inst.exports.f(1)


# -- exhaustion -----------------------------------------------------------------------------------
def test_recursion_with_big_frames_is_exhaustion_not_a_crash():
    locals_ = " ".join(["(local f64)"] * 300)
    sets = " ".join(f"(local.set {k + 1} (f64.convert_i32_s (local.get 0)))" for k in range(300))
    gets = "(f64.const 0)" + "".join(f" (local.get {k + 1}) (f64.add)" for k in range(300))
    inst = jit_instance(f"""(module
      (func $r (export "r") (param i32) (result f64) {locals_}
        {sets}
        (if (result f64) (i32.eqz (local.get 0)) (then {gets})
          (else (f64.add (call $r (i32.sub (local.get 0) (i32.const 1))) {gets})))))""")
    with pytest.raises(Exhaustion):
        inst.exports.r(10 ** 6)
    assert inst.exports.r(3) == 300 * (3 + 2 + 1 + 0)


def test_mutual_recursion_through_a_table_is_exhaustion():
    inst = jit_instance("""(module
      (type $t (func (param i32) (result i32)))
      (table funcref (elem $a $b))
      (func $a (type $t) (call_indirect (type $t) (local.get 0) (i32.const 1)))
      (func $b (type $t) (call_indirect (type $t) (local.get 0) (i32.const 0)))
      (func (export "go") (result i32) (call $a (i32.const 0))))""")
    with pytest.raises(Exhaustion):
        inst.exports.go()
    with pytest.raises(Exhaustion):
        inst.exports.go()


def test_recursion_through_the_host_is_exhaustion_not_a_crash():
    inst = None

    def cb(n):
        return inst.exports.f(n + 1)

    inst = jit_instance(HOST, {"env": {"cb": cb}})
    with pytest.raises(Exhaustion):
        inst.exports.f(0)
    inst2 = jit_instance(HOST, {"env": {"cb": lambda n: n}})
    assert inst2.exports.f(5) == 6


# -- memory ---------------------------------------------------------------------------------------
MEM = """
(module
  (import "env" "mem" (memory 1 10))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))
"""


def test_memory_growth_by_python_and_guest_is_seen_by_both():
    mem = Memory(1, 10)
    e = jit_instance(MEM, {"env": {"mem": mem}}).exports
    with pytest.raises(Trap):
        e.peek(65536)
    assert mem.grow(2) == 1  # grown from Python
    assert e.size() == 3
    e.poke(3 * 65536 - 1, 42)  # the guest sees the new pages at once
    assert mem.read(3 * 65536 - 1, 1) == b"\x2a"
    address = mem.address
    assert e.grow(7) == 3 and mem.size == 10 and mem.address == address
    assert e.grow(1) == -1
    mem.buffer[10 * 65536 - 1] = 7
    assert e.peek(10 * 65536 - 1) == 7


# -- the disk cache -------------------------------------------------------------------------------
ADD = ('(module (func (export "add") (param i32 i32) (result i32)'
       ' (i32.add (local.get 0) (local.get 1))))')


def _entries(tmp_path):
    d = tmp_path / "cache" / "jit"
    return sorted(d.glob("*.o")) if d.is_dir() else []


def test_cache_miss_then_hit(tmp_path, monkeypatch):
    wasm = fayasm.Module(ADD).binary
    assert fayasm.instantiate(fayasm.Module(wasm), engine="jit").exports.add(2, 3) == 5
    (entry,) = _entries(tmp_path)

    def no_compiling(*args, **kw):
        raise AssertionError("compiled although the cache has the module")

    monkeypatch.setattr(jit, "build_object", no_compiling)
    assert fayasm.instantiate(fayasm.Module(wasm), engine="jit").exports.add(4, 5) == 9
    assert _entries(tmp_path) == [entry]


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_corrupted_cache_entry_is_ignored_and_rebuilt(tmp_path, damage):
    wasm = fayasm.Module(ADD).binary
    fayasm.instantiate(fayasm.Module(wasm), engine="jit")
    (entry,) = _entries(tmp_path)
    data = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(data[:len(data) // 2])
    elif damage == "flip":
        entry.write_bytes(data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:])
    elif damage == "garbage":
        entry.write_bytes(os.urandom(len(data)))
    else:
        entry.write_bytes(b"")
    assert fayasm.instantiate(fayasm.Module(wasm), engine="jit").exports.add(20, 22) == 42
    assert entry.read_bytes() == data  # rebuilt


def test_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("FAYASM_CACHE", "0")
    assert cache.cache_dir() is None
    assert jit_instance(ADD).exports.add(1, 1) == 2
    assert _entries(tmp_path) == []


def test_cache_location_follows_the_python_engine_convention(tmp_path, monkeypatch):
    monkeypatch.delenv("FAYASM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == str(tmp_path / "xdg" / "fayasm" / "jit")


# -- the lazy tier --------------------------------------------------------------------------------
LAZY = """
(module
  (type $t (func (param i32) (result i32)))
  (table funcref (elem $sq $inc))
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func $inc (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func $fact (export "fact") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fact (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "apply") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0))))
"""


def test_lazy_tier_compiles_on_first_call_then_swaps_in_optimised_code(monkeypatch):
    monkeypatch.setattr(tiering, "TIER_UP_SIZE", 0)
    inst = jit_instance(LAZY)
    ist = inst.engine_state
    code = ist.code
    assert code.lazy and not code.funcs  # nothing compiled before a call
    assert inst.exports.fact(20) == 2432902008176640000
    assert inst.exports.apply(0, 7) == 49 and inst.exports.apply(1, 7) == 8
    assert set(code.funcs) == {0, 1, 2, 3}
    assert tiering.wait_for_workers(300)
    assert code.upgrade is not None and ist.code is code.upgrade
    assert inst.exports.fact(5) == 120 and inst.exports.apply(0, 9) == 81
    # A new instance of the module starts on the optimised code.
    inst2 = fayasm.instantiate(inst.module, engine="jit")
    assert inst2.engine_state.code is code.upgrade and inst2.exports.apply(1, 1) == 2


# -- threads --------------------------------------------------------------------------------------
def test_lazy_glue_at_o0_gives_way_to_the_o2_glue(monkeypatch):
    """The lazy tier's glue is compiled at O0 (0.07 s for SQLite's 79 signatures, 0.86 s
    at O1); a whole-module build's O2 glue replaces its entry wrappers for later calls."""
    from fayasm.runtime.types import F64, I32, I64, FuncType
    from fayasm.translator.llvm import glue

    monkeypatch.setattr(tiering, "TIER_UP_SIZE", 0)
    monkeypatch.setattr(tiering, "_WORKER", False)
    ft = FuncType((I64, F64, I32, I64, I32, F64), (I64,))  # a signature of its own
    wat = ('(module (func (export "g") (param i64 f64 i32 i64 i32 f64) (result i64)'
           ' (i64.add (local.get 0) (local.get 3))))')
    lazy = jit_instance(wat)
    assert lazy.engine_state.code.lazy and glue._LEVEL[ft] == 0
    before = glue.entry_address(ft)
    assert lazy.exports.g(2, 0.0, 0, 5, 0, 0.0) == 7
    monkeypatch.setattr(tiering, "TIER_UP_SIZE", 10000)
    eager = jit_instance(wat.replace("i64.add", "i64.sub"))
    assert not eager.engine_state.code.lazy and glue._LEVEL[ft] == 2
    assert glue.entry_address(ft) != before
    assert eager.exports.g(2, 0.0, 0, 5, 0, 0.0) == -3
    assert lazy.exports.g(2, 0.0, 0, 5, 0, 0.0) == 7


def test_calls_from_several_threads():
    inst = None

    def cb(n):
        return n * 3

    inst = jit_instance(HOST, {"env": {"cb": cb}})
    errors, results = [], []

    def work(k):
        try:
            for i in range(300):
                results.append(inst.exports.f(k * 1000 + i) == 3 * (k * 1000 + i) + 1)
                with pytest.raises(Trap):
                    jit_instance(TRAPS).exports.top() if i % 100 == 0 else inst.exports.f(-1) \
                        and (_ for _ in ()).throw(Trap("unreachable"))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(results) and len(results) == 1200


# -- linking across engines -----------------------------------------------------------------------
def test_jit_imports_a_memory_an_interpreter_instance_exported():
    lib = fayasm.instantiate(fayasm.Module("""(module (memory (export "mem") 1 4)
      (func (export "read") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "grow") (result i32) (memory.grow (i32.const 1))))"""), engine="interpreter")
    e = jit_instance(MEM.replace("(memory 1 10)", "(memory 1 4)"),
                     {"env": {"mem": lib.exports.mem}}).exports
    e.poke(8, 0x55)
    assert lib.exports.read(8) == 0x55
    assert lib.exports.grow() == 1  # grown by the interpreter...
    assert e.size() == 2  # ...seen by the JIT
    e.poke(65536 + 3, 9)
    assert lib.exports.read(65536) == 9 << 24


@pytest.mark.parametrize("other", ["interpreter", "python"])
def test_tables_globals_and_functions_shared_across_engines(other):
    lib = fayasm.instantiate(fayasm.Module("""(module
      (type $t (func (param i32) (result i32)))
      (table (export "tab") 4 funcref)
      (global (export "g") (mut i32) (i32.const 100))
      (func $triple (export "triple") (type $t) (i32.mul (local.get 0) (i32.const 3)))
      (func (export "bump") (global.set 0 (i32.add (global.get 0) (i32.const 1))))
      (func (export "call") (param i32 i32) (result i32)
        (call_indirect (type $t) (local.get 1) (local.get 0)))
      (elem (i32.const 0) $triple))"""), engine=other)
    inst = jit_instance("""(module
      (type $t (func (param i32) (result i32)))
      (import "lib" "tab" (table 4 funcref))
      (import "lib" "g" (global $g (mut i32)))
      (import "lib" "triple" (func $triple (type $t)))
      (func $neg (export "neg") (type $t) (i32.sub (i32.const 0) (local.get 0)))
      (func (export "call") (param i32 i32) (result i32)
        (call_indirect (type $t) (local.get 1) (local.get 0)))
      (func (export "use_g") (result i32)
        (global.set $g (i32.add (global.get $g) (i32.const 10)))
        (call $triple (global.get $g)))
      (func (export "install") (table.set 0 (i32.const 1) (ref.func $neg)))
      (elem declare func $neg))""", {"lib": lib.exports})
    e = inst.exports
    assert e.call(0, 5) == 15  # the other engine's function, from the shared table
    e.install()  # the JIT puts its own function in the shared table...
    assert lib.exports.call(1, 5) == -5  # ...and the other engine calls it
    assert e.use_g() == 330 and lib.exports.g.value == 110
    lib.exports.bump()
    assert lib.exports.g.value == 111 and e.use_g() == 363
    lib.exports.tab.set(2, inst.exports.neg)
    assert e.call(2, 8) == -8 and lib.exports.call(2, 8) == -8


def test_interpreter_imports_jit_functions_and_traps_cross_engines():
    jitted = jit_instance("""(module
      (func (export "div") (param i32 i32) (result i32)
        (i32.div_u (local.get 0) (local.get 1))))""")
    interp = fayasm.instantiate(fayasm.Module("""(module
      (import "j" "div" (func $div (param i32 i32) (result i32)))
      (func (export "half") (param i32) (result i32) (call $div (local.get 0) (i32.const 2)))
      (func (export "bad") (param i32) (result i32) (call $div (local.get 0) (i32.const 0))))"""),
        imports={"j": jitted.exports}, engine="interpreter")
    assert interp.exports.half(9) == 4
    with pytest.raises(Trap) as info:
        interp.exports.bad(1)
    assert info.value.message == "integer divide by zero"
    assert info.value.frames[0] == "div" and "bad" in info.value.frames
    back = jit_instance("""(module
      (import "i" "bad" (func $bad (param i32) (result i32)))
      (func (export "outer") (result i32) (call $bad (i32.const 3))))""",
                        {"i": interp.exports})
    with pytest.raises(Trap) as info:
        back.exports.outer()
    assert info.value.frames[0] == "div" and info.value.frames[-1] == "outer"


def test_global_shared_with_python_engine_keeps_fast_plain_globals():
    g = Global(Val.i64(-5), mutable=True)
    untouched = Global(Val.i32(1), mutable=True)
    inst = jit_instance("""(module (import "e" "g" (global $g (mut i64)))
      (func (export "dec") (global.set $g (i64.sub (global.get $g) (i64.const 1)))))""",
                        {"e": {"g": g}})
    inst.exports.dec()
    assert g.value == -6 and g.val == Val.i64(-6)
    g.value = 40
    inst.exports.dec()
    assert g.value == 39
    assert type(untouched) is Global  # globals no JIT instance uses stay plain


def test_funcref_and_externref_values_cross_the_boundary():
    inst = jit_instance("""(module
      (table (export "t") 2 externref)
      (func (export "id") (param externref) (result externref) (local.get 0))
      (func (export "keep") (param externref) (table.set 0 (i32.const 0) (local.get 0)))
      (func (export "fr") (result funcref) (ref.func 0))
      (elem declare func 0))""")
    obj = object()
    assert inst.exports.id(obj) is obj and inst.exports.id(None) is None
    inst.exports.keep(obj)
    assert inst.exports.t.get(0) is obj
    f = inst.exports.fr()
    assert f is inst.exports.id  # the same Func, not a copy
    assert f(obj) is obj


F32 = """(module
  (import "e" "h" (func $h (param f32) (result f32)))
  (import "e" "h2" (func $h2 (param f32)))
  (global (export "g") (mut f32) (f32.const 0))
  (func (export "f") (param f32) (result f32)
    (global.set 0 (local.get 0)) (call $h2 (local.get 0)) (call $h (f32.neg (local.get 0))))
  (func (export "neg") (param f32) (result f32) (f32.neg (local.get 0))))"""


@pytest.mark.parametrize("bits", [0x7FA00001, 0xFFC00000, 0x00000001, 0x80000000])
def test_f32_values_keep_their_bits_through_every_path(bits):
    results = {}
    for engine in ("interpreter", "jit"):
        seen = []
        imports = {"e": {"h": Func(lambda x: x, FuncType(["f32"], ["f32"])),
                         "h2": Func(lambda x: seen.append(Val.f32(x) if x == x else x),  # noqa: B023
                                    FuncType(["f32"], []))}}
        inst = fayasm.instantiate(fayasm.Module(F32), imports, engine=engine)
        (out,) = inst.exports.f.invoke([Val.from_bits("f32", bits)])
        (neg,) = inst.exports.neg.invoke([Val.from_bits("f32", bits)])
        results[engine] = (out, neg, inst.exports.g.val, repr(seen))
    assert results["jit"] == results["interpreter"]
    assert results["jit"][1].bits == bits ^ 0x80000000  # exact, NaN payloads included
    assert results["jit"][2].bits == bits
    inst = fayasm.instantiate(fayasm.Module(F32), imports, engine="jit")
    assert inst.exports.neg(1.5) == -1.5
    assert inst.exports.neg(1e40) == float("-inf")  # rounded to f32 as every engine does


def test_table_grown_from_python_is_seen_by_jit_code():
    t = Table("funcref", 1)
    inst = jit_instance("""(module (import "e" "t" (table 1 funcref))
      (func (export "size") (result i32) (table.size 0))
      (func (export "is_null") (param i32) (result i32)
        (ref.is_null (table.get 0 (local.get 0)))))""",
                        {"e": {"t": t}})
    f = Func(lambda: None, FuncType([], []))
    assert t.grow(100, f) == 1
    assert inst.exports.size() == 101 and inst.exports.is_null(0) == 1
    assert inst.exports.is_null(100) == 0
    with pytest.raises(Trap, match="out of bounds table access"):
        inst.exports.is_null(101)


def test_dropped_instances_are_freed():
    import gc
    import weakref

    m = fayasm.Module("""(module (import "e" "h" (func $h (param i32) (result i32)))
      (table 1 funcref) (elem (i32.const 0) $f) (global (export "g") (mut funcref) (ref.null func))
      (func $f (export "f") (param i32) (result i32) (call $h (local.get 0))))""")
    refs = []
    for i in range(50):
        inst = fayasm.instantiate(m, imports={"e": {"h": lambda x: x + 1}}, engine="jit")
        assert inst.exports.f(i) == i + 1
        refs.append(weakref.ref(inst.engine_state))
    kept = inst.exports.f  # a Func keeps its instance alive
    del inst
    gc.collect()
    assert sum(r() is not None for r in refs) == 1
    assert kept(1) == 2


def test_importing_the_engine_fills_every_word_of_the_process_state():
    """The process state is filled by the modules that own its words (process, callbacks,
    references); importing the engine alone must bring them all in, or native code would
    call through a null word."""
    import subprocess
    import sys

    code = ("import fayasm.translator.llvm.engine\n"
            "from fayasm.translator.llvm.process import state\n"
            "from fayasm.translator.llvm.types import S\n"
            "print([n for n in ('SIGNAL', 'SET_ERR', 'HOST_CALL', 'RT_CALL', 'NULL_REC')"
            " if not state[getattr(S, n)]])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
