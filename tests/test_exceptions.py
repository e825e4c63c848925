"""Exception handling on every engine: the legacy spec files, the Python side (Tag,
WasmException from exports and from host functions, other Python exceptions passing
through), and exceptions crossing instances on different engines."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import SPEC_DIR, test_engines

import fayasm
from fayasm import Tag, WasmException
from fayasm.wast.parse import parse_script
from fayasm.wast.runner import NOT_RUN, PASSED, Runner

ENGINES = test_engines()
LEGACY = ("rethrow.wast", "throw.wast", "try_catch.wast", "try_delegate.wast")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", LEGACY)
def test_legacy_spec_file(name, engine):
    path = SPEC_DIR / "3.0" / "legacy" / name
    if not path.is_file():
        pytest.skip(f"spec suite not found in {SPEC_DIR}")
    script = parse_script(path.read_text(encoding="utf-8"), source=str(path))
    report = Runner(engine, source=str(path)).run(script)
    failures = [f"line {o.line}: {o.kind}: {o.detail}" for o in report.failures]
    assert not failures, "\n".join(failures[:20])
    assert report.count(NOT_RUN) == 0
    assert report.count(PASSED) == len(report.outcomes)


HOSTED = '''(module
  (import "env" "t" (tag $t (param i32 f64)))
  (import "env" "host" (func $host (param i32)))
  (tag $own (export "own") (param i64))
  (func $thrower (export "throw") (param i32) (throw $t (local.get 0) (f64.const 2.5)))
  (func (export "throw_own") (param i64) (throw $own (local.get 0)))
  (func (export "catch_host") (param i32) (result i32)
    (block $h (result i32 f64)
      (try_table (catch $t $h) (call $host (local.get 0)))
      (return (i32.const -1)))
    (drop))
  (func (export "catch_all") (param i32) (result i32)
    (block $h
      (try_table (catch_all $h) (call $host (local.get 0)))
      (return (i32.const 0)))
    (i32.const 1)))'''


def _hosted(engine):
    t = Tag(["i32", "f64"])

    def host(x):
        if x == 1:
            raise WasmException(t, (x * 10, 0.5))
        if x == 2:
            raise KeyError("boom")
        if x == 3:
            raise KeyboardInterrupt

    inst = fayasm.instantiate(fayasm.Module(HOSTED), imports={"env": {"t": t, "host": host}},
                              engine=engine)
    return t, inst


@pytest.mark.parametrize("engine", ENGINES)
def test_an_exception_escaping_an_export_is_a_wasm_exception(engine):
    t, inst = _hosted(engine)
    with pytest.raises(WasmException) as info:
        inst.exports.throw(7)
    e = info.value
    assert isinstance(e, fayasm.Error) and not isinstance(e, fayasm.Trap)
    assert e.tag is t and e.payload == (7, 2.5)
    assert e.frames[:1] == ["thrower"]
    own = inst.exports["own"]
    assert isinstance(own, Tag) and own.type == fayasm.FuncType(["i64"], [])
    with pytest.raises(WasmException) as info:
        inst.exports.throw_own(-3)
    assert info.value.tag is own and info.value.payload == (-3,)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_host_function_throws_into_wasm(engine):
    _, inst = _hosted(engine)
    assert inst.exports.catch_host(1) == 10
    assert inst.exports.catch_host(0) == -1
    assert inst.exports.catch_all(1) == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_other_python_exceptions_pass_through_catch_all(engine):
    _, inst = _hosted(engine)
    with pytest.raises(KeyError):
        inst.exports.catch_all(2)
    with pytest.raises(KeyboardInterrupt):
        inst.exports.catch_all(3)
    assert inst.exports.catch_all(0) == 0  # the instance still works


def test_a_tag_has_no_results_and_payloads_are_checked():
    with pytest.raises(fayasm.ArgumentError):
        Tag(fayasm.FuncType(["i32"], ["i32"]))
    t = Tag(["i32"])
    with pytest.raises(fayasm.ArgumentError):
        WasmException(t, ())
    with pytest.raises(fayasm.ArgumentError):
        WasmException(t, (1 << 40,))
    with pytest.raises(fayasm.ArgumentError):
        WasmException("not a tag", ())


def test_a_tag_import_must_have_the_declared_type():
    m = fayasm.Module('(module (import "env" "t" (tag (param i32))))')
    fayasm.instantiate(m, imports={"env": {"t": Tag(["i32"])}}, engine="interpreter")
    with pytest.raises(fayasm.LinkError, match="incompatible import type"):
        fayasm.instantiate(m, imports={"env": {"t": Tag(["i64"])}}, engine="interpreter")
    with pytest.raises(fayasm.LinkError, match="incompatible import type"):
        fayasm.instantiate(m, imports={"env": {"t": print}}, engine="interpreter")


THROWER = '''(module
  (tag $e (export "e") (param i32 f32))
  (func (export "boom") (param i32) (throw $e (local.get 0) (f32.const -0.0))))'''
CATCHER = '''(module
  (import "m" "e" (tag $e (param i32 f32)))
  (import "m" "boom" (func $boom (param i32)))
  (func (export "f") (param i32) (result i32)
    (local $x exnref)
    (block $h (result i32 f32 exnref)
      (try_table (catch_ref $e $h) (call $boom (local.get 0)))
      (return (i32.const -1)))
    (local.set $x)
    (drop)
    (i32.add (i32.const 1))))'''


@pytest.mark.parametrize("thrower,catcher", list(itertools.product(ENGINES, ENGINES)))
def test_exceptions_cross_instances_on_different_engines(thrower, catcher):
    a = fayasm.instantiate(fayasm.Module(THROWER), engine=thrower)
    b = fayasm.instantiate(fayasm.Module(CATCHER), imports={"m": a.exports}, engine=catcher)
    assert b.exports.f(41) == 42


RETHROW = '''(module
  (tag $e (param i32))
  (func $inner (param i32) (result i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $e (local.get 0)))
      (unreachable))
    (throw_ref))
  (func (export "f") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h) (call $inner (local.get 0))))))'''


@pytest.mark.parametrize("engine", ENGINES)
def test_throw_ref_keeps_the_payload(engine):
    inst = fayasm.instantiate(fayasm.Module(RETHROW), engine=engine)
    assert inst.exports.f(-5) == -5


@pytest.mark.parametrize("engine", ENGINES)
def test_a_trap_is_not_caught(engine):
    m = fayasm.Module('''(module (func (export "f") (result i32)
        (block $h (try_table (catch_all $h) (drop (i32.div_s (i32.const 1) (i32.const 0)))))
        (i32.const 1)))''')
    inst = fayasm.instantiate(m, engine=engine)
    with pytest.raises(fayasm.Trap, match="integer divide by zero"):
        inst.exports.f()


def test_regression_lazy_tier_finds_the_stub_of_a_typed_reference_signature():
    """The jit's lazy tier looked a function's stub up by its declared type, not by its
    native signature, so a function returning exnref or (ref null $t) failed to link."""
    if "jit" not in ENGINES:
        pytest.skip("jit not available")
    import os

    code = ("import fayasm\n"
            "m = fayasm.Module('(module (type $t (func)) (func (export \"f\") "
            "(result (ref null $t)) (ref.null $t)) (func (export \"g\") (result exnref) "
            "(ref.null exn)))')\n"
            "i = fayasm.instantiate(m, engine='jit')\n"
            "print(i.exports.f(), i.exports.g())\n")
    env = dict(os.environ, FAYASM_JIT_LAZY_ABOVE="0", FAYASM_JIT_WORKER="0", FAYASM_CACHE="0")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["None", "None"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_snapshot_refuses_a_caught_exception(engine):
    m = fayasm.Module('''(module (tag $e) (global (export "g") (mut exnref) (ref.null exn))
      (func (export "f") (block $h (result exnref)
        (try_table (catch_all_ref $h) (throw $e)) (unreachable)) (global.set 0)))''')
    inst = fayasm.instantiate(m, engine=engine)
    inst.snapshot()  # a null exnref is fine
    inst.exports.f()
    with pytest.raises(fayasm.SnapshotError, match="exception"):
        inst.snapshot()


@pytest.mark.parametrize("engine", ENGINES)
def test_regression_legacy_catch_all_may_follow_catch(engine):
    """The validator once refused a legacy catch_all after a catch (the generator found
    it): catch clauses may be followed by one catch_all."""
    m = fayasm.Module('''(module (tag $e (param i32)) (tag $f)
      (func (export "f") (param i32) (result i32)
        (try (result i32)
          (do (if (local.get 0) (then (throw $f))) (throw $e (i32.const 5)))
          (catch $e)
          (catch_all (i32.const 9)))))''')
    inst = fayasm.instantiate(m, engine=engine)
    assert (inst.exports.f(0), inst.exports.f(1)) == (5, 9)


EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "sjlj"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_sjlj_calculator_runs_alike_on_every_engine(engine):
    """examples/sjlj/calc.c (C setjmp/longjmp through the legacy exception instructions,
    built by scripts/build_sjlj.sh with Debian's clang 14): its output and exit code."""
    r = subprocess.run([sys.executable, "-m", "fayasm", "run", str(EXAMPLES / "calc.wasm"),
                        "--engine", engine], capture_output=True, text=True, timeout=300)
    assert r.stdout == (EXAMPLES / "calc.expected").read_text()
    assert r.returncode == 4, r.stderr


def _run_on_wasmtime(path: Path) -> tuple[str, int]:
    wasmtime = pytest.importorskip("wasmtime")
    config = wasmtime.Config()
    config.wasm_exceptions = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    out = tempfile.NamedTemporaryFile(delete=False)
    out.close()
    wasi.stdout_file = out.name
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(path)))
    code = 0
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as e:
        code = e.code
    text = Path(out.name).read_text()
    os.unlink(out.name)
    return text, code


def test_the_try_table_calculator_uses_only_the_new_encoding():
    """calc.exnref.wasm is calc.wasm with its legacy try blocks translated to try_table
    and exnref by binaryen (scripts/build_sjlj.sh)."""
    ops = {ins.op.name for f in fayasm.Module((EXAMPLES / "calc.exnref.wasm").read_bytes())
           .syntax.funcs for ins in f.body}
    assert "try_table" in ops and "throw_ref" in ops
    assert not ops & {"try", "catch", "catch_all", "delegate", "rethrow"}


@pytest.mark.parametrize("runner", [*ENGINES, "wasmtime"])
def test_the_try_table_calculator_runs_alike_on_every_engine_and_wasmtime(runner):
    path = EXAMPLES / "calc.exnref.wasm"
    if runner == "wasmtime":
        out, code = _run_on_wasmtime(path)
    else:
        r = subprocess.run([sys.executable, "-m", "fayasm", "run", str(path), "--engine",
                            runner], capture_output=True, text=True, timeout=300)
        out, code = r.stdout, r.returncode
    assert out == (EXAMPLES / "calc.expected").read_text()
    assert code == 4
