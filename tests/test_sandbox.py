"""Bounds on what a guest's WASI calls may cost the host (issue 23)."""
from __future__ import annotations

import time

import fayasm
from fayasm.runtime.wasi import Wasi
from fayasm.runtime.wasi.constants import ENAMETOOLONG, ENOENT


def _path_open_errno(engine, tmp_path, length: int, byte: int = 0x61) -> int:
    wat = f'''(module (import "wasi_snapshot_preview1" "path_open"
      (func $o (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (memory (export "memory") 200)
      (func (export "run")
        (memory.fill (i32.const 16) (i32.const {byte}) (i32.const {length}))
        (i32.store (i32.const 0)
          (call $o (i32.const 3) (i32.const 0) (i32.const 16) (i32.const {length})
                   (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 8)))))'''
    with Wasi(fayasm.WasiConfig(preopens={"/d": str(tmp_path)})) as wasi:
        inst = fayasm.instantiate(fayasm.Module(wat), wasi.imports(), engine=engine,
                                  deadline=1)
        wasi.bind(inst)
        inst.exports.run()
        return int.from_bytes(inst.exports.memory.read(0, 4), "little")


def test_path_open_with_a_7mb_path_fails_fast_with_enametoolong(engine, tmp_path):
    """A 7 MB path took 8.6 s under deadline=1; wasmtime says ENAMETOOLONG at once."""
    t = time.perf_counter()
    assert _path_open_errno(engine, tmp_path, 7_000_000) == ENAMETOOLONG
    assert time.perf_counter() - t < 1.0
    assert _path_open_errno(engine, tmp_path, 256) == ENAMETOOLONG  # one component > NAME_MAX
    assert _path_open_errno(engine, tmp_path, 255) == ENOENT


def test_host_functions_own_recursion_error_comes_back_unchanged(engine):
    """Issue 23: a host function's RecursionError reached the caller as Exhaustion; the
    README promises a host's exception comes back unchanged."""
    import pytest

    wat = '(module (import "env" "h" (func $h)) (func (export "f") (call $h)))'

    def h():
        raise RecursionError("the host's own")

    inst = fayasm.instantiate(fayasm.Module(wat), {"env": {"h": h}}, engine=engine)
    with pytest.raises(RecursionError, match="the host's own"):
        inst.exports.f()


def test_guest_recursion_through_a_host_function_is_still_exhaustion(engine):
    import pytest

    wat = '''(module (import "env" "h" (func $h (param i32)))
      (func (export "f") (param i32) (call $h (local.get 0))))'''
    box = {}

    def h(n):
        box["f"](n + 1)

    inst = fayasm.instantiate(fayasm.Module(wat), {"env": {"h": h}}, engine=engine)
    box["f"] = inst.exports.f
    with pytest.raises(fayasm.Exhaustion):
        inst.exports.f(0)
