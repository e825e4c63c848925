"""Multi-memory on every engine: a memory index on every memory instruction, in binary
(memarg flag bit 6), text and printer; several memories imported and exported; an index
out of range is "unknown memory N"; features.WASM2 keeps 2.0's reserved zero byte."""
from __future__ import annotations

import pytest

import fayasm
from fayasm import features
from fayasm.binary.decode import decode
from fayasm.binary.encode import encode
from fayasm.errors import DecodeError, ValidationError
from fayasm.syntax import MemArg
from fayasm.text import parse_module as parse
from fayasm.text.printer import print_module as module_text

MULTI = """
(module
  (memory $a (import "env" "a") 1)
  (memory $b (export "b") 1 3)
  (memory $c (export "c") 2)
  (data (memory $b) (i32.const 8) "\\01\\02\\03\\04")
  (data $d "\\aa\\bb\\cc\\dd")
  (func (export "load_b") (param i32) (result i32) (i32.load $b (local.get 0)))
  (func (export "load_c8") (param i32) (result i32) (i32.load8_u $c offset=1 (local.get 0)))
  (func (export "store_c") (param i32 i64) (i64.store $c (local.get 0) (local.get 1)))
  (func (export "load_c64") (param i32) (result i64) (i64.load 2 (local.get 0)))
  (func (export "load_a") (param i32) (result i32) (i32.load $a (local.get 0)))
  (func (export "sizes") (result i32 i32 i32)
    (memory.size $a) (memory.size $b) (memory.size 2))
  (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0)))
  (func (export "copy_b_to_c") (param i32 i32 i32)
    (memory.copy $c $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill_c") (param i32 i32 i32)
    (memory.fill $c (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init_a") (param i32)
    (memory.init $a $d (local.get 0) (i32.const 0) (i32.const 4)))
  (func (export "lane_c") (result i32)
    (i8x16.extract_lane_u 5 (v128.load32_lane $c offset=0 1 (i32.const 0) (v128.const i64x2 0 0))))
)
"""


@pytest.fixture
def multi(engine):
    a = fayasm.Memory(1)
    a.write(0, b"\x11\x22\x33\x44")
    inst = fayasm.instantiate(fayasm.Module(MULTI), imports={"env": {"a": a}}, engine=engine)
    return inst, a


def test_each_memory_is_its_own(multi):
    inst, _ = multi
    e = inst.exports
    assert e.load_b(8) == 0x04030201
    assert e.load_a(0) == 0x44332211
    assert e.sizes() == (1, 1, 2)
    e.store_c(100, 0x0102030405060708)
    assert e.load_c64(100) == 0x0102030405060708
    assert e.load_c8(100) == 0x07  # offset=1
    assert e.load_b(100) == 0  # memory b untouched by stores to c
    assert inst.exports["c"].read(100, 2) == b"\x08\x07"


def test_bulk_operations_name_their_memories(multi):
    inst, a = multi
    e = inst.exports
    e.copy_b_to_c(16, 8, 4)  # c[16..20] = b[8..12]
    assert inst.exports["c"].read(16, 4) == b"\x01\x02\x03\x04"
    e.fill_c(0, 0x5A, 4)
    assert e.lane_c() == 0x5A
    assert inst.exports["b"].read(0, 4) == b"\0\0\0\0"
    e.init_a(32)
    assert a.read(32, 4) == b"\xaa\xbb\xcc\xdd"
    with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
        e.copy_b_to_c(2 * 65536 - 2, 0, 4)  # past the end of c (2 pages)
    with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
        e.load_b(65535)


def test_grow_one_memory_leaves_the_others(multi):
    inst, _ = multi
    e = inst.exports
    assert e.grow_b(2) == 1
    assert e.grow_b(1) == -1  # b's maximum is 3
    assert e.sizes() == (1, 3, 2)
    assert e.load_b(3 * 65536 - 4) == 0
    with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
        e.load_c8(2 * 65536 - 1)


