"""The public contract of DESIGN.md: Module, instantiate, exports, Func, Val, Memory,
Table, Global, and LinkError naming every problem."""
from __future__ import annotations

import math

import pytest

import fayasm
from fayasm import ExternKind, Func, FuncType, Global, LinkError, Memory, Table, Val, ValType

ADD = ('(module (func (export "add") (param i32 i32) (result i32)'
       ' (i32.add (local.get 0) (local.get 1))))')


def test_module_from_text_and_binary():
    m = fayasm.Module(ADD)
    m2 = fayasm.Module(m.binary)
    assert m2.syntax == m.syntax
    assert [str(e) for e in m.exports] == ['"add": func (i32, i32) -> (i32)']
    assert m.hash == m2.hash


def test_module_from_file(tmp_path):
    wat = tmp_path / "add.wat"
    wat.write_text(ADD)
    wasm = tmp_path / "add.wasm"
    wasm.write_bytes(fayasm.Module(ADD).binary)
    assert fayasm.Module.from_file(wat).exports == fayasm.Module.from_file(wasm).exports
    with pytest.raises(fayasm.FileError) as info:  # not a CompileError: the module is fine
        fayasm.Module.from_file(tmp_path / "missing.wasm")
    assert isinstance(info.value, OSError) and not isinstance(info.value, fayasm.CompileError)


def test_module_rejects_bad_input_with_compile_errors():
    with pytest.raises(fayasm.DecodeError) as info:
        fayasm.Module(b"\0asm\x02\0\0\0")
    assert info.value.message == "unknown binary version" and info.value.offset == 4
    with pytest.raises(fayasm.ParseError) as info:
        fayasm.Module("(module (func (i32.bogus)))")
    assert info.value.line == 1 and info.value.column > 1
    with pytest.raises(fayasm.ValidationError) as info:
        fayasm.Module('(module (func (result i32) (i64.const 0)))')
    assert info.value.message.startswith("type mismatch") and info.value.func == 0
    with pytest.raises(TypeError):
        fayasm.Module(42)


def test_exports_attribute_item_and_iteration():
    inst = fayasm.instantiate(fayasm.Module(ADD), engine="interpreter")
    assert inst.exports.add(2, 3) == 5
    assert inst.exports["add"](2, 3) == 5
    assert list(inst.exports) == ["add"]
    assert "add" in inst.exports and len(inst.exports) == 1
    with pytest.raises(AttributeError):
        _ = inst.exports.sub
    with pytest.raises(KeyError):
        inst.exports["sub"]


def test_func_signedness_and_argument_errors():
    inst = fayasm.instantiate(fayasm.Module(ADD))
    add = inst.exports.add
    assert add(0x7FFFFFFF, 1) == -2**31  # i32 results come back signed
    assert add(0xFFFFFFFF, 0) == -1  # unsigned arguments are accepted
    assert add.type == FuncType(["i32", "i32"], ["i32"])
    with pytest.raises(fayasm.Error):
        add(1)
    with pytest.raises(fayasm.Error):
        add(1, 2**40)
    with pytest.raises(fayasm.Error):
        add(1, "2")
    assert add.invoke([Val.i32(1), Val.i32(2)]) == [Val.i32(3)]


def test_link_error_lists_every_problem_at_once():
    m = fayasm.Module("""(module
      (import "env" "f" (func (param i32)))
      (import "env" "g" (func (result i32)))
      (import "env" "mem" (memory 2))
      (import "other" "glob" (global (mut i64))))""")
    g = Func(lambda: 1, FuncType([], ["i64"]))
    with pytest.raises(LinkError) as info:
        fayasm.instantiate(m, imports={"env": {"g": g, "mem": Memory(1)}})
    problems = info.value.problems
    assert len(problems) == 4
    assert problems[0].startswith('unknown import "env"."f"')
    assert problems[1].startswith('incompatible import type for "env"."g"')
    assert problems[2].startswith('incompatible import type for "env"."mem"')
    assert problems[3].startswith('unknown import "other"."glob"')
    assert str(info.value).count("\n") == 3


