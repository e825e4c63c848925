"""GC on the jit (issue 17): the host-boundary cases of tests/test_gc.py on the jit, GC
objects crossing between jit and interpreter/python instances, and the jit's collector
(translator/llvm/gcheap.py): garbage goes, cycles included, while what jit frames,
globals and tables still name survives collections."""
from __future__ import annotations

import gc as cyclic
import struct
import subprocess
import sys
import threading

import pytest
from test_gc import (  # the same checks, run here on the jit by this file's fixture
    POINT,
    test_an_array_from_python,
    test_an_exported_struct_is_an_opaque_object_that_goes_back_in,
    test_anyref_round_trips_python_objects_and_ints_as_i31,
    test_extern_conversions_keep_identity,
    test_subtypes_and_casts_from_the_host,
)

import fayasm
from fayasm.runtime.gcobj import Struct
from fayasm.translator.llvm import gcheap

__all__ = ["test_an_array_from_python",
           "test_an_exported_struct_is_an_opaque_object_that_goes_back_in",
           "test_anyref_round_trips_python_objects_and_ints_as_i31",
           "test_extern_conversions_keep_identity", "test_subtypes_and_casts_from_the_host"]


@pytest.fixture
def inst():
    return fayasm.instantiate(fayasm.Module(POINT), engine="jit")


@pytest.mark.parametrize("other", ["interpreter", "python"])
def test_objects_keep_identity_and_type_between_the_jit_and_other_engines(other):
    m = fayasm.Module(POINT)
    j, o = fayasm.instantiate(m, engine="jit"), fayasm.instantiate(m, engine=other)
    q = j.exports.q(9)
    assert o.exports.is_q(q) == 1 and o.exports.x(q) == 9
    assert o.exports.eq(q, q) == 1 and o.exports.eq(q, j.exports.q(9)) == 0
    assert j.exports.eq(q, j.exports.id(q)) == 1
    p = o.exports.point(4, 5)
    assert j.exports.is_q(p) == 0 and j.exports.x(p) == 4
    assert j.exports.id(p) is p and j.exports.eq(p, o.exports.id(p)) == 1
    with pytest.raises(fayasm.Trap, match="cast failure"):
        j.exports.cast_p(o.exports.i31(3))


IMPORTER = """(module
  (type $p (sub (struct (field $x i32) (field $y (mut i8)))))
  (type $q (sub $p (struct (field $x i32) (field $y (mut i8)) (field $next (ref null $q)))))
  (import "o" "q" (func $q (param i32) (result (ref $q))))
  (import "o" "x" (func $x (param (ref $p)) (result i32)))
  (func (export "roundtrip") (param i32) (result i32) (local $v (ref $q))
    (local.set $v (call $q (local.get 0)))
    (i32.add (call $x (local.get $v))
             (ref.test (ref $q) (local.get $v)))))"""


@pytest.mark.parametrize("other", ["interpreter", "python"])
def test_a_jit_instance_imports_gc_functions_of_another_engine(other):
    o = fayasm.instantiate(fayasm.Module(POINT), engine=other)
    j = fayasm.instantiate(fayasm.Module(IMPORTER), engine="jit",
                           imports={"o": {"q": o.exports.q, "x": o.exports.x}})
    assert j.exports.roundtrip(41) == 42


def test_array_operations_cost_fuel_by_size_on_the_jit():
    from test_gc import test_array_operations_cost_fuel_by_size as check
    check("jit")


# -- the collector --------------------------------------------------------------------------
CHURN = """(module
  (type $n (struct (field $v (mut i32)) (field $next (mut (ref null $n)))))
  (type $a (array (mut (ref null $n))))
  (global $g (mut (ref null $n)) (ref.null $n))
  (table $t 1 anyref)
  ;; n garbage structs, each pointing at itself; every fourth also held by an array
  (func $garbage (param $n i32) (local $s (ref null $n))
    (loop $l
      (local.set $s (struct.new $n (local.get $n) (ref.null $n)))
      (struct.set $n $next (local.get $s) (local.get $s))
      (if (i32.eqz (i32.and (local.get $n) (i32.const 3)))
        (then (drop (array.new $a (local.get $s) (i32.const 2)))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "churn") (param $n i32) (call $garbage (local.get $n)))
  ;; a list of len nodes built in a local while garbage churns between nodes, one node
  ;; in the global and one in the table: the sum of the list's values after more churn
  (func (export "keep") (param $len i32) (param $churn i32) (result i32)
    (local $head (ref null $n)) (local $i i32) (local $sum i32)
    (loop $l
      (local.set $head (struct.new $n (local.get $i) (local.get $head)))
      (call $garbage (local.get $churn))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $len))))
    (global.set $g (struct.new $n (i32.const 1000) (ref.null $n)))
    (table.set $t (i32.const 0) (struct.new $n (i32.const 2000) (ref.null $n)))
    (call $garbage (local.get $churn))
    (loop $w
      (local.set $sum (i32.add (local.get $sum) (struct.get $n $v (local.get $head))))
      (local.set $head (struct.get $n $next (local.get $head)))
      (br_if $w (i32.eqz (ref.is_null (local.get $head)))))
    (i32.add (local.get $sum)
      (i32.add (struct.get $n $v (global.get $g))
               (struct.get $n $v (ref.cast (ref $n) (table.get $t (i32.const 0)))))))
  (func (export "set") (param $v i32)
    (global.set $g (struct.new $n (local.get $v) (ref.null $n)))
    (table.set $t (i32.const 0) (struct.new $n (i32.add (local.get $v) (i32.const 1))
                                             (ref.null $n))))
  (func (export "read") (result i32)
    (i32.add (struct.get $n $v (global.get $g))
             (struct.get $n $v (ref.cast (ref $n) (table.get $t (i32.const 0))))))
  ;; live references in the frames of a recursion, each frame churning before it returns
  (func $deep (export "deep") (param $d i32) (param $churn i32) (result i32)
    (local $mine (ref null $n))
    (local.set $mine (struct.new $n (local.get $d) (ref.null $n)))
    (if (result i32) (local.get $d)
      (then
        (i32.add (call $deep (i32.sub (local.get $d) (i32.const 1)) (local.get $churn))
                 (block (result i32)
                   (call $garbage (local.get $churn))
                   (struct.get $n $v (local.get $mine)))))
      (else (struct.get $n $v (local.get $mine))))))"""


