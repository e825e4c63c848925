"""Exact numeric literals of the text format: integers, floats (as bits) and v128 lanes.

Floats round correctly straight to the target format (round to nearest, ties to even), with
exact integer arithmetic where a detour through a double could round twice. Every function
raises ``NumberError`` with the spec's wording; the parser turns it into a ParseError.
"""
from __future__ import annotations

import math
import re
import struct

# The lexical grammar of numbers (underscores only between digits). Possessive
# quantifiers: a group repeated per digit would make the regex engine keep state per
# character (hundreds of bytes each); no match here needs to backtrack into a run.
_NUM = r"[0-9]++(?:_[0-9]++)*+"
_HEXNUM = r"[0-9a-fA-F]++(?:_[0-9a-fA-F]++)*+"
NUMBER_RE = re.compile(
    rf"[+-]?(?:0x{_HEXNUM}(?:\.(?:{_HEXNUM})?)?(?:[pP][+-]?{_NUM})?"
    rf"|{_NUM}(?:\.(?:{_NUM})?)?(?:[eE][+-]?{_NUM})?"
    rf"|inf|nan(?::0x{_HEXNUM})?)")
NAT_RE = re.compile(rf"0x{_HEXNUM}|{_NUM}")


class NumberError(ValueError):
    """A literal that does not denote a value of the wanted type (the message is the spec's)."""


OUT_OF_RANGE = "constant out of range"

# Literals repeat a lot (test suites use the same constants again and again): their values
# by (text, width), negative widths for integers.
_CACHE: dict = {}
_CACHE_LIMIT = 100_000

# Per float width: (mantissa bits, exponent bits).
_FORMATS = {32: (23, 8), 64: (52, 11)}


def is_nat(text: str) -> bool:
    """An unsigned integer literal (no sign, no fraction)."""
    return NAT_RE.fullmatch(text) is not None


def _magnitude(body: str) -> int:
    """The value of an unsigned integer literal (decimal or ``0x`` hex, underscores allowed)."""
    if body.startswith("0x"):
        digits = body[2:].replace("_", "").lstrip("0")
        if len(digits) > 40:  # far beyond 128 bits; avoids huge conversions
            raise NumberError(OUT_OF_RANGE)
        return int(digits or "0", 16)
    digits = body.replace("_", "").lstrip("0")
    if len(digits) > 45:
        raise NumberError(OUT_OF_RANGE)
    return int(digits or "0")


def parse_uint(text: str, bits: int, message: str = OUT_OF_RANGE) -> int:
    """An unsigned literal (``uN``: no sign allowed) below 2**bits."""
    if text[:1] in "+-" or not is_nat(text):
        raise NumberError(message)
    n = _magnitude(text)
    if n >> bits:
        raise NumberError(message)
    return n


def parse_int(text: str, bits: int) -> int:
    """An ``iN`` literal as a signed int: unsigned up to 2**N-1, or signed with a sign.

    The spec's rule: ``uN`` (no sign) is 0..2**N-1, ``sN`` (with a sign) is
    -2**(N-1)..2**(N-1)-1; both are stored by their two's-complement bits."""
    key = (text, -bits)  # negative: integer entries of the literal cache
    value = _CACHE.get(key)
    if value is None:
        value = _int_value(text, bits)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = value
    return value


def _int_value(text: str, bits: int) -> int:
    sign = text[:1]
    signed = sign == "+" or sign == "-"
    if NAT_RE.fullmatch(text, 1 if signed else 0) is None:
        raise NumberError(OUT_OF_RANGE)
    try:
        n = int(text, 0)  # the grammar is checked: only leading zeros or length can fail
    except ValueError:
        n = _magnitude(text[1:] if signed else text)
        if sign == "-":
            n = -n
    half = 1 << (bits - 1)
    if signed:
        if not -half <= n < half:
            raise NumberError(OUT_OF_RANGE)
        return n
    if n >> bits:
        raise NumberError(OUT_OF_RANGE)
    return n - (1 << bits) if n >= half else n


def _round(num: int, den: int, mbits: int, ebits: int) -> int:
    """Bits (without sign) of the positive rational num/den rounded to nearest, ties to even."""
    bias = (1 << (ebits - 1)) - 1
    emin = 1 - bias
    # e = floor(log2(num/den))
    e = num.bit_length() - den.bit_length()
    if (num << -e if e < 0 else num) < (den << e if e > 0 else den):
        e -= 1
    q = max(e, emin) - mbits  # the exponent of one unit in the last place
    if q >= 0:
        m, r = divmod(num, den << q)
        d = den << q
    else:
        m, r = divmod(num << -q, den)
        d = den
    if 2 * r > d or (2 * r == d and m & 1):
        m += 1
    if m >> (mbits + 1):  # rounding carried into a new binade
        m >>= 1
        q += 1
    field = q + mbits + bias if m >> mbits else 0
    if field >= (1 << ebits) - 1:
        raise NumberError(OUT_OF_RANGE)
    return (field << mbits) | (m & ((1 << mbits) - 1))


def _round_scaled(mant: int, exp2: int, exp10: int, mbits: int, ebits: int) -> int:
    """Bits of mant * 2**exp2 * 10**exp10 (mant > 0), rounding once, exactly."""
    # Bound the exponents first so that absurd literals cannot make huge integers: far
    # above the range overflows, far below it rounds to zero.
    log2 = mant.bit_length() + exp2 + exp10 * 3.3219280948873626
    bias = (1 << (ebits - 1)) - 1
    if log2 > bias + 2:
        raise NumberError(OUT_OF_RANGE)
    if log2 < -bias - mbits - 4:
        return 0
    num, den = mant, 1
    if exp10 >= 0:
        num *= 10 ** exp10
    else:
        den = 10 ** -exp10
    if exp2 >= 0:
        num <<= exp2
    else:
        den <<= -exp2
    return _round(num, den, mbits, ebits)


