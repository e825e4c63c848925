"""Integer lane arithmetic on raw v128 values (unsigned 128-bit ints, lane 0 lowest).

Most ops work on the whole 128-bit int at once ("SIMD within a register"): with H the mask
of every lane's top bit and L its complement, adding the low w-1 bits of each lane can
never carry into the next lane, and the top bits are then fixed up with xor. A dozen
big-int operations on 128 bits cost far less than splitting into lanes and joining them
again. Ops that need real per-lane products or clamps split the lanes with struct.
"""
from __future__ import annotations

import operator
import struct
from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])
_Op = Callable[..., int]

ALL = (1 << 128) - 1
_from_bytes = int.from_bytes
_mul = operator.mul


def _named(name: str, fn: _F) -> _F:
    fn.__name__ = fn.__qualname__ = name.replace(".", "_")
    return fn


def _swar_family(w: int) -> tuple[dict[str, _Op], _Op, _Op]:
    """The ops of lane width w built from whole-vector bit arithmetic, keyed by wasm name."""
    n = 128 // w
    LANE = (1 << w) - 1
    LSB = sum(1 << (w * i) for i in range(n))  # the low bit of every lane
    H = LSB << (w - 1)                          # the top bit of every lane
    L = ALL ^ H
    SH = w - 1
    # Per shift count s: the bits of a lane that survive a left or a right shift by s.
    KEEP_L = tuple(((LANE << s) & LANE) * LSB for s in range(w))
    KEEP_R = tuple((LANE >> s) * LSB for s in range(w))
    FILL_R = tuple(ALL ^ k for k in KEEP_R)      # where shr_s copies the sign bit
    # bitmask reads each lane's top byte from the big-endian bytes: every (w/8)-th one.
    STRIDE = w // 8

    def add(a: int, b: int) -> int:
        return ((a & L) + (b & L)) ^ ((a ^ b) & H)

    def sub(a: int, b: int) -> int:
        # a | H lends every lane its top bit so no borrow leaves a lane; xor repairs it.
        return ((a | H) - (b & L)) ^ ((a ^ b ^ H) & H)

    def neg(a: int) -> int:
        return (H - (a & L)) ^ ((a ^ H) & H)

    def abs_(a: int) -> int:
        m = ((a & H) >> SH) * LANE       # all ones in negative lanes
        x = a ^ m                        # ones' complement of the negative lanes ...
        return ((x & L) + (m & LSB)) ^ (x & H)  # ... plus one

    def eq(a: int, b: int) -> int:
        x = a ^ b
        # (x & L) + L carries into a lane's top bit iff its low bits are nonzero.
        nz = (((x & L) + L) | x) & H
        return ((nz ^ H) >> SH) * LANE

    def ne(a: int, b: int) -> int:
        x = a ^ b
        return (((((x & L) + L) | x) & H) >> SH) * LANE

    def lt_u(a: int, b: int) -> int:
        d = ((a | H) - (b & L)) ^ ((a ^ b ^ H) & H)
        # Borrow out of each lane's top bit: a full subtractor's borrow, where the borrow
        # into the top bit equals d's top bit whenever a's and b's top bits agree.
        return (((((b & ~a) | (d & ~(a ^ b))) & H)) >> SH) * LANE

    def lt_s(a: int, b: int) -> int:
        return lt_u(a ^ H, b ^ H)  # flipping the sign bits maps signed order to unsigned

    def gt_u(a: int, b: int) -> int:
        return lt_u(b, a)

    def gt_s(a: int, b: int) -> int:
        return lt_u(b ^ H, a ^ H)

    def le_u(a: int, b: int) -> int:
        return ALL ^ lt_u(b, a)

    def le_s(a: int, b: int) -> int:
        return ALL ^ lt_u(b ^ H, a ^ H)

    def ge_u(a: int, b: int) -> int:
        return ALL ^ lt_u(a, b)

    def ge_s(a: int, b: int) -> int:
        return ALL ^ lt_u(a ^ H, b ^ H)

    def min_u(a: int, b: int) -> int:
        return b ^ ((a ^ b) & lt_u(a, b))

    def min_s(a: int, b: int) -> int:
        return b ^ ((a ^ b) & lt_u(a ^ H, b ^ H))

    def max_u(a: int, b: int) -> int:
        return a ^ ((a ^ b) & lt_u(a, b))

    def max_s(a: int, b: int) -> int:
        return a ^ ((a ^ b) & lt_u(a ^ H, b ^ H))

    def avgr_u(a: int, b: int) -> int:
        # (a + b + 1) >> 1 per lane, as (a | b) - ((a ^ b) >> 1), which never borrows.
        return (a | b) - (((a ^ b) >> 1) & L)

    def add_sat_u(a: int, b: int) -> int:
        s = ((a & L) + (b & L)) ^ ((a ^ b) & H)
        carry = ((a & b) | ((a | b) & ~s)) & H
        return s | (carry >> SH) * LANE

    def add_sat_s(a: int, b: int) -> int:
        s = ((a & L) + (b & L)) ^ ((a ^ b) & H)
        ov = ~(a ^ b) & (a ^ s) & H      # operands agree in sign, the sum does not
        if not ov:
            return s
        m = (ov >> SH) * LANE
        sat = L ^ (((a & H) >> SH) * LANE)  # 0x7f.. in lanes where a >= 0, 0x80.. elsewhere
        return s ^ ((s ^ sat) & m)

    def sub_sat_u(a: int, b: int) -> int:
        return sub(a, b) & (ALL ^ lt_u(a, b))

    def sub_sat_s(a: int, b: int) -> int:
        d = ((a | H) - (b & L)) ^ ((a ^ b ^ H) & H)
        ov = (a ^ b) & (a ^ d) & H       # operands differ in sign, the result is not a's
        if not ov:
            return d
        m = (ov >> SH) * LANE
        sat = L ^ (((a & H) >> SH) * LANE)
        return d ^ ((d ^ sat) & m)

    def shl(a: int, x: int) -> int:
        s = x & SH  # shift counts are taken modulo the lane width
        return (a << s) & KEEP_L[s]

    def shr_u(a: int, x: int) -> int:
        s = x & SH
        return (a >> s) & KEEP_R[s]

    def shr_s(a: int, x: int) -> int:
        s = x & SH
        return ((a >> s) & KEEP_R[s]) | ((((a & H) >> SH) * LANE) & FILL_R[s])

    def all_true(a: int) -> int:
        return 1 if (((a & L) + L) | a) & H == H else 0

    def bitmask(a: int) -> int:
        # Map each lane's top byte to b"0"/b"1", most significant lane first, and parse.
        return int(a.to_bytes(16, "big")[::STRIDE].translate(_TOP_BIT_DIGIT), 2)

    shape = f"i{w}x{n}"
    fns: dict[str, _Op]
    fns = {"add": add, "sub": sub, "neg": neg, "abs": abs_, "eq": eq, "ne": ne,
           "lt_s": lt_s, "lt_u": lt_u, "gt_s": gt_s, "gt_u": gt_u, "le_s": le_s, "le_u": le_u,
           "ge_s": ge_s, "ge_u": ge_u, "min_s": min_s, "min_u": min_u, "max_s": max_s,
           "max_u": max_u, "avgr_u": avgr_u, "add_sat_s": add_sat_s, "add_sat_u": add_sat_u,
           "sub_sat_s": sub_sat_s, "sub_sat_u": sub_sat_u, "shl": shl, "shr_s": shr_s,
           "shr_u": shr_u, "all_true": all_true, "bitmask": bitmask}
    return {f"{shape}.{k}": _named(f"{shape}.{k}", f) for k, f in fns.items()}, add, sub


