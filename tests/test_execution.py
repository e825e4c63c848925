"""The hard cases of execution, on every engine: traps with the spec's text and a
backtrace, host exceptions, exhaustion, fuel, deadlines, memory growth seen from Python."""
from __future__ import annotations

import ctypes
import time

import pytest

import fayasm
from fayasm import Exhaustion, Func, FuncType, Trap, Val

TRAPS = """
(module
  (type $ii (func (param i32) (result i32)))
  (memory 1)
  (table funcref (elem $id $f64))
  (func $id (param i32) (result i32) (local.get 0))
  (func $f64 (param f64) (result f64) (local.get 0))
  (func $load (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func $div (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $unreachable (export "unreachable") (unreachable))
  (func $indirect (export "indirect") (param i32) (result i32)
    (call_indirect (type $ii) (i32.const 7) (local.get 0)))
  (func $outer (export "outer") (param i32) (result i32) (call $load (local.get 0)))
)
"""


@pytest.fixture
def traps(engine):
    return fayasm.instantiate(fayasm.Module(TRAPS), engine=engine).exports


@pytest.mark.parametrize("call, message, code", [
    (lambda e: e.load(65535), "out of bounds memory access", "memory_out_of_bounds"),
    (lambda e: e.load(-1), "out of bounds memory access", "memory_out_of_bounds"),
    (lambda e: e.div(1, 0), "integer divide by zero", "integer_divide_by_zero"),
    (lambda e: e.div(-2**31, -1), "integer overflow", "integer_overflow"),
    (lambda e: e.unreachable(), "unreachable", "unreachable"),
    (lambda e: e.indirect(1), "indirect call type mismatch", "indirect_call_type_mismatch"),
    (lambda e: e.indirect(5), "undefined element", "undefined_element"),
])
def test_trap_has_spec_message_and_code(traps, call, message, code):
    with pytest.raises(Trap) as info:
        call(traps)
    assert info.value.message.startswith(message)
    assert info.value.code == code
    assert info.value.frames, "a trap carries a wasm backtrace"


def test_trap_backtrace_names_functions_innermost_first(engine):
    inst = fayasm.instantiate(fayasm.Module(TRAPS), engine=engine)
    with pytest.raises(Trap) as info:
        inst.exports.outer(70000)
    frames = info.value.frames
    if engine == "jit" and inst.engine_state.guarded:
        # A guard-page fault knows only its code address: LLVM inlined $load into
        # $outer, so the innermost frame is the function the access was compiled into
        # (docs/architecture.md, "Bounds checks and guard pages"; explicit checks name
        # $load, as the other engines do).
        assert frames[-1] == "outer" and frames[0] in ("load", "outer")
        assert "wasm backtrace" in str(info.value)
    else:
        assert frames[:2] == ["load", "outer"]
        assert "wasm backtrace" in str(info.value) and "load" in str(info.value)


def test_trap_backtrace_falls_back_to_index_without_names(engine):
    wasm = fayasm.Module("(module (func (export \"f\") (unreachable)) (func))").binary
    # The binary carries no name section, so the export name is the best name there is.
    inst = fayasm.instantiate(fayasm.Module(wasm), engine=engine)
    with pytest.raises(Trap) as info:
        inst.exports.f()
    assert info.value.frames == ["f"]
    wasm2 = fayasm.Module("(module (func (export \"g\") (call 1)) (func unreachable))").binary
    inst2 = fayasm.instantiate(fayasm.Module(wasm2), engine=engine)
    with pytest.raises(Trap) as info:
        inst2.exports.g()
    assert info.value.frames == ["func[1]", "g"]


HOST = """
(module
  (import "env" "boom" (func $boom (param i32)))
  (func (export "run") (param i32) (result i32)
    (call $boom (local.get 0))
    (i32.add (local.get 0) (i32.const 1)))
  (func (export "deep") (param i32)
    (if (i32.eqz (local.get 0)) (then (call $boom (i32.const 13)) (return)))
    (call 2 (i32.sub (local.get 0) (i32.const 1))))
)
"""


class HostProblem(Exception):
    pass


def test_host_exception_unwinds_and_reaches_caller(engine):
    problem = HostProblem("from the host")
    seen = []

    def boom(x):
        seen.append(x)
        if x == 13:
            raise problem

    inst = fayasm.instantiate(fayasm.Module(HOST), imports={"env": {"boom": boom}},
                              engine=engine)
    assert inst.exports.run(1) == 2
    with pytest.raises(HostProblem) as info:
        inst.exports.run(13)
    assert info.value is problem
    with pytest.raises(HostProblem):
        inst.exports.deep(50)  # unwinds 50 wasm frames
    assert inst.exports.run(5) == 6  # the instance still works
    assert seen == [1, 13, 13, 5]


RECURSE = """
(module
  (func $down (export "down") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 0))
      (else (i64.add (i64.const 1) (call $down (i64.sub (local.get 0) (i64.const 1))))))))
"""


