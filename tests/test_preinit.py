"""Pre-initialization (fayasm/preinit.py, ``fayasm snapshot --init``): the new module holds
the state the init left, runs on every engine and on wasmtime, and keeps every segment's
index, declarations and behaviour."""
from __future__ import annotations

import pytest
from conftest import test_engines
from test_snapshot import COUNTER

import fayasm
from fayasm.preinit import initialized_module, preinitialize

ENGINES = test_engines()


def _wasmtime_run(binary: bytes, name: str):
    wasmtime = pytest.importorskip("wasmtime")
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wasmtime.Instance(store, wasmtime.Module(engine, binary), [])
    return inst.exports(store)[name](store)


@pytest.mark.parametrize("engine", ENGINES)
def test_preinitialized_module_runs_everywhere(engine):
    m = fayasm.Module(COUNTER)
    binary = preinitialize(m, "init", engine=engine)
    init = fayasm.Module(binary)
    assert "init" not in [e.name for e in init.exports]
    assert init.syntax.start is None
    for dst in ENGINES:
        inst = fayasm.instantiate(init, engine=dst)
        assert inst.exports.work() == 102
        assert inst.exports.viatable() == 103
        assert inst.exports.memory.size == 2
    assert _wasmtime_run(binary, "work") == 102


def test_the_cli_writes_it(tmp_path, capsys):
    from fayasm.cli import main

    src = tmp_path / "c.wat"
    src.write_text(COUNTER)
    out = tmp_path / "c.init.wasm"
    assert main(["snapshot", str(src), "--init", "init", "-o", str(out)]) == 0
    assert main(["run", str(out), "--invoke", "work"]) == 0
    assert capsys.readouterr().out.split() == ["102"]
    assert main(["snapshot", str(src), "--init", "nope", "-o", str(out)]) == 1
    assert "no function named 'nope'" in capsys.readouterr().err


SEGMENTS = r'''
(module
  (type $ft (func (result i32)))
  (memory i64 1)
  (table $t 3 funcref)
  (global $g (mut f32) (f32.const 0))
  (global $v (mut v128) (v128.const i32x4 0 0 0 0))
  (global $r (mut (ref null $ft)) (ref.null $ft))
  (elem $e1 (table $t) (i32.const 0) func $a)
  (elem $p1 func $a $b)
  (elem $p2 func $b)
  (data $d1 (i64.const 8) "active")
  (data $q1 "passive-kept")
  (data $q2 "passive-dropped")
  (func $a (type $ft) (i32.const 1))
  (func $b (type $ft) (i32.const 2))
  (func (export "init")
    (global.set $g (f32.reinterpret_i32 (i32.const 0x7fa00001)))
    (global.set $v (v128.const i32x4 1 2 3 -1))
    (global.set $r (ref.func $b))
    (table.set $t (i32.const 2) (ref.func $b))
    (data.drop $q2) (elem.drop $p2))
  (func (export "g") (result i32) (i32.reinterpret_f32 (global.get $g)))
  (func (export "v") (result i32) (i32x4.extract_lane 3 (global.get $v)))
  (func (export "r") (result i32) (call_ref $ft (global.get $r)))
  (func (export "t") (param i32) (result i32) (call_indirect $t (result i32) (local.get 0)))
  (func (export "kept") (result i64) (memory.init $q1 (i64.const 100) (i32.const 0) (i32.const 6))
    (i64.load (i64.const 100)))
  (func (export "dropped") (memory.init $q2 (i64.const 100) (i32.const 0) (i32.const 1)))
  (func (export "tinit") (result i32) (table.init $t $p1 (i32.const 1) (i32.const 1) (i32.const 1))
    (call_indirect $t (result i32) (i32.const 1)))
  (func (export "tdropped") (table.init $t $p2 (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "active") (result i64) (i64.load (i64.const 8))))
'''


def test_segments_keep_their_indices_and_behaviour():
    m = fayasm.Module(SEGMENTS.replace("(call_ref $ft (global.get $r))",
                                       "(call_indirect $t (result i32) (i32.const 2))"))
    binary = preinitialize(m, "init", engine=ENGINES[0])
    for dst in ENGINES:
        e = fayasm.instantiate(fayasm.Module(binary), engine=dst).exports
        assert e.g() & 0xFFFFFFFF == 0x7FA00001
        assert e.v() == -1
        assert e.r() == 2
        assert (e.t(0), e.t(2)) == (1, 2)
        assert e.kept().to_bytes(8, "little", signed=True)[:6] == b"passiv"
        assert e.active().to_bytes(8, "little", signed=True)[:6] == b"active"
        with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
            e.dropped()
        assert e.tinit() == 2
        with pytest.raises(fayasm.Trap, match="out of bounds table access"):
            e.tdropped()


def test_what_a_module_cannot_hold_is_refused():
    m = fayasm.Module('(module (import "h" "m" (memory 1)) (func (export "i")))')
    inst = fayasm.instantiate(m, {"h": {"m": fayasm.Memory(1)}}, engine=ENGINES[0])
    with pytest.raises(fayasm.SnapshotError, match="imports a memory"):
        initialized_module(m, inst.snapshot())
    x = fayasm.Module('(module (table (export "t") 1 externref) (func (export "i")))')
    inst = fayasm.instantiate(x, engine=ENGINES[0])
    inst.exports.t.set(0, 5)
    with pytest.raises(fayasm.SnapshotError, match="externref"):
        initialized_module(x, inst.snapshot())
