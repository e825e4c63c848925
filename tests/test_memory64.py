"""memory64 on every engine: memories and tables with an i64 address type. Bounds checks
never wrap (address + offset past 2**64 traps), sizes and grow results are i64, limits
go to the spec's maximum, imports match address types, bad offsets are fayasm errors."""
from __future__ import annotations

import pytest

import fayasm
from fayasm.binary.encode import encode
from fayasm.errors import DecodeError, ParseError, ValidationError
from fayasm.syntax import MemArg
from fayasm.text import parse_module

M64 = (1 << 64) - 1

MEM64 = """
(module
  (memory (export "mem") i64 1 3)
  (data (i64.const 8) "\\01\\02\\03\\04")
  (func (export "load") (param i64) (result i32) (i32.load (local.get 0)))
  (func (export "load_max_offset") (param i64) (result i32)
    (i32.load offset=0xFFFF_FFFF_FFFF_FFFF (local.get 0)))
  (func (export "load_off") (param i64) (result i32) (i32.load8_u offset=8 (local.get 0)))
  (func (export "store") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "v128_lane") (param i64) (result i32)
    (i8x16.extract_lane_u 0 (v128.load8_lane 0 (local.get 0) (v128.const i64x2 0 0))))
  (func (export "size") (result i64) (memory.size))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "fill") (param i64 i32 i64)
    (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i64 i64 i64)
    (memory.copy (local.get 0) (local.get 1) (local.get 2)))
)
"""


@pytest.fixture
def mem64(engine):
    return fayasm.instantiate(fayasm.Module(MEM64), engine=engine).exports


def test_loads_and_stores_at_i64_addresses(mem64):
    assert mem64.load(8) == 0x04030201
    assert mem64.load_off(0) == 1
    mem64.store(65536 - 8, -1)
    assert mem64.load(65536 - 4) == -1
    assert mem64.v128_lane(8) == 1
    assert isinstance(mem64["mem"], fayasm.Memory)
    assert str(mem64["mem"].type) == "memory i64 1 3"


@pytest.mark.parametrize("address", [65533, 1 << 32, 1 << 63, M64 - 3, M64])
def test_out_of_bounds_i64_addresses_trap(mem64, address):
    with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
        mem64.load(address - (1 << 64) if address >= 1 << 63 else address)


@pytest.mark.parametrize("address", [0, 1, 8])
def test_address_plus_offset_past_2_64_traps_not_wraps(mem64, address):
    # 2**64 - 1 + address wraps to address - 1 in 64-bit arithmetic: in bounds if it wrapped.
    with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
        mem64.load_max_offset(address)
    with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
        mem64.load_off(-8)  # 2**64 - 8 + offset 8


def test_size_and_grow_are_i64(mem64):
    assert mem64.size() == 1
    assert mem64.grow(1) == 1
    assert mem64.grow(-1) == -1  # 2**64 - 1 pages: fails, and -1 is an i64
    assert mem64.grow(1 << 40) == -1
    assert mem64.size() == 2
    assert mem64.load(2 * 65536 - 4) == 0


def test_bulk_ranges_do_not_wrap(mem64):
    mem64.fill(16, 0xAB, 4)
    assert mem64.load(16) == -0x54545455  # 0xABABABAB as a signed i32
    mem64.copy(100, 16, 4)
    assert mem64.load(100) == mem64.load(16)
    for args in [(1, 0, -1), (-1, 0, 2), (65536, 0, 1)]:
        with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
            mem64.fill(*args)
    with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
        mem64.copy(0, 1, -1)
    with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
        mem64.copy(-16, 0, 16)
    mem64.fill(65536, 0, 0)  # an empty range at the end is in bounds


TABLE64 = """
(module
  (type $r (func (result i32)))
  (table $t (export "t") i64 2 10 funcref)
  (elem (table $t) (i64.const 1) func $seven)
  (func $seven (result i32) (i32.const 7))
  (func (export "size") (result i64) (table.size $t))
  (func (export "grow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "is_null") (param i64) (result i32) (ref.is_null (table.get $t (local.get 0))))
  (func (export "call") (param i64) (result i32) (call_indirect $t (type $r) (local.get 0)))
  (func (export "fill") (param i64 i64)
    (table.fill $t (local.get 0) (ref.null func) (local.get 1)))
)
"""


def test_table64(engine):
    e = fayasm.instantiate(fayasm.Module(TABLE64), engine=engine).exports
    assert e.size() == 2
    assert e.call(1) == 7
    assert e.is_null(0) == 1
    assert e.grow(3) == 2
    assert e.grow(-1) == -1
    assert e.size() == 5
    with pytest.raises(fayasm.Trap, match="undefined element"):
        e.call(1 << 40)
    with pytest.raises(fayasm.Trap, match="undefined element"):
        e.call(-1)
    with pytest.raises(fayasm.Trap, match="out of bounds table access"):
        e.is_null(-1)
    with pytest.raises(fayasm.Trap, match="out of bounds table access"):
        e.fill(1, -1)
    e.fill(1, 1)
    assert e.is_null(1) == 1


def test_memory_and_table_api_take_an_address_type():
    mem = fayasm.Memory(1, 2, address="i64")
    assert str(mem.type) == "memory i64 1 2"
    table = fayasm.Table("funcref", 1, address="i64")
    m = fayasm.Module('(module (import "env" "m" (memory i64 1))'
                      ' (import "env" "t" (table i64 1 funcref))'
                      ' (func (export "size") (result i64) (memory.size)))')
    inst = fayasm.instantiate(m, imports={"env": {"m": mem, "t": table}}, engine="interpreter")
    assert inst.exports.size() == 1
    with pytest.raises(fayasm.Error):
        fayasm.Memory(1, address="f32")
    big = fayasm.Memory(0, 1 << 48, address="i64")  # the spec's maximum, reserved bounded
    assert big.grow(1) == 0
    with pytest.raises(fayasm.Error):
        fayasm.Memory(0, (1 << 48) + 1, address="i64")


