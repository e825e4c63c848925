"""The instruction table is the one list of instructions: every row is lowered by every
engine, and the facts the rows carry (class, flags, access size, sign) are consistent.

Each row gets a small module that runs it; every engine must compile and run that module
and agree with the interpreter. A row added to the table that some engine does not lower
fails here, for that engine, by name.
"""
from __future__ import annotations

import struct

import pytest
from conftest import test_engines

import fayasm
from fayasm import isa
from fayasm.runtime.types import ValType

I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128

# What a module around a row can rely on: memory with data, a table of functions, globals,
# passive segments for the bulk instructions.
PRELUDE = """
  (memory 1)
  (data (i32.const 0) "\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10\\11")
  (data $d "abcdefgh")
  (type $v (func (result i32)))
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $seven)
  (elem $e func $seven $seven)
  (global $g (mut i32) (i32.const 5))
  (func $seven (type $v) (i32.const 7))
"""
# What a module around a GC row can rely on besides (only there: a module without GC
# pays nothing for it).
GC_PRELUDE = """
  (type $s (sub (struct (field (mut i32)) (field (mut i8)))))
  (type $s2 (sub $s (struct (field (mut i32)) (field (mut i8)))))
  (type $a (array (mut i8)))
  (type $af (array (mut funcref)))
  (type $ai (array i32))
"""

