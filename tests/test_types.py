"""runtime/types.py and fayasm/closing.py: reference types, closed defined types (rec
groups, iso-recursive equivalence), subtyping, and how a module's types are closed as it
is read."""
from __future__ import annotations

import copy
import pickle

import pytest

import fayasm
from fayasm.binary import decode, encode
from fayasm.errors import ValidationError
from fayasm.runtime.types import (
    EXTERNREF,
    FUNCREF,
    I32,
    NULLEXTERNREF,
    NULLFUNCREF,
    FuncType,
    HeapType,
    RecRef,
    ValType,
    close_types,
    deftypes_from,
    matches,
    parse_type_text,
    type_text,
)
from fayasm.text.printer import print_module


def ref(nullable, heap):
    return ValType.ref(nullable, heap)


def test_the_2_0_reference_types_are_the_nullable_abstract_ones():
    assert ref(True, HeapType.FUNC) is FUNCREF
    assert ref(True, HeapType.EXTERN) is EXTERNREF
    assert ref(True, HeapType.NOFUNC) is NULLFUNCREF
    assert ref(True, HeapType.NOEXTERN) is NULLEXTERNREF
    assert str(ref(False, HeapType.FUNC)) == "(ref func)"
    assert ValType("funcref") is FUNCREF and ValType.parse("nullexternref") is NULLEXTERNREF
    assert FUNCREF.name == "FUNCREF" and I32.name == "I32"


def test_reference_types_are_interned_and_survive_pickle_and_copy():
    d = close_types([FuncType((I32,), (I32,))])[0]
    t = ref(False, d)
    assert ref(False, d) is t
    assert pickle.loads(pickle.dumps(t)) is t
    assert pickle.loads(pickle.dumps(d)) is d
    assert copy.deepcopy(t) is t
    ft = FuncType((t,), ())
    assert pickle.loads(pickle.dumps(ft)) == ft


def test_structurally_equal_types_are_one_deftype():
    a = close_types([FuncType((I32,), ()), FuncType((ref(False, 0),), ())])
    b = close_types([FuncType((), (I32,)), FuncType((I32,), ()), FuncType((ref(True, 1),), ())])
    assert a[0] is b[1]
    assert a[1] is not b[2]  # (ref $t) and (ref null $t) parameters differ
    c = close_types([FuncType((I32,), ()), FuncType((ref(True, 0),), ())])
    assert c[1] is b[2]


def test_a_type_may_refer_to_itself_but_not_to_a_later_type():
    (d,) = close_types([FuncType((ref(False, 0),), ())])
    assert d.sub.comp.params[0].heap is RecRef(0)
    assert d.expand().params[0] is ref(False, d)  # the expansion refers to d itself
    with pytest.raises(ValueError, match="unknown type 1"):
        close_types([FuncType((ref(False, 1),), ()), FuncType((), ())])


def test_subtyping():
    d = close_types([FuncType((), ())])[0]
    e = close_types([FuncType((I32,), ())])[0]
    assert matches(ref(False, d), ref(True, d))
    assert not matches(ref(True, d), ref(False, d))
    assert matches(ref(False, d), FUNCREF) and matches(ref(True, d), FUNCREF)
    assert not matches(FUNCREF, ref(True, d))
    assert matches(NULLFUNCREF, ref(True, d)) and matches(NULLFUNCREF, FUNCREF)
    assert not matches(NULLFUNCREF, ref(False, d))
    assert matches(ref(False, HeapType.NOFUNC), ref(False, e))
    assert not matches(ref(False, d), ref(False, e))
    assert not matches(NULLFUNCREF, EXTERNREF) and matches(NULLEXTERNREF, EXTERNREF)
    assert not matches(ref(False, d), EXTERNREF)
    assert not matches(I32, FUNCREF) and matches(None, ref(False, d))


def test_type_text_round_trips_for_translated_files():
    defs = deftypes_from([(("i32",), ()), (("(ref 0)", "(ref null 1)"), ("funcref",))])
    assert defs[1].expand().params == (ref(False, defs[0]), ref(True, defs[1]))
    ix = {d: k for k, d in enumerate(defs)}
    for t in (I32, FUNCREF, NULLFUNCREF, ref(False, HeapType.EXTERN), ref(True, defs[1])):
        assert parse_type_text(type_text(t, ix), defs) is t


