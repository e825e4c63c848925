"""The relaxed SIMD oracle of the diff (fayasm/testing/relaxed.py): wasmtime may return
any result the spec allows, fayasm's engines must agree exactly, and a result no choice
explains is still a difference."""
from __future__ import annotations

import pytest

import fayasm
from fayasm import engines
from fayasm.runtime.values import Val
from fayasm.testing import relaxed
from fayasm.testing.diff import agrees_with_wasmtime, diff
from fayasm.testing.run import FayasmRunner, Outcome, wasmtime_available

WAT = '''(module (memory (export "m") 1)
 (func (export "swz") (param i64 i64) (result i64)
   (i64x2.extract_lane 0 (i8x16.relaxed_swizzle
     (i64x2.replace_lane 1 (i64x2.splat (local.get 0)) (local.get 1))
     (i8x16.splat (i32.const 0x11)))))
 (func (export "lsel") (param i64 i64) (result i64)
   (i64x2.extract_lane 0 (i16x8.relaxed_laneselect (i64x2.splat (local.get 0))
     (i64x2.splat (local.get 1)) (i16x8.splat (i32.const 0x8001)))))
 (func (export "lsel8") (param i64 i64) (result i64)
   (i64x2.extract_lane 0 (i8x16.relaxed_laneselect (i64x2.splat (local.get 0))
     (i64x2.splat (local.get 1)) (i16x8.splat (i32.const 0x8001))))))'''

I64 = lambda x: Val.from_bits("i64", x & (2**64 - 1))  # noqa: E731
PLAN = [("swz", [I64(0x0807060504030201), I64(0x100F0E0D0C0B0A09)]),
        ("lsel", [I64(-1), I64(0)]), ("lsel8", [I64(-1), I64(0)])]


def test_used_lists_the_relaxed_instructions_of_a_module():
    assert relaxed.used(fayasm.Module(WAT)) == [
        "i16x8.relaxed_laneselect", "i8x16.relaxed_laneselect", "i8x16.relaxed_swizzle"]
    assert relaxed.used(fayasm.Module("(module (func))")) == []


def test_profiles_start_with_wasmtimes_choices_and_skip_the_deterministic_one():
    names = ["i16x8.relaxed_laneselect", "i8x16.relaxed_swizzle"]
    ps = list(relaxed.profiles(names))
    assert ps[0] == {"i16x8.relaxed_laneselect": 0, "i8x16.relaxed_swizzle": 1}
    assert len(ps) == relaxed.count(names) == 3
    assert all(any(p.values()) for p in ps)
    assert len(list(relaxed.profiles(["f32x4.relaxed_min"] * 1 + ["f64x2.relaxed_max"],
                                     limit=5))) == 5


def test_a_variant_interpreter_computes_the_other_choice():
    name = relaxed.engine_for({"i8x16.relaxed_swizzle": 1})
    m = fayasm.Module(WAT)
    det = fayasm.instantiate(m, engine="interpreter").exports["swz"]
    other = fayasm.instantiate(m, engine=name).exports["swz"]
    assert det.invoke(PLAN[0][1])[0].bits == 0
    assert other.invoke(PLAN[0][1])[0].bits == 0x0202020202020202
    assert name not in engines.available()


def _runner(module):
    return lambda e: FayasmRunner(e, module, True, 10_000)


def _wasmtime_like(module, profile, plan):
    """The steps a runtime with ``profile``'s choices takes: (call, outcome, state)."""
    r = _runner(module)(relaxed.engine_for(profile))
    steps = [(None, r.instantiate(), r.state())]
    for call in plan:
        steps.append((call, r.call(*call), r.state()))
    return steps


def test_oracle_accepts_what_one_choice_per_instruction_explains():
    m = fayasm.Module(WAT)
    oracle = relaxed.Oracle(m, _runner(m), lambda o, s, wo, ws: agrees_with_wasmtime(o, s, wo, ws,
                                                                             "exact"))
    # swizzle and i8x16 laneselect as x86, i16x8 laneselect as bitselect: no single
    # choice per spec parameter, one per instruction.
    steps = _wasmtime_like(m, relaxed.WASMTIME_X86, PLAN)
    agrees = [True, False, True, False]  # does the deterministic reference agree?
    assert all(oracle.allows(c, o, s, a) for (c, o, s), a in zip(steps, agrees))
    assert "allowed by the spec" in oracle.explanation()
    oracle.close()


def test_oracle_refuses_a_result_no_choice_gives():
    m = fayasm.Module(WAT)
    oracle = relaxed.Oracle(m, _runner(m), lambda o, s, wo, ws: agrees_with_wasmtime(o, s, wo, ws,
                                                                             "exact"))
    steps = _wasmtime_like(m, {}, PLAN[:1])
    assert oracle.allows(*steps[0], True)
    wrong = Outcome("ok", values=[I64(0x1234)])
    assert not oracle.allows(PLAN[0], wrong, steps[1][2], False)
    assert "fit no choice" in oracle.explanation()
    assert relaxed.count(relaxed.used(m)) == oracle.tried == 7


def test_oracle_refuses_choices_that_change_between_steps():
    """A runtime fixes its choices: swizzle's wrap-around at one call and zero at the
    next is no lawful runtime, although each call alone is."""
    m = fayasm.Module(WAT)
    oracle = relaxed.Oracle(m, _runner(m), lambda o, s, wo, ws: agrees_with_wasmtime(o, s, wo, ws,
                                                                             "exact"))
    wrap = _wasmtime_like(m, {"i8x16.relaxed_swizzle": 1}, PLAN[:1])
    zero = _wasmtime_like(m, {}, PLAN[:1])
    assert oracle.allows(*wrap[0], True)
    assert oracle.allows(*wrap[1], False)
    assert not oracle.allows(*zero[1], True)


def test_fayasm_engines_that_choose_differently_are_a_difference():
    """Two fayasm engines making different allowed choices is a bug, wasmtime or not."""
    m = fayasm.Module(WAT)
    other = relaxed.engine_for({"i8x16.relaxed_swizzle": 1})
    r = diff(m, plan=PLAN, engines=["interpreter", other], wasmtime=wasmtime_available())
    assert r.difference is not None
    assert r.difference.step == 1
    assert not any("interpreter" in g and other in g for g in r.difference.groups)


@pytest.mark.skipif(not wasmtime_available(), reason="needs the wasmtime package")
def test_diff_accepts_wasmtimes_relaxed_results(monkeypatch):
    m = fayasm.Module(WAT)
    r = diff(m, plan=PLAN, wasmtime=True)
    assert r.ok and "wasmtime" in r.engines and r.compared == 4
    assert any("allowed by the spec" in n for n in r.notes), r.notes
    # Without the oracle, wasmtime's swizzle (x86 pshufb) differs from fayasm's.
    monkeypatch.setattr(relaxed.Oracle, "active", property(lambda self: False))
    r = diff(fayasm.Module(WAT), plan=PLAN, wasmtime=True)
    assert r.difference is not None and r.difference.signature[1] == ("wasmtime",)
