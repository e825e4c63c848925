"""Tail calls (return_call, return_call_indirect) and extended constant expressions, on
every engine: results, stack use, traps, fuel, imports, other instances, validation."""
from __future__ import annotations

import pytest
from conftest import test_engines

import fayasm
from fayasm.runtime.limits import MAX_CALL_DEPTH

ENGINES = test_engines()
MILLION = 1_000_000

# even/odd: mutual tail recursion of one type, directly and through the table; count:
# self tail recursion; deep: the same recursion without tail calls.
PROGRAM = r"""
(module
  (import "env" "double" (func $double (param i64) (result i64)))
  (type $t (func (param i64) (result i64)))
  (table 2 funcref)
  (elem (i32.const 0) $even $odd)
  (func $even (export "even") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (export "odd") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 0))
      (else (return_call_indirect (type $t) (i64.sub (local.get 0) (i64.const 1))
                                  (i32.const 0)))))
  (func $count (export "count") (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (local.get 1))
      (else (return_call $count (i64.sub (local.get 0) (i64.const 1))
                                (i64.add (local.get 1) (i64.const 2))))))
  (func (export "to_host") (param i64) (result i64) (return_call $double (local.get 0)))
  (func (export "to_table") (param i64 i32) (result i64)
    (return_call_indirect (type $t) (local.get 0) (local.get 1)))
  (func $deep (export "deep") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 0))
      (else (i64.add (i64.const 1) (call $deep (i64.sub (local.get 0) (i64.const 1)))))))
  (func $mixed (export "mixed") (param i32 i64) (result i64)
    (if (result i64) (i32.eqz (local.get 0)) (then (return_call $even (local.get 1)))
      (else (return_call $mixed2 (local.get 1) (i32.sub (local.get 0) (i32.const 1))
                                 (f64.const 1.5)))))
  (func $mixed2 (param i64 i32 f64) (result i64)
    (return_call $mixed (local.get 1) (local.get 0)))
  (func (export "two") (param i32) (result i32 i64)
    (if (result i32 i64) (i32.eqz (local.get 0)) (then (i32.const 7) (i64.const 8))
      (else (return_call 9 (i32.sub (local.get 0) (i32.const 1))))))
)
"""


def _instance(engine, **kw):
    return fayasm.instantiate(fayasm.Module(PROGRAM), imports={"env": {"double": lambda x: 2 * x}},
                              engine=engine, **kw)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_million_mutual_tail_calls_do_not_exhaust(engine):
    e = _instance(engine).exports
    assert e.even(MILLION) == 1
    assert e.odd(MILLION + 1) == 1
    assert e.count(MILLION, 0) == 2 * MILLION


@pytest.mark.parametrize("engine", ENGINES)
def test_a_million_tail_calls_between_functions_of_different_types(engine):
    assert _instance(engine).exports.mixed(MILLION, 7) == 0
    assert _instance(engine, fuel=10 * MILLION).exports.mixed(MILLION, 8) == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_plain_deep_recursion_still_exhausts(engine):
    e = _instance(engine).exports
    with pytest.raises(fayasm.Exhaustion):
        e.deep(MILLION)


@pytest.mark.parametrize("engine", ENGINES)
def test_regression_recursion_through_a_tail_calling_function_reaches_full_depth(engine):
    """The python engine once called such a function through its trampoline (two Python
    frames per wasm call), so it ran out of stack at about half the depth."""
    m = fayasm.Module(r"""
      (module
        (func $id (param i64) (result i64) (local.get 0))
        (func $rec (export "rec") (param i64) (result i64)
          (if (result i64) (i64.eqz (local.get 0)) (then (return_call $id (i64.const 0)))
            (else (i64.add (i64.const 1) (call $rec (i64.sub (local.get 0) (i64.const 1))))))))""")
    assert fayasm.instantiate(m, engine=engine).exports.rec(15_000) == 15_000


@pytest.mark.parametrize("engine", ENGINES)
def test_tail_call_to_a_host_function(engine):
    assert _instance(engine).exports.to_host(21) == 42