def test_exports_list_every_memory():
    m = fayasm.Module(MULTI)
    kinds = {x.name: str(x.kind) for x in m.exports}
    assert kinds["b"] == "memory" and kinds["c"] == "memory"
    inst = fayasm.instantiate(m, imports={"env": {"a": fayasm.Memory(1)}}, engine="interpreter")
    assert {"b", "c"} <= set(inst.exports)
    assert isinstance(inst.exports["b"], fayasm.Memory)


def test_memarg_memory_index_round_trips_binary_and_text():
    m = parse(MULTI)
    ops = {i.op.name: i.imm for f in m.funcs for i in f.body}
    assert ops["i32.load8_u"][0] == MemArg(0, 1, 2)
    assert ops["memory.copy"] == (2, 1)
    assert ops["memory.init"] == (1, 0)  # data segment, then memory (binary order)
    binary = encode(m)
    back = decode(binary)
    assert [f.body for f in back.funcs] == [f.body for f in m.funcs]
    again = parse(module_text(back))
    assert encode(again) == binary


def test_memarg_flag_bit_6_carries_the_index():
    m = parse('(module (memory 1) (memory 1)'
              ' (func (result i32) (i32.load 1 offset=3 (i32.const 0))))')
    body = encode(m)
    # i32.load, flags 0x40 | align 2, memory 1, offset 3
    assert b"\x28\x42\x01\x03" in body


def test_memarg_memory_out_of_range_is_unknown_memory():
    m = parse('(module (memory 1) (func (drop (i32.load (i32.const 0)))))')
    binary = bytearray(encode(m))
    at = binary.index(b"\x28\x02\x00")
    binary[at:at + 3] = b"\x28\x42\x05\x00"  # memory 5
    binary = _fix_code_size(bytes(binary))
    with pytest.raises(ValidationError, match="unknown memory 5"):
        fayasm.Module(binary)
    with pytest.raises(ValidationError, match="unknown memory 1"):
        fayasm.Module("(module (memory 1) (func (drop (memory.size 1))))")
    with pytest.raises(ValidationError, match="unknown memory 2"):
        fayasm.Module("(module (memory 1) (memory 1) (func (memory.copy 0 2 "
                      "(i32.const 0) (i32.const 0) (i32.const 0))))")


def _fix_code_size(binary: bytes) -> bytes:
    """The one-function modules above grew by a byte: bump the code section's, the body's
    sizes (single-byte LEBs here)."""
    b = bytearray(binary)
    pos = 8
    while pos < len(b):
        sid, size = b[pos], b[pos + 1]
        if sid == 10:
            b[pos + 1] = size + 1
            b[pos + 3] += 1  # the first body's size (after the count byte)
            return bytes(b)
        pos += 2 + size
    raise AssertionError("no code section")


def test_wasm2_keeps_the_reserved_zero_byte():
    m = parse('(module (memory 1) (func (drop (memory.size))))')
    binary = bytearray(encode(m))
    at = binary.index(b"\x3f\x00")
    binary[at + 1] = 1  # memory.size 1
    binary = bytes(binary)
    with pytest.raises(ValidationError, match="unknown memory 1"):
        fayasm.Module(binary)
    with features.using(features.WASM2):
        with pytest.raises(DecodeError, match="zero byte expected"):
            fayasm.Module(binary)
        with pytest.raises(ValidationError, match="multiple memories"):
            fayasm.Module("(module (memory 1) (memory 1))")
    fayasm.Module("(module (memory 1) (memory 1))")  # 3.0 again outside the block


def test_inspect_shows_the_features_a_module_uses(tmp_path, capsys):
    from fayasm.cli import main

    path = tmp_path / "m.wat"
    path.write_text('(module (memory 1) (memory i64 1) (func (drop (i32.load 1 (i64.const 0)))))')
    assert main(["inspect", str(path)]) == 0
    assert "features: memory64, multi-memory" in capsys.readouterr().out
    assert features.used(parse("(module (memory 1) (func (drop (memory.size))))")) == []
    assert features.used(parse("(module (memory 1) (memory 1))")) == ["multi-memory"]
    assert features.used(parse("(module (table i64 1 funcref))")) == ["memory64"]
