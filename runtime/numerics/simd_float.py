"""Float lane arithmetic on raw v128 values (f32x4 and f64x2), with the scalar semantics of
floats.py applied lane by lane.

Lanes are split with struct, which turns each f32 lane into the double holding it exactly
(the hardware widening quiets a signalling NaN, which is harmless: every op here that reads
lanes as floats either produces an arithmetic NaN anyway or only compares). Packing the
results back with "<4f" rounds each double to f32 once, exactly as the scalar ops do. Ops
whose result must keep an input's exact bits (abs, neg, pmin, pmax) select bits from the
raw 128-bit ints rather than from the unpacked floats.
"""
from __future__ import annotations

import operator
import struct
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .floats import (
    f32_round,
    f64_div,
    f64_sqrt,
    f_ceil,
    f_floor,
    f_max,
    f_min,
    f_nearest,
    f_trunc,
    i32_trunc_sat_s,
    i32_trunc_sat_u,
)

ALL = (1 << 128) - 1
_from_bytes = int.from_bytes

_U4f = struct.Struct("<4f").unpack
_P4f = struct.Struct("<4f").pack
_U2d = struct.Struct("<2d").unpack
_P2d = struct.Struct("<2d").pack
_U2f = struct.Struct("<2f").unpack
_P2f = struct.Struct("<2f").pack
_U4i = struct.Struct("<4i").unpack
_U4I = struct.Struct("<4I").unpack
_P4I = struct.Struct("<4I").pack
_U2i = struct.Struct("<2i").unpack
_U2I = struct.Struct("<2I").unpack

_F = TypeVar("_F", bound=Callable[..., Any])
_Binary = Callable[[int, int], int]
_Unary = Callable[[int], int]

_SIGN32 = 0x80000000800000008000000080000000
_SIGN64 = 0x80000000000000008000000000000000

# MASKn[k]: all ones in lane i (of n lanes) where bit i of k is set.
MASK4 = tuple(sum(0xFFFFFFFF << (32 * i) for i in range(4) if k >> i & 1) for k in range(16))
MASK2 = tuple(sum(0xFFFFFFFFFFFFFFFF << (64 * i) for i in range(2) if k >> i & 1)
              for k in range(4))


def _named(name: str, fn: _F) -> _F:
    fn.__name__ = fn.__qualname__ = name.replace(".", "_")
    return fn


def _pack_f32x4_slow(values: Iterable[float]) -> int:
    """Pack lanes some of which overflow f32 (struct refuses those; they round to inf)."""
    return _from_bytes(_P4f(*map(f32_round, values)), "little")


def _f32x4_binary(name: str, op: Callable[[float, float], float]) -> _Binary:
    def fn(a: int, b: int) -> int:
        try:
            return _from_bytes(_P4f(*map(op, _U4f(a.to_bytes(16, "little")),
                                         _U4f(b.to_bytes(16, "little")))), "little")
        except OverflowError:
            return _pack_f32x4_slow(list(map(op, _U4f(a.to_bytes(16, "little")),
                                             _U4f(b.to_bytes(16, "little")))))
    return _named(name, fn)


def _f32x4_unary(name: str, op: Callable[[float], float]) -> _Unary:
    # sqrt and the rounding ops never leave the f32 range.
    def fn(a: int) -> int:
        return _from_bytes(_P4f(*map(op, _U4f(a.to_bytes(16, "little")))), "little")
    return _named(name, fn)


def _f64x2_binary(name: str, op: Callable[[float, float], float]) -> _Binary:
    def fn(a: int, b: int) -> int:
        return _from_bytes(_P2d(*map(op, _U2d(a.to_bytes(16, "little")),
                                     _U2d(b.to_bytes(16, "little")))), "little")
    return _named(name, fn)


def _f64x2_unary(name: str, op: Callable[[float], float]) -> _Unary:
    def fn(a: int) -> int:
        return _from_bytes(_P2d(*map(op, _U2d(a.to_bytes(16, "little")))), "little")
    return _named(name, fn)


# + - * written out lane by lane: Python's float operators are the IEEE operations
# (inf - inf is NaN, overflow is inf, nothing raises), and "<4f" rounds each lane once.

def f32x4_add(a: int, b: int) -> int:
    x0, x1, x2, x3 = _U4f(a.to_bytes(16, "little"))
    y0, y1, y2, y3 = _U4f(b.to_bytes(16, "little"))
    try:
        return _from_bytes(_P4f(x0 + y0, x1 + y1, x2 + y2, x3 + y3), "little")
    except OverflowError:
        return _pack_f32x4_slow((x0 + y0, x1 + y1, x2 + y2, x3 + y3))


def f64x2_add(a: int, b: int) -> int:
    x0, x1 = _U2d(a.to_bytes(16, "little"))
    y0, y1 = _U2d(b.to_bytes(16, "little"))
    return _from_bytes(_P2d(x0 + y0, x1 + y1), "little")