@pytest.mark.parametrize("engine", ENGINES)
def test_tail_call_with_two_results(engine):
    assert _instance(engine).exports.two(5) == (7, 8)


@pytest.mark.parametrize("engine", ENGINES)
def test_return_call_indirect_traps_as_call_indirect(engine):
    e = _instance(engine).exports
    assert e.to_table(4, 1) == 0
    with pytest.raises(fayasm.Trap, match="undefined element"):
        e.to_table(4, 2)


@pytest.mark.parametrize("engine", ENGINES)
def test_tail_calls_spend_fuel(engine):
    inst = _instance(engine, fuel=10_000)
    with pytest.raises(fayasm.Trap, match="fuel"):
        inst.exports.even(MILLION)


def _fuel_left(engine) -> int:
    inst = _instance(engine, fuel=10**7)
    x = inst.exports
    assert (x.even(1001), x.count(500, 0), x.mixed(300, 3), x.to_host(4), x.to_table(5, 1)) \
        == (0, 1000, 0, 8, 1)
    return inst.get_fuel()


@pytest.mark.parametrize("engine", ENGINES)
def test_tail_calls_cost_the_same_fuel_as_on_the_interpreter(engine):
    """A unit per tail call, as per call, on every engine."""
    assert _fuel_left(engine) == _fuel_left("interpreter")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("other", ENGINES)
def test_tail_calls_across_instances(engine, other):
    """A chain that goes through another instance's exports (possibly another engine):
    a tail call to an import of the same type."""
    lib = _instance(other)
    user = fayasm.instantiate(fayasm.Module(r"""
      (module
        (import "lib" "odd" (func $odd (param i64) (result i64)))
        (func (export "even") (param i64) (result i64)
          (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
            (else (return_call $odd (i64.sub (local.get 0) (i64.const 1)))))))"""),
        imports={"lib": lib.exports}, engine=engine)
    assert user.exports.even(1001) == 0
    assert user.exports.even(MILLION) == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_trap_after_tail_calls_names_the_callee(engine):
    m = fayasm.Module(r"""
      (module
        (func $boom (export "boom") (param i32) (result i32) unreachable)
        (func (export "f") (param i32) (result i32) (return_call $boom (local.get 0)))
        (func (export "g") (param i64 i32) (result i32) (return_call $boom (local.get 1))))""")
    e = fayasm.instantiate(m, engine=engine).exports
    for call in (lambda: e.f(1), lambda: e.g(0, 1)):
        with pytest.raises(fayasm.Trap, match="unreachable") as info:
            call()
        assert info.value.frames == ["boom"]  # the tail-calling frame is gone


@pytest.mark.parametrize("wat", [
    # the callee's results must be the caller's
    "(module (func (result i32) (return_call 1)) (func (result i64) (i64.const 1)))",
    "(module (func (result i32) (return_call 1)) (func))",
    ("(module (type $t (func (result i64))) (table 1 funcref)"
    " (func (result i32) (return_call_indirect (type $t) (i32.const 0))))"),
    # operands
    "(module (func (return_call 1)) (func (param i32)))",
    "(module (type $t (func)) (table 1 funcref) (func (return_call_indirect (type $t))))",
    "(module (func (return_call 5)))",
    ("(module (type $t (func)) (table 1 externref)"
    " (func (return_call_indirect (type $t) (i32.const 0))))"),
])
def test_invalid_tail_calls(wat):
    with pytest.raises(fayasm.ValidationError):
        fayasm.Module(wat)


def test_code_after_a_tail_call_is_unreachable():
    fayasm.Module("(module (func (result i32) (return_call 1) (i64.const 0) (drop)) "
                  "(func (result i32) (i32.const 1)))")


def test_tail_calls_round_trip_through_binary_and_text():
    m = fayasm.Module(PROGRAM)
    from fayasm.binary.encode import encode
    from fayasm.text.printer import print_module

    binary = encode(m.syntax)
    assert b"\x12" in binary and b"\x13" in binary
    text = print_module(fayasm.Module(binary).syntax)
    assert "return_call " in text and "return_call_indirect " in text
    assert encode(fayasm.Module(text).syntax) == binary


