"""Relaxed SIMD semantics (runtime/numerics/relaxed.py): the deterministic profile every
engine computes, bit for bit on every engine, and the other choices the oracle uses.

Each case is a point where the spec's choices differ, so a test fails if an engine (or the
numerics) picks another allowed result than the deterministic profile's."""
from __future__ import annotations

import struct

import pytest

import fayasm
from fayasm import isa
from fayasm.runtime.numerics import OPS
from fayasm.runtime.numerics import relaxed as R
from fayasm.runtime.values import Val


def v(fmt: str, *lanes) -> int:
    return int.from_bytes(struct.pack("<" + fmt, *lanes), "little")


def lanes(fmt: str, x: int) -> tuple:
    return struct.unpack("<" + fmt, x.to_bytes(16, "little"))


F32_1P = 0x3F800001  # 1 + 2^-23
F32_M1P2 = 0xBF800002  # -(1 + 2^-22)
F64_1P = 0x3FF0000000000001  # 1 + 2^-52
F64_M1P2 = 0xBFF0000000000002  # -(1 + 2^-51)

# (instruction, operands, deterministic result, {choice: result}) at points where the
# choices differ.
CASES = [
    ("i8x16.relaxed_swizzle", (v("16B", *range(100, 116)), v("16B", *([0x11, 0x7F, 0x80, 3] * 4))),
     v("16B", *([0, 0, 0, 103] * 4)), {1: v("16B", *([101, 115, 0, 103] * 4))}),
    ("i32x4.relaxed_trunc_f32x4_s", (v("4f", float("nan"), 3e9, -3e9, -1.5),),
     v("4i", 0, 0x7FFFFFFF, -0x80000000, -1), {1: v("4i", -0x80000000, -0x80000000,
                                                    -0x80000000, -1)}),
    ("i32x4.relaxed_trunc_f32x4_u", (v("4f", float("nan"), 5e9, -3.0, 7.9),),
     v("4I", 0, 0xFFFFFFFF, 0, 7), {1: v("4I", 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 7),
                                    2: v("4I", 0xFFFFFFFE, 0xFFFFFFFE, 0xFFFFFFFE, 7),
                                    3: v("4I", 0x80000000, 0x80000000, 0x80000000, 7)}),
    ("i32x4.relaxed_trunc_f64x2_s_zero", (v("2d", float("nan"), -2147483648.9),),
     v("4i", 0, -0x80000000, 0, 0), {1: v("4i", -0x80000000, -0x80000000, 0, 0)}),
    ("i32x4.relaxed_trunc_f64x2_u_zero", (v("2d", -1.0, 4294967295.5),),
     v("4I", 0, 0xFFFFFFFF, 0, 0), {3: v("4I", 0x80000000, 0xFFFFFFFF, 0, 0)}),
    # (1 + 2^-23)^2 - (1 + 2^-22): the rounded product cancels exactly; fused keeps 2^-46.
    ("f32x4.relaxed_madd",
     (v("4I", *[F32_1P] * 4), v("4I", *[F32_1P] * 4), v("4I", *[F32_M1P2] * 4)),
     0, {1: v("4f", *[2.0 ** -46] * 4)}),
    ("f32x4.relaxed_nmadd", (v("4I", *[F32_1P ^ 0x80000000] * 4), v("4I", *[F32_1P] * 4),
                             v("4I", *[F32_M1P2] * 4)),
     0, {1: v("4f", *[2.0 ** -46] * 4)}),
    ("f64x2.relaxed_madd", (v("2Q", F64_1P, F64_1P), v("2Q", F64_1P, F64_1P),
                            v("2Q", F64_M1P2, F64_M1P2)),
     0, {1: v("2d", 2.0 ** -104, 2.0 ** -104)}),
    ("f64x2.relaxed_nmadd", (v("2Q", F64_1P ^ (1 << 63), 0), v("2Q", F64_1P, 0),
                             v("2Q", F64_M1P2, 0)),
     0, {1: v("2d", 2.0 ** -104, 0.0)}),
    # A mask lane 0x80: bitselect takes only that bit from a; the top-bit choice all of it.
    ("i8x16.relaxed_laneselect", (v("16B", *[0xFF] * 16), 0, v("16B", *[0x80, 0x7F] * 8)),
     v("16B", *[0x80, 0x7F] * 8), {1: v("16B", *[0xFF, 0x00] * 8)}),
    ("i16x8.relaxed_laneselect", (v("8H", *[0xFFFF] * 8), 0, v("8H", *[0x8000, 0x00FF] * 4)),
     v("8H", *[0x8000, 0x00FF] * 4), {1: v("8H", *[0xFFFF, 0] * 4)}),
    ("i32x4.relaxed_laneselect", (v("4I", *[0xFFFFFFFF] * 4), 0, v("4I", 0x80000000, 1, 0, 0)),
     v("4I", 0x80000000, 1, 0, 0), {1: v("4I", 0xFFFFFFFF, 0, 0, 0)}),
    ("i64x2.relaxed_laneselect", (v("2Q", *[2**64 - 1] * 2), 0, v("2Q", 1 << 63, 2)),
     v("2Q", 1 << 63, 2), {1: v("2Q", 2**64 - 1, 0)}),
    # Zeros of opposite signs: min gives -0 and max +0; choice 1 returns z1, choice 2 z2.
    ("f32x4.relaxed_min", (v("4f", 0.0, -0.0, 1.0, 2.0), v("4f", -0.0, 0.0, 3.0, 1.0)),
     v("4f", -0.0, -0.0, 1.0, 1.0), {1: v("4f", 0.0, -0.0, 1.0, 1.0),
                                     2: v("4f", -0.0, 0.0, 1.0, 1.0)}),
    ("f32x4.relaxed_max", (v("4f", 0.0, -0.0, 1.0, 2.0), v("4f", -0.0, 0.0, 3.0, 1.0)),
     v("4f", 0.0, 0.0, 3.0, 2.0), {1: v("4f", 0.0, -0.0, 3.0, 2.0),
                                   2: v("4f", -0.0, 0.0, 3.0, 2.0)}),
    ("f64x2.relaxed_min", (v("2d", 0.0, -0.0), v("2d", -0.0, 0.0)),
     v("2d", -0.0, -0.0), {1: v("2d", 0.0, -0.0), 2: v("2d", -0.0, 0.0)}),
    ("f64x2.relaxed_max", (v("2d", 0.0, -0.0), v("2d", -0.0, 0.0)),
     v("2d", 0.0, 0.0), {1: v("2d", 0.0, -0.0), 2: v("2d", -0.0, 0.0)}),
    ("i16x8.relaxed_q15mulr_s", (v("8h", *[-32768] * 8), v("8h", -32768, 16384, *[0] * 6)),
     v("8h", 32767, -16384, *[0] * 6), {1: v("8h", -32768, -16384, *[0] * 6)}),
    # b's byte -127 (0x81): signed, or 129 unsigned; (-128 * -128) * 2 saturates to 32767.
    ("i16x8.relaxed_dot_i8x16_i7x16_s", (v("16b", -128, -128, -128, -128, *[0] * 12),
                                         v("16b", -127, -127, -128, -128, *[0] * 12)),
     v("8h", 32512, 32767, *[0] * 6), {1: v("8h", -32768, -32768, *[0] * 6)}),
    ("i32x4.relaxed_dot_i8x16_i7x16_add_s", (v("16b", *[-128] * 8, *[0] * 8),
                                             v("16b", *[-127] * 4, *[-128] * 4, *[0] * 8),
                                             v("4i", 1, 2, 3, 4)),
     v("4i", 65025, 65536 - 2 + 2, 3, 4), {1: v("4i", -65535, -65536 + 2, 3, 4)}),
]