def test_deep_recursion_gives_exhaustion_and_the_process_goes_on(engine):
    inst = fayasm.instantiate(fayasm.Module(RECURSE), engine=engine)
    with pytest.raises(Exhaustion) as info:
        inst.exports.down(1_000_000)
    assert info.value.message == "call stack exhausted"
    assert isinstance(info.value, Trap)
    assert inst.exports.down(1000) == 1000  # and the instance is still usable
    frames = info.value.frames
    assert frames and set(frames) == {"down"}  # a backtrace, as for any trap


CROSSING = """
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (func $inner (param i32) (result i32) (i32.add (call $host (local.get 0)) (i32.const 1)))
  (func $mid (param i32) (result i32) (i32.add (call $inner (local.get 0)) (i32.const 1)))
  (func $outer (export "outer") (param i32) (result i32)
    (i32.add (call $mid (local.get 0)) (i32.const 1))))
"""


def _runaway(n):
    return _runaway(n) + 1  # Python's recursion limit, inside the host function


def test_exhaustion_in_a_host_function_has_the_wasm_backtrace(engine):
    """The innermost frame is the function that called the host (on the jit, even where
    LLVM inlined it into its caller)."""
    host = lambda n: (_ for _ in ()).throw(Exhaustion())  # noqa: E731
    inst = fayasm.instantiate(fayasm.Module(CROSSING), imports={"env": {"host": host}},
                              engine=engine)
    with pytest.raises(Exhaustion) as info:
        inst.exports.outer(1)
    assert info.value.frames == ["inner", "mid", "outer"]


def test_a_host_functions_own_runaway_recursion_comes_back_as_itself(engine):
    """Issue 23: a host function that recursed to Python's limit on its own came back as
    the guest's Exhaustion; a host's exception comes back unchanged."""
    inst = fayasm.instantiate(fayasm.Module(CROSSING), imports={"env": {"host": _runaway}},
                              engine=engine)
    with pytest.raises(RecursionError):
        inst.exports.outer(1)
    assert inst.exports.outer.__class__  # the instance is still usable
    with pytest.raises(RecursionError):
        inst.exports.outer(2)