def test_imports_from_callables_objects_and_other_instances():
    m = fayasm.Module("""(module
      (import "env" "log" (func $log (param i32 f64)))
      (import "env" "mem" (memory 1))
      (import "env" "g" (global $g i32))
      (import "lib" "add" (func $add (param i32 i32) (result i32)))
      (func (export "go") (result i32)
        (call $log (i32.const -7) (f64.const 0.5))
        (i32.store (i32.const 0) (global.get $g))
        (call $add (global.get $g) (i32.load (i32.const 0)))))""")
    seen = []
    lib = fayasm.instantiate(fayasm.Module(ADD))
    mem = Memory(1)
    inst = fayasm.instantiate(m, imports={
        "env": {"log": lambda a, b: seen.append((a, b)), "mem": mem, "g": 21},
        "lib": lib.exports})
    assert inst.exports.go() == 42
    assert seen == [(-7, 0.5)]
    assert mem.read(0, 4) == (21).to_bytes(4, "little")
    assert [str(i) for i in m.imports][0] == '"env"."log": func (i32, f64) -> ()'


def test_val_constructors_and_properties():
    v = Val.from_bits("f32", 0x7FA00000)
    assert str(v.type) == "f32" and v.bits == 0x7FA00000 and math.isnan(v.value)
    assert Val.from_bits(ValType.I32, 0xFFFFFFFF).value == -1
    assert Val.i64(-1).bits == 2**64 - 1
    assert Val.f64(-0.0).bits == 1 << 63
    assert Val.funcref(None).ref is None and Val.externref("x").value == "x"
    assert Val.f32(0.1).value == pytest.approx(0.1, rel=1e-7)


def test_memory_table_global_constructors():
    mem = Memory(1, 3)
    assert mem.size == 1 and mem.grow(2) == 1 and mem.grow(1) == -1
    mem.write(10, b"hi")
    assert mem.read(10, 2) == b"hi"
    with pytest.raises(fayasm.Trap):
        mem.read(3 * 65536 - 1, 2)
    t = Table("funcref", 2, 4)
    assert t.size == 2 and t.grow(2) == 2 and t.grow(1) == -1
    g = Global(Val.i32(5), mutable=True)
    g.value = -3
    assert g.value == -3 and g.val == Val.i32(-3)
    frozen = Global(Val.f64(1.5))
    with pytest.raises(fayasm.Error):
        frozen.value = 2.0


def test_exported_global_is_shared_live():
    m = fayasm.Module('(module (global (export "g") (mut i32) (i32.const 1))'
                      ' (func (export "inc")'
                      ' (global.set 0 (i32.add (global.get 0) (i32.const 1)))))')
    inst = fayasm.instantiate(m)
    inst.exports.inc()
    assert inst.exports.g.value == 2
    inst.exports.g.value = 10
    inst.exports.inc()
    assert inst.exports.g.value == 11


def test_start_function_runs_and_host_errors_propagate():
    calls = []
    m = fayasm.Module('(module (import "e" "f" (func)) (start 0))')
    fayasm.instantiate(m, imports={"e": {"f": lambda: calls.append(1)}})
    assert calls == [1]

    def fail():
        raise ZeroDivisionError("host")
    with pytest.raises(ZeroDivisionError):
        fayasm.instantiate(m, imports={"e": {"f": fail}})


def test_unknown_engine_is_a_fayasm_error():
    with pytest.raises(fayasm.Error, match="unknown engine"):
        fayasm.instantiate(fayasm.Module(ADD), engine="nope")


def test_extern_kinds_in_module_listing():
    m = fayasm.Module('(module (memory (export "m") 1) (table (export "t") 1 funcref)'
                      ' (global (export "g") i32 (i32.const 0)))')
    assert [e.kind for e in m.exports] == [ExternKind.MEMORY, ExternKind.TABLE, ExternKind.GLOBAL]