_S_f = struct.Struct("<f")
_S_I = struct.Struct("<I")
_S_d = struct.Struct("<d")
_S_Q = struct.Struct("<Q")


def _f32_midpoint(d: float) -> bool:
    """Whether the double ``d`` lies exactly halfway between two neighbouring f32 values."""
    a = abs(d)
    if a == 0.0 or a == math.inf:
        return False
    _, e = math.frexp(a)  # a = m * 2**e with 0.5 <= m < 1
    q = max(e - 24, -149)  # f32 unit in the last place at this magnitude
    t = math.ldexp(a, 1 - q)
    return t == int(t) and int(t) & 1 == 1


def _decimal_parts(body: str) -> tuple[int, int]:
    """(mantissa, exponent of ten) of an unsigned decimal float literal."""
    body = body.replace("_", "")
    mant_text, _, exp_text = body.replace("E", "e").partition("e")
    int_part, _, frac_part = mant_text.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    exp = int(exp_text) if exp_text else 0
    exp -= len(frac_part)
    if len(digits) > 200:
        # Keep 200 significant digits and a sticky digit: an f32 midpoint has fewer than
        # 120 significant digits, so the side of every midpoint is preserved.
        sticky = any(c != "0" for c in digits[200:])
        exp += len(digits) - 200
        digits = digits[:200] + ("1" if sticky else "0")
        exp -= 1
    return int(digits or "0"), exp


def _hex_parts(body: str) -> tuple[int, int]:
    """(mantissa, exponent of two) of an unsigned hex float literal (after ``0x``)."""
    body = body.replace("_", "")
    mant_text, _, exp_text = body.replace("P", "p").partition("p")
    int_part, _, frac_part = mant_text.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    if len(exp_text) > 12:  # an exponent this long is out of range either way
        exp = int(exp_text[:1] + "9" * 12) if exp_text[:1] == "-" else 10 ** 12
    else:
        exp = int(exp_text) if exp_text else 0
    exp -= 4 * len(frac_part)
    if len(digits) > 300:  # beyond 1200 bits; keep a sticky bit
        sticky = any(c != "0" for c in digits[300:])
        exp += 4 * (len(digits) - 300)
        digits = digits[:300] + ("1" if sticky else "0")
        exp -= 4
    return int(digits or "0", 16), exp


def parse_float(text: str, bits: int) -> int:
    """The bits of an fN literal (N = 32 or 64): decimal, hex, ``inf``, ``nan``, ``nan:0x..``."""
    key = (text, bits)
    value = _CACHE.get(key)
    if value is None:
        if NUMBER_RE.fullmatch(text) is None:
            raise NumberError(OUT_OF_RANGE)
        value = _float_bits(text, bits)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = value
    return value


def _float_bits(text: str, bits: int) -> int:
    mbits, ebits = _FORMATS[bits]
    sign_bit = 0
    body = text
    if body[0] in "+-":
        if body[0] == "-":
            sign_bit = 1 << (bits - 1)
        body = body[1:]
    inf = ((1 << ebits) - 1) << mbits
    if body == "inf":
        return sign_bit | inf
    if body.startswith("nan"):
        if body == "nan":
            return sign_bit | inf | (1 << (mbits - 1))  # the canonical NaN
        payload = _magnitude(body[4:])
        if not 1 <= payload < (1 << mbits):
            raise NumberError(OUT_OF_RANGE)
        return sign_bit | inf | payload
    hexa = body.startswith("0x")
    plain = body.replace("_", "")
    # Python rounds decimal and hex literals to double correctly (ties to even).
    try:
        d = float.fromhex(plain) if hexa else float(plain)
    except OverflowError:  # float.fromhex: beyond the double range
        raise NumberError(OUT_OF_RANGE) from None
    if d == math.inf:
        raise NumberError(OUT_OF_RANGE)
    if bits == 64:
        return sign_bit | _S_Q.unpack(_S_d.pack(d))[0]
    if not _f32_midpoint(d):
        # Rounding to double and then to single is exact unless the double is an f32
        # midpoint: then the literal may lie on either side of it, so decide exactly.
        try:
            return sign_bit | _S_I.unpack(_S_f.pack(d))[0]
        except OverflowError:
            raise NumberError(OUT_OF_RANGE) from None
    if hexa:
        mant, exp2 = _hex_parts(body[2:])
        return sign_bit | _round_scaled(mant, exp2, 0, mbits, ebits)
    mant, exp10 = _decimal_parts(body)
    return sign_bit | _round_scaled(mant, 0, exp10, mbits, ebits)


# v128 shapes: (lane count, lane bits, kind).
SHAPES = {
    "i8x16": (16, 8, "i"),
    "i16x8": (8, 16, "i"),
    "i32x4": (4, 32, "i"),
    "i64x2": (2, 64, "i"),
    "f32x4": (4, 32, "f"),
    "f64x2": (2, 64, "f"),
}


def parse_lane(text: str, bits: int, kind: str) -> int:
    """The unsigned bits of one v128 lane literal."""
    if kind == "f":
        return parse_float(text, bits)
    return parse_int(text, bits) & ((1 << bits) - 1)


def v128_from_lanes(lanes: list[int], lane_bits: int) -> int:
    """Pack lane bit patterns (lane 0 first) into a 128-bit int, lane 0 in the low bits."""
    out = 0
    for i, lane in enumerate(lanes):
        out |= lane << (i * lane_bits)
    return out