# Rows whose typing needs context: a function that uses each (exported as "f", no params).
SPECIAL = {
    "unreachable": "(func (export \"f\") unreachable)",
    "nop": "(func (export \"f\") (result i32) nop (i32.const 1))",
    "block": "(func (export \"f\") (result i32) (block (result i32) (i32.const 2)))",
    "loop": """(func (export "f") (result i32) (local i32)
                 (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                   (br_if $l (i32.lt_u (local.get 0) (i32.const 5))))
                 (local.get 0))""",
    "if": "(func (export \"f\") (result i32) (if (result i32) (i32.const 1) "
          "(then (i32.const 3)) (else (i32.const 4))))",
    "else": "(func (export \"f\") (result i32) (if (result i32) (i32.const 0) "
            "(then (i32.const 3)) (else (i32.const 4))))",
    "end": "(func (export \"f\") (result i32) (block (result i32) (i32.const 9)))",
    "br": "(func (export \"f\") (result i32) (block (result i32) (br 0 (i32.const 6)) "
          "(i32.const 1)))",
    "br_if": "(func (export \"f\") (result i32) (block (result i32) (i32.const 6) "
             "(br_if 0 (i32.const 1)) (drop) (i32.const 1)))",
    "br_table": """(func (export "f") (result i32)
                     (block (block (block (br_table 1 0 2 (i32.const 0))) (return (i32.const 10)))
                       (return (i32.const 11)))
                     (i32.const 12))""",
    "return": "(func (export \"f\") (result i32) (return (i32.const 8)) )",
    "call": "(func (export \"f\") (result i32) (call $seven))",
    "call_indirect": "(func (export \"f\") (result i32) (call_indirect (type $v) "
                     "(i32.const 0)))",
    "return_call": "(func (export \"f\") (result i32) (return_call $seven) (i32.const 1))",
    "return_call_indirect": "(func (export \"f\") (result i32) (return_call_indirect "
                            "(type $v) (i32.const 0)) (i32.const 1))",
    "drop": "(func (export \"f\") (result i32) (drop (i32.const 1)) (i32.const 2))",
    "select": "(func (export \"f\") (result i32) (select (i32.const 1) (i32.const 2) "
              "(i32.const 0)))",
    "select_t": "(func (export \"f\") (result i64) (select (result i64) (i64.const 1) "
                "(i64.const 2) (i32.const 1)))",
    "local.get": "(func (export \"f\") (result i32) (local i32) (local.get 0))",
    "local.set": "(func (export \"f\") (result i32) (local i32) (local.set 0 (i32.const 4)) "
                 "(local.get 0))",
    "local.tee": "(func (export \"f\") (result i32) (local i32) (local.tee 0 (i32.const 4)))",
    "global.get": "(func (export \"f\") (result i32) (global.get $g))",
    "global.set": "(func (export \"f\") (result i32) (global.set $g (i32.const 9)) "
                  "(global.get $g))",
    "table.init": "(func (export \"f\") (result i32) (table.init $t $e (i32.const 1) "
                  "(i32.const 0) (i32.const 2)) (call_indirect (type $v) (i32.const 2)))",
    "table.copy": "(func (export \"f\") (result i32) (table.copy $t $t (i32.const 3) "
                  "(i32.const 0) (i32.const 1)) (call_indirect (type $v) (i32.const 3)))",
    "table.get": "(func (export \"f\") (result i32) (ref.is_null (table.get $t (i32.const 1))))",
    "table.set": "(func (export \"f\") (result i32) (table.set $t (i32.const 1) "
                 "(ref.func $seven)) (call_indirect (type $v) (i32.const 1)))",
    "table.grow": "(func (export \"f\") (result i32) (table.grow $t (ref.null func) "
                  "(i32.const 2)))",
    "table.fill": "(func (export \"f\") (result i32) (table.fill $t (i32.const 1) "
                  "(ref.func $seven) (i32.const 3)) (call_indirect (type $v) (i32.const 3)))",
    "ref.null": "(func (export \"f\") (result i32) (ref.is_null (ref.null extern)))",
    "ref.is_null": "(func (export \"f\") (result i32) (ref.is_null (ref.func $seven)))",
    "ref.func": "(func (export \"f\") (result i32) (table.set $t (i32.const 2) (ref.func $seven)) "
                "(call_indirect (type $v) (i32.const 2)))",
    # Typed function references ($seven has type $v, which ref.func gives it).
    "call_ref": "(func (export \"f\") (result i32) (call_ref $v (ref.func $seven)))",
    "return_call_ref": "(func (export \"f\") (result i32) "
                       "(return_call_ref $v (ref.func $seven)))",
    "ref.as_non_null": "(func (export \"f\") (result i32) "
                       "(call_ref $v (ref.as_non_null (ref.func $seven))))",
    "br_on_null": "(func (export \"f\") (result i32) (block $l (result i32) (i32.const 4) "
                  "(br_on_null $l (table.get $t (i32.const 3))) (drop) (drop) (i32.const 5)))",
    "br_on_non_null": "(func (export \"f\") (result i32) (block $l (result (ref $v)) "
                      "(br_on_non_null $l (ref.func $seven)) (unreachable)) "
                      "(call_ref $v))",
    # GC (the structs and arrays of PRELUDE); results are i32s every engine can compare.
    "struct.new": "(func (export \"f\") (result i32) (struct.get $s 0 (struct.new $s "
                  "(i32.const 5) (i32.const 300))))",
    "struct.new_default": "(func (export \"f\") (result i32) (struct.get $s 0 "
                          "(struct.new_default $s)))",
    "struct.get": "(func (export \"f\") (result i32) (struct.get $s 0 (struct.new $s "
                  "(i32.const -5) (i32.const 1))))",
    "struct.get_s": "(func (export \"f\") (result i32) (struct.get_s $s 1 (struct.new $s "
                    "(i32.const 0) (i32.const 200))))",
    "struct.get_u": "(func (export \"f\") (result i32) (struct.get_u $s 1 (struct.new $s "
                    "(i32.const 0) (i32.const -1))))",
    "struct.set": "(func (export \"f\") (result i32) (local (ref null $s)) (local.set 0 "
                  "(struct.new_default $s)) (struct.set $s 1 (local.get 0) (i32.const 257)) "
                  "(struct.get_u $s 1 (local.get 0)))",
    "array.new": "(func (export \"f\") (result i32) (array.get_u $a (array.new $a "
                 "(i32.const 300) (i32.const 3)) (i32.const 2)))",
    "array.new_default": "(func (export \"f\") (result i32) (array.len (array.new_default $a "
                         "(i32.const 4))))",
    "array.new_fixed": "(func (export \"f\") (result i32) (array.get_s $a (array.new_fixed $a "
                       "2 (i32.const 1) (i32.const 255)) (i32.const 1)))",
    "array.new_data": "(func (export \"f\") (result i32) (array.get_u $a (array.new_data $a $d "
                      "(i32.const 1) (i32.const 3)) (i32.const 2)))",
    "array.new_elem": "(func (export \"f\") (result i32) (call_ref $v (ref.cast (ref $v) "
                      "(array.get $af (array.new_elem $af $e (i32.const 0) (i32.const 2)) "
                      "(i32.const 1)))))",
    "array.get": "(func (export \"f\") (result i32) (array.get $ai (array.new $ai "
                 "(i32.const 7) (i32.const 3)) (i32.const 5)))",
    "array.get_s": "(func (export \"f\") (result i32) (array.get_s $a (array.new $a "
                   "(i32.const 130) (i32.const 3)) (i32.const 0)))",
    "array.get_u": "(func (export \"f\") (result i32) (array.get_u $a (array.new $a "
                   "(i32.const 130) (i32.const 3)) (i32.const 0)))",
    "array.set": "(func (export \"f\") (result i32) (local (ref null $a)) (local.set 0 "
                 "(array.new_default $a (i32.const 2))) (array.set $a (local.get 0) "
                 "(i32.const 1) (i32.const 9)) (array.get_u $a (local.get 0) (i32.const 1)))",
    "array.len": "(func (export \"f\") (result i32) (array.len (ref.null $a)))",
    "array.fill": "(func (export \"f\") (result i32) (local (ref null $a)) (local.set 0 "
                  "(array.new_default $a (i32.const 4))) (array.fill $a (local.get 0) "
                  "(i32.const 1) (i32.const 6) (i32.const 2)) (array.get_u $a (local.get 0) "
                  "(i32.const 2)))",
    "array.copy": "(func (export \"f\") (result i32) (local (ref null $a)) (local.set 0 "
                  "(array.new_data $a $d (i32.const 0) (i32.const 6))) (array.copy $a $a "
                  "(local.get 0) (i32.const 1) (local.get 0) (i32.const 0) (i32.const 4)) "
                  "(array.get_u $a (local.get 0) (i32.const 4)))",
    "array.init_data": "(func (export \"f\") (result i32) (local (ref null $a)) (local.set 0 "
                       "(array.new_default $a (i32.const 4))) (array.init_data $a $d "
                       "(local.get 0) (i32.const 1) (i32.const 2) (i32.const 3)) "
                       "(array.get_u $a (local.get 0) (i32.const 3)))",
    "array.init_elem": "(func (export \"f\") (result i32) (local (ref null $af)) (local.set 0 "
                       "(array.new_default $af (i32.const 4))) (array.init_elem $af $e "
                       "(local.get 0) (i32.const 1) (i32.const 0) (i32.const 2)) "
                       "(ref.is_null (array.get $af (local.get 0) (i32.const 0))))",
    "ref.test": "(func (export \"f\") (result i32) (ref.test (ref $s2) "
                "(struct.new_default $s)))",
    "ref.test_null": "(func (export \"f\") (result i32) (ref.test (ref null $s) "
                     "(ref.null none)))",
    "ref.cast": "(func (export \"f\") (result i32) (drop (ref.cast (ref $s2) "
                "(struct.new_default $s))) (i32.const 1))",
    "ref.cast_null": "(func (export \"f\") (result i32) (ref.is_null (ref.cast (ref null $s) "
                     "(ref.null any))))",
    "br_on_cast": "(func (export \"f\") (result i32) (block $l (result (ref i31)) "
                  "(br_on_cast $l anyref (ref i31) (ref.i31 (i32.const 3))) (drop) "
                  "(return (i32.const -1))) (i31.get_u))",
    "br_on_cast_fail": "(func (export \"f\") (result i32) (block $l (result anyref) "
                       "(br_on_cast_fail $l anyref (ref $s) (ref.i31 (i32.const 3))) (drop) "
                       "(return (i32.const -1))) (ref.test (ref i31)))",
    "any.convert_extern": "(func (export \"f\") (result i32) (ref.is_null "
                          "(any.convert_extern (ref.null extern))))",
    "extern.convert_any": "(func (export \"f\") (result i32) (ref.is_null "
                          "(extern.convert_any (ref.i31 (i32.const 1)))))",
    "ref.i31": "(func (export \"f\") (result i32) (i31.get_s (ref.i31 (i32.const -2))))",
    "i31.get_s": "(func (export \"f\") (result i32) (i31.get_s (ref.i31 (i32.const 0x40000000))))",
    "i31.get_u": "(func (export \"f\") (result i32) (i31.get_u (ref.i31 (i32.const -1))))",
    "ref.eq": "(func (export \"f\") (result i32) (local (ref null $s)) (local.set 0 "
              "(struct.new_default $s)) (i32.add (ref.eq (local.get 0) (local.get 0)) "
              "(ref.eq (ref.i31 (i32.const 4)) (ref.i31 (i32.const 4)))))",
    # exception handling: each module declares its own tags
    "throw": "(tag $x (param i32)) (func (export \"f\") (result i32) (block $h (result i32) "
             "(try_table (catch $x $h) (throw $x (i32.const 5))) (i32.const 1)))",
    "throw_ref": "(tag $x) (func (export \"f\") (result i32) (block $o (block $h "
                 "(result exnref) (try_table (catch_all_ref $h) (throw $x)) (unreachable)) "
                 "(try_table (param exnref) (catch $x $o) (throw_ref))) (i32.const 3))",
    "try_table": "(tag $x (param i64)) (func (export \"f\") (result i64 i32) (block $h "
                 "(result i64 exnref) (try_table (result i64 i32) (catch_ref $x $h) "
                 "(throw $x (i64.const -9))) (return)) (drop) (i32.const 4))",
    "try": "(tag $x (param f32)) (func (export \"f\") (result f32) (try (result f32) "
           "(do (throw $x (f32.const 1.5))) (catch $x)))",
    "catch": "(tag $x (param i32)) (tag $y) (func (export \"f\") (result i32) (try (result i32) "
             "(do (throw $y)) (catch $x) (catch $y (i32.const 6))))",
    "catch_all": "(tag $x) (func (export \"f\") (result i32) (try (result i32) "
                 "(do (throw $x)) (catch_all (i32.const 8))))",
    "delegate": "(tag $x) (func (export \"f\") (result i32) (try $t (result i32) (do (try "
                "(do (throw $x)) (delegate $t)) (i32.const 0)) (catch $x (i32.const 2))))",
    "rethrow": "(tag $x (param i32)) (func (export \"f\") (result i32) (try (result i32) (do "
               "(try (do (throw $x (i32.const 11))) (catch $x (drop) (rethrow 0))) "
               "(i32.const 0)) (catch $x)))",
}

