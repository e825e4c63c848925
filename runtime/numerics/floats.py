"""f32 and f64 instructions on raw values (see fayasm.runtime.values).

f64 is a Python float. f32 is a Python float holding the f32 value exactly, a NaN keeping
its f32 sign, quiet bit and payload in the top 23 mantissa bits of the double. Arithmetic
on f32 is done in double and rounded once to single: for + - * / and sqrt the double result
rounded again to 24 bits equals the directly rounded one (53 >= 2*24 + 2), so this is exact.

NaNs: arithmetic hands NaN inputs to the hardware (x + x, a + b), which returns a NaN
operand quieted, or the default NaN when no operand is NaN. That is exactly the spec's rule:
an arithmetic NaN, canonical whenever every NaN input was canonical. abs, neg and copysign
are IEEE bit operations that never touch the payload, so they keep even signalling NaNs.
"""
from __future__ import annotations

import math
import struct

from ..errors import BAD_CONVERSION, INT_OVERFLOW, Trap
from ..values import f32_from_bits, f32_to_bits

_F = struct.Struct("<f")
_pack_f = _F.pack
_unpack_f = _F.unpack
_D = struct.Struct("<d")
_pack_d = _D.pack
_unpack_d = _D.unpack
_Q = struct.Struct("<Q")
_unpack_I = struct.Struct("<I").unpack
_from_bytes = int.from_bytes
_copysign = math.copysign
_floor = math.floor
_ceil = math.ceil
_sqrt = math.sqrt

INF = math.inf
NAN = _D.unpack(_Q.pack(0x7FF8000000000000))[0]  # canonical NaN (also the canonical f32 NaN)
TWO52 = 4503599627370496.0  # 2**52: every double at least this large is an integer

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF

INVALID = BAD_CONVERSION
OVERFLOW = INT_OVERFLOW


def f32_round(x: float) -> float:
    """The nearest f32 (ties to even) to a double; beyond the f32 range, +-inf. NaN in,
    quiet NaN out."""
    try:
        return _unpack_f(_pack_f(x))[0]
    except OverflowError:  # struct refuses finite values that round to infinity
        return _copysign(INF, x)


# --- shared by both widths -----------------------------------------------------------

def f_eq(a: float, b: float) -> int:
    return 1 if a == b else 0


def f_ne(a: float, b: float) -> int:
    return 1 if a != b else 0


def f_lt(a: float, b: float) -> int:
    return 1 if a < b else 0


def f_gt(a: float, b: float) -> int:
    return 1 if a > b else 0


def f_le(a: float, b: float) -> int:
    return 1 if a <= b else 0


def f_ge(a: float, b: float) -> int:
    return 1 if a >= b else 0


# Pure sign-bit operations (IEEE "quiet-computational": payloads and signalling NaNs kept).
# A raw f32's sign is its double's sign, so these serve f32 as they are.
def f_neg(a: float) -> float:
    return -a


f_abs = abs           # fabs
f_copysign = _copysign


def f_min(a: float, b: float) -> float:
    """wasm min: any NaN operand gives NaN; -0 is below +0."""
    if a < b:
        return a
    if b < a:
        return b
    if a == b:
        # The same value, or zeros of possibly different signs: take a negative one.
        return a if _copysign(1.0, a) < 0.0 else b
    return a + b  # a NaN operand: propagate it quieted


def f_max(a: float, b: float) -> float:
    """wasm max: any NaN operand gives NaN; +0 is above -0."""
    if a > b:
        return a
    if b > a:
        return b
    if a == b:
        return b if _copysign(1.0, a) < 0.0 else a
    return a + b


# The rounding functions: the result always has the operand's sign (ceil(-0.5) is -0.0),
# so copysign restores a zero's sign that the int round trip lost. Doubles of magnitude
# >= 2**52, infinities included, are already integral; NaN comes back quieted (x + x).
# A raw f32 below 2**23 rounds to an integer that is again an exact f32.

def f_ceil(x: float) -> float:
    if -TWO52 < x < TWO52:
        return _copysign(float(_ceil(x)), x)
    return x if x == x else x + x


def f_floor(x: float) -> float:
    if -TWO52 < x < TWO52:
        return _copysign(float(_floor(x)), x)
    return x if x == x else x + x


def f_trunc(x: float) -> float:
    if -TWO52 < x < TWO52:
        return _copysign(float(int(x)), x)
    return x if x == x else x + x


