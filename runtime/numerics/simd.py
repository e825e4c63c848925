"""v128 instructions that treat the vector as bits or move whole lanes: splat, lane
extract/replace, shuffle, swizzle and the v128 bitwise ops. A raw v128 is an unsigned
128-bit int with lane 0 in the low bits (little-endian, as in memory); see simd_int.py and
simd_float.py for the lane arithmetic. Lane-immediate ops take the lane index (or, for
shuffle, the tuple of 16 indices) as their last argument."""
from __future__ import annotations

from ..values import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits

ALL = (1 << 128) - 1
_from_bytes = int.from_bytes

# A lane value times REPEAT_w copies it into every lane of width w.
REPEAT8 = 0x01010101010101010101010101010101
REPEAT16 = 0x00010001000100010001000100010001
REPEAT32 = 0x00000001000000010000000100000001
REPEAT64 = 0x00000000000000010000000000000001

_ZEROS240 = bytes(240)
_ZEROS224 = bytes(224)


def i8x16_splat(x: int) -> int:
    return (x & 0xFF) * REPEAT8


def i16x8_splat(x: int) -> int:
    return (x & 0xFFFF) * REPEAT16


def i32x4_splat(x: int) -> int:
    return x * REPEAT32


def i64x2_splat(x: int) -> int:
    return x * REPEAT64


def f32x4_splat(x: float) -> int:
    return f32_to_bits(x) * REPEAT32


def f64x2_splat(x: float) -> int:
    return f64_to_bits(x) * REPEAT64


def i8x16_extract_lane_s(v: int, lane: int) -> int:
    return ((((v >> (lane << 3)) & 0xFF) ^ 0x80) - 0x80) & 0xFFFFFFFF


def i8x16_extract_lane_u(v: int, lane: int) -> int:
    return (v >> (lane << 3)) & 0xFF


def i16x8_extract_lane_s(v: int, lane: int) -> int:
    return ((((v >> (lane << 4)) & 0xFFFF) ^ 0x8000) - 0x8000) & 0xFFFFFFFF


def i16x8_extract_lane_u(v: int, lane: int) -> int:
    return (v >> (lane << 4)) & 0xFFFF


def i32x4_extract_lane(v: int, lane: int) -> int:
    return (v >> (lane << 5)) & 0xFFFFFFFF


def i64x2_extract_lane(v: int, lane: int) -> int:
    return (v >> (lane << 6)) & 0xFFFFFFFFFFFFFFFF


def f32x4_extract_lane(v: int, lane: int) -> float:
    return f32_from_bits((v >> (lane << 5)) & 0xFFFFFFFF)


def f64x2_extract_lane(v: int, lane: int) -> float:
    return f64_from_bits((v >> (lane << 6)) & 0xFFFFFFFFFFFFFFFF)


def i8x16_replace_lane(v: int, x: int, lane: int) -> int:
    s = lane << 3
    return (v & ~(0xFF << s)) | ((x & 0xFF) << s)


def i16x8_replace_lane(v: int, x: int, lane: int) -> int:
    s = lane << 4
    return (v & ~(0xFFFF << s)) | ((x & 0xFFFF) << s)


def i32x4_replace_lane(v: int, x: int, lane: int) -> int:
    s = lane << 5
    return (v & ~(0xFFFFFFFF << s)) | (x << s)


def i64x2_replace_lane(v: int, x: int, lane: int) -> int:
    s = lane << 6
    return (v & ~(0xFFFFFFFFFFFFFFFF << s)) | (x << s)


def f32x4_replace_lane(v: int, x: float, lane: int) -> int:
    s = lane << 5
    return (v & ~(0xFFFFFFFF << s)) | (f32_to_bits(x) << s)


def f64x2_replace_lane(v: int, x: float, lane: int) -> int:
    s = lane << 6
    return (v & ~(0xFFFFFFFFFFFFFFFF << s)) | (f64_to_bits(x) << s)


def i8x16_shuffle(a: int, b: int, lanes: tuple) -> int:
    """Byte i of the result is byte lanes[i] of the 32-byte concatenation a ++ b."""
    # As in swizzle, bytes.translate does the 16 lookups (validation keeps lanes < 32).
    return _from_bytes(bytes(lanes).translate(
        a.to_bytes(16, "little") + b.to_bytes(16, "little") + _ZEROS224), "little")


def i8x16_swizzle(a: int, s: int) -> int:
    """Byte i of the result is byte s[i] of a, or 0 when s[i] >= 16."""
    # bytes.translate looks every index byte up in a 256-entry table: a's bytes, then zeros.
    return _from_bytes(s.to_bytes(16, "little").translate(a.to_bytes(16, "little") + _ZEROS240),
                       "little")


def v128_not(a: int) -> int:
    return a ^ ALL


def v128_and(a: int, b: int) -> int:
    return a & b


def v128_andnot(a: int, b: int) -> int:
    return a & (b ^ ALL)


def v128_or(a: int, b: int) -> int:
    return a | b


def v128_xor(a: int, b: int) -> int:
    return a ^ b


def v128_bitselect(a: int, b: int, c: int) -> int:
    """Bits of a where c is 1, bits of b where c is 0."""
    return b ^ ((a ^ b) & c)


def v128_any_true(a: int) -> int:
    return 1 if a else 0


OPS = {
    "i8x16.splat": i8x16_splat, "i16x8.splat": i16x8_splat, "i32x4.splat": i32x4_splat,
    "i64x2.splat": i64x2_splat, "f32x4.splat": f32x4_splat, "f64x2.splat": f64x2_splat,
    "i8x16.extract_lane_s": i8x16_extract_lane_s, "i8x16.extract_lane_u": i8x16_extract_lane_u,
    "i16x8.extract_lane_s": i16x8_extract_lane_s, "i16x8.extract_lane_u": i16x8_extract_lane_u,
    "i32x4.extract_lane": i32x4_extract_lane, "i64x2.extract_lane": i64x2_extract_lane,
    "f32x4.extract_lane": f32x4_extract_lane, "f64x2.extract_lane": f64x2_extract_lane,
    "i8x16.replace_lane": i8x16_replace_lane, "i16x8.replace_lane": i16x8_replace_lane,
    "i32x4.replace_lane": i32x4_replace_lane, "i64x2.replace_lane": i64x2_replace_lane,
    "f32x4.replace_lane": f32x4_replace_lane, "f64x2.replace_lane": f64x2_replace_lane,
    "i8x16.shuffle": i8x16_shuffle, "i8x16.swizzle": i8x16_swizzle,
    "v128.not": v128_not, "v128.and": v128_and, "v128.andnot": v128_andnot,
    "v128.or": v128_or, "v128.xor": v128_xor, "v128.bitselect": v128_bitselect,
    "v128.any_true": v128_any_true,
}
