"""Relaxed SIMD (WebAssembly 3.0): the 20 instructions whose result the spec lets an
implementation choose from a short list, by a global parameter per family.

The spec names the parameters (``R_fmadd``, ``R_fmin``, ... below, without the ``R_``)
and, for each, the list of allowed results; its deterministic profile fixes every
parameter to 0. fayasm always computes choice 0, on every engine: it is the only choice
that is the same on every host (no FMA unit, pshufb or VNNI needed), it equals an
existing deterministic instruction in every case (swizzle, trunc_sat, mul then add,
bitselect, min/max, q15mulr_sat, a signed dot product), and so a relaxed instruction
never makes two fayasm engines disagree. docs/relaxed-simd.md gives the reasons per
instruction.

``OPS`` maps each instruction to its deterministic function (raw v128 ints in and out,
like the other SIMD numerics). ``PARAMS`` gives each parameter's number of choices and
``PARAM`` each instruction's parameter; ``variant(name, choice)`` is the function for
another choice. Only the differential-testing oracle uses the other choices, to accept
what another engine (wasmtime) may lawfully return.
"""
from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from fractions import Fraction
from math import copysign
from typing import Any, TypeVar

from .floats import f32_round, i32_trunc_sat_s, i32_trunc_sat_u
from .simd import i8x16_swizzle, v128_bitselect
from .simd_float import OPS as _FLOAT
from .simd_int import OPS as _INT

_F = TypeVar("_F", bound=Callable[..., Any])
_Op = Callable[..., int]

_from_bytes = int.from_bytes

# Each parameter of the spec's relaxed semantics and how many results it chooses among.
PARAMS = {"fmadd": 2, "fmin": 4, "fmax": 4, "idot": 2, "iq15mulr": 2, "trunc_u": 4,
          "trunc_s": 2, "swizzle": 2, "laneselect": 2}

PARAM = {
    "i8x16.relaxed_swizzle": "swizzle",
    "i32x4.relaxed_trunc_f32x4_s": "trunc_s", "i32x4.relaxed_trunc_f64x2_s_zero": "trunc_s",
    "i32x4.relaxed_trunc_f32x4_u": "trunc_u", "i32x4.relaxed_trunc_f64x2_u_zero": "trunc_u",
    "f32x4.relaxed_madd": "fmadd", "f32x4.relaxed_nmadd": "fmadd",
    "f64x2.relaxed_madd": "fmadd", "f64x2.relaxed_nmadd": "fmadd",
    "i8x16.relaxed_laneselect": "laneselect", "i16x8.relaxed_laneselect": "laneselect",
    "i32x4.relaxed_laneselect": "laneselect", "i64x2.relaxed_laneselect": "laneselect",
    "f32x4.relaxed_min": "fmin", "f64x2.relaxed_min": "fmin",
    "f32x4.relaxed_max": "fmax", "f64x2.relaxed_max": "fmax",
    "i16x8.relaxed_q15mulr_s": "iq15mulr",
    "i16x8.relaxed_dot_i8x16_i7x16_s": "idot", "i32x4.relaxed_dot_i8x16_i7x16_add_s": "idot",
}

_U4f = struct.Struct("<4f").unpack
_P4f = struct.Struct("<4f").pack
_U2d = struct.Struct("<2d").unpack
_P2d = struct.Struct("<2d").pack
_U4I = struct.Struct("<4I").unpack
_P4I = struct.Struct("<4I").pack
_U8h = struct.Struct("<8h").unpack
_P8h = struct.Struct("<8h").pack
_U16b = struct.Struct("<16b").unpack
_U16B = struct.Struct("<16B").unpack
_U4i = struct.Struct("<4i").unpack


def _named(name: str, fn: _F) -> _F:
    fn.__name__ = fn.__qualname__ = name.replace(".", "_")
    return fn


# --- multiply-add ------------------------------------------------------------------------
# Choice 0 rounds the product, then the sum (fmul then fadd, exactly the wasm
# instructions); choice 1 rounds once (fused).

_f32x4_mul, _f32x4_add = _FLOAT["f32x4.mul"], _FLOAT["f32x4.add"]
_f64x2_mul, _f64x2_add = _FLOAT["f64x2.mul"], _FLOAT["f64x2.add"]
_SIGN32 = 0x80000000800000008000000080000000
_SIGN64 = 0x80000000000000008000000000000000


def f32x4_relaxed_madd(a: int, b: int, c: int) -> int:
    return _f32x4_add(_f32x4_mul(a, b), c)