_TOP_BIT_DIGIT = bytes(0x30 + (i >> 7) for i in range(256))

OPS: dict[str, _Op] = {}
_I8, _add8, _sub8 = _swar_family(8)
_I16, _add16, _sub16 = _swar_family(16)
_I32, _add32, _sub32 = _swar_family(32)
_I64, _add64, _sub64 = _swar_family(64)
_NO_SAT = ("add_sat_s", "add_sat_u", "sub_sat_s", "sub_sat_u", "avgr_u")
_NO_UNSIGNED_ORDER = ("lt_u", "gt_u", "le_u", "ge_u", "min_s", "min_u", "max_s", "max_u")
OPS.update(_I8)
OPS.update(_I16)
OPS.update((k, f) for k, f in _I32.items() if k[6:] not in _NO_SAT)
OPS.update((k, f) for k, f in _I64.items() if k[6:] not in _NO_SAT + _NO_UNSIGNED_ORDER)


# --- ops that split lanes ----------------------------------------------------------------

_POPCNT = bytes(bin(i).count("1") for i in range(256))


def i8x16_popcnt(a: int) -> int:
    return _from_bytes(a.to_bytes(16, "little").translate(_POPCNT), "little")


_U8H = struct.Struct("<8H").unpack
_P8H = struct.Struct("<8H").pack
_U8h = struct.Struct("<8h").unpack
_P8h = struct.Struct("<8h").pack
_U4I = struct.Struct("<4I").unpack
_P4I = struct.Struct("<4I").pack
_U16H = struct.Struct("<16H").unpack
_U8i = struct.Struct("<8i").unpack
_M64 = 0xFFFFFFFFFFFFFFFF


