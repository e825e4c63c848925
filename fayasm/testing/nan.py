"""The spec's NaN rules, for comparing engines whose NaN bits may legitimately differ.

WebAssembly leaves one thing nondeterministic in 2.0: the bits of a NaN produced by float
arithmetic. An instruction in ``NAN_OPS`` whose result is NaN may return any *arithmetic*
NaN (quiet bit set, any payload, any sign); if every NaN operand was *canonical* (quiet
bit and nothing else in the payload), the result must be canonical too (either sign).
Everything else (neg, abs, copysign, loads, stores, reinterprets, consts) is exact.

Generated modules pass every result of a ``NAN_OPS`` instruction through a canonicalizing
helper (see ``generate``), so their observable behaviour is deterministic and engines are
compared bit for bit. For modules from elsewhere, ``nan_compatible`` is the lenient rule
used on results and globals: two NaNs agree when both are quiet.
"""
from __future__ import annotations

from fayasm import isa

#: Instructions whose NaN results the spec leaves nondeterministic (the rows' ``nan`` flag).
NAN_OPS = frozenset(op.name for op in isa.ALL if op.nan)

_FRAC = {32: 23, 64: 52}


def is_nan(bits: int, width: int) -> bool:
    frac = _FRAC[width]
    exp_all = (1 << (width - frac - 1)) - 1
    return (bits >> frac) & exp_all == exp_all and bits & ((1 << frac) - 1) != 0


def is_arithmetic_nan(bits: int, width: int) -> bool:
    """A NaN with the quiet bit set (any payload, any sign)."""
    return is_nan(bits, width) and bool(bits & (1 << (_FRAC[width] - 1)))


def is_canonical_nan(bits: int, width: int) -> bool:
    """A NaN whose payload is only the quiet bit (either sign)."""
    frac = _FRAC[width]
    return is_nan(bits, width) and bits & ((1 << frac) - 1) == 1 << (frac - 1)


def quieted(bits: int, width: int) -> int:
    """``bits`` with the quiet bit set if it is a NaN (what a hardware float conversion does)."""
    return bits | (1 << (_FRAC[width] - 1)) if is_nan(bits, width) else bits


def result_allowed(op_name: str, operands: list[int], result: int, width: int) -> bool:
    """Whether ``result`` (one lane's bits) is a NaN the spec allows ``op_name`` to return
    for these operand lanes; False for non-NaN results (those must match exactly)."""
    if op_name not in NAN_OPS or not is_nan(result, width):
        return False
    nans = [x for x in operands if is_nan(x, width)]
    if nans and all(is_canonical_nan(x, width) for x in nans) or not nans:
        return is_canonical_nan(result, width)
    return is_arithmetic_nan(result, width)


def nan_compatible(type_name: str, a: int, b: int) -> bool:
    """The lenient rule for values whose producing instruction is unknown: equal bits, or
    two arithmetic NaNs (f32/f64, or lane by lane for v128 as f32x4 or as f64x2)."""
    if a == b:
        return True
    if type_name in ("f32", "f64"):
        w = 32 if type_name == "f32" else 64
        return is_arithmetic_nan(a, w) and is_arithmetic_nan(b, w)
    if type_name == "v128":
        return any(all(_lane_ok(a, b, lane, w) for lane in range(128 // w)) for w in (32, 64))
    return False


def _lane_ok(a: int, b: int, lane: int, w: int) -> bool:
    mask = (1 << w) - 1
    x, y = (a >> (lane * w)) & mask, (b >> (lane * w)) & mask
    return x == y or (is_arithmetic_nan(x, w) and is_arithmetic_nan(y, w))


__all__ = ["NAN_OPS", "is_nan", "is_arithmetic_nan", "is_canonical_nan", "quieted",
           "result_allowed", "nan_compatible"]