MODULE = """(module
  (type $t (func (param i32) (result i32)))
  (type $r (func (param (ref $r)) (result (ref null $t))))
  (func $f (type $t) (local.get 0))
  (table 3 (ref $t) (ref.func $f))
  (global (ref null func) (ref.func $f))
  (elem declare func $f)
  (func (export "run") (param i32) (result i32)
    (local (ref null $t))
    (local.set 1 (ref.func $f))
    (call_ref $t (local.get 0) (ref.as_non_null (local.get 1))))
  (func (type $r) (ref.null $t)))"""


def test_a_text_module_closes_its_types():
    m = fayasm.Module(MODULE)
    t0, t1 = m.syntax.deftypes
    assert m.syntax.types[1].params == (ref(False, t1),)
    assert m.syntax.tables[0].elem is ref(False, t0)
    assert m.syntax.funcs[1].locals == (ref(True, t0),)


def test_binary_and_text_round_trips_keep_typed_references():
    m = fayasm.Module(MODULE)
    data = encode(m.syntax)
    again = decode(data)
    assert again.types == m.syntax.types and again.tables == m.syntax.tables
    assert again.table_inits == m.syntax.table_inits
    assert again == m.syntax
    printed = print_module(m.syntax)
    assert "(ref 0)" in printed and "(param (ref 1))" in printed
    assert fayasm.Module(printed).syntax.types == m.syntax.types


def test_types_from_two_modules_are_the_same_objects():
    a = fayasm.Module(MODULE).syntax
    b = fayasm.Module("(module (type (func)) (type $u (func (param i32) (result i32)))"
                      " (func (param (ref $u))))").syntax
    assert b.funcs[0].type_idx == 2 and b.types[2].params[0] is ref(False, a.deftypes[0])


@pytest.mark.parametrize("text", [
    "(module (type (func (param (ref 1)))))",
    "(module (type (func (param (ref 1)))) (type (func)))",  # a later type
    "(module (func (local (ref null 3))))",
    "(module (table 1 (ref null 7)))",
    "(module (global (ref null 1) (ref.null 1)))",
    "(module (func (drop (ref.null 2))))",
])
def test_a_type_index_out_of_range_in_a_reference_type_is_invalid(text):
    with pytest.raises(ValidationError, match="unknown type"):
        fayasm.Module(text)


def test_a_binary_type_index_out_of_range_in_a_reference_type_is_invalid():
    # type section: (func (param (ref 5)))
    data = b"\0asm\x01\0\0\0" + b"\x01\x06\x01\x60\x01\x64\x05\x00"
    with pytest.raises(ValidationError, match="unknown type 5"):
        fayasm.Module(data)
    # a negative heap type that is not an abstract one is malformed, not invalid
    bad = b"\0asm\x01\0\0\0" + b"\x01\x06\x01\x60\x01\x64\x40\x00"
    with pytest.raises(fayasm.DecodeError, match="malformed heap type"):
        fayasm.Module(bad)


def test_a_lazily_decoded_body_closes_its_types():
    data = encode(fayasm.Module(MODULE).syntax)
    lazy = decode(data, trusted=True)
    eager = decode(data)
    assert type(lazy.funcs[1]).__name__ == "LazyFunction"
    assert lazy.funcs[1].locals == eager.funcs[1].locals == (ref(True, eager.deftypes[0]),)
    assert lazy.funcs[2].body == eager.funcs[2].body


def test_regression_interned_types_of_a_dropped_module_are_collected():
    """Hostile input may name any number of types: interning must not keep them all."""
    import gc
    import weakref

    m = fayasm.Module("(module (type (func (param i64 i64 i64 f32))) (func (param (ref 0))))")
    d = weakref.ref(m.syntax.deftypes[0])
    t = weakref.ref(m.syntax.types[1].params[0])
    del m
    gc.collect()
    assert d() is None and t() is None


def test_regression_a_lazy_body_closes_types_only_it_names():
    """A module naming a concrete type only inside a body: decoded as known valid (lazily),
    the body's types were left as type indices (found by test_generate's round trip)."""
    text = ("(module (type $t (func (result i32))) (func $f (type $t) (i32.const 1))"
            " (func (result (ref null $t)) (ref.null $t)))")
    data = encode(fayasm.Module(text).syntax)
    eager = decode(data)
    lazy = decode(data, trusted=True)
    assert lazy.funcs[1].body[0].imm[0] is ref(True, eager.deftypes[0])
    assert lazy.funcs[1].body == eager.funcs[1].body