def f32x4_sub(a: int, b: int) -> int:
    x0, x1, x2, x3 = _U4f(a.to_bytes(16, "little"))
    y0, y1, y2, y3 = _U4f(b.to_bytes(16, "little"))
    try:
        return _from_bytes(_P4f(x0 - y0, x1 - y1, x2 - y2, x3 - y3), "little")
    except OverflowError:
        return _pack_f32x4_slow((x0 - y0, x1 - y1, x2 - y2, x3 - y3))


def f64x2_sub(a: int, b: int) -> int:
    x0, x1 = _U2d(a.to_bytes(16, "little"))
    y0, y1 = _U2d(b.to_bytes(16, "little"))
    return _from_bytes(_P2d(x0 - y0, x1 - y1), "little")


def f32x4_mul(a: int, b: int) -> int:
    x0, x1, x2, x3 = _U4f(a.to_bytes(16, "little"))
    y0, y1, y2, y3 = _U4f(b.to_bytes(16, "little"))
    try:
        return _from_bytes(_P4f(x0 * y0, x1 * y1, x2 * y2, x3 * y3), "little")
    except OverflowError:
        return _pack_f32x4_slow((x0 * y0, x1 * y1, x2 * y2, x3 * y3))


def f64x2_mul(a: int, b: int) -> int:
    x0, x1 = _U2d(a.to_bytes(16, "little"))
    y0, y1 = _U2d(b.to_bytes(16, "little"))
    return _from_bytes(_P2d(x0 * y0, x1 * y1), "little")


# Lane comparisons: a 4-bit (2-bit) truth pattern indexes the lane mask.

def _f32x4_compare(name: str, op: Callable[[float, float], bool]) -> _Binary:
    def fn(a: int, b: int) -> int:
        x0, x1, x2, x3 = _U4f(a.to_bytes(16, "little"))
        y0, y1, y2, y3 = _U4f(b.to_bytes(16, "little"))
        return MASK4[op(x0, y0) | op(x1, y1) << 1 | op(x2, y2) << 2 | op(x3, y3) << 3]
    return _named(name, fn)


def _f64x2_compare(name: str, op: Callable[[float, float], bool]) -> _Binary:
    def fn(a: int, b: int) -> int:
        x0, x1 = _U2d(a.to_bytes(16, "little"))
        y0, y1 = _U2d(b.to_bytes(16, "little"))
        return MASK2[op(x0, y0) | op(x1, y1) << 1]
    return _named(name, fn)


def f32x4_abs(a: int) -> int:
    return a & (ALL ^ _SIGN32)


def f32x4_neg(a: int) -> int:
    return a ^ _SIGN32


def f64x2_abs(a: int) -> int:
    return a & (ALL ^ _SIGN64)


def f64x2_neg(a: int) -> int:
    return a ^ _SIGN64


# pmin(a, b) = b < a ? b : a and pmax(a, b) = a < b ? b : a, lane by lane: a pure select,
# so NaNs and signed zeros pass through with their exact bits.

def f32x4_pmin(a: int, b: int) -> int:
    x0, x1, x2, x3 = _U4f(a.to_bytes(16, "little"))
    y0, y1, y2, y3 = _U4f(b.to_bytes(16, "little"))
    m = MASK4[(y0 < x0) | (y1 < x1) << 1 | (y2 < x2) << 2 | (y3 < x3) << 3]
    return a ^ ((a ^ b) & m)


def f32x4_pmax(a: int, b: int) -> int:
    x0, x1, x2, x3 = _U4f(a.to_bytes(16, "little"))
    y0, y1, y2, y3 = _U4f(b.to_bytes(16, "little"))
    m = MASK4[(x0 < y0) | (x1 < y1) << 1 | (x2 < y2) << 2 | (x3 < y3) << 3]
    return a ^ ((a ^ b) & m)


def f64x2_pmin(a: int, b: int) -> int:
    x0, x1 = _U2d(a.to_bytes(16, "little"))
    y0, y1 = _U2d(b.to_bytes(16, "little"))
    return a ^ ((a ^ b) & MASK2[(y0 < x0) | (y1 < x1) << 1])


def f64x2_pmax(a: int, b: int) -> int:
    x0, x1 = _U2d(a.to_bytes(16, "little"))
    y0, y1 = _U2d(b.to_bytes(16, "little"))
    return a ^ ((a ^ b) & MASK2[(x0 < y0) | (x1 < y1) << 1])


# --- conversions -------------------------------------------------------------------------

def f32x4_convert_i32x4_s(a: int) -> int:
    # struct converts each int to an exact double and rounds that once to f32.
    return _from_bytes(_P4f(*_U4i(a.to_bytes(16, "little"))), "little")


def f32x4_convert_i32x4_u(a: int) -> int:
    return _from_bytes(_P4f(*_U4I(a.to_bytes(16, "little"))), "little")