def f32x4_relaxed_nmadd(a: int, b: int, c: int) -> int:
    return _f32x4_add(_f32x4_mul(a ^ _SIGN32, b), c)


def f64x2_relaxed_madd(a: int, b: int, c: int) -> int:
    return _f64x2_add(_f64x2_mul(a, b), c)


def f64x2_relaxed_nmadd(a: int, b: int, c: int) -> int:
    return _f64x2_add(_f64x2_mul(a ^ _SIGN64, b), c)


def fused(x: float, y: float, z: float, f32: bool) -> float:
    """x * y + z rounded once (to f32 when ``f32``, else to f64)."""
    if not (x - x == 0.0 and y - y == 0.0):
        r = x * y + z  # an infinite or NaN factor: the product is inf or NaN already
    elif z - z != 0.0:
        r = z + 0.0  # the exact product is finite: an infinite z wins (a NaN z, quieted)
    else:
        exact = Fraction(x) * Fraction(y) + Fraction(z)
        if exact != 0:
            return _round_fraction(exact, f32)
        # An exact zero: signed zeros add as IEEE says (-0 only from -0 + -0); a nonzero
        # product cancelled by z gives +0.
        r = x * y + z if x == 0.0 or y == 0.0 else 0.0
    return f32_round(r) if f32 else r


def _round_fraction(q: Fraction, f32: bool) -> float:
    """The nearest float (ties to even) of the format to a nonzero rational."""
    if not f32:
        try:
            return float(q)  # Fraction.__float__ rounds correctly (ties to even)
        except OverflowError:
            return float("inf") if q > 0 else float("-inf")
    # f32: scale to a 24-bit significand and round the integer, then rebuild exactly.
    sign = -1.0 if q < 0 else 1.0
    q = abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()
    if Fraction(2) ** e > q:
        e -= 1
    e = max(e, -126)  # subnormals keep the minimum exponent
    scale = 23 - e
    m = q * (Fraction(2) ** scale)
    n, rem = divmod(m.numerator, m.denominator)
    twice = 2 * rem
    if twice > m.denominator or (twice == m.denominator and n & 1):
        n += 1
    r = float(Fraction(n) / (Fraction(2) ** scale))
    return sign * f32_round(r)


def _fused_variant(name: str, f32: bool, negate: bool) -> _Op:
    unpack, pack = (_U4f, _P4f) if f32 else (_U2d, _P2d)

    def fn(a: int, b: int, c: int) -> int:
        xs = unpack(a.to_bytes(16, "little"))
        ys = unpack(b.to_bytes(16, "little"))
        zs = unpack(c.to_bytes(16, "little"))
        out = [fused(-x if negate else x, y, z, f32) for x, y, z in zip(xs, ys, zs)]
        if f32:
            out = [f32_round(v) for v in out]
        return _from_bytes(pack(*out), "little")
    return _named(name, fn)


# --- min and max -------------------------------------------------------------------------
# Choice 0 is wasm's min/max. The others return an operand as hardware does: for a NaN
# in z1 [z1, z2, z2], in z2 [z1, z2, z1]; for zeros of opposite signs [z1, z2, -0 (min)
# or +0 (max)], by choice 1, 2, 3.

def _minmax_lane(x: float, y: float, choice: int, is_min: bool) -> int | str | None:
    """Choice ``choice`` of relaxed min/max on one lane (floats; f32 lanes as doubles
    holding them, bits kept by the caller for returned operands)."""
    if x != x:
        return (None, 0, 1, 1)[choice]
    if y != y:
        return (None, 0, 1, 0)[choice]
    if x == 0.0 and y == 0.0 and copysign(1.0, x) != copysign(1.0, y):
        return (None, 0, 1, "-0" if is_min else "+0")[choice]
    return None


def _minmax_variant(name: str, f32: bool, is_min: bool, choice: int) -> _Op:
    det = _FLOAT[name.replace("relaxed_", "")]
    w = 32 if f32 else 64
    n = 128 // w
    unpack = _U4f if f32 else _U2d
    mask = (1 << w) - 1
    zero = {"-0": 1 << (w - 1), "+0": 0}

    def fn(a: int, b: int) -> int:
        r = det(a, b)
        xs, ys = unpack(a.to_bytes(16, "little")), unpack(b.to_bytes(16, "little"))
        for i in range(n):
            pick = _minmax_lane(xs[i], ys[i], choice, is_min)
            if pick is None:
                continue
            bits = zero[pick] if isinstance(pick, str) else ((a, b)[pick] >> (w * i)) & mask
            r = (r & ~(mask << (w * i))) | (bits << (w * i))
        return r
    return _named(name, fn)