# -- extended constant expressions -------------------------------------------------------------
EXTENDED = r"""
(module
  (import "env" "base" (global $base i32))
  (import "env" "big" (global $big i64))
  (memory 1)
  (table 10 funcref)
  (global (export "g32") i32 (i32.sub (i32.mul (global.get $base) (i32.const 3)) (i32.const 1)))
  (global (export "g64") i64 (i64.add (i64.mul (global.get $big) (i64.const 2)) (i64.const -1)))
  (global (export "wrap") i32 (i32.add (i32.const 0x7fffffff) (i32.const 1)))
  (global (export "wrap64") i64 (i64.mul (i64.const 0x4000000000000000) (i64.const 4)))
  (data (i32.add (global.get $base) (i32.const 2)) "\2a")
  (elem (i32.sub (global.get $base) (i32.const 1)) $f)
  (func $f (result i32) (i32.const 99))
  (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "slot") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
)
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_extended_constants(engine):
    imports = {"env": {"base": fayasm.Global(fayasm.Val.from_bits("i32", 5)),
                       "big": fayasm.Global(fayasm.Val.from_bits("i64", 1 << 40))}}
    e = fayasm.instantiate(fayasm.Module(EXTENDED), imports=imports, engine=engine).exports
    assert e["g32"].value == 14
    assert e["g64"].value == (1 << 41) - 1
    assert e["wrap"].value == -(1 << 31)
    assert e["wrap64"].value == 0
    assert e.byte(7) == 42
    assert e.slot(4) == 99


@pytest.mark.parametrize("engine", ENGINES)
def test_extended_constant_offset_out_of_bounds_traps(engine):
    m = fayasm.Module('(module (memory 1) (data (i32.mul (i32.const 65536) (i32.const 1)) "x"))')
    with pytest.raises(fayasm.Trap, match="out of bounds"):
        fayasm.instantiate(m, engine=engine)


REQUIRED = "constant expression required"


@pytest.mark.parametrize("wat,message", [
    ("(module (global i32 (i32.add (i32.const 1) (i64.const 2))))", "type mismatch"),
    ("(module (global i32 (i32.add (i32.const 1))))", "type mismatch"),
    ("(module (global i64 (i32.add (i32.const 1) (i32.const 2))))", "type mismatch"),
    ("(module (global i32 (i32.div_s (i32.const 1) (i32.const 2))))", REQUIRED),
    ("(module (global i32 (i32.and (i32.const 1) (i32.const 2))))", REQUIRED),
    ("(module (global f32 (f32.add (f32.const 1) (f32.const 2))))", REQUIRED),
    ("(module (global i32 (i32.const 1) (i32.const 2)))", "type mismatch"),
])
def test_invalid_extended_constants(wat, message):
    with pytest.raises(fayasm.ValidationError, match=message):
        fayasm.Module(wat)


def test_translated_file_asks_for_interface_5_with_or_without_tail_calls():
    """Interface 3 brought tail calls and extended constants; 4 the depth ``_d`` every
    generated function takes, so files for 3 are refused; 5 bind_cells (snapshots), which
    every file now asks for, while files for 4 still run; 6 (GC) only GC modules ask for."""
    from fayasm.runtime import support
    plain = fayasm.translate(fayasm.Module("(module (func (export \"f\")))"))
    assert "<= 5 <= _RT_HAS" in plain
    for wat in (PROGRAM, EXTENDED):
        assert "<= 5 <= _RT_HAS" in fayasm.translate(fayasm.Module(wat))
    assert (support.OLDEST_INTERFACE, support.INTERFACE) == (4, 6)


def test_regression_lazy_tier_backtraces_name_the_function_compiled(monkeypatch):
    """The jit's lazy tier once mapped each function it compiled to the module's first
    defined function in the code map, so backtraces named the wrong functions."""
    if "jit" not in ENGINES:
        pytest.skip("no jit")
    from fayasm.translator.llvm import tiering

    monkeypatch.setattr(tiering, "TIER_UP_SIZE", 0)
    monkeypatch.setattr(tiering, "_WORKER", False)
    m = fayasm.Module(r"""
      (module
        (func $first (export "first") (result i32) (i32.const 1))
        (func $boom (param i32) (result i32) unreachable)
        (func $mid (export "mid") (param i32) (result i32)
          (i32.add (i32.const 1) (call $boom (local.get 0))))
        (func $tail (export "tail") (param i32) (result i32) (return_call $mid (local.get 0))))""")
    inst = fayasm.instantiate(m, engine="jit")
    assert inst.engine_state.code.lazy
    with pytest.raises(fayasm.Trap) as info:
        inst.exports.tail(1)
    assert info.value.frames == ["boom", "mid"]


# -- tail calls and the call stack (runtime/stack.py) --------------------------------------------
# $big has 1000 i64 locals (16 stack units) and tail-calls $small (1 unit), which recurses
# through a plain call to $big: a level costs 1 unit once the tail call replaced $big's 16.
# $spin and $spin2 tail-call each other forever, directly and through the table.
BIG_TAIL = """(module
  (type $t (func (param i64) (result i64)))
  (table 1 funcref)
  (elem (i32.const 0) $spin)
  (func $big (export "big") (param i64) (result i64) (local """ + "i64 " * 1000 + """)
    (return_call $small (local.get 0)))
  (func $small (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 0))
      (else (i64.add (i64.const 1) (call $big (i64.sub (local.get 0) (i64.const 1)))))))
  (func $ping (export "ping") (param i64) (result i64) (local """ + "i64 " * 1000 + """)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 7))
      (else (return_call $pong (i64.sub (local.get 0) (i64.const 1))))))
  (func $pong (param i64) (result i64) (local """ + "i64 " * 1000 + """)
    (return_call $ping (local.get 0)))
  (func $spin (export "spin") (param i64) (result i64)
    (return_call $spin2 (i64.add (local.get 0) (i64.const 1))))
  (func $spin2 (param i64) (result i64)
    (return_call_indirect (type $t) (local.get 0) (i32.const 0)))
  (func (export "one") (result i32) (i32.const 1)))"""


@pytest.mark.parametrize("engine", ENGINES)
def test_tail_call_chain_of_big_frames_is_not_counted_cumulatively(engine):
    """A tail call replaces the running frame's units by the callee's: 200,000 hops
    between 16-unit frames (3,200,000 units if they added up) finish, and recursion whose
    every level is a 16-unit frame tail-calling a 1-unit one goes 19,985 levels deep
    (20,001 units with the last 16-unit frame; 339,745 if the big frames stayed), and
    exhausts one level further, with the same frames on every engine."""
    e = fayasm.instantiate(fayasm.Module(BIG_TAIL), engine=engine).exports
    assert e.ping(200_000) == 7
    assert e.big(MAX_CALL_DEPTH + 1 - 16) == 19_985
    with pytest.raises(fayasm.Exhaustion) as info:
        e.big(19_986)
    assert len(info.value.frames) == 19_986


@pytest.mark.parametrize("engine", ENGINES)
def test_max_stack_does_not_limit_a_tail_call_chain(engine):
    lim = fayasm.ResourceLimits(max_stack=40)
    e = fayasm.instantiate(fayasm.Module(BIG_TAIL), engine=engine, limits=lim).exports
    assert e.ping(100_000) == 7  # one 16-unit frame fits in 40 units, 3 would not
    # Plain calls between them count: n levels of 1-unit frames, then one of 16, within
    # the 41 units max_stack=40 allows (as 20,001 without it).
    assert e.big(25) == 25
    with pytest.raises(fayasm.Exhaustion) as info:
        e.big(26)
    assert len(info.value.frames) == 26
    e = _instance(engine, limits=fayasm.ResourceLimits(max_stack=10)).exports
    assert e.even(MILLION) == 1
    assert e.count(MILLION, 0) == 2 * MILLION
    assert e.deep(10) == 10  # plain calls still count: 11 frames fit in 11 units
    with pytest.raises(fayasm.Exhaustion):
        e.deep(11)


@pytest.mark.parametrize("engine", ENGINES)
def test_interrupt_stops_an_infinite_tail_call_loop(engine):
    import threading
    import time

    handle = fayasm.Interrupt()
    inst = fayasm.instantiate(fayasm.Module(BIG_TAIL), engine=engine, interrupt=handle)
    got = {}

    def guest():
        try:
            inst.exports.spin(0)
        except fayasm.Interrupted as e:
            got["trap"] = e
    t = threading.Thread(target=guest, daemon=True)
    t.start()
    time.sleep(0.2)
    handle.interrupt()
    t.join(5)
    assert not t.is_alive(), "the tail-call loop was not interrupted"
    assert got["trap"].message == "interrupted"
    assert inst.exports.one() == 1


# f calls g, which tail-calls the host h, which calls f again: a level costs f's unit
# only, as g's frame is gone when h runs (and an entry h makes starts below it).
TAIL_TO_HOST = """(module
  (import "env" "h" (func $h (param i64) (result i64)))
  (func $f (export "f") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 0))
      (else (i64.add (i64.const 1) (call $g (local.get 0))))))
  (func $g (param i64) (result i64) (return_call $h (i64.sub (local.get 0) (i64.const 1)))))"""


@pytest.mark.parametrize("engine", ENGINES)
def test_regression_tail_call_to_a_host_hands_on_the_depth_below_the_frame(engine):
    """The interpreter once left the thread's depth unset for a tail call to a host (an
    entry from it started at the outer entry's depth), and the jit called the host at
    the next depth (2 units a level): now f(20) fits in max_stack=20 (21 units) and
    f(21) exhausts on every engine."""
    box = {}
    inst = fayasm.instantiate(fayasm.Module(TAIL_TO_HOST), engine=engine,
                              imports={"env": {"h": lambda n: box["f"](n)}},
                              limits=fayasm.ResourceLimits(max_stack=20))
    box["f"] = inst.exports.f
    assert inst.exports.f(20) == 20
    with pytest.raises(fayasm.Exhaustion):
        inst.exports.f(21)


# -- return_call_ref (typed function references) --------------------------------------------
TAIL_REF = """(module
  (type $ii (func (param i64) (result i64)))
  (type $iii (func (param i64 i64) (result i64)))
  (elem declare func $even $odd $acc)
  (func $even (export "even") (type $ii) (param $n i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n)) (then (i64.const 1))
      (else (return_call_ref $ii (i64.sub (local.get $n) (i64.const 1)) (ref.func $odd)))))
  (func $odd (type $ii) (param $n i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n)) (then (i64.const 0))
      (else (return_call_ref $ii (i64.sub (local.get $n) (i64.const 1)) (ref.func $even)))))
  ;; a different type from even/odd: the chain changes prototype on each entry
  (func (export "sum") (param $n i64) (result i64)
    (return_call_ref $iii (local.get $n) (i64.const 0) (ref.func $acc)))
  (func $acc (type $iii) (param $n i64) (param $s i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n)) (then (local.get $s))
      (else (return_call_ref $iii (i64.sub (local.get $n) (i64.const 1))
                                  (i64.add (local.get $s) (local.get $n)) (ref.func $acc)))))
  (func (export "null") (result i64)
    (return_call_ref $ii (i64.const 1) (ref.null $ii))))"""


@pytest.mark.parametrize("engine", ENGINES)
def test_regression_return_call_ref_does_not_grow_the_stack(engine):
    """return_call_ref ran as a call then a return, so a million of them exhausted."""
    e = fayasm.instantiate(TAIL_REF, engine=engine).exports
    assert e.even(MILLION) == 1
    assert e.even(MILLION + 1) == 0
    assert e.sum(MILLION) == MILLION * (MILLION + 1) // 2
    with pytest.raises(fayasm.Trap, match="null function reference"):
        e.null()
