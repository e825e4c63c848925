"""Calls from Python into the jit (translator/llvm/calls.py, pyentry.py): the native
``__call__`` of plain numeric signatures must give exactly what Func.__call__ gives (the
same jit function called the generic way) and what the interpreter gives, for every
argument, result, error, trap, host exception, thread and re-entry."""
from __future__ import annotations

import enum
import gc
import math
import struct
import sys
import threading

import pytest

import fayasm
from fayasm import Func, FuncType, ValType
from fayasm.runtime.errors import Error, Exhaustion, Trap
from fayasm.translator.llvm import calls

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64

IDENT = """(module
  (func (export "i32") (param i32) (result i32) (local.get 0))
  (func (export "i64") (param i64) (result i64) (local.get 0))
  (func (export "f32") (param f32) (result f32) (local.get 0))
  (func (export "f64") (param f64) (result f64) (local.get 0))
  (func (export "f32bits") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
  (func (export "f64bits") (param f64) (result i64) (i64.reinterpret_f64 (local.get 0)))
  (func (export "nan32") (result f32) (f32.reinterpret_i32 (i32.const 0xffa00001)))
  (func (export "nan64") (result f64) (f64.reinterpret_i64 (i64.const 0x7ff4000000000abc)))
  (func (export "mix") (param i32 i64 f32 f64) (result f64)
    (f64.add (f64.add (f64.convert_i32_s (local.get 0)) (f64.convert_i64_s (local.get 1)))
             (f64.add (f64.promote_f32 (local.get 2)) (local.get 3))))
  (func (export "none") (param i32))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "v128") (param v128) (result v128) (local.get 0))
  (func (export "ref") (param externref) (result externref) (local.get 0))
  (func (export "two") (param i32) (result i32 i32) (local.get 0) (local.get 0))
  (func (export "multi") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    (local.get 3) (local.get 2) (local.get 1) (local.get 0)))"""

EXPORTS = ["i32", "i64", "f32", "f64", "f32bits", "f64bits", "mix", "none", "div", "two",
           "multi"]


class Small(enum.IntEnum):
    ONE = 1


class MyFloat(float):
    pass


