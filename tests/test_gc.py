"""Garbage collection (WebAssembly 3.0, issue 17): GC references across the host boundary
and across engines, the object model, and regressions. The GC root files of the spec
suite pass on every engine: tests/spec3/gc.txt, run by tests/test_spec3.py."""
from __future__ import annotations

import gc as cyclic

import pytest

import fayasm
from fayasm import isa
from fayasm.runtime.gcobj import I31, Array, HostAny, Struct

ENGINES = ("interpreter", "python")  # the jit's GC lowering comes from its own helper

POINT = """
(module
  (type $p (sub (struct (field $x i32) (field $y (mut i8)))))
  (type $q (sub $p (struct (field $x i32) (field $y (mut i8)) (field $next (ref null $q)))))
  (type $bytes (array (mut i8)))
  (func (export "point") (param i32 i32) (result (ref $p))
    (struct.new $p (local.get 0) (local.get 1)))
  (func (export "q") (param i32) (result (ref $q))
    (struct.new $q (local.get 0) (i32.const -1) (ref.null $q)))
  (func (export "x") (param (ref $p)) (result i32) (struct.get $p $x (local.get 0)))
  (func (export "y_s") (param (ref $p)) (result i32) (struct.get_s $p $y (local.get 0)))
  (func (export "is_q") (param anyref) (result i32) (ref.test (ref $q) (local.get 0)))
  (func (export "eq") (param eqref eqref) (result i32) (ref.eq (local.get 0) (local.get 1)))
  (func (export "id") (param anyref) (result anyref) (local.get 0))
  (func (export "ext") (param anyref) (result externref) (extern.convert_any (local.get 0)))
  (func (export "int") (param externref) (result anyref) (any.convert_extern (local.get 0)))
  (func (export "i31") (param i32) (result i31ref) (ref.i31 (local.get 0)))
  (func (export "bytes") (param i32) (result (ref $bytes))
    (array.new $bytes (i32.const 300) (local.get 0)))
  (func (export "cast_p") (param anyref) (result i32)
    (struct.get $p $x (ref.cast (ref $p) (local.get 0))))
)
"""


@pytest.fixture(params=ENGINES)
def inst(request):
    return fayasm.instantiate(fayasm.Module(POINT), engine=request.param)


def test_an_exported_struct_is_an_opaque_object_that_goes_back_in(inst):
    p = inst.exports.point(-3, 300)
    assert isinstance(p, Struct)
    assert inst.exports.x(p) == -3
    assert inst.exports.y_s(p) == 44  # 300 cut to i8: 0x2c
    assert p.fields == (-3, 44)  # read from Python: packed fields unsigned
    assert inst.exports.eq(p, p) == 1 and inst.exports.eq(p, inst.exports.point(-3, 300)) == 0


def test_subtypes_and_casts_from_the_host(inst):
    q = inst.exports.q(7)
    assert inst.exports.is_q(q) == 1 and inst.exports.is_q(inst.exports.point(1, 2)) == 0
    assert inst.exports.x(q) == 7  # (ref $q) <: (ref $p)
    with pytest.raises(fayasm.Trap, match="cast failure"):
        inst.exports.cast_p(5)
    with pytest.raises(fayasm.Error):
        inst.exports.x(5)  # an i31 is no (ref $p): refused at the boundary


def test_anyref_round_trips_python_objects_and_ints_as_i31(inst):
    obj = object()
    assert inst.exports.id(obj) is obj
    assert inst.exports.id(5) == 5 and inst.exports.id(-(1 << 30)) == -(1 << 30)
    assert inst.exports.i31(-1) == -1  # i31 values come back as their (signed) int
    assert inst.exports.eq(5, 5) == 1  # ints in range are i31 values, equal by value
    assert inst.exports.id(1 << 40) == 1 << 40  # out of range: a host value, kept as is
    assert inst.exports.is_q(obj) == 0


def test_val_anyref_carries_exact_gc_values(inst):
    from fayasm import Val

    out = inst.exports.id.invoke([Val.anyref(7)])
    assert out[0].ref == I31(7) and out[0].type is fayasm.ValType.ANYREF
    p = inst.exports.point(1, 2)
    assert inst.exports.id.invoke([Val.anyref(p)])[0].ref is p


def test_extern_conversions_keep_identity(inst):
    p = inst.exports.point(1, 2)
    e = inst.exports.ext(p)
    assert e is p  # an externalized struct is the struct
    assert inst.exports.int(e) is p
    assert inst.exports.int("text") == "text"  # internalized, then read back as itself


def test_an_array_from_python(inst):
    a = inst.exports.bytes(3)
    assert isinstance(a, Array) and len(a) == 3 and a.elements == (44, 44, 44)


def test_objects_keep_identity_and_type_across_engines():
    m = fayasm.Module(POINT)
    a, b = (fayasm.instantiate(m, engine=e) for e in ENGINES)
    q = a.exports.q(9)
    assert b.exports.is_q(q) == 1 and b.exports.x(q) == 9
    assert b.exports.eq(q, q) == 1 and b.exports.eq(q, b.exports.q(9)) == 0
    p = b.exports.point(4, 5)
    assert a.exports.is_q(p) == 0 and a.exports.x(p) == 4