# --- conversions -------------------------------------------------------------------------
# Choice 0 saturates (trunc_sat); a NaN or out-of-range lane otherwise gives INT32_MIN
# (signed, choice 1) or 2^32-1, 2^32-2, 2^31 (unsigned, choices 1 to 3).

_TRUNC_ODD_S = (None, 0x80000000)
_TRUNC_ODD_U = (None, 0xFFFFFFFF, 0xFFFFFFFE, 0x80000000)


def _trunc_variant(name: str, f64: bool, signed: bool, choice: int) -> _Op:
    unpack = _U2d if f64 else _U4f
    sat = i32_trunc_sat_s if signed else i32_trunc_sat_u
    lo, hi = (-2147483649.0, 2147483648.0) if signed else (-1.0, 4294967296.0)
    odd = (_TRUNC_ODD_S if signed else _TRUNC_ODD_U)[choice]

    def fn(a: int) -> int:
        out = [sat(x) if (choice == 0 or lo < x < hi) else odd
               for x in unpack(a.to_bytes(16, "little"))]
        if f64:
            out += [0, 0]
        return _from_bytes(_P4I(*out), "little")
    return _named(name, fn)


def i32x4_relaxed_trunc_f32x4_s(a: int) -> int:
    return _from_bytes(_P4I(*map(i32_trunc_sat_s, _U4f(a.to_bytes(16, "little")))), "little")


def i32x4_relaxed_trunc_f32x4_u(a: int) -> int:
    return _from_bytes(_P4I(*map(i32_trunc_sat_u, _U4f(a.to_bytes(16, "little")))), "little")


def i32x4_relaxed_trunc_f64x2_s_zero(a: int) -> int:
    x0, x1 = _U2d(a.to_bytes(16, "little"))
    return i32_trunc_sat_s(x0) | (i32_trunc_sat_s(x1) << 32)


def i32x4_relaxed_trunc_f64x2_u_zero(a: int) -> int:
    x0, x1 = _U2d(a.to_bytes(16, "little"))
    return i32_trunc_sat_u(x0) | (i32_trunc_sat_u(x1) << 32)


# --- swizzle, laneselect, q15mulr --------------------------------------------------------

def i8x16_relaxed_swizzle(a: int, s: int) -> int:
    """Choice 0: swizzle (an index of 16 or more gives 0)."""
    return i8x16_swizzle(a, s)


def _swizzle_wrap(a: int, s: int) -> int:
    """Choice 1: an index in 16..127 reads lane index mod 16; 128 and up give 0."""
    ab = a.to_bytes(16, "little")
    return _from_bytes(bytes(ab[j & 15] if j < 128 else 0
                             for j in s.to_bytes(16, "little")), "little")


def _laneselect_variant(name: str, w: int) -> _Op:
    """Choice 1: each mask lane's top bit, spread over the lane, selects."""
    n = 128 // w
    lane = (1 << w) - 1

    def fn(a: int, b: int, m: int) -> int:
        top = 0
        for i in range(n):
            if (m >> (w * i + w - 1)) & 1:
                top |= lane << (w * i)
        return v128_bitselect(a, b, top)
    return _named(name, fn)


def i16x8_relaxed_q15mulr_s(a: int, b: int) -> int:
    """Choice 0: q15mulr_sat_s (-1 * -1 saturates to 0x7fff)."""
    return _INT["i16x8.q15mulr_sat_s"](a, b)


def _q15mulr_wrap(a: int, b: int) -> int:
    """Choice 1: -1 * -1 gives 0x8000 (the product wraps)."""
    return _from_bytes(_P8h(*[
        r if r < 32768 else -32768 for r in [(x * y + 0x4000) >> 15 for x, y in zip(
            _U8h(a.to_bytes(16, "little")), _U8h(b.to_bytes(16, "little")))]]), "little")


# --- dot products ------------------------------------------------------------------------
# Products of a's signed bytes with b's bytes read signed (choice 0) or unsigned (choice 1),
# adjacent pairs added with signed 16-bit saturation; the add_s form then adds pairs of
# those into i32 lanes and adds c (wrapping).

def _dot16(a: int, b: int, unsigned_b: bool) -> list[int]:
    xs = _U16b(a.to_bytes(16, "little"))
    ys = (_U16B if unsigned_b else _U16b)(b.to_bytes(16, "little"))
    p = [x * y for x, y in zip(xs, ys)]
    return [max(-32768, min(32767, p[2 * i] + p[2 * i + 1])) for i in range(8)]


def i16x8_relaxed_dot_i8x16_i7x16_s(a: int, b: int) -> int:
    return _from_bytes(_P8h(*_dot16(a, b, False)), "little")