def f64x2_convert_low_i32x4_s(a: int) -> int:
    return _from_bytes(_P2d(*_U2i(a.to_bytes(16, "little")[:8])), "little")


def f64x2_convert_low_i32x4_u(a: int) -> int:
    return _from_bytes(_P2d(*_U2I(a.to_bytes(16, "little")[:8])), "little")


def _quiet(x: float) -> float:
    return x if x == x else x + x


def f32x4_demote_f64x2_zero(a: int) -> int:
    """Both f64 lanes rounded to f32 in lanes 0 and 1; lanes 2 and 3 are zero."""
    x0, x1 = _U2d(a.to_bytes(16, "little"))
    return _from_bytes(_P2f(f32_round(_quiet(x0)), f32_round(_quiet(x1))), "little")


def f64x2_promote_low_f32x4(a: int) -> int:
    """Lanes 0 and 1 widened exactly; a NaN comes out quiet."""
    x0, x1 = _U2f(a.to_bytes(16, "little")[:8])
    return _from_bytes(_P2d(_quiet(x0), _quiet(x1)), "little")


def i32x4_trunc_sat_f32x4_s(a: int) -> int:
    return _from_bytes(_P4I(*map(i32_trunc_sat_s, _U4f(a.to_bytes(16, "little")))), "little")


def i32x4_trunc_sat_f32x4_u(a: int) -> int:
    return _from_bytes(_P4I(*map(i32_trunc_sat_u, _U4f(a.to_bytes(16, "little")))), "little")


def i32x4_trunc_sat_f64x2_s_zero(a: int) -> int:
    x0, x1 = _U2d(a.to_bytes(16, "little"))
    return i32_trunc_sat_s(x0) | (i32_trunc_sat_s(x1) << 32)


def i32x4_trunc_sat_f64x2_u_zero(a: int) -> int:
    x0, x1 = _U2d(a.to_bytes(16, "little"))
    return i32_trunc_sat_u(x0) | (i32_trunc_sat_u(x1) << 32)


OPS: dict[str, Callable[..., int]] = {
    "f32x4.add": f32x4_add, "f32x4.sub": f32x4_sub, "f32x4.mul": f32x4_mul,
    "f64x2.add": f64x2_add, "f64x2.sub": f64x2_sub, "f64x2.mul": f64x2_mul,
    "f32x4.abs": f32x4_abs, "f32x4.neg": f32x4_neg, "f64x2.abs": f64x2_abs, "f64x2.neg": f64x2_neg,
    "f32x4.pmin": f32x4_pmin, "f32x4.pmax": f32x4_pmax,
    "f64x2.pmin": f64x2_pmin, "f64x2.pmax": f64x2_pmax,
    "f32x4.convert_i32x4_s": f32x4_convert_i32x4_s, "f32x4.convert_i32x4_u": f32x4_convert_i32x4_u,
    "f64x2.convert_low_i32x4_s": f64x2_convert_low_i32x4_s,
    "f64x2.convert_low_i32x4_u": f64x2_convert_low_i32x4_u,
    "f32x4.demote_f64x2_zero": f32x4_demote_f64x2_zero,
    "f64x2.promote_low_f32x4": f64x2_promote_low_f32x4,
    "i32x4.trunc_sat_f32x4_s": i32x4_trunc_sat_f32x4_s,
    "i32x4.trunc_sat_f32x4_u": i32x4_trunc_sat_f32x4_u,
    "i32x4.trunc_sat_f64x2_s_zero": i32x4_trunc_sat_f64x2_s_zero,
    "i32x4.trunc_sat_f64x2_u_zero": i32x4_trunc_sat_f64x2_u_zero,
}
# Division and sqrt need the scalar wrappers for /0 and negative operands.
_op: Callable[..., Any]  # binary, unary, then comparison ops
for _name, _op in (("div", f64_div), ("min", f_min), ("max", f_max)):
    OPS[f"f32x4.{_name}"] = _f32x4_binary(f"f32x4.{_name}", _op)
    OPS[f"f64x2.{_name}"] = _f64x2_binary(f"f64x2.{_name}", _op)
for _name, _op in (("sqrt", f64_sqrt), ("ceil", f_ceil), ("floor", f_floor),
                   ("trunc", f_trunc), ("nearest", f_nearest)):
    OPS[f"f32x4.{_name}"] = _f32x4_unary(f"f32x4.{_name}", _op)
    OPS[f"f64x2.{_name}"] = _f64x2_unary(f"f64x2.{_name}", _op)
for _name, _op in (("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt),
                   ("gt", operator.gt), ("le", operator.le), ("ge", operator.ge)):
    OPS[f"f32x4.{_name}"] = _f32x4_compare(f"f32x4.{_name}", _op)
    OPS[f"f64x2.{_name}"] = _f64x2_compare(f"f64x2.{_name}", _op)
del _name, _op
