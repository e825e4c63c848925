"""Differential testing: a bounded run of generated modules on every available engine
(and wasmtime), and unit tests of how the diff finds and reports differences.

The bounded run is deterministic (hypothesis derandomized) and prints statistics (use
``pytest -s`` to see them); a failure shows the shrunk module's report and WAT.
"""
from __future__ import annotations

import collections
import os

import pytest
from conftest import test_engines
from hypothesis import HealthCheck, Phase, given, note, settings

import fayasm
from fayasm.cli import main
from fayasm.testing.diff import diff
from fayasm.testing.generate import GenConfig, modules
from fayasm.testing.run import wasmtime_available

N_MODULES = int(os.environ.get("FAYASM_DIFF_EXAMPLES", "300"))
# engines raise the recursion limit; hypothesis warns that it will not restore it
pytestmark = pytest.mark.filterwarnings("ignore:The recursion limit")
CONFIG = GenConfig(max_funcs=3, max_budget=100)


@pytest.fixture(autouse=True)
def _no_translation_cache(monkeypatch):
    monkeypatch.setenv("FAYASM_CACHE", "0")


def test_engines_agree_on_generated_modules():
    engines = test_engines()
    stats = collections.Counter()
    outcomes = collections.Counter()

    @settings(max_examples=N_MODULES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
    @given(modules(CONFIG))
    def check(g):
        result = diff(g.module(), g.plan, engines=engines, wasmtime=True, metered=g.metered)
        stats["modules"] += 1
        stats["executions"] += result.executions
        stats["metered"] += g.metered
        stats["instructions"] += sum(g.op_counts().values())
        for o in result.outcomes:
            outcomes[o.code if o.kind == "trap" else o.kind] += 1
        if result.difference is not None:
            note(g.wat())
            raise AssertionError(result.difference.report())

    check()
    print(f"\n{stats['modules']} modules ({stats['metered']} metered), "
          f"{stats['instructions']} instructions, {stats['executions']} executions on "
          f"{', '.join(engines)}{', wasmtime' if wasmtime_available() else ''}")
    print("outcomes:", dict(outcomes.most_common()))
    assert stats["modules"] == N_MODULES
    if N_MODULES >= 100:  # the programs run and trap in many ways
        assert outcomes["ok"] > sum(outcomes.values()) * 0.4
        assert len([k for k in outcomes if k not in ("ok", "error")]) >= 6


# -- reporting ---------------------------------------------------------------------------

WAT = """(module
  (memory (export "mem") 1)
  (global (export "g") (mut i32) (i32.const 0))
  (func (export "rem") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "store") (param i32)
    (i32.store (i32.const 8) (i32.rem_s (local.get 0) (i32.const 3))))
  (func (export "set") (param i32) (global.set 0 (i32.rem_s (local.get 0) (i32.const 5))))
  (func (export "trap") (param i32) (result i32) (i32.rem_s (i32.const 1) (local.get 0))))"""


@pytest.fixture
def broken_rem(monkeypatch):
    """The interpreter with i32.rem_s returning the remainder's absolute value."""
    from fayasm.interpreter import code

    ops = dict(code.NUMERIC)
    good = ops["i32.rem_s"]
    ops["i32.rem_s"] = lambda a, b: abs(_s32(good(a, b))) & 0xFFFFFFFF
    monkeypatch.setattr(code, "NUMERIC", ops)


def _s32(x):
    return x - (1 << 32) if x >> 31 else x


def _call(name, *args):
    return (name, [fayasm.Val.i32(a) for a in args])


def test_result_difference_names_call_arguments_and_engines(broken_rem):
    m = fayasm.Module(WAT)
    r = diff(m, [_call("rem", 7, 3), _call("rem", -7, 3)], engines=["interpreter", "python"],
             wasmtime=wasmtime_available())
    d = r.difference
    assert d is not None and d.step == 2 and d.what == "result"
    report = d.report()
    assert "rem(i32:-7, i32:3)" in report
    assert "i32:1" in report and "i32:-1" in report
    if wasmtime_available():
        assert d.groups == [["interpreter"], ["python", "wasmtime"]]
        assert d.signature[1] == ("interpreter",)  # the odd one out, by majority


def test_memory_and_global_differences(broken_rem):
    m = fayasm.Module(WAT)
    d = diff(m, [_call("store", -4)], engines=["python", "interpreter"]).difference
    assert d.what == "memory" and "memory 'mem' at 0x8" in d.where
    assert "0x00000: " in d.views["python"]
    d = diff(m, [_call("set", -4)], engines=["python", "interpreter"]).difference
    assert d.what == "global" and d.views["python"] == "i32:-4"
    assert d.views["interpreter"] == "i32:4"


def test_trap_kinds_are_compared():
    m = fayasm.Module(WAT)
    r = diff(m, [_call("trap", 0), _call("rem", -0x80000000, -1)], engines=test_engines(),
             wasmtime=True)
    assert r.ok, r.difference and r.difference.report()
    assert r.outcomes[1].code == "integer_divide_by_zero"
    assert r.outcomes[2].kind == "ok" and r.outcomes[2].values[0].value == 0


def test_every_trap_kind_agrees_with_wasmtime():
    """wasmtime's trap codes map onto fayasm's: no false differences for any kind."""
    if not wasmtime_available():
        pytest.skip("wasmtime is not installed")
    wat = """(module (memory 1 1) (table 2 funcref) (elem (i32.const 0) $a)
      (type $t (func (result i32)))
      (func $a (param i32) (result i32) (local.get 0))
      (func (export "unreachable") unreachable)
      (func (export "div0") (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
      (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
      (func (export "conversion") (result i32) (i32.trunc_f32_s (f32.const nan)))
      (func (export "oob") (result i32) (i32.load (i32.const 65534)))
      (func (export "table_oob") (result funcref) (table.get 0 (i32.const 5)))
      (func (export "undefined") (result i32) (call_indirect (type $t) (i32.const 9)))
      (func (export "null") (result i32) (call_indirect (type $t) (i32.const 1)))
      (func (export "mismatch") (result i32) (call_indirect (type $t) (i32.const 0)))
      (func $deep (export "deep") (param i32) (result i32)
        (call $deep (i32.add (local.get 0) (i32.const 1)))))"""
    m = fayasm.Module(wat)
    names = ["unreachable", "div0", "overflow", "conversion", "oob", "table_oob",
             "undefined", "null", "mismatch"]
    plan = [(n, []) for n in names] + [("deep", [fayasm.Val.i32(0)])]
    r = diff(m, plan, engines=["interpreter"], wasmtime=True)
    assert r.ok, r.difference.report()
    codes = [o.code for o in r.outcomes[1:]]
    assert codes == ["unreachable", "integer_divide_by_zero", "integer_overflow",
                     "invalid_conversion_to_integer", "memory_out_of_bounds",
                     "table_out_of_bounds", "undefined_element", "uninitialized_element",
                     "indirect_call_type_mismatch", "call_stack_exhausted"]


def test_host_calls_are_logged_and_compared():
    wat = """(module (import "env" "h_i32" (func $h (param i32 i32) (result i32)))
      (import "env" "h_trap" (func $t (param i32) (result i32)))
      (func (export "f") (param i32) (result i32)
        (call $t (call $h (local.get 0) (i32.const 2)))))"""
    m = fayasm.Module(wat)
    r = diff(m, [_call("f", 1), _call("f", 0)], engines=test_engines(), wasmtime=True)
    assert r.ok, r.difference.report()
    # h_i32(0, 2) = 2; h_trap traps when its argument is 5 mod 13, which 2 is not
    assert r.outcomes[2].kind == "ok"


def test_host_reentry_is_compared():
    """h_reenter calls the instance's "reenter" export back, up to three deep; a trap in
    the innermost wasm frame unwinds through the host frames on every engine."""
    wat = """(module (import "env" "h_reenter" (func $h (param i32) (result i32)))
      (import "env" "h_trap" (func $t (param i32) (result i32)))
      (global $g (export "g") (mut i32) (i32.const 0))
      (func (export "reenter") (param i32) (result i32)
        (global.set $g (i32.add (global.get $g) (i32.const 1)))
        (call $t (call $h (i32.add (local.get 0) (i32.const 1)))))
      (func (export "go") (param i32) (result i32) (call $h (local.get 0))))"""
    r = diff(fayasm.Module(wat), [_call("go", 1), _call("go", 0)], engines=test_engines(),
             wasmtime=True, metered=False)
    assert r.ok, r.difference.report()
    assert r.outcomes[1].code == "trap" and r.outcomes[2].values[0].value == 95


def test_host_reentry_from_the_start_function_does_not_call_back_on_wasmtime():
    """Fuzz campaign seed 1515 (issue 15): a start function calling h_reenter trapped in
    the "reenter" export on wasmtime (its Caller reaches the export during start), while
    the fayasm runners have no instance to call back into before instantiation returns;
    now no runner calls back while instantiating."""
    wat = """(module (import "env" "h_reenter" (func $h (param i32) (result i32)))
      (table 1 funcref)
      (func (export "reenter") (param i32) (result i32)
        (table.copy (i32.const 0) (i32.const 1) (i32.const 1)) (i32.const 7))
      (func $start (drop (call $h (i32.const 3))))
      (start $start)
      (func (export "go") (result i32) (call $h (i32.const 1))))"""
    r = diff(fayasm.Module(wat), [_call("go")], engines=test_engines(),
             wasmtime=wasmtime_available(), metered=False)
    assert r.ok, r.difference.report()
    assert r.outcomes[0].kind == "ok" and r.outcomes[1].code == "table_out_of_bounds"


def test_nan_rule_lenient_for_foreign_modules():
    """Without a plan of its own, a module's quiet NaNs agree whatever their payload; an
    exact comparison tells them apart."""
    from fayasm.testing.diff import same_val

    a = fayasm.Val.from_bits("f32", 0x7FC00000)
    b = fayasm.Val.from_bits("f32", 0xFFC00001)
    s = fayasm.Val.from_bits("f32", 0x7F800001)
    assert same_val(a, b, "lenient", False) and not same_val(a, b, "exact", False)
    assert not same_val(a, s, "lenient", False)
    assert same_val(s, fayasm.Val.from_bits("f32", 0x7FC00001), "exact", True)  # wasmtime


# -- the command line --------------------------------------------------------------------

def test_cli_diff_and_fuzz(tmp_path, capsys):
    src = tmp_path / "m.wat"
    src.write_text(WAT)
    assert main(["diff", str(src), "--invoke", "rem", "-7", "3"]) == 0
    out = capsys.readouterr().out
    assert "rem(i32:-7, i32:3): returned i32:-1" in out and "no difference" in out
    assert main(["diff", str(src), "--random-args", "2", "--engines", "interpreter"]) == 0
    assert main(["diff", str(src), "--engines", "nosuch"]) == 2
    corpus = tmp_path / "corpus"
    code = main(["fuzz", "--time", "3s", "--engines", "interpreter", "--corpus", str(corpus),
                 "--seed", "7"])
    assert code == 0, capsys.readouterr()
    out = capsys.readouterr()
    assert "modules" in out.out and "executions" in out.out
    (corpus / "x.wat").write_text(WAT)
    assert main(["fuzz", "--replay", str(corpus), "--engines", "interpreter", "python"]) == 0
    assert "x.wat: ok" in capsys.readouterr().out


def test_cli_diff_reports_a_difference(tmp_path, capsys, broken_rem):
    src = tmp_path / "m.wat"
    src.write_text(WAT)
    assert main(["diff", str(src), "--invoke", "rem", "-7", "3",
                 "--engines", "interpreter", "python"]) == 1
    out = capsys.readouterr().out
    assert "difference at step 1, call rem(i32:-7, i32:3)" in out