@pytest.fixture
def small_threshold(monkeypatch):
    """Collections every few thousand words, so a test churns little."""
    monkeypatch.setattr(gcheap, "COLLECT_EVERY", 2000)
    monkeypatch.setattr(gcheap.STATS, "threshold", 2000)
    return gcheap.STATS


def _live_structs() -> int:
    cyclic.collect()
    return sum(1 for o in cyclic.get_objects() if type(o) is Struct)


def test_garbage_structs_and_their_cycles_are_collected(small_threshold):
    inst = fayasm.instantiate(fayasm.Module(CHURN), engine="jit")
    inst.exports.churn(100)
    before, runs = _live_structs(), small_threshold.collections
    inst.exports.churn(50_000)
    assert small_threshold.collections > runs
    assert len(gcheap.HEAP) < 2 * small_threshold.threshold
    assert _live_structs() < before + 2 * small_threshold.threshold


def test_what_frames_globals_and_tables_name_survives_collections(small_threshold):
    inst = fayasm.instantiate(fayasm.Module(CHURN), engine="jit")
    runs = small_threshold.collections
    assert inst.exports.keep(300, 50) == sum(range(300)) + 3000
    assert small_threshold.collections > runs + 2


def test_what_only_a_global_and_a_table_name_survives_collections(small_threshold):
    inst = fayasm.instantiate(fayasm.Module(CHURN), engine="jit")
    inst.exports.set(20)
    runs = small_threshold.collections
    inst.exports.churn(20_000)
    assert small_threshold.collections > runs
    assert inst.exports.read() == 41


def test_live_references_in_a_deep_recursion_survive_collections(small_threshold):
    inst = fayasm.instantiate(fayasm.Module(CHURN), engine="jit")
    runs = small_threshold.collections
    assert inst.exports.deep(400, 30) == sum(range(401))
    assert small_threshold.collections > runs


def test_no_collection_while_another_thread_is_inside_an_entry(small_threshold):
    """The collector scans only its own thread's stack: while another thread is inside
    an entry (here blocked in a host call), it waits, and that thread's live struct
    survives the churn."""
    waiting, release = threading.Event(), threading.Event()

    def pause():
        waiting.set()
        release.wait(30)

    m = fayasm.Module("""(module
      (type $n (struct (field $v i32)))
      (import "h" "pause" (func $pause))
      (func (export "hold") (result i32) (local $s (ref null $n))
        (local.set $s (struct.new $n (i32.const 77)))
        (call $pause)
        (struct.get $n $v (local.get $s))))""")
    holder = fayasm.instantiate(m, engine="jit", imports={"h": {"pause": pause}})
    out = []
    t = threading.Thread(target=lambda: out.append(holder.exports.hold()))
    t.start()
    assert waiting.wait(30)
    churn = fayasm.instantiate(fayasm.Module(CHURN), engine="jit")
    skipped = small_threshold.skipped
    churn.exports.churn(20_000)
    assert small_threshold.skipped > skipped
    release.set()
    t.join(30)
    assert out == [77]
    runs = small_threshold.collections
    churn.exports.churn(20_000)
    assert small_threshold.collections > runs  # collections resume


def test_regression_collection_on_the_main_thread_read_pthread_self_truncated():
    """pthread_self was called with ctypes' default int result: the first collection
    truncated the thread id and pthread_getattr_np crashed the process (a fresh one here,
    collecting on its main thread)."""
    code = ("import fayasm; from fayasm.translator.llvm import gcheap; "
            "gcheap.STATS.threshold = 1000; "
            f"i = fayasm.instantiate(fayasm.Module({CHURN!r}), engine='jit'); "
            "i.exports.churn(5000); assert gcheap.STATS.collections > 0; print('ok')")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-2000:]
    tops = []
    t = threading.Thread(target=lambda: tops.append(gcheap._stack_top()))
    t.start()
    t.join()
    assert tops[0] > 0 and tops[0] != gcheap._stack_top()  # each thread its own stack