# Operands for rows typed by their signature: telling but trap-free where the row allows.
ARGS = {I32: 3, I64: 5, F32: 1.5, F64: 2.25,
        V128: 0x0102030405060708_F0E0D0C0B0A09080}
# Float lanes hold ordinary numbers: a NaN's bits would be nondeterministic (the nan flag).
_FLOAT_LANES = {"f32x4": sum(0x3FC00000 << 32 * k for k in range(4)),
                "f64x2": sum(0x4002000000000000 << 64 * k for k in range(2))}


def _arg(op: isa.Opcode, t: ValType):
    return _FLOAT_LANES.get(op.shape, ARGS[t]) if t is V128 else ARGS[t]


_IMMEDIATE_TEXT = {"lane": "1", "shuffle": " ".join(str(k) for k in range(31, 15, -1)),
                   "data": "$d", "elem": "$e", "mem": "", "table": "$t", "memarg": ""}
_CONST_TEXT = {"i32.const": "-7", "i64.const": "-9", "f32.const": "1.25", "f64.const": "-0.5",
               "v128.const": "i32x4 1 2 3 4"}


def plain_module(op: isa.Opcode) -> str:
    """A function applying a signature-typed row to its parameters."""
    params = " ".join(t.value for t in op.params)
    results = " ".join(t.value for t in op.results)
    body = " ".join(f"(local.get {k})" for k in range(len(op.params)))
    if op.cls == "const":
        imms = _CONST_TEXT[op.name]
    else:
        imms = " ".join(_IMMEDIATE_TEXT[k] for k in op.imms if _IMMEDIATE_TEXT[k])
    fn = (f"(func (export \"f\") {f'(param {params})' if params else ''} "
          f"{f'(result {results})' if results else ''} {body} {op.text} {imms})")
    return f"(module {PRELUDE} {fn})"