def i16x8_mul(a: int, b: int) -> int:
    x0, x1, x2, x3, x4, x5, x6, x7 = _U8H(a.to_bytes(16, "little"))
    y0, y1, y2, y3, y4, y5, y6, y7 = _U8H(b.to_bytes(16, "little"))
    return _from_bytes(_P8H((x0 * y0) & 0xFFFF, (x1 * y1) & 0xFFFF, (x2 * y2) & 0xFFFF,
                            (x3 * y3) & 0xFFFF, (x4 * y4) & 0xFFFF, (x5 * y5) & 0xFFFF,
                            (x6 * y6) & 0xFFFF, (x7 * y7) & 0xFFFF), "little")


def i32x4_mul(a: int, b: int) -> int:
    a0, a1, a2, a3 = _U4I(a.to_bytes(16, "little"))
    b0, b1, b2, b3 = _U4I(b.to_bytes(16, "little"))
    return _from_bytes(_P4I((a0 * b0) & 0xFFFFFFFF, (a1 * b1) & 0xFFFFFFFF,
                            (a2 * b2) & 0xFFFFFFFF, (a3 * b3) & 0xFFFFFFFF), "little")


def i64x2_mul(a: int, b: int) -> int:
    return (((a & _M64) * (b & _M64)) & _M64) | ((((a >> 64) * (b >> 64)) & _M64) << 64)


# Narrowing clamps each signed lane; for the 8-bit result a 64 KiB table does it per lane.
_NARROW_S8 = bytes((max(-128, min(127, u - 65536 if u >= 32768 else u))) & 0xFF
                   for u in range(65536))
_NARROW_U8 = bytes(max(0, min(255, u - 65536 if u >= 32768 else u)) for u in range(65536))


def i8x16_narrow_i16x8_s(a: int, b: int) -> int:
    return _from_bytes(bytes(map(_NARROW_S8.__getitem__, _U16H(
        a.to_bytes(16, "little") + b.to_bytes(16, "little")))), "little")


def i8x16_narrow_i16x8_u(a: int, b: int) -> int:
    return _from_bytes(bytes(map(_NARROW_U8.__getitem__, _U16H(
        a.to_bytes(16, "little") + b.to_bytes(16, "little")))), "little")


def i16x8_narrow_i32x4_s(a: int, b: int) -> int:
    return _from_bytes(_P8h(*[
        -32768 if x < -32768 else (32767 if x > 32767 else x)
        for x in _U8i(a.to_bytes(16, "little") + b.to_bytes(16, "little"))]), "little")


def i16x8_narrow_i32x4_u(a: int, b: int) -> int:
    return _from_bytes(_P8H(*[
        0 if x < 0 else (65535 if x > 65535 else x)
        for x in _U8i(a.to_bytes(16, "little") + b.to_bytes(16, "little"))]), "little")


def _extend(name: str, src: str, dst: str, high: bool) -> Callable[[int], int]:
    """Widen the low or high half of the lanes (format src, 8 bytes) to format dst."""
    unpack = struct.Struct("<" + src).unpack
    pack = struct.Struct("<" + dst).pack
    lo = 8 if high else 0

    def extend(a: int) -> int:
        return _from_bytes(pack(*unpack(a.to_bytes(16, "little")[lo:lo + 8])), "little")
    return _named(name, extend)


def _extmul(name: str, src: str, dst: str, high: bool) -> Callable[[int, int], int]:
    """Multiply the low or high halves lane by lane into lanes twice as wide (never wraps)."""
    unpack = struct.Struct("<" + src).unpack
    pack = struct.Struct("<" + dst).pack
    lo = 8 if high else 0

    def extmul(a: int, b: int) -> int:
        return _from_bytes(pack(*map(_mul, unpack(a.to_bytes(16, "little")[lo:lo + 8]),
                                     unpack(b.to_bytes(16, "little")[lo:lo + 8]))), "little")
    return _named(name, extmul)