@pytest.mark.parametrize("declared, given", [
    ('(memory i64 1)', fayasm.Memory(1)),
    ('(memory 1)', fayasm.Memory(1, address="i64")),
    ('(table i64 1 funcref)', fayasm.Table("funcref", 1)),
    ('(table 1 funcref)', fayasm.Table("funcref", 1, address="i64")),
])
def test_importing_the_other_address_type_is_a_link_error(declared, given, engine):
    m = fayasm.Module(f'(module (import "env" "x" {declared}))')
    with pytest.raises(fayasm.LinkError, match="incompatible import type"):
        fayasm.instantiate(m, imports={"env": {"x": given}}, engine=engine)


def test_limits_up_to_the_spec_maximum():
    fayasm.Module("(module (memory i64 0 0x1_0000_0000_0000))")
    fayasm.Module("(module (table i64 0 0xFFFF_FFFF_FFFF_FFFF funcref))")
    with pytest.raises(ValidationError, match="memory size"):
        fayasm.Module("(module (memory i64 0x1_0000_0000_0001))")
    with pytest.raises(ValidationError, match="memory size"):
        fayasm.Module("(module (memory 0x1_0001))")  # 65537 pages of a 32-bit memory
    with pytest.raises(ValidationError, match="table size"):
        fayasm.Module("(module (table 0x1_0000_0000 funcref))")
    binary = encode(parse_module("(module (memory i64 0 0x1_0000_0000_0000))"))
    assert b"\x05\x0a\x01\x05\x00\x80\x80\x80\x80\x80\x80\x40" in binary  # flags 5: max, i64


def test_offsets_that_do_not_fit_are_clear_errors():
    with pytest.raises(ParseError, match="i64 constant out of range"):
        fayasm.Module("(module (memory i64 1) (func (drop (i32.load"
                      " offset=0x1_0000_0000_0000_0000 "
                      "(i64.const 0)))))")
    with pytest.raises(ValidationError, match="offset out of range"):
        fayasm.Module("(module (memory 1) (func (drop (i32.load offset=0x1_0000_0000"
                      " (i32.const 0)))))")
    m = parse_module("(module (memory i64 1) (func (drop (i32.load (i64.const 0)))))")
    load = m.funcs[0].body[1]
    m.funcs[0].body[1] = load._replace(imm=(MemArg(2, 1 << 64),))  # one past u64
    with pytest.raises(DecodeError, match="integer too large"):
        fayasm.Module(encode(m))


def test_address_types_are_validated():
    with pytest.raises(ValidationError, match="type mismatch"):
        fayasm.Module("(module (memory i64 1) (func (drop (i32.load (i32.const 0)))))")
    with pytest.raises(ValidationError, match="type mismatch"):
        fayasm.Module("(module (memory 1) (func (drop (i32.load (i64.const 0)))))")
    with pytest.raises(ValidationError, match="type mismatch"):
        fayasm.Module("(module (memory i64 1) (data (i32.const 0) \"x\"))")
    with pytest.raises(ValidationError, match="type mismatch"):
        fayasm.Module("(module (table i64 1 funcref) (func (drop (table.size))"
                      " (drop (i32.const 0))"
                      " (drop (table.get 0 (i32.const 0)))))")
    # memory.copy between a 32- and a 64-bit memory: the length is i32
    fayasm.Module("(module (memory $a 1) (memory $b i64 1) (func (memory.copy $a $b (i32.const 0)"
                  " (i64.const 0) (i32.const 0))))")


def test_memory32_jit_code_has_no_memory64_checks():
    """A memory32 program pays nothing for memory64: its accesses keep the one-compare
    bounds check, with no saturating subtraction."""
    pytest.importorskip("llvmlite")
    from fayasm.translator.llvm.module import module_text

    m32 = fayasm.Module("(module (memory 1) (func (export \"f\") (param i32) (result i32)"
                        " (i32.load offset=4 (local.get 0))))")
    m64 = fayasm.Module("(module (memory i64 1) (func (export \"f\") (param i64) (result i32)"
                        " (i32.load offset=4 (local.get 0))))")
    assert "usub.sat" not in module_text(m32)
    assert "usub.sat" in module_text(m64)


def test_generator_and_probes_make_several_and_64_bit_memories():
    """fayasm.testing draws modules with several memories, some with an i64 address type,
    whose code and probes access them (i64 addresses far out, huge offsets); all valid,
    so ``fayasm fuzz`` diffs them across the engines and wasmtime."""
    from fayasm.runtime.types import ValType
    from fayasm.testing.generate import random_module

    multi = wide = accesses = wide_accesses = huge = 0
    for seed in range(120):
        g = random_module(seed)
        assert g.module().info is not None  # valid
        mems = g.syntax.memory_types()
        multi += len(mems) > 1
        wide += any(t.address is ValType.I64 for t in mems)
        for f in g.syntax.funcs:
            for ins in f.body:
                if "memarg" in ins.op.imms and ins.imm[0].mem:
                    accesses += 1
                    if mems[ins.imm[0].mem].address is ValType.I64:
                        wide_accesses += 1
                        huge += ins.imm[0].offset >= 1 << 32
    assert multi >= 10 and wide >= 5
    assert accesses >= 40 and wide_accesses >= 20 and huge >= 1