def f_nearest(x: float) -> float:
    """Round to the nearest integer, ties to even."""
    if -TWO52 < x < TWO52:
        # Adding 2**52 leaves no fraction bits, so the FPU's round-to-nearest-even does it.
        return _copysign((abs(x) + TWO52) - TWO52, x)
    return x if x == x else x + x


# --- f64 arithmetic -------------------------------------------------------------------
# Python float + - * never raise (overflow gives inf, inf - inf gives NaN).

def f64_add(a: float, b: float) -> float:
    return a + b


def f64_sub(a: float, b: float) -> float:
    return a - b


def f64_mul(a: float, b: float) -> float:
    return a * b


def _div_by_zero(a: float, b: float) -> float:
    """IEEE a / +-0, which Python refuses to compute."""
    if a != a:
        return a + a
    if a == 0.0:
        return NAN
    return INF if (_copysign(1.0, a) > 0.0) == (_copysign(1.0, b) > 0.0) else -INF


def f64_div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        return _div_by_zero(a, b)


def f64_sqrt(x: float) -> float:
    try:
        return _sqrt(x)  # C sqrt: -0 stays -0, NaN comes back quieted
    except ValueError:  # negative operand
        return NAN


# --- f32 arithmetic: computed in double, rounded once (inlined f32_round) ---------------

def f32_add(a: float, b: float) -> float:
    try:
        return _unpack_f(_pack_f(a + b))[0]
    except OverflowError:
        return _copysign(INF, a + b)


def f32_sub(a: float, b: float) -> float:
    try:
        return _unpack_f(_pack_f(a - b))[0]
    except OverflowError:
        return _copysign(INF, a - b)


def f32_mul(a: float, b: float) -> float:
    try:
        return _unpack_f(_pack_f(a * b))[0]
    except OverflowError:
        return _copysign(INF, a * b)


def f32_div(a: float, b: float) -> float:
    try:
        return _unpack_f(_pack_f(a / b))[0]
    except ZeroDivisionError:
        return _div_by_zero(a, b)
    except OverflowError:
        return _copysign(INF, a / b)


def f32_sqrt(x: float) -> float:
    try:
        return _unpack_f(_pack_f(_sqrt(x)))[0]
    except ValueError:
        return NAN


# --- conversions ----------------------------------------------------------------------
# trunc: the operand must truncate into the target range. The bounds are exact doubles;
# for i64, -2**63 - 1 is not a double and the next double below -2**63 truncates out of
# range, so that bound is inclusive. NaN fails every comparison and lands in the error path.

def _trunc_error(x: float) -> Trap:
    return Trap(INVALID if x != x else OVERFLOW)


def i32_trunc_s(x: float) -> int:
    if -2147483649.0 < x < 2147483648.0:
        return int(x) & M32
    raise _trunc_error(x)


def i32_trunc_u(x: float) -> int:
    if -1.0 < x < 4294967296.0:
        return int(x)
    raise _trunc_error(x)


def i64_trunc_s(x: float) -> int:
    if -9223372036854775808.0 <= x < 9223372036854775808.0:
        return int(x) & M64
    raise _trunc_error(x)


def i64_trunc_u(x: float) -> int:
    if -1.0 < x < 18446744073709551616.0:
        return int(x)
    raise _trunc_error(x)


def i32_trunc_sat_s(x: float) -> int:
    if -2147483649.0 < x < 2147483648.0:
        return int(x) & M32
    if x != x:
        return 0
    return 0x7FFFFFFF if x > 0.0 else 0x80000000


def i32_trunc_sat_u(x: float) -> int:
    if -1.0 < x < 4294967296.0:
        return int(x)
    return M32 if x > 0.0 else 0  # NaN and negatives give 0


def i64_trunc_sat_s(x: float) -> int:
    if -9223372036854775808.0 <= x < 9223372036854775808.0:
        return int(x) & M64
    if x != x:
        return 0
    return 0x7FFFFFFFFFFFFFFF if x > 0.0 else 0x8000000000000000


def i64_trunc_sat_u(x: float) -> int:
    if -1.0 < x < 18446744073709551616.0:
        return int(x)
    return M64 if x > 0.0 else 0


def f64_convert_i32_s(a: int) -> float:
    return float((a ^ 0x80000000) - 0x80000000)


def f64_convert_i32_u(a: int) -> float:
    return float(a)


def f64_convert_i64_s(a: int) -> float:
    # CPython rounds int -> float correctly.
    return float((a ^ 0x8000000000000000) - 0x8000000000000000)