def test_types_are_canonical_across_modules():
    """Two modules defining the same rec group give the same DefType: an object made by
    one passes the other's casts (iso-recursive equivalence)."""
    text = ("(module (rec (type $a (struct (field (ref null $b)))) (type $b (struct)))"
            " (func (export \"mk\") (result anyref) (struct.new_default $a))"
            " (func (export \"is\") (param anyref) (result i32)"
            " (ref.test (ref $a) (local.get 0))))")
    one = fayasm.instantiate(fayasm.Module(text), engine="interpreter")
    two = fayasm.instantiate(fayasm.Module(text), engine="python")
    assert two.exports["is"](one.exports.mk()) == 1


def _live_structs() -> int:
    cyclic.collect()
    return sum(1 for o in cyclic.get_objects() if type(o) is Struct)


def test_cycles_are_collected():
    m = fayasm.Module("""(module (type $n (struct (field (mut (ref null $n)))))
      (func (export "loop") (result anyref) (local $x (ref null $n))
        (local.set $x (struct.new $n (ref.null $n)))
        (struct.set $n 0 (local.get $x) (local.get $x))
        (local.get $x)))""")
    for engine in ENGINES:
        inst = fayasm.instantiate(m, engine=engine)
        before = _live_structs()
        s = inst.exports.loop()
        assert s[0] is s
        assert _live_structs() == before + 1
        del s
        assert _live_structs() == before


def test_regression_ref_test_extern_of_an_externalized_gc_value():
    """A struct or i31 value passed through extern.convert_any is an extern value: a
    test for (ref extern) once took it as an any value and said no."""
    m = fayasm.Module("""(module (type $s (struct))
      (func (export "f") (result i32)
        (i32.add (ref.test (ref extern) (extern.convert_any (struct.new $s)))
                 (ref.test (ref extern) (extern.convert_any (ref.i31 (i32.const 1)))))))""")
    for engine in ENGINES:
        assert fayasm.instantiate(m, engine=engine).exports.f() == 2


def test_regression_an_internalized_host_int_is_no_i31():
    """The spec runner's (ref.extern 0) is the int 0: internalized, it is a host value,
    not the i31 value 0 (ref_test.wast)."""
    m = fayasm.Module("""(module (func (export "f") (param externref) (result i32)
      (ref.test (ref i31) (any.convert_extern (local.get 0)))))""")
    for engine in ENGINES:
        assert fayasm.instantiate(m, engine=engine).exports.f(0) == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_array_operations_cost_fuel_by_size(engine):
    """A metered instance pays for an array's elements as for bulk memory: a budget too
    small for 10,000,000 of them runs out before they are made."""
    m = fayasm.Module("""(module (type $a (array (mut i8)))
      (func (export "f") (result i32) (array.len (array.new_default $a (i32.const 10000000)))))""")
    with pytest.raises(fayasm.Trap, match="out of fuel"):
        fayasm.instantiate(m, engine=engine, fuel=50).exports.f()
    assert fayasm.instantiate(m, engine=engine, fuel=10_000).exports.f() == 10_000_000


def test_the_object_model():
    assert I31(3) == I31(3) and I31(3) != I31(4)
    assert HostAny("a") == HostAny("a")
    s = Struct([1])
    assert s != Struct([1])  # identity, as ref.eq
    assert len({s, Struct([1])}) == 2


# -- generated GC modules (fayasm fuzz --gc) ---------------------------------------------
def test_generated_gc_modules_validate_use_gc_and_agree():
    """The generator with GC on makes valid modules using the GC rows (casts that fail,
    packed fields, br_on_cast), on which the GC engines and wasmtime agree."""
    import random

    from fayasm.testing.choose import RandomChooser
    from fayasm.testing.diff import diff
    from fayasm.testing.generate import GenConfig, ModuleGen

    used = set()
    for seed in range(80):
        g = ModuleGen(RandomChooser(random.Random(seed)), GenConfig(gc=True)).build()
        used |= {name for name in g.op_counts() if isa.OPS[name].feature == "gc"}
        if seed < 8:
            result = diff(g.module(), g.plan, engines=list(ENGINES), wasmtime=True,
                          metered=g.metered)
            assert result.difference is None, result.difference.report()
        else:
            g.module()  # valid by construction
    assert {"struct.new", "struct.get_s", "struct.get_u", "struct.set", "ref.test",
            "ref.test_null", "ref.cast", "array.new", "array.new_fixed", "array.get_s",
            "br_on_cast", "br_on_cast_fail", "ref.eq", "ref.i31", "i31.get_s"} <= used


def test_regression_wasmtime_gc_traps_are_traps_in_the_diff():
    """wasmtime's GC trap codes (array out of bounds, cast failure, a null struct) once
    fell through the runner's table to "error", a difference from fayasm's trap (the
    first 20-minute --gc campaign found it)."""
    from fayasm.testing.diff import diff
    from fayasm.testing.run import wasmtime_available

    if not wasmtime_available():
        pytest.skip("wasmtime is not installed")
    m = fayasm.Module("""(module (type $a (array i8)) (type $s (struct (field i32)))
      (func (export "oob") (result i32) (array.get_u $a (array.new_default $a (i32.const 2))
                                                    (i32.const 5)))
      (func (export "cast") (result i32) (struct.get $s 0 (ref.cast (ref $s)
                                                          (ref.i31 (i32.const 1)))))
      (func (export "null") (result i32) (struct.get $s 0 (ref.null $s))))""")
    result = diff(m, engines=list(ENGINES), wasmtime=True)
    assert result.difference is None, result.difference.report()
    assert {o.code for o in result.outcomes} >= {"array_out_of_bounds", "cast_failure"}
