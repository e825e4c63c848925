"""Errors a new user meets (issue 19): each names what went wrong, is a fayasm.Error, and
looks the same on every engine."""
from __future__ import annotations

import pytest
from conftest import REPO

import fayasm
from fayasm import Val

FIB = REPO / "examples" / "fib.wasm"


def test_val_from_python_rejects_a_float_for_an_int_type():
    with pytest.raises(fayasm.ArgumentTypeError, match="expected an int for i32, got float"):
        Val.from_python("i32", 1.5)
    with pytest.raises(fayasm.ArgumentError, match="does not fit in i32"):
        Val.from_python("i32", 1 << 40)
    with pytest.raises(TypeError):  # both except styles work
        Val.from_python("f64", "1.5")
    assert Val.from_python("i64", -1).bits == (1 << 64) - 1


def test_link_errors_say_what_was_given():
    m = fayasm.Module('(module (import "e" "m" (memory 2)) (import "e" "t" (table 3 funcref))'
                      ' (import "e" "g" (global i32)))')
    imports = {"e": {"m": fayasm.Memory(1), "t": fayasm.Table("funcref", 1, 2), "g": 1.5}}
    with pytest.raises(fayasm.LinkError) as info:
        fayasm.instantiate(m, imports, engine="interpreter")
    assert info.value.problems == [
        ('incompatible import type for "e"."m": expected memory 2, got a memory of 1 page '
         "(maximum none)"),
        ('incompatible import type for "e"."t": expected table 3 funcref, got a funcref table '
         "of 1 element (maximum 2)"),
        ('incompatible import type for "e"."g": expected global i32: expected an int for i32, '
         "got float")]


def test_a_host_function_returning_the_wrong_type_is_named(engine):
    m = fayasm.Module('(module (import "env" "answer" (func $h (result i32)))'
                      ' (func (export "f") (result i32) call $h))')
    inst = fayasm.instantiate(m, {"env": {"answer": lambda: "42"}}, engine=engine)
    with pytest.raises(fayasm.Error) as info:
        inst.exports.f()
    assert str(info.value) == ('host function "env"."answer" (<lambda>) returned a bad result '
                               "for () -> (i32): expected an int for i32, got str")


def test_module_given_a_file_name_says_to_use_from_file():
    with pytest.raises(fayasm.ParseError, match=r"use fayasm\.Module\.from_file"):
        fayasm.Module("fib.wasm")
    with pytest.raises(fayasm.ArgumentTypeError, match="from_file"):
        fayasm.Module(FIB)  # a Path
    with pytest.raises(fayasm.FileError) as info:
        fayasm.Module.from_file(REPO / "no-such.wasm")
    assert isinstance(info.value, OSError) and not isinstance(info.value, fayasm.CompileError)
    assert info.value.filename.endswith("no-such.wasm")


@pytest.mark.parametrize("call", [
    lambda: fayasm.Memory(1.5), lambda: fayasm.Memory(1).read(0, "x"),
    lambda: fayasm.Memory(1).write(0, 2.5), lambda: Val.from_bits("i32", "x"),
    lambda: fayasm.Table("funcref", 1).get("a"), lambda: fayasm.ResourceLimits(memory=-1),
    lambda: fayasm.WasiConfig(argv=[1]),
])
def test_bad_arguments_from_python_are_fayasm_errors(call):
    with pytest.raises(fayasm.ArgumentError):
        call()


def test_exhaustion_gives_the_same_frames_on_every_engine(engine):
    wat = '(module (func $f (export "f") (param i32) (result i32) (call $f (local.get 0))))'
    inst = fayasm.instantiate(wat, engine=engine)
    with pytest.raises(fayasm.Exhaustion) as info:
        inst.exports.f(1)
    frames = info.value.frames
    assert set(frames) == {"f"}
    # The python engine recurses as deep as Python's recursion limit lets it, which
    # depends on the caller's depth: only the others stop at exactly 20,001 frames.
    assert len(frames) == 20_001 if engine != "python" else len(frames) >= 20_001
    lines = str(info.value).splitlines()
    assert lines[:5] == ["call stack exhausted", "wasm backtrace:", "  at f", "  at f", "  at f"]
    assert lines[5] == f"  [previous frame repeated {len(frames) - 3:,} more times]"
    assert len(lines) == 6


def test_fib_100000_is_capped_for_display_on_every_engine(engine):
    inst = fayasm.instantiate(fayasm.Module.from_file(FIB), engine=engine)
    with pytest.raises(fayasm.Exhaustion) as info:
        inst.exports.fib(100_000)
    assert len(info.value.frames) >= 20_001 and len(str(info.value).splitlines()) < 10


def test_backtrace_display_caps_mutual_recursion_too():
    from fayasm.runtime.errors import format_frames

    lines = format_frames(["a", "b"] * 10_000 + ["main"])
    assert len(lines) <= 101 and lines[-1] == "  at main"
    assert any("more lines" in line for line in lines)
    assert format_frames(["x", "x", "y"]) == ["  at x", "  at x", "  at y"]