def _nan(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


VALUES = [0, 1, -1, 2**31 - 1, -2**31, 2**31, 2**32 - 1, 2**32, -2**31 - 1, 2**63 - 1,
          -2**63, 2**63, 2**64 - 1, 2**64, -2**63 - 1, 2**200, True, False, Small.ONE,
          0.0, -0.0, 1.5, -2.5, 1 + 2**-24, 1 + 3 * 2**-24, 3.4028235677973366e38, 1e300,
          -1e300, 5e-324, 1e-45, 7e-46, math.inf, -math.inf, math.nan, _nan(0x7FF4000000000001),
          _nan(0xFFF8000000000ABC), _nan(0x7FFFFFFFE0000000), MyFloat(2.5), None, "1",
          1j, [1], object()]


@pytest.fixture(scope="module")
def jit():
    return fayasm.instantiate(fayasm.Module(IDENT), engine="jit")


@pytest.fixture(scope="module")
def ref():
    return fayasm.instantiate(fayasm.Module(IDENT), engine="interpreter")


def outcome(f, *args, **kw):
    """What a call gives: ("ok", result with float bits) or (exception type, message)."""
    try:
        r = f(*args, **kw)
    except Exception as e:  # noqa: BLE001 - the outcome is what is compared
        return (type(e).__name__, str(e))
    if isinstance(r, tuple):
        return ("ok", "tuple", tuple(_bits(x) for x in r))
    return ("ok", type(r).__name__, _bits(r))


def _bits(x):
    """A result as comparable data: a float as its bits (NaNs and signed zeros exact)."""
    return struct.pack("<d", x) if isinstance(x, float) else x


def test_plain_signatures_get_the_native_call(jit):
    for name in EXPORTS:
        f = getattr(jit.exports, name)
        assert isinstance(f, calls.JitFunc) and isinstance(f, Func)
        with pytest.raises(Error):  # the first call from Python compiles the native one
            f(*[object()] * len(f.type.params))
        assert type(type(f).__dict__["__call__"]).__name__ == "method_descriptor", name


def test_the_native_call_is_compiled_on_the_first_call_only(jit):
    """SQLite's 79 signatures spent 1 s compiling native calls no one made."""
    # A signature of its own: the class (and its native call) is per signature.
    m = fayasm.Module('(module (func (export "g") (param i64 f64 i32 i32 i64) (result f64)'
                      ' (f64.add (f64.convert_i64_s (local.get 0)) (local.get 1))))')
    f = fayasm.instantiate(m, engine="jit").exports.g
    assert type(type(f).__dict__["__call__"]).__name__ == "function"
    assert f(2, 0.5, 0, 0, 0) == 2.5
    assert type(type(f).__dict__["__call__"]).__name__ == "method_descriptor"
    assert f(3, 0.25, 0, 0, 0) == 3.25
    for name in ("v128", "ref"):
        assert type(getattr(jit.exports, name)) is calls.JitFunc  # Func.__call__


@pytest.mark.parametrize("name", ["i32", "i64", "f32", "f64", "f32bits", "f64bits", "none"])
def test_every_argument_gives_what_the_generic_path_and_the_interpreter_give(jit, ref, name):
    fast, slow, interp = getattr(jit.exports, name), getattr(jit.exports, name), \
        getattr(ref.exports, name)
    for v in VALUES:
        want = outcome(Func.__call__, slow, v)
        assert outcome(fast, v) == want, (name, v)
        assert outcome(interp, v) == want, (name, v)


def test_four_kinds_of_argument_at_once(jit, ref):
    for args in [(1, 2, 3.5, 4.25), (-1, -2**63, 1e-45, -0.0), (2**32 - 1, 2**64 - 1, 1e39, 1.0),
                 (1, 2, math.nan, 4.0), (1.0, 2, 3.0, 4.0), (1, 2, 3, 4)]:
        want = outcome(ref.exports.mix, *args)
        assert outcome(jit.exports.mix, *args) == want == outcome(Func.__call__, jit.exports.mix,
                                                                    *args), args


def test_several_results_come_back_as_a_tuple_of_exact_values(jit, ref):
    for args in [(-1, -2**63, -0.0, math.inf), (2**32 - 1, 2**64 - 1, 1e39, 5e-324),
                 (7, 8, _nan(0x7FF8000000000123), _nan(0xFFF0000000000001)), (1, 2, 3, 4.0)]:
        want = outcome(ref.exports.multi, *args)
        got = outcome(jit.exports.multi, *args)
        assert want[0] == "ok" and want[1] == "tuple"
        assert got == want == outcome(Func.__call__, jit.exports.multi, *args)
    assert jit.exports.two(-5) == (-5, -5)


def test_f32_arguments_round_to_nearest_even_and_keep_nan_payloads(jit):
    f32 = jit.exports.f32bits
    assert f32(1 + 2**-24) == 0x3F800000  # a tie: to even
    assert f32(1 + 3 * 2**-24) == 0x3F800002
    assert f32(3.4028235677973366e38) == 0x7F800000  # past the largest f32: infinity
    assert f32(-0.0) == -0x80000000
    assert f32(_nan(0xFFF8000000000000 | (0x123 << 29))) == 0xFFC00123 - 2**32  # a NaN's payload
    assert f32(_nan(0x7FF8000000000000 | (0x123 << 29))) == 0x7FC00123


def test_nan_payloads_come_back_exact(jit, ref):
    for name in ("nan32", "nan64"):
        got = getattr(jit.exports, name)()
        want = getattr(ref.exports, name)()
        assert struct.pack("<d", got) == struct.pack("<d", want)
    assert struct.pack("<d", jit.exports.nan64()) == struct.pack("<Q", 0x7FF4000000000ABC)
    x = _nan(0xFFF0000000000001)  # a signalling f64 NaN goes through unquieted
    assert struct.pack("<d", jit.exports.f64(x)) == struct.pack("<d", x)
    assert jit.exports.f64bits(x) == -0x000FFFFFFFFFFFFF


def test_wrong_argument_counts_and_keywords(jit):
    f = jit.exports.div
    for args in [(), (1,), (1, 2, 3), tuple(range(300))]:
        want = outcome(Func.__call__, f, *args)
        assert want[0] == "ArgumentTypeError"
        assert outcome(f, *args) == want
    with pytest.raises(TypeError):
        f(1, b=2)
    with pytest.raises(TypeError):
        f(a=1, b=2)
    assert f(7, 2) == 3


def test_a_trap_in_the_native_call_then_the_instance_works_on(jit):
    f = jit.exports.div
    for _ in range(1000):
        with pytest.raises(Trap) as info:
            f(1, 0)
        assert str(info.value).startswith("integer divide by zero")
        assert info.value.frames == ["div"]
    with pytest.raises(Trap, match="integer overflow"):
        f(-2**31, -1)
    assert f(-7, 2) == -3


def test_no_reference_leaks_on_any_path(jit):
    none, div, i64 = jit.exports.none, jit.exports.div, jit.exports.i64
    big = 2**62 + 12345

    def rounds(n):
        for _ in range(n):
            none(1)
            i64(big)
            div(Small.ONE, 1)  # the generic path, on a bound method of the Func
            try:
                div(1, 0)
            except Trap:
                pass

    rounds(10)
    gc.collect()  # what earlier tests' tracebacks still hold
    before = (sys.getrefcount(None), sys.getrefcount(div), sys.getrefcount(big))
    rounds(5000)
    gc.collect()
    after = (sys.getrefcount(None), sys.getrefcount(div), sys.getrefcount(big))
    assert abs(after[0] - before[0]) < 50 and after[1:] == before[1:]


HOSTED = """(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (func (export "call") (param i32) (result i32)
    (i32.add (call $host (local.get 0)) (i32.const 1)))
  (func (export "square") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0))))"""


def test_host_exceptions_come_back_as_themselves(engine):
    err = ValueError("from the host")

    def host(n):
        if n == 1:
            raise err
        if n == 2:
            raise KeyboardInterrupt
        if n == 3:
            raise Trap("host trap")
        return n

    inst = fayasm.instantiate(fayasm.Module(HOSTED), imports={"env": {"host": host}},
                              engine=engine)
    with pytest.raises(ValueError, match="from the host") as info:
        inst.exports.call(1)
    assert info.value is err
    with pytest.raises(KeyboardInterrupt):
        inst.exports.call(2)
    with pytest.raises(Trap, match="host trap"):
        inst.exports.call(3)
    assert inst.exports.call(41) == 42


def test_reentry_through_the_native_call(engine):
    inst = None

    def host(n):
        return inst.exports.square(n) if n < 100 else inst.exports.call(n - 100)

    inst = fayasm.instantiate(fayasm.Module(HOSTED), imports={"env": {"host": host}},
                              engine=engine)
    assert inst.exports.call(7) == 50
    assert inst.exports.call(107) == 51


CROSSING = """(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (func $inner (param i32) (result i32) (i32.add (call $host (local.get 0)) (i32.const 1)))
  (func $mid (param i32) (result i32) (i32.add (call $inner (local.get 0)) (i32.const 1)))
  (func $outer (export "outer") (param i32) (result i32)
    (i32.add (call $mid (local.get 0)) (i32.const 1))))"""


def test_regression_reentry_exhaustion_is_at_the_host_call_wherever_the_stack_starts():
    """Recursion through the host ran out of C stack in whichever jit frame checked next
    (so the innermost frame depended on where the stack started); a re-entry now needs
    process.ENTRY_RESERVE bytes, so it ends at the host call, as on the other engines."""
    inst = None

    def host(n):
        return inst.exports.outer(n)

    inst = fayasm.instantiate(fayasm.Module(CROSSING), imports={"env": {"host": host}},
                              engine="jit")

    seen = []

    def at(depth):
        if depth:  # through C (sorted calls its key): each level takes some C stack
            sorted([0], key=lambda _: at(depth - 1))
            return 0
        with pytest.raises(Exhaustion) as info:
            inst.exports.outer(1)
        seen.append(info.value.frames)
        return 0

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(60_000)  # the C stack, not Python's limit, is what runs out
    try:
        for depth in range(0, 40, 3):
            at(depth)
            frames = seen[-1]
            assert frames[:3] == ["inner", "mid", "outer"], depth
            assert frames == ["inner", "mid", "outer"] * (len(frames) // 3)
    finally:
        sys.setrecursionlimit(old)
    assert inst.exports.outer.type == FuncType([I32], [I32])


def test_calls_from_many_threads(jit):
    errors = []
    mix, div = jit.exports.mix, jit.exports.div
    start = threading.Barrier(8)

    def work(k):
        try:
            start.wait()
            for i in range(3000):
                assert mix(k, i, 0.5, 0.25) == k + i + 0.75
                if i % 100 == 0:
                    with pytest.raises(Trap) as info:
                        div(k, 0)
                    assert info.value.frames == ["div"]
                assert div(i * 8 + k, 8) == i
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors[0]


def test_other_signatures_take_func_call():
    inst = fayasm.instantiate(fayasm.Module(IDENT), engine="jit")
    assert inst.exports.v128(2**128 - 3) == 2**128 - 3
    marker = object()
    assert inst.exports.ref(marker) is marker
    with pytest.raises(Error):
        inst.exports.v128(-1)


COUNTING = """(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (func (export "count") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1))
  (func $rec (export "rec") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (call $rec (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
  (func (export "via") (param i32) (result i32) (call $host (local.get 0))))"""


@pytest.mark.parametrize("kind", ["fuel", "max_stack", "both"])
def test_metered_and_stack_limited_native_calls_count_as_func_call(kind):
    """Two twin instances, one called through the native __call__, one through
    Func.__call__ (the ctypes path, metering.metered and stack_limited): the same results,
    traps and fuel left after every call, host re-entries included."""
    from fayasm import ResourceLimits

    opts = {}
    if kind in ("fuel", "both"):
        opts["fuel"] = 5_000
    if kind in ("max_stack", "both"):
        opts["limits"] = ResourceLimits(max_stack=200)
    twins = []
    for _ in range(2):
        box = []
        inst = fayasm.instantiate(fayasm.Module(COUNTING), engine="jit", imports={
            "env": {"host": lambda n, box=box: box[0].exports.count(n) + box[0].exports.rec(3)}},
            **opts)
        box.append(inst)
        twins.append(inst)
    fast, slow = twins
    assert type(fast.exports.count).__name__.endswith("m")
    steps = [("count", 10), ("rec", 50), ("via", 7), ("rec", 500), ("count", 300),
             ("via", 100)] * 8
    for name, n in steps:
        a = outcome(getattr(fast.exports, name), n)
        b = outcome(Func.__call__, getattr(slow.exports, name), n)
        assert a == b, (name, n)
        if "fuel" in opts:
            assert fast.get_fuel() == slow.get_fuel()
    if "fuel" in opts:
        assert fast.get_fuel() == 0  # the steps ran it out
        fast.add_fuel(100)
        slow.add_fuel(100)
        assert outcome(fast.exports.count, 50) == outcome(Func.__call__, slow.exports.count, 50)
        assert fast.get_fuel() == slow.get_fuel()


def test_an_interrupt_stops_a_native_call():
    from fayasm import Interrupt

    handle = Interrupt()
    inst = fayasm.instantiate(fayasm.Module(COUNTING), engine="jit", interrupt=handle,
                              imports={"env": {"host": lambda n: n}})
    assert inst.exports.count(1000) == 1000
    handle.interrupt()
    with pytest.raises(Trap):
        inst.exports.count(10)
    assert inst.exports.count(10) == 10


def test_a_stack_limited_instance_on_a_small_thread_stack_still_runs_leaf_calls():
    """The re-entry stack check (process.ENTRY_RESERVE) is for entries nested in another
    entry of the thread: a stack-limited instance's outermost entry starts at a nonzero
    depth but is not one, so on a thread whose whole stack is below the jit's limit a
    function that needs no check still runs, as it did."""
    from fayasm import ResourceLimits

    inst = fayasm.instantiate(fayasm.Module(COUNTING), engine="jit",
                              imports={"env": {"host": lambda n: n}},
                              limits=ResourceLimits(max_stack=100))
    got = []
    old = threading.stack_size(256 << 10)
    try:
        t = threading.Thread(target=lambda: got.append(outcome(inst.exports.count, 5)))
        t.start()
        t.join()
    finally:
        threading.stack_size(old)
    assert got == [("ok", "int", 5)]
