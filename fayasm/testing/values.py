"""Values for testing: the boundary constants generators favour, typed argument text,
seeded random arguments, and the call plan a generated module carries.

A *plan* is the list of calls a diff makes: ``[(export name, [Val, ...]), ...]``. Generated
modules store theirs in a custom section named ``fayasm-plan`` (JSON), so a saved .wasm
file alone reproduces a run: ``fayasm diff FILE`` reads the plan back.
"""
from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

from fayasm.runtime.types import ExternKind, ValType
from fayasm.runtime.values import Val

if TYPE_CHECKING:
    from .choose import Chooser

PLAN_SECTION = "fayasm-plan"

I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128
FUNCREF, EXTERNREF = ValType.FUNCREF, ValType.EXTERNREF

_I32_EDGES = [0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 0x7F, 0x80, 0xFF, 0x100,
              0x7FFF, 0x8000, 0xFFFF, 0x10000, 0xFFFF_FFF0, 0x7FFF_FFFF, -0x8000_0000,
              -0x7FFF_FFFF, -2, -8, -0x80, -0x8000, 0x5555_5555, -0x5555_5556, 1000, -1000,
              0x1234_5678, 0x0102_0304,
              # float bit patterns, for reinterpretation: NaNs (quiet, signalling,
              # negative), infinity, one
              0x7FC0_0000, 0x7FA0_0000, 0x7F80_0001, -0x7F_FFFF, 0x7F80_0000, 0x3F80_0000]
_I64_EDGES = [0, 1, -1, 2, 7, 8, 31, 32, 63, 64, 65, 0xFF, 0xFFFF, 0xFFFF_FFFF, 0x1_0000_0000,
              0x7FFF_FFFF, -0x8000_0000, -0x8000_0001, 0x8000_0000, 0x7FFF_FFFF_FFFF_FFFF,
              -0x8000_0000_0000_0000, -0x7FFF_FFFF_FFFF_FFFF, -2, 0x0123_4567_89AB_CDEF,
              0x5555_5555_5555_5555, 1 << 53, (1 << 53) + 1, -(1 << 63) + 1, 1000,
              0x7FF8_0000_0000_0000, 0x7FF4_0000_0000_0000, 0x7FF0_0000_0000_0001,
              -0xF_FFFF_FFFF_FFFF, 0x7FF0_0000_0000_0000, 0x3FF0_0000_0000_0000]
_F32_EDGES = [
    0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x3F000000, 0x3FC00000, 0x40200000,
    0xC0200000, 0x40600000, 0xBF000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
    0x7FC00001, 0x7FA00000, 0x7F800001, 0xFFA00005, 0x00000001, 0x80000001, 0x007FFFFF,
    0x00800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x4F000000, 0x4EFFFFFF, 0xCF000000, 0xCF000001,
    0x4F800000, 0x4F7FFFFF, 0x5F000000, 0x5EFFFFFF, 0xDF000000, 0xDF000001, 0x5F800000,
    0x3EFFFFFF, 0x40490FDB, 0x4B000000, 0x4B000001, 0xCB7FFFFF, 0x3F7FFFFF, 0x34000000]
_F64_EDGES = [
    0x0000000000000000, 0x8000000000000000, 0x3FF0000000000000, 0xBFF0000000000000,
    0x3FE0000000000000, 0x3FF8000000000000, 0x4004000000000000, 0xC004000000000000,
    0x400C000000000000, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000,
    0xFFF8000000000000, 0x7FF8000000000001, 0x7FF4000000000000, 0x7FF0000000000001,
    0xFFF4000000000005, 0x0000000000000001, 0x8000000000000001, 0x000FFFFFFFFFFFFF,
    0x0010000000000000, 0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF, 0x41E0000000000000,
    0x41DFFFFFFFC00000, 0xC1E0000000000000, 0xC1E0000000200000, 0xC1E00000001FFFFF,
    0x41F0000000000000, 0x41EFFFFFFFE00000, 0x43E0000000000000, 0x43DFFFFFFFFFFFFF,
    0xC3E0000000000000, 0xC3E0000000000001, 0x43F0000000000000, 0x3FDFFFFFFFFFFFFF,
    0x400921FB54442D18, 0x4330000000000000, 0x4330000000000001, 0x47EFFFFFE0000000,
    0x36A0000000000000, 0x3FEFFFFFFFFFFFFF, 0x3CB0000000000000, 0x47EFFFFFF0000000]

#: Boundary values as bits (i32/i64 as unsigned), by type.
EDGES: dict[ValType, list[int]] = {
    I32: [v & 0xFFFF_FFFF for v in _I32_EDGES],
    I64: [v & 0xFFFF_FFFF_FFFF_FFFF for v in _I64_EDGES],
    F32: _F32_EDGES,
    F64: _F64_EDGES,
}
WIDTH = {I32: 32, I64: 64, F32: 32, F64: 64, V128: 128}