def f64_convert_i64_u(a: int) -> float:
    return float(a)


def f32_convert_i32_s(a: int) -> float:
    # A 32-bit int is exact in a double, so the only rounding is the one to f32.
    return _unpack_f(_pack_f(float((a ^ 0x80000000) - 0x80000000)))[0]


def f32_convert_i32_u(a: int) -> float:
    return _unpack_f(_pack_f(float(a)))[0]


def _u64_to_f32(m: int) -> float:
    """Round 0 <= m <= 2**64 to f32 once. float(m) would round to 53 bits first and can then
    round wrongly to 24 (double rounding); instead the bits below the double's precision are
    folded into one sticky bit, which leaves the f32 rounding decision unchanged and makes
    the value exact in a double."""
    if m >> 53 and m & 0x7FF:
        m = (m & ~0x7FF) | 0x800  # m < 2**64 keeps at most 53 significant bits from bit 11
    return _unpack_f(_pack_f(float(m)))[0]


def f32_convert_i64_s(a: int) -> float:
    if a >> 63:
        return -_u64_to_f32((1 << 64) - a)
    return _u64_to_f32(a)


def f32_convert_i64_u(a: int) -> float:
    return _u64_to_f32(a)


def f32_demote_f64(x: float) -> float:
    if x != x:
        x = x + x  # quiet a NaN first (newer CPythons' struct keeps signalling NaNs as they are)
    try:
        return _unpack_f(_pack_f(x))[0]  # a NaN keeps its sign and the top 23 payload bits
    except OverflowError:
        return _copysign(INF, x)


def f64_promote_f32(x: float) -> float:
    # A raw f32 already is the exact double; only a NaN needs quieting (x + x).
    return x if x == x else x + x


# Reinterprets: the same results as values.f32_to_bits/f32_from_bits, with the common
# non-NaN case first (struct converts every non-NaN f32 exactly).

def i32_reinterpret_f32(x: float) -> int:
    if x != x:
        return f32_to_bits(x)
    return _unpack_I(_pack_f(x))[0]


def f32_reinterpret_i32(a: int) -> float:
    if a & 0x7F800000 == 0x7F800000 and a & 0x7FFFFF:
        return f32_from_bits(a)  # a NaN: built by hand, since hardware would quiet it
    return _unpack_f(a.to_bytes(4, "little"))[0]


def f64_reinterpret_i64(a: int) -> float:
    return _unpack_d(a.to_bytes(8, "little"))[0]


def i64_reinterpret_f64(x: float) -> int:
    return _from_bytes(_pack_d(x), "little")


OPS = {}
for _w in ("f32", "f64"):
    OPS.update({
        f"{_w}.eq": f_eq, f"{_w}.ne": f_ne, f"{_w}.lt": f_lt, f"{_w}.gt": f_gt,
        f"{_w}.le": f_le, f"{_w}.ge": f_ge,
        f"{_w}.abs": f_abs, f"{_w}.neg": f_neg, f"{_w}.copysign": f_copysign,
        f"{_w}.min": f_min, f"{_w}.max": f_max,
        f"{_w}.ceil": f_ceil, f"{_w}.floor": f_floor, f"{_w}.trunc": f_trunc,
        f"{_w}.nearest": f_nearest,
    })
    for _i, _s in (("i32", "s"), ("i32", "u"), ("i64", "s"), ("i64", "u")):
        OPS[f"{_i}.trunc_{_w}_{_s}"] = globals()[f"{_i}_trunc_{_s}"]
        OPS[f"{_i}.trunc_sat_{_w}_{_s}"] = globals()[f"{_i}_trunc_sat_{_s}"]
        OPS[f"{_w}.convert_{_i}_{_s}"] = globals()[f"{_w}_convert_{_i}_{_s}"]
    for _op in ("add", "sub", "mul", "div", "sqrt"):
        OPS[f"{_w}.{_op}"] = globals()[f"{_w}_{_op}"]
OPS.update({
    "f32.demote_f64": f32_demote_f64, "f64.promote_f32": f64_promote_f32,
    "i32.reinterpret_f32": i32_reinterpret_f32, "f32.reinterpret_i32": f32_reinterpret_i32,
    "i64.reinterpret_f64": i64_reinterpret_f64, "f64.reinterpret_i64": f64_reinterpret_i64,
})
del _w, _i, _s, _op