def module_text(op: isa.Opcode) -> str:
    if op.special:
        assert op.name in SPECIAL, f"no module in test_isa.SPECIAL exercises {op.name}"
        gc = GC_PRELUDE if op.feature == "gc" else ""
        return f"(module {PRELUDE} {gc} {SPECIAL[op.name]})"
    return plain_module(op)


def outcome(op: isa.Opcode, engine: str):
    """What calling the row's function gives: its results, or the trap's message."""
    m = fayasm.Module(module_text(op))
    used = {ins.op for f in m.syntax.funcs for ins in f.body}
    assert op in used, f"the module for {op.name} does not contain it"
    inst = fayasm.instantiate(m, engine=engine)
    args = [] if op.special else [_arg(op, t) for t in op.params]
    try:
        return ("value", _bits(inst.exports.f(*args)))
    except fayasm.Trap as e:
        return ("trap", str(e).splitlines()[0])


def _bits(v):
    """Results compared bit for bit (a float's sign of zero, a NaN's payload)."""
    if isinstance(v, float):
        return ("f64", struct.unpack("<Q", struct.pack("<d", v))[0])
    if isinstance(v, (tuple, list)):
        return tuple(_bits(x) for x in v)
    return v


_ORACLE: dict = {}

@pytest.mark.parametrize("engine", [e for e in test_engines() if e != "interpreter"])
@pytest.mark.parametrize("op", isa.ALL, ids=lambda op: op.name)
def test_every_engine_lowers_every_row(op, engine):
    if op not in _ORACLE:
        _ORACLE[op] = outcome(op, "interpreter")
    assert outcome(op, engine) == _ORACLE[op]