# -- native field access (numeric fields read and written in place, gc.py) -----------------
FIELDS = """(module
  (type $s (struct (field (mut i8)) (field (mut i16)) (field (mut i32)) (field (mut i64))
                   (field (mut f64))))
  (type $a (array (mut i64)))
  (func (export "mk") (result (ref $s)) (struct.new_default $s))
  (func (export "arr") (param i32) (result (ref $a)) (array.new_default $a (local.get 0)))
  (func (export "store") (param (ref null $s) i32 i64 f64)
    (struct.set $s 0 (local.get 0) (local.get 1))
    (struct.set $s 1 (local.get 0) (local.get 1))
    (struct.set $s 2 (local.get 0) (local.get 1))
    (struct.set $s 3 (local.get 0) (local.get 2))
    (struct.set $s 4 (local.get 0) (local.get 3)))
  (func (export "load") (param (ref null $s)) (result i32 i32 i32 i32 i32 i64 i64)
    (struct.get_s $s 0 (local.get 0)) (struct.get_u $s 0 (local.get 0))
    (struct.get_s $s 1 (local.get 0)) (struct.get_u $s 1 (local.get 0))
    (struct.get $s 2 (local.get 0)) (struct.get $s 3 (local.get 0))
    (i64.reinterpret_f64 (struct.get $s 4 (local.get 0))))
  (func (export "aset") (param (ref null $a) i32 i64) (array.set $a (local.get 0)
    (local.get 1) (local.get 2)))
  (func (export "aget") (param (ref null $a) i32) (result i64)
    (array.get $a (local.get 0) (local.get 1)))
  (func (export "alen") (param (ref null $a)) (result i32) (array.len (local.get 0))))"""


def test_native_field_access_agrees_with_the_interpreter_on_shared_objects():
    m = fayasm.Module(FIELDS)
    j, o = fayasm.instantiate(m, engine="jit"), fayasm.instantiate(m, engine="interpreter")
    nan = struct.unpack("<d", struct.pack("<Q", 0x7FF4000000000123))[0]  # a signalling NaN
    for maker, setter, getter in ((j, j, o), (o, j, j), (j, o, j), (o, o, j)):
        s = maker.exports.mk()
        setter.exports.store(s, -129, -(1 << 63), nan)
        want = o.exports.load(s)
        assert getter.exports.load(s) == want
        assert want[:5] == (127, 127, -129, 0xFF7F, -129) and want[5] == -(1 << 63)
        assert want[6] == 0x7FF4000000000123  # the payload, not quieted
        a = maker.exports.arr(3)
        setter.exports.aset(a, 2, -5)
        assert getter.exports.aget(a, 2) == -5 and getter.exports.alen(a) == 3


@pytest.mark.parametrize("call,message", [
    (lambda e, s, a: e.load(None), "null structure reference"),
    (lambda e, s, a: e.store(None, 1, 2, 3.0), "null structure reference"),
    (lambda e, s, a: e.aget(None, 0), "null array reference"),
    (lambda e, s, a: e.aset(None, 0, 1), "null array reference"),
    (lambda e, s, a: e.alen(None), "null array reference"),
    (lambda e, s, a: e.aget(a, 3), "out of bounds array access"),
    (lambda e, s, a: e.aset(a, -1, 1), "out of bounds array access"),
])
def test_native_field_access_traps(call, message):
    inst = fayasm.instantiate(fayasm.Module(FIELDS), engine="jit")
    with pytest.raises(fayasm.Trap, match=message):
        call(inst.exports, inst.exports.mk(), inst.exports.arr(3))


def test_any_fields_hold_objects_i31_values_host_values_and_null():
    m = fayasm.Module("""(module
      (type $b (struct (field (mut anyref))))
      (type $arr (array (mut anyref)))
      (func (export "box") (param anyref) (result (ref $b)) (struct.new $b (local.get 0)))
      (func (export "put") (param (ref $b) anyref) (struct.set $b 0 (local.get 0)
        (local.get 1)))
      (func (export "take") (param (ref $b)) (result anyref) (struct.get $b 0 (local.get 0)))
      (func (export "both") (param anyref) (result anyref) (local $a (ref $arr))
        (local.set $a (array.new $arr (ref.null any) (i32.const 2)))
        (array.set $arr (local.get $a) (i32.const 1) (local.get 0))
        (array.get $arr (local.get $a) (i32.const 1))))""")
    j, o = fayasm.instantiate(m, engine="jit"), fayasm.instantiate(m, engine="interpreter")
    host = object()
    b = j.exports.box(None)
    for v in (5, -(1 << 30), host, b, None, j.exports.box(7)):
        j.exports.put(b, v)
        got = j.exports.take(b)
        assert got is v or got == v
        assert o.exports.take(b) is got or o.exports.take(b) == got
        assert j.exports.both(v) is got or j.exports.both(v) == got
    o.exports.put(b, 9)
    assert j.exports.take(b) == 9
