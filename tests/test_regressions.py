"""Regression tests for engine bugs found by differential fuzzing (fayasm fuzz).

Each test is named for its bug and holds the minimal module the fuzzer shrank it to, run
on every available engine and compared with the reference interpreter by fayasm.testing.
"""
from __future__ import annotations

import pytest
from conftest import test_engines

import fayasm
from fayasm.testing.diff import diff


def agree(wat: str, calls, wasmtime: bool = True):
    """Diff the module on every engine; fail with the report if any engine disagrees."""
    module = fayasm.Module(wat)
    result = diff(module, calls, engines=test_engines(), wasmtime=wasmtime, nan="exact",
                  metered=False)
    assert result.ok, result.difference.report()
    return result


def test_python_clz_popcnt_of_a_constant_compiles():
    """python engine: i32.clz/popcnt of a literal printed ``0.bit_length()``, which is not
    Python (a float literal "0." followed by a name): the translation did not compile."""
    r = agree("""(module
      (func (export "clz") (result i32) (i32.clz (i32.const 0)))
      (func (export "ctz") (result i64) (i64.clz (i64.const 5)))
      (func (export "pop") (result i32) (i32.popcnt (i32.const 7))))""",
              [("clz", []), ("ctz", []), ("pop", [])])
    assert [o.values[0].value for o in r.outcomes[1:]] == [32, 61, 3]


def test_python_metered_call_indirect_keeps_fuel():
    """python engine, metered: a call_indirect to a function of the same module went
    through the wrapper for calls from outside, which takes all remaining fuel as a new
    chunk; the nested call found none left and trapped "out of fuel" at depth 2."""
    wat = """(module
      (type $t (func (param i32) (result i32)))
      (table 1 funcref)
      (elem (i32.const 0) $f)
      (func $f (export "f") (param i32) (result i32)
        (if (result i32) (local.get 0)
          (then (call_indirect (type $t) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))
          (else (i32.const 42)))))"""
    module = fayasm.Module(wat)
    for engine in test_engines():
        inst = fayasm.instantiate(module, engine=engine, fuel=1000)
        assert inst.exports.f(2) == 42, engine


def test_metered_reentry_through_a_host_function_keeps_fuel(engine):
    """Every engine, metered: wasm calling a host function that calls back into the same
    instance took a fresh fuel chunk for the nested entry; the outer entry had taken the
    whole budget, so the nested call trapped "out of fuel" at once. Nested entries now
    continue the running chunk (Budget.begin)."""
    wat = """(module
      (import "host" "back" (func $back (param i32) (result i32)))
      (func $f (export "f") (param i32) (result i32)
        (if (result i32) (local.get 0)
          (then (call $back (i32.sub (local.get 0) (i32.const 1))))
          (else (i32.const 7)))))"""
    module = fayasm.Module(wat)
    holder = {}
    inst = fayasm.instantiate(module, {"host": {"back": lambda n: holder["f"](n)}},
                              engine=engine, fuel=1000)
    holder["f"] = inst.exports.f
    assert inst.exports.f(3) == 7
    # 1 entry + 3 x (call $back + re-entry) = 7 units exactly.
    inst2 = fayasm.instantiate(module, {"host": {"back": lambda n: holder["g"](n)}},
                               engine=engine, fuel=7)
    holder["g"] = inst2.exports.f
    assert inst2.exports.f(3) == 7
    with pytest.raises(fayasm.Trap, match="out of fuel"):
        inst2.exports.f(0)


def test_jit_third_and_fourth_float_results_keep_signalling_nan_bits():
    """jit: a function with several results returned them as an LLVM struct, and the x86-64
    return convention puts a struct's third and fourth floats in x87 registers, where
    loading a signalling NaN quiets it (0x7ff4... came back as 0x7ffc...). Found by the
    campaign with a six-result function; results, calls between functions and host
    functions with several results are all covered here."""
    snan64, snan32 = "nan:0x4000000000000", "nan:0x200000"
    wat = f"""(module
      (func $three (export "three") (result f64 f64 f64)
        (f64.const 1) (f64.const -0) (f64.const {snan64}))
      (func $four (export "four") (result f32 f32 f32 f32)
        (f32.const 1) (f32.const 2) (f32.const -{snan32}) (f32.const {snan32}))
      (func $mixed (export "mixed") (param f64) (result externref f64 f64 funcref f64 i32)
        (ref.null extern) (local.get 0) (local.get 0) (ref.null func)
        (f64.const {snan64}) (i32.const 7))
      (func (export "through_call") (result f64 f64 f64 f64)
        (call $three) (f64.const -{snan64}))
      (func (export "sum_call") (result f64)
        (call $three) (drop) (drop))
      (func (export "mixed_call") (result externref f64 f64 funcref f64 i32)
        (call $mixed (f64.const {snan64}))))"""
    calls = [(name, []) for name in ("three", "four", "through_call", "sum_call",
                                    "mixed_call")]
    calls.append(("mixed", [fayasm.Val.from_bits("f64", 0x7FF0_0000_0000_0001)]))
    agree(wat, calls)


def test_jit_host_function_with_several_float_results_keeps_nan_bits(engine):
    """The host trampoline side of the same bug: a host function's results enter wasm
    through the same multi-value struct."""
    wat = """(module
      (import "env" "h" (func $h (result f64 f32 f64 f64)))
      (func (export "f") (result f64 f32 f64 f64) (call $h)))"""
    bits = [0x7FF4_0000_0000_0000, 0x7FA0_0000, 0xFFF0_0000_0000_0001, 0x7FF4_0000_0000_0002]
    host = fayasm.Func(lambda: tuple(fayasm.Val.from_bits(t, b) for t, b in
                                     zip(("f64", "f32", "f64", "f64"), bits)),
                       fayasm.FuncType([], [fayasm.ValType.F64, fayasm.ValType.F32,
                                            fayasm.ValType.F64, fayasm.ValType.F64]))
    inst = fayasm.instantiate(fayasm.Module(wat), {"env": {"h": host}}, engine=engine)
    assert [v.bits for v in inst.exports.f.invoke([])] == bits