@pytest.mark.parametrize("op", isa.ALL, ids=lambda op: op.name)
def test_the_interpreter_runs_every_row(op):
    kind, value = _ORACLE.get(op) or outcome(op, "interpreter")
    # Only rows that may trap, by their flag, trap on these operands.
    assert kind == "value" or op.traps, (op.name, value)


def test_the_row_facts_agree_with_the_signatures():
    for op in isa.ALL:
        if op.cls in ("load", "store"):
            assert op.traps and op.access == 1 << op.align
            assert op.reads if op.cls == "load" else op.writes
        if op.cls in ("relop", "testop") and not op.vector:
            assert op.results == (I32,), op.name
        if op.nan:
            assert op.results and op.results[0] in (F32, F64, V128), op.name
        if op.signed is not None:
            assert op.operator.endswith(("_s", "_u")), op.name
        if op.tail:  # the engines tell the callee's naming from the immediates alone
            assert op.cls == "control" and op.traps and op.special, op.name
            assert op.imms in (("func",), ("type", "table"), ("type",)), op.name
    assert {op.name for op in isa.ALL if op.tail} == {
        "return_call", "return_call_indirect", "return_call_ref"}
    widths = {op.name: (op.access, op.signed) for op in isa.ALL if op.cls == "load"}
    assert widths["i64.load32_s"] == (4, True) and widths["i32.load8_u"] == (1, False)
    assert widths["v128.load16x4_s"] == (8, True) and widths["f64.load"] == (8, None)


def test_a_row_no_engine_lowers_fails_here():
    """A fake row with a real signature: the coverage test above reports it per engine."""
    fake = isa.Opcode("i32.fake", 0xFC, 99, (), (I32,), (I32,), False, None, None, "test",
                      len(isa.ALL), "unop")
    assert "i32.fake" not in isa.OPS
    assert "i32.fake" in module_text(fake)
    with pytest.raises(fayasm.ParseError):  # the front end rejects an unknown mnemonic
        fayasm.Module(plain_module(fake))


def test_a_special_row_without_a_module_fails_here():
    fake = isa.Opcode("table.fake", 0xFC, 98, (), (), (), True, None, None, "test", 0, "table")
    with pytest.raises(AssertionError, match=r"no module in test_isa\.SPECIAL exercises"):
        module_text(fake)