def i32x4_relaxed_dot_i8x16_i7x16_add_s(a: int, b: int, c: int) -> int:
    s = _dot16(a, b, False)
    cs = _U4i(c.to_bytes(16, "little"))
    return _from_bytes(_P4I(*[(s[2 * i] + s[2 * i + 1] + cs[i]) & 0xFFFFFFFF
                              for i in range(4)]), "little")


def _dot16_unsigned(a: int, b: int) -> int:
    return _from_bytes(_P8h(*_dot16(a, b, True)), "little")


def _dot_add_unsigned(a: int, b: int, c: int) -> int:
    s = _dot16(a, b, True)
    cs = _U4i(c.to_bytes(16, "little"))
    return _from_bytes(_P4I(*[(s[2 * i] + s[2 * i + 1] + cs[i]) & 0xFFFFFFFF
                              for i in range(4)]), "little")


OPS: dict[str, _Op] = {
    "i8x16.relaxed_swizzle": i8x16_relaxed_swizzle,
    "i32x4.relaxed_trunc_f32x4_s": i32x4_relaxed_trunc_f32x4_s,
    "i32x4.relaxed_trunc_f32x4_u": i32x4_relaxed_trunc_f32x4_u,
    "i32x4.relaxed_trunc_f64x2_s_zero": i32x4_relaxed_trunc_f64x2_s_zero,
    "i32x4.relaxed_trunc_f64x2_u_zero": i32x4_relaxed_trunc_f64x2_u_zero,
    "f32x4.relaxed_madd": f32x4_relaxed_madd, "f32x4.relaxed_nmadd": f32x4_relaxed_nmadd,
    "f64x2.relaxed_madd": f64x2_relaxed_madd, "f64x2.relaxed_nmadd": f64x2_relaxed_nmadd,
    "i8x16.relaxed_laneselect": v128_bitselect, "i16x8.relaxed_laneselect": v128_bitselect,
    "i32x4.relaxed_laneselect": v128_bitselect, "i64x2.relaxed_laneselect": v128_bitselect,
    "f32x4.relaxed_min": _FLOAT["f32x4.min"], "f32x4.relaxed_max": _FLOAT["f32x4.max"],
    "f64x2.relaxed_min": _FLOAT["f64x2.min"], "f64x2.relaxed_max": _FLOAT["f64x2.max"],
    "i16x8.relaxed_q15mulr_s": i16x8_relaxed_q15mulr_s,
    "i16x8.relaxed_dot_i8x16_i7x16_s": i16x8_relaxed_dot_i8x16_i7x16_s,
    "i32x4.relaxed_dot_i8x16_i7x16_add_s": i32x4_relaxed_dot_i8x16_i7x16_add_s,
}
assert OPS.keys() == PARAM.keys()


def variant(name: str, choice: int) -> _Op:
    """The function computing relaxed instruction ``name`` with its parameter set to
    ``choice`` (0 is OPS[name], the deterministic profile)."""
    param = PARAM[name]
    if not 0 <= choice < PARAMS[param]:
        raise ValueError(f"{name}: choice {choice} of {PARAMS[param]}")
    if choice == 0:
        return OPS[name]
    shape, _, op = name.partition(".")
    if param == "fmadd":
        return _fused_variant(name, shape == "f32x4", op == "relaxed_nmadd")
    if param in ("fmin", "fmax"):
        return _minmax_variant(name, shape == "f32x4", param == "fmin", choice)
    if param in ("trunc_s", "trunc_u"):
        return _trunc_variant(name, "f64x2" in op, param == "trunc_s", choice)
    if param == "swizzle":
        return _swizzle_wrap
    if param == "laneselect":
        return _laneselect_variant(name, int(shape[1:].split("x")[0]))
    if param == "iq15mulr":
        return _q15mulr_wrap
    return _dot16_unsigned if shape == "i16x8" else _dot_add_unsigned


def table(profile: Mapping[str, int]) -> dict[str, _Op]:
    """The relaxed instructions' functions under ``profile``: a choice per parameter
    name (``"fmadd": 1``) or per instruction (``"f32x4.relaxed_madd": 1``, which wins);
    anything not named is 0."""
    for key in profile:
        if key not in PARAMS and key not in PARAM:
            raise ValueError(f"unknown relaxed SIMD parameter or instruction {key!r}")
    return {name: variant(name, profile.get(name, profile.get(param, 0)))
            for name, param in PARAM.items()}


__all__ = ["OPS", "PARAMS", "PARAM", "variant", "table", "fused"]