def test_exhaustion_across_reentry_has_every_wasm_frame(engine):
    """Recursion through a host function: the backtrace runs from the innermost wasm frame
    out to the outermost, across the host calls."""
    inst = None

    def host(n):
        return inst.exports.outer(n)

    inst = fayasm.instantiate(fayasm.Module(CROSSING), imports={"env": {"host": host}},
                              engine=engine)
    with pytest.raises(Exhaustion) as info:
        inst.exports.outer(1)
    frames = info.value.frames
    assert frames[-3:] == ["inner", "mid", "outer"] and frames[0] == "inner"
    assert len(frames) % 3 == 0 and frames == ["inner", "mid", "outer"] * (len(frames) // 3)


LOOP = """
(module
  (func (export "spin") (loop $l (br $l)))
  (func (export "count") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1)))
"""


def test_fuel_stops_an_infinite_loop(engine):
    inst = fayasm.instantiate(fayasm.Module(LOOP), engine=engine, fuel=100_000)
    with pytest.raises(Trap) as info:
        inst.exports.spin()
    assert info.value.message == "out of fuel"
    assert info.value.code == "out_of_fuel"


def test_fuel_counts_loop_iterations_and_calls(engine):
    inst = fayasm.instantiate(fayasm.Module(LOOP), engine=engine, fuel=1000)
    # One unit for the call, one per branch back: 10 iterations = 9 back edges.
    assert inst.exports.count(10) == 10
    inst2 = fayasm.instantiate(fayasm.Module(LOOP), engine=engine, fuel=10)
    assert inst2.exports.count(10) == 10  # 1 + 9 = 10 units: exactly enough
    with pytest.raises(Trap, match="out of fuel"):
        inst2.exports.count(1)


def test_deadline_stops_an_infinite_loop(engine):
    inst = fayasm.instantiate(fayasm.Module(LOOP), engine=engine, deadline=0.2)
    start = time.monotonic()
    with pytest.raises(Trap) as info:
        inst.exports.spin()
    elapsed = time.monotonic() - start
    assert info.value.message == "deadline exceeded"
    assert 0.2 <= elapsed < 5
    # The deadline applies per call: a short call afterwards succeeds.
    assert inst.exports.count(5) == 5


GROW = """
(module
  (memory (export "mem") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
"""


def test_memory_grown_by_guest_is_seen_through_buffer_without_copying(engine):
    inst = fayasm.instantiate(fayasm.Module(GROW), engine=engine)
    mem = inst.exports.mem
    address = mem.address
    assert len(mem.buffer) == 65536
    assert inst.exports.grow(3) == 1
    assert mem.size == 4 and len(mem.buffer) == 4 * 65536
    assert mem.address == address  # grown in place
    inst.exports.store(3 * 65536 + 8, 0x01020304)
    buf = mem.buffer
    assert bytes(buf[3 * 65536 + 8:3 * 65536 + 12]) == b"\x04\x03\x02\x01"
    buf[100] = 0x7F  # writes through the view are seen by the guest
    assert inst.exports.load(100) == 0x7F
    # An array over the buffer shares the memory (numpy.frombuffer works the same way).
    words = (ctypes.c_uint32 * 16).from_buffer(mem.buffer)
    inst.exports.store(16, 12345)
    assert words[4] == 12345
    words[5] = 777
    assert inst.exports.load(20) == 777


def test_memory_grow_past_maximum_fails_with_minus_one(engine):
    inst = fayasm.instantiate(fayasm.Module(
        '(module (memory 1 2) (func (export "grow") (param i32) (result i32) '
        '(memory.grow (local.get 0))))'), engine=engine)
    assert inst.exports.grow(1) == 1
    assert inst.exports.grow(1) == -1
    assert inst.exports.grow(0) == 2


def test_exact_values_through_invoke(engine):
    inst = fayasm.instantiate(fayasm.Module(
        '(module (func (export "neg") (param f32) (result f32) (f32.neg (local.get 0))))'),
        engine=engine)
    (out,) = inst.exports.neg.invoke([Val.from_bits("f32", 0x7FA00000)])
    assert out.bits == 0xFFA00000  # a signalling NaN's payload survives


def test_host_function_with_explicit_type(engine):
    f = Func(lambda a, b: (b, a), FuncType(["i64", "f64"], ["f64", "i64"]))
    inst = fayasm.instantiate(fayasm.Module(
        '(module (import "m" "swap" (func $s (param i64 f64) (result f64 i64)))'
        ' (func (export "f") (result f64 i64) (call $s (i64.const -5) (f64.const 2.5))))'),
        imports={"m": {"swap": f}}, engine=engine)
    assert inst.exports.f() == (2.5, -5)


TYPED = """
(module
  (type $ii (func (param i32) (result i32)))
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (elem declare func $inc)
  (table $t 2 (ref null $ii) (ref.func $inc))
  (func (export "call_ref") (param i32 i32) (result i32)
    (call_ref $ii (local.get 0) (table.get $t (local.get 1))))
  (func (export "as_non_null") (param i32) (result i32)
    (call_ref $ii (i32.const 5) (ref.as_non_null (table.get $t (local.get 0)))))
  (func (export "tail") (param i32) (result i32)
    (return_call_ref $ii (local.get 0) (ref.func $inc)))
  (func (export "on_null") (param i32) (result i32)
    (block $null
      (return (call_ref $ii (i32.const 10) (br_on_null $null (table.get $t (local.get 0))))))
    (i32.const -1))
  (func (export "on_non_null") (param i32) (result i32)
    (call_ref $ii (i32.const 20)
      (block $ok (result (ref $ii))
        (br_on_non_null $ok (table.get $t (local.get 0)))
        (ref.func $inc))))
  (func (export "null_result") (result (ref null $ii) externref i32)
    (ref.null $ii) (ref.null extern) (i32.const 3))
  (func (export "clear") (table.set $t (i32.const 1) (ref.null $ii)))
  (func (export "take") (param (ref $ii)) (result i32) (call_ref $ii (i32.const 1) (local.get 0)))
  (func (export "inc") (type $ii) (call $inc (local.get 0)))
)
"""


@pytest.fixture
def typed(engine):
    return fayasm.instantiate(fayasm.Module(TYPED), engine=engine).exports


def test_typed_references_run(typed):
    assert typed.call_ref(41, 0) == 42
    assert typed.as_non_null(1) == 6
    assert typed.tail(7) == 8
    assert typed.on_null(0) == 11
    assert typed.on_non_null(1) == 21
    typed.clear()
    assert typed.on_null(1) == -1
    assert typed.on_non_null(1) == 21  # the fallback


def test_typed_reference_traps(typed):
    typed.clear()
    with pytest.raises(Trap) as e:
        typed.call_ref(1, 1)
    assert e.value.message == "null function reference"
    assert e.value.code == "null_function_reference"
    with pytest.raises(Trap) as e:
        typed.as_non_null(1)
    assert e.value.message == "null reference"


def test_jit_multi_value_with_a_null_typed_reference(typed):
    # regression: the jit's multi-value unpacking named reference types by their text
    assert typed.null_result() == (None, None, 3)


def test_typed_reference_arguments_from_python(typed):
    take, inc = typed["take"], typed["inc"]
    assert take(inc) == 2
    assert take.invoke([Val.funcref(inc)]) == [Val.i32(2)]
    with pytest.raises(fayasm.Error):  # null for a non-nullable parameter
        take(None)
    with pytest.raises(fayasm.Error):
        take.invoke([Val.funcref(None)])
    with pytest.raises(fayasm.Error):  # a function of another type
        take(typed["null_result"])