def v128_from_lanes(lanes: list[int], width: int) -> int:
    out = 0
    for k, lane in enumerate(lanes):
        out |= (lane & ((1 << width) - 1)) << (k * width)
    return out


def random_bits(rng: random.Random, t: ValType) -> int:
    """A value of numeric type ``t`` as bits: a boundary value, lanes of them, or noise."""
    if t is V128:
        shape = rng.randrange(4)
        if shape == 0:
            return rng.getrandbits(128)
        width, source = [(32, I32), (64, I64), (32, F32), (64, F64)][rng.randrange(4)]
        return v128_from_lanes([rng.choice(EDGES[source]) for _ in range(128 // width)], width)
    if rng.random() < 0.7:
        return rng.choice(EDGES[t])
    return rng.getrandbits(WIDTH[t])


def random_val(rng: random.Random, t: ValType) -> Val:
    if t is EXTERNREF:
        return Val.externref(None if rng.random() < 0.3 else rng.randrange(16))
    if t is FUNCREF:
        return Val.funcref(None)
    return Val.from_bits(t, random_bits(rng, t))


def random_args(rng: random.Random, params) -> list[Val]:
    return [random_val(rng, t) for t in params]


#: v128 shapes: (lane width, "i" or "f") by the prefix of an instruction's name.
LANE_SHAPES = {"i8x16": (8, "i"), "i16x8": (16, "i"), "i32x4": (32, "i"),
               "i64x2": (64, "i"), "f32x4": (32, "f"), "f64x2": (64, "f")}
LANE_TYPE = {(32, "i"): I32, (64, "i"): I64, (32, "f"): F32, (64, "f"): F64}

#: The values where most operations have their edge cases, for sweeps and often for
#: arguments: zeros of both signs, ones, extremes, halves, NaNs quiet and signalling.
CORE = {
    I32: [0, 1, 0xFFFF_FFFF, 2, 0x7FFF_FFFF, 0x8000_0000, 0x8000_0001, 31, 32, 0xFFFF,
          0x8000, 0x80, 0xFFFF_FFFE],
    I64: [0, 1, 2**64 - 1, 2, 2**63 - 1, 2**63, 2**63 + 1, 63, 64, 0xFFFF_FFFF,
          0x8000_0000, 0x1_0000_0000, 2**64 - 2],
    F32: [0x0000_0000, 0x8000_0000, 0x3F80_0000, 0xBF80_0000, 0x3F00_0000, 0xBF00_0000,
          0x3FC0_0000, 0x4020_0000, 0xC020_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000,
          0xFFC0_0000, 0x7FA0_0001, 0xFF80_0001, 0x0000_0001, 0x8000_0001, 0x7F7F_FFFF,
          0x0080_0000, 0x4F00_0000],
    F64: [0, 1 << 63, 0x3FF0 << 48, 0xBFF0 << 48, 0x3FE0 << 48, 0xBFE0 << 48,
          0x3FF8 << 48, 0x4004 << 48, 0xC004 << 48, 0x7FF0 << 48, 0xFFF0 << 48,
          0x7FF8 << 48, 0xFFF8 << 48, (0x7FF4 << 48) | 1, (0xFFF0 << 48) | 1, 1,
          (1 << 63) | 1, 0x7FEF_FFFF_FFFF_FFFF, 0x0010 << 48, 0x41E0 << 48],
    8: [0, 1, 0x7F, 0x80, 0x81, 0xFF, 0xFE, 2, 0x40],
    16: [0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0xFFFE, 0xFF, 0x100],
}



def _float_bits(t: ValType, x: float) -> int:
    import struct

    if t is F32:
        try:
            return struct.unpack("<I", struct.pack("<f", x))[0]
        except OverflowError:
            return 0x7F80_0000 if x > 0 else 0xFF80_0000
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def conversion_edges(name: str) -> list[int]:
    """Operands (as bits) at the edges of a scalar conversion: for a float-to-integer
    truncation, the floats at and one ulp either side of the integer range's ends (and of
    -1 and 0); for an integer-to-float conversion, integers just past the float's
    precision, at rounding ties and near the type's ends; for demotion, f64s at f32
    rounding ties. Empty for any other instruction."""
    parts = name.split(".")
    if len(parts) != 2 or parts[0] not in ("i32", "i64", "f32", "f64"):
        return []
    out: list[int] = []
    if parts[1].startswith(("trunc_f", "trunc_sat_f")):  # i32.trunc_f64_u ...
        n = 32 if parts[0] == "i32" else 64
        src = F32 if "f32" in parts[1] else F64
        signed = parts[1].endswith("_s")
        lo, hi = (-(1 << (n - 1)), (1 << (n - 1)) - 1) if signed else (0, (1 << n) - 1)
        for x in (lo - 1, lo, hi, hi + 1, -1, 0, 1):
            b = _float_bits(src, float(x))
            out += [b, b + 1, b - 1] if b & ((1 << (WIDTH[src] - 1)) - 1) else [b, b + 1]
        return [b & ((1 << WIDTH[src]) - 1) for b in dict.fromkeys(out)]
    if parts[1].startswith("convert_i"):  # f32.convert_i64_u ...
        n = 64 if "i64" in parts[1] else 32
        p = 24 if parts[0] == "f32" else 53
        for k in sorted({p, p + 1, n - 2, n - 1}):
            if k >= n or k < p:
                continue
            half = 1 << (k - p) >> 1  # half an ulp at 2**k: a tie
            for j in (1, half - 1, half, half + 1, 3 * half, (1 << (k - p)) - 1):
                if 0 < j < 1 << k:
                    v = (1 << k) + j
                    out += [v, -v]
        out += [(1 << n) - 1, (1 << (n - 1)) - 1, 1 << (n - 1), (1 << (n - 1)) + 1]
        return [v & ((1 << n) - 1) for v in dict.fromkeys(out)]
    if parts[1] == "demote_f64":
        for f in (0x3F80_0000, 0x3FC0_0001, 0x7F7F_FFFF, 0x0080_0000, 0x0000_0001):
            exp = (f >> 23) & 0xFF
            if exp == 0:  # a subnormal f32 as f64
                continue
            bits = ((exp - 127 + 1023) << 52) | ((f & 0x7F_FFFF) << 29)
            for tie in (1 << 28, (1 << 28) + 1, (1 << 28) - 1, 3 << 28):
                out += [bits | tie, (bits | tie) | (1 << 63)]
        return list(dict.fromkeys(out))
    return []


# -- probe arguments ----------------------------------------------------------------------

class Args:
    """Argument values for probes, as bits, drawn through the Chooser (so they shrink)."""

    def __init__(self, c: Chooser):
        self.c = c

    def scalar(self, t: ValType, near: int | None = None) -> int:
        c = self.c
        width = WIDTH[t]
        mask = (1 << width) - 1
        how = c.weighted([(5, "core"), (3, "edge"), (5 if near is not None else 0, "near"),
                          (2, "small"), (2, "random"), (2, "sized"),
                          (2 if t in (F32, F64) else 0, "nice"),
                          (2 if t in (F32, F64) else 0, "nan")])
        if how == "core":
            return c.pick(CORE[t])
        if how == "edge":
            return c.pick(EDGES[t])
        if how == "near" and near is not None:  # only drawn with a value to be near
            return self.related(t, near)
        if how == "small":
            return c.int(-20, 80) & mask if t in (I32, I64) else self.nice(t, c.int(-8, 8))
        if how == "sized":  # a random magnitude of a random width, either sign
            if t in (I32, I64):
                v = c.int(0, (1 << c.int(1, width - 1)) - 1)
                return (-v if c.chance(40) else v) & mask
            frac = 23 if width == 32 else 52
            bias = (1 << (width - frac - 2)) - 1
            exp = bias + c.int(-40, 40)
            sign = (1 << (width - 1)) if c.chance(40) else 0
            return sign | exp << frac | c.int(0, (1 << frac) - 1)
        if how == "nice":
            return self.nice(t, c.int(-40, 40), c.pick((1, 2, 4)))
        if how == "nan":
            return c.nan(width)
        return c.int(0, mask)

    def nice(self, t: ValType, k: int, div: int = 2) -> int:
        """k/div as a float's bits: halves and quarters, where rounding modes disagree."""
        import struct

        x = k / div
        if t is F32:
            return struct.unpack("<I", struct.pack("<f", x))[0]
        if t is F64:
            return struct.unpack("<Q", struct.pack("<d", x))[0]
        return int(x) & ((1 << WIDTH[t]) - 1)

    def related(self, t: ValType, x: int) -> int:
        """A second operand close to the first: equal, negated, one apart, sign flipped."""
        width = WIDTH[t]
        mask = (1 << width) - 1
        how = self.c.weighted([(3, "same"), (3, "sign"), (2, "plus"), (2, "minus"),
                               (1, "neg"), (2, "core")])
        if how == "core":
            return self.c.pick(CORE[t])
        if how == "same":
            return x
        if how == "sign":  # the sign bit flipped: -x for floats (0 and -0, NaN and -NaN)
            return x ^ (1 << (width - 1))
        if how == "plus":
            return (x + 1) & mask
        if how == "minus":
            return (x - 1) & mask
        return (-x) & mask

    def v128(self, hint: str | None, near: int | None = None) -> int:
        c = self.c
        if near is not None and c.chance(30):
            return near if c.chance(50) else near ^ (1 << c.int(0, 127))
        how = c.weighted([(6, "lanes"), (1, "random"), (1, "zero")])
        if how == "random":
            return c.int(0, (1 << 128) - 1)
        if how == "zero":
            return 0
        if hint in LANE_SHAPES and c.chance(70):
            width, kind = LANE_SHAPES[hint]
        else:
            width, kind = c.pick(list(LANE_SHAPES.values()))
        lanes = [self.lane(width, kind) for _ in range(128 // width)]
        return sum((v & ((1 << width) - 1)) << (k * width) for k, v in enumerate(lanes))

    def lane(self, width: int, kind: str) -> int:
        if width in (8, 16):
            c = self.c
            return c.pick(CORE[width]) if c.chance(60) else c.int(0, (1 << width) - 1)
        return self.scalar(LANE_TYPE[width, kind])




# -- the plan: JSON text -------------------------------------------------------------------

def val_to_json(v: Val):
    t = v.type
    if t is EXTERNREF:
        return ["externref", v.ref if v.ref is None or isinstance(v.ref, int) else None]
    if t is FUNCREF:
        return ["funcref", None]
    return [str(t), v.bits]


def val_from_json(item) -> Val:
    name, x = item
    if name == "externref":
        return Val.externref(x)
    if name == "funcref":
        return Val.funcref(None)
    return Val.from_bits(name, int(x))


def plan_to_bytes(plan, metered: bool = False) -> bytes:
    """The ``fayasm-plan`` section: the calls, and whether engines run metered (with fuel
    and a deadline, which is a different compilation in some engines)."""
    calls = [[name, [val_to_json(a) for a in args]] for name, args in plan]
    return json.dumps({"calls": calls, "metered": bool(metered)}, separators=(",", ":")).encode()


def plan_from_bytes(data: bytes):
    """(calls, options) from a ``fayasm-plan`` section."""
    obj = json.loads(data)
    calls = [(str(name), [val_from_json(a) for a in args]) for name, args in obj["calls"]]
    return calls, {"metered": bool(obj.get("metered", False))}


def read_plan(syntax):
    """(calls, options) stored in a module's ``fayasm-plan`` custom section, or (None, {})."""
    for c in syntax.customs:
        if c.name == PLAN_SECTION:
            try:
                return plan_from_bytes(c.data)
            except (ValueError, TypeError, KeyError, AttributeError):
                return None, {}
    return None, {}


def plan_of(syntax):
    """The calls of a module's stored plan, or None."""
    return read_plan(syntax)[0]


def default_plan(module, random_count: int = 3, seed: int = 0):
    """Every exported function in export order: once if it takes no parameters, else with
    ``random_count`` sets of seeded random arguments."""
    rng = random.Random(seed)
    plan: list[Any] = []
    for e in module.exports:
        if e.kind is not ExternKind.FUNC:
            continue
        if not e.type.params:
            plan.append((e.name, []))
        else:
            plan.extend((e.name, random_args(rng, e.type.params)) for _ in range(random_count))
    return plan


def format_val(v: Val) -> str:
    """A value as ``fayasm run`` accepts it where possible (``i32:-5``, ``f32:nan:0x...``)."""
    t = v.type
    if t in (I32, I64):
        return f"{t}:{v.value}"
    if t in (F32, F64):
        x = v.value
        if x != x:  # the text format's form, which fayasm run takes back
            from fayasm.cli_args import format_result

            return f"{t}:{format_result(v)}"
        if x == 0 and v.bits >> (WIDTH[t] - 1):
            return f"{t}:-0.0"
        return f"{t}:{x!r}" if x == x and abs(x) != float("inf") else f"{t}:{x}"
    if t is V128:
        return f"v128:0x{v.bits:032x}"
    name = str(t)  # a typed reference by its own type
    if t.rep is FUNCREF:
        return f"{name}:null" if v.ref is None else f"{name}:{getattr(v.ref, 'name', v.ref)}"
    return f"{name}:null" if v.ref is None else f"{name}:{v.ref!r}"


def format_call(name: str, args) -> str:
    return f"{name}({', '.join(format_val(a) for a in args)})"


__all__ = ["Args", "CORE", "EDGES", "conversion_edges", "LANE_SHAPES", "LANE_TYPE", "PLAN_SECTION",
           "default_plan",
           "format_call", "format_val", "plan_of",
           "plan_from_bytes", "plan_to_bytes", "random_args", "random_bits", "random_val",
           "read_plan"]