def test_every_relaxed_row_has_a_case_and_a_parameter():
    names = {op.name for op in isa.ALL if op.relaxed}
    assert len(names) == 20
    assert names == {c[0] for c in CASES} == set(R.PARAM) == set(R.OPS)
    assert all(OPS[n] is R.OPS[n] for n in names)


@pytest.mark.parametrize("name,args,det,others", CASES, ids=[c[0] for c in CASES])
def test_deterministic_profile_and_the_other_choices(name, args, det, others):
    assert R.OPS[name](*args) == det
    assert R.variant(name, 0) is R.OPS[name]
    for choice, want in others.items():
        assert R.variant(name, choice)(*args) == want, choice
        assert want != det  # the case tells this choice from the deterministic one


def _module(name: str) -> fayasm.Module:
    n = len(isa.OPS[name].params)
    args = " ".join(f"(local.get {k})" for k in range(n))
    params = " ".join(["v128"] * n)
    return fayasm.Module(f'(module (func (export "f") (param {params}) (result v128) '
                         f'({name} {args})))')


@pytest.mark.parametrize("name,args,det,others", CASES, ids=[c[0] for c in CASES])
def test_every_engine_computes_the_deterministic_profile(engine, name, args, det, others):
    inst = fayasm.instantiate(_module(name), engine=engine)
    got = inst.exports["f"].invoke([Val.from_bits("v128", a) for a in args])
    assert got[0].bits == det