# -- jit: LLVM folds that let a signalling NaN through (found by the fuzz campaign) ------

SNAN_FOLDS = """(module
  (func (export "uninit_local") (param f32) (result i32) (local f32)
    (f32.sub (local.get 0) (local.get 1)) i32.reinterpret_f32)
  (func (export "snan_const") (result i32)
    (f32.add (f32.const 1.5) (f32.const nan:0x200005)) i32.reinterpret_f32)
  (func (export "snan_lanes") (result i32)
    (f32x4.extract_lane 2 (f32x4.min (v128.const f32x4 0 1 2 3)
                                     (v128.const i32x4 0x7fc00001 0xcf000000 0x7fa00000 1)))
    i32.reinterpret_f32)
  (func (export "folded_zero") (param f32) (result i32)
    (f32.sub (local.get 0) (f32.sub (f32.const 2.5) (f32.const 2.5))) i32.reinterpret_f32)
  (func (export "folded_one") (param f64) (result i64) (local f64)
    (local.set 1 (f64.const 0.5)) (local.set 1 (f64.mul (local.get 1) (f64.const 2)))
    (f64.mul (local.get 0) (local.get 1)) i64.reinterpret_f64)
  (func (export "int_zero") (param f32) (result i32)
    (f32.add (local.get 0) (f32.reinterpret_i32 (i32.sub (i32.const 5) (i32.const 5))))
    i32.reinterpret_f32)
  (func (export "converted_zero") (param f32) (result i32)
    (f32.sub (local.get 0) (f32.convert_i32_s (i32.const 0))) i32.reinterpret_f32)
  (func (export "splat_zero") (param i64 i64) (result i32)
    (f32x4.extract_lane 0 (f32x4.sub
      (i64x2.replace_lane 1 (i64x2.splat (local.get 0)) (local.get 1))
      (i32x4.splat (i32.const 0))))
    i32.reinterpret_f32))"""


def test_jit_quiets_signalling_nans_llvm_could_fold_through():
    """x - 0.0, x * 1.0 and x + sNaN must return a quiet NaN for a signalling NaN x; LLVM
    folds them to x (or to the sNaN) whenever it can evaluate the other operand: a float
    local never set, a signalling NaN constant (also as a v128 lane), arithmetic on
    constants, an integer reinterpreted or converted, an integer splat. Every engine must
    return a quiet NaN (the interpreter's hardware arithmetic does)."""
    snan32 = fayasm.Val.from_bits("f32", 0x7FA0_0000)
    snan64 = fayasm.Val.from_bits("f64", 0x7FF4_0000_0000_0000)
    calls = [("uninit_local", [snan32]), ("snan_const", []), ("snan_lanes", []),
             ("folded_zero", [snan32]), ("folded_one", [snan64]), ("int_zero", [snan32]),
             ("converted_zero", [snan32]),
             ("splat_zero", [fayasm.Val.i64(0x7FA0_0000), fayasm.Val.i64(0)])]
    for engine in test_engines():
        inst = fayasm.instantiate(fayasm.Module(SNAN_FOLDS), engine=engine)
        for name, args in calls:
            bits = inst.exports[name].invoke(args)[0].bits
            quiet = 1 << 22 if name != "folded_one" else 1 << 51
            assert bits & quiet, (engine, name, hex(bits))


STORED_FOLDS = """(module (memory 1)
  (func (export "stored_zero") (param f32) (result i32)
    (i32.store (i32.const 8) (i32.const 0))
    (f32.sub (local.get 0) (f32.load (i32.const 8))) i32.reinterpret_f32)
  (func (export "stored_one") (param f64) (result i64)
    (i64.store (i32.const 16) (i64.const 0x3FF0000000000000))
    (f64.mul (local.get 0) (f64.load (i32.const 16))) i64.reinterpret_f64)
  (func (export "loop_one") (param f64 i32) (result i64) (local f64)
    (local.set 2 (f64.const 0.25))
    (loop $l
      (local.set 2 (f64.add (local.get 2) (local.get 2)))
      (br_if $l (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))))
    (f64.mul (local.get 0) (local.get 2)) i64.reinterpret_f64))"""


@pytest.mark.parametrize("guard_pages", ["1", "0"])
def test_jit_quiets_signalling_nans_through_forwarded_stores_without_laundering_arithmetic(
        guard_pages, monkeypatch):
    """The float operands of arithmetic are no longer laundered (that cost n-body 10%),
    only what LLVM can evaluate: a float load LLVM forwards a stored integer constant to
    is such a source where loads are plain (explicit bounds checks), and so is a value
    computed from constants in a loop LLVM unrolls."""
    from fayasm.runtime import memory

    monkeypatch.setattr(memory, "GUARD_PAGES", guard_pages == "1")
    inst = fayasm.instantiate(fayasm.Module(STORED_FOLDS), engine="jit")
    snan32 = fayasm.Val.from_bits("f32", 0x7FA0_0000)
    snan64 = fayasm.Val.from_bits("f64", 0x7FF4_0000_0000_0000)
    assert inst.exports.stored_zero.invoke([snan32])[0].bits & (1 << 22)
    assert inst.exports.stored_one.invoke([snan64])[0].bits & (1 << 51)
    assert inst.exports.loop_one.invoke([snan64, fayasm.Val.i32(2)])[0].bits & (1 << 51)