for _dst, _src, _sf, _uf, _sd, _ud in (("i16x8", "i8x16", "8b", "8B", "8h", "8H"),
                                       ("i32x4", "i16x8", "4h", "4H", "4i", "4I"),
                                       ("i64x2", "i32x4", "2i", "2I", "2q", "2Q")):
    for _half in ("low", "high"):
        for _sign, _f_in, _f_out in (("s", _sf, _sd), ("u", _uf, _ud)):
            _n = f"{_dst}.extend_{_half}_{_src}_{_sign}"
            OPS[_n] = _extend(_n, _f_in, _f_out, _half == "high")
            _n = f"{_dst}.extmul_{_half}_{_src}_{_sign}"
            OPS[_n] = _extmul(_n, _f_in, _f_out, _half == "high")

_EVEN8 = 0x00FF00FF00FF00FF00FF00FF00FF00FF
_EVEN16 = 0x0000FFFF0000FFFF0000FFFF0000FFFF
_H8 = 0x80808080808080808080808080808080
_H16 = 0x80008000800080008000800080008000
_K256 = 0x01000100010001000100010001000100      # 256 in every 16-bit lane
_K65536 = 0x00010000000100000001000000010000    # 65536 in every 32-bit lane


def i16x8_extadd_pairwise_i8x16_u(a: int) -> int:
    return (a & _EVEN8) + ((a >> 8) & _EVEN8)


def i16x8_extadd_pairwise_i8x16_s(a: int) -> int:
    # Bias each byte by +128 (flip its sign bit), add the pairs unsigned, then take the
    # 2 * 128 back off lane-wise.
    b = a ^ _H8
    return _sub16((b & _EVEN8) + ((b >> 8) & _EVEN8), _K256)


def i32x4_extadd_pairwise_i16x8_u(a: int) -> int:
    return (a & _EVEN16) + ((a >> 16) & _EVEN16)


def i32x4_extadd_pairwise_i16x8_s(a: int) -> int:
    b = a ^ _H16
    return _sub32((b & _EVEN16) + ((b >> 16) & _EVEN16), _K65536)


def i16x8_q15mulr_sat_s(a: int, b: int) -> int:
    """Rounded Q15 product; only -1 * -1 (0x8000 * 0x8000) leaves the range and saturates."""
    return _from_bytes(_P8h(*[
        r if r < 32768 else 32767 for r in [(x * y + 0x4000) >> 15 for x, y in zip(
            _U8h(a.to_bytes(16, "little")), _U8h(b.to_bytes(16, "little")))]]), "little")


def i32x4_dot_i16x8_s(a: int, b: int) -> int:
    x0, x1, x2, x3, x4, x5, x6, x7 = _U8h(a.to_bytes(16, "little"))
    y0, y1, y2, y3, y4, y5, y6, y7 = _U8h(b.to_bytes(16, "little"))
    # Only (-32768)^2 * 2 = 2**31 can overflow the i32 result; it wraps.
    return _from_bytes(_P4I((x0 * y0 + x1 * y1) & 0xFFFFFFFF, (x2 * y2 + x3 * y3) & 0xFFFFFFFF,
                            (x4 * y4 + x5 * y5) & 0xFFFFFFFF, (x6 * y6 + x7 * y7) & 0xFFFFFFFF),
                       "little")


OPS.update({
    "i8x16.popcnt": i8x16_popcnt,
    "i16x8.mul": i16x8_mul, "i32x4.mul": i32x4_mul, "i64x2.mul": i64x2_mul,
    "i8x16.narrow_i16x8_s": i8x16_narrow_i16x8_s, "i8x16.narrow_i16x8_u": i8x16_narrow_i16x8_u,
    "i16x8.narrow_i32x4_s": i16x8_narrow_i32x4_s, "i16x8.narrow_i32x4_u": i16x8_narrow_i32x4_u,
    "i16x8.extadd_pairwise_i8x16_s": i16x8_extadd_pairwise_i8x16_s,
    "i16x8.extadd_pairwise_i8x16_u": i16x8_extadd_pairwise_i8x16_u,
    "i32x4.extadd_pairwise_i16x8_s": i32x4_extadd_pairwise_i16x8_s,
    "i32x4.extadd_pairwise_i16x8_u": i32x4_extadd_pairwise_i16x8_u,
    "i16x8.q15mulr_sat_s": i16x8_q15mulr_sat_s, "i32x4.dot_i16x8_s": i32x4_dot_i16x8_s,
})
del _dst, _src, _sf, _uf, _sd, _ud, _half, _sign, _f_in, _f_out, _n