def test_jit_never_fuses_madd_even_when_folding_constants(engine):
    """With the operands constants, LLVM could fold mul and add into one exact step."""
    m = fayasm.Module(f'''(module (func (export "f") (result i32)
        (i32x4.extract_lane 0 (f32x4.relaxed_madd (v128.const i32x4 {F32_1P} 0 0 0)
            (v128.const i32x4 {F32_1P} 0 0 0) (v128.const i32x4 {F32_M1P2} 0 0 0)))))''')
    assert fayasm.instantiate(m, engine=engine).exports.f() == 0


def test_fused_madd_with_infinite_addend_and_overflowing_exact_product():
    """The fused choice first computed x * y in doubles, which overflowed to -inf, and
    -inf + inf gave NaN; the exact product is finite, so the sum is the infinite addend
    (found by comparing with wasmtime, whose x86 lowering is fused)."""
    big = struct.unpack("<d", (0x73B2CEDC5A61DEC2).to_bytes(8, "little"))[0]
    neg = struct.unpack("<d", (0xFB7289A9808F2632).to_bytes(8, "little"))[0]
    assert R.fused(big, neg, float("inf"), False) == float("inf")
    assert R.fused(3.0, 1e308, float("-inf"), False) == float("-inf")
    assert R.fused(float("inf"), 0.0, 1.0, False) != R.fused(float("inf"), 0.0, 1.0, False)


def test_fused_rounds_once_including_signed_zeros_and_subnormals():
    assert R.fused(-0.0, 5.0, -0.0, False) == 0.0 and struct.pack("<d", R.fused(
        -0.0, 5.0, -0.0, False)) == struct.pack("<d", -0.0)
    assert struct.pack("<d", R.fused(2.0, 3.0, -6.0, False)) == struct.pack("<d", 0.0)
    tiny = 2.0 ** -149  # the least f32 subnormal: halfway cases round to even
    assert R.fused(tiny, 0.5, 0.0, True) == 0.0
    assert R.fused(tiny, 1.5, 0.0, True) == 2 * tiny
    assert R.fused(3.4e38, 10.0, 0.0, True) == float("inf")


def test_min_max_choices_return_operands():
    nan = v("4I", 0x7FC00001, 0, 0, 0)
    one = v("4f", 1.0, 0.0, -0.0, 0.0)
    zeros = v("4f", 0.0, -0.0, 0.0, -0.0)
    mn = R.variant("f32x4.relaxed_min", 1)(nan, one)
    assert lanes("4I", mn)[0] == 0x7FC00001  # z1 itself
    assert lanes("4f", R.variant("f32x4.relaxed_min", 2)(nan, one))[0] == 1.0  # z2
    r3 = R.variant("f32x4.relaxed_max", 3)(one, zeros)
    assert lanes("4I", r3)[1:3] == (0, 0)  # +0 for opposite zeros
    r3 = R.variant("f32x4.relaxed_min", 3)(one, zeros)
    assert lanes("4I", r3)[1:3] == (0x80000000, 0x80000000)


def test_a_profile_names_parameters_or_instructions():
    t = R.table({"laneselect": 1, "i16x8.relaxed_laneselect": 0})
    assert t["i16x8.relaxed_laneselect"] is R.OPS["i16x8.relaxed_laneselect"]
    assert t["i8x16.relaxed_laneselect"] is not R.OPS["i8x16.relaxed_laneselect"]
    with pytest.raises(ValueError, match="unknown relaxed SIMD parameter or instruction 'fma'"):
        R.table({"fma": 1})
    with pytest.raises(ValueError, match=r"f32x4\.relaxed_madd: choice 2 of"):
        R.variant("f32x4.relaxed_madd", 2)
