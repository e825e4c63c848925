"""Values: the exact ``Val`` of the public API, and the raw representation engines share.

Raw representation (what engines pass between each other and to host calls):
  i32, i64  unsigned Python int (two's complement bits)
  f64       Python float (a float holds every f64 bit pattern, signalling NaNs included)
  f32       Python float holding the f32 value exactly; a NaN keeps its sign, quiet bit and
            payload in the top 23 mantissa bits of the double (no hardware conversion, which
            would quiet a signalling NaN): see f32_from_bits/f32_to_bits
  v128      unsigned 128-bit Python int (lane 0 in the low bits)
  funcref   a Func or None;  externref  any Python object, None being null
"""
from __future__ import annotations

import builtins
import math
import struct
from typing import Any

from .checks import whole
from .errors import ArgumentError, ArgumentTypeError
from .gcobj import any_from_python
from .types import ValType

# A raw value as described above: an int, a float, or a reference (a Func, any object or
# None). Any, because which one it is depends on a ValType the type checker cannot see.
Raw = Any

_S_f = struct.Struct("<f")
_S_I = struct.Struct("<I")
_S_d = struct.Struct("<d")
_S_Q = struct.Struct("<Q")


def f32_from_bits(bits: int) -> float:
    """The raw f32 for a 32-bit pattern, NaN payloads included."""
    if bits & 0x7F800000 == 0x7F800000 and bits & 0x7FFFFF:
        d = ((bits >> 31) << 63) | (0x7FF << 52) | ((bits & 0x7FFFFF) << 29)
        return _S_d.unpack(_S_Q.pack(d))[0]
    return _S_f.unpack(_S_I.pack(bits))[0]


def f32_to_bits(x: float) -> int:
    """The 32-bit pattern of a raw f32."""
    if x != x:
        d = _S_Q.unpack(_S_d.pack(x))[0]
        return ((d >> 63) << 31) | 0x7F800000 | ((d >> 29) & 0x7FFFFF)
    return _S_I.unpack(_S_f.pack(x))[0]


def f64_from_bits(bits: int) -> float:
    return _S_d.unpack(_S_Q.pack(bits))[0]


def f64_to_bits(x: float) -> int:
    return _S_Q.unpack(_S_d.pack(x))[0]


def f32_round(x: float) -> float:
    """Round a double to the nearest f32 (ties to even), overflowing to infinity."""
    try:
        return _S_f.unpack(_S_f.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


_MASK = {ValType.I32: 0xFFFFFFFF, ValType.I64: 0xFFFFFFFFFFFFFFFF,
         ValType.F32: 0xFFFFFFFF, ValType.F64: 0xFFFFFFFFFFFFFFFF,
         ValType.V128: (1 << 128) - 1}


def raw_from_bits(t: ValType, bits: int) -> Raw:
    if t is ValType.F32:
        return f32_from_bits(bits)
    if t is ValType.F64:
        return f64_from_bits(bits)
    return bits


def bits_from_raw(t: ValType, raw: Raw) -> int:
    if t is ValType.F32:
        return f32_to_bits(raw)
    if t is ValType.F64:
        return f64_to_bits(raw)
    return raw


class Val:
    """An exact WebAssembly value: ``.type``, ``.bits`` (numbers and v128), ``.value``."""

    __slots__ = ("type", "bits", "ref")

    def __init__(self, type: ValType | str, bits: int = 0, ref: object = None) -> None:
        self.type = ValType.parse(type)
        if self.type.is_ref:
            self.bits = 0
            self.ref = ref
        else:
            if builtins.type(bits) is not int:
                whole(bits, "bits")  # (a bool, or not an int: say so)
            self.bits = bits & _MASK[self.type]
            self.ref = None

    @classmethod
    def from_bits(cls, type: ValType | str, bits: int) -> "Val":
        t = ValType.parse(type)
        if t.is_ref:
            raise ArgumentError("reference values have no bits")
        return cls(t, bits)

    @classmethod
    def i32(cls, v: int) -> "Val":
        return cls(ValType.I32, v)

    @classmethod
    def i64(cls, v: int) -> "Val":
        return cls(ValType.I64, v)

    @classmethod
    def f32(cls, v: float) -> "Val":
        return cls(ValType.F32, f32_to_bits(f32_round(float(v))))

    @classmethod
    def f64(cls, v: float) -> "Val":
        return cls(ValType.F64, f64_to_bits(float(v)))

    @classmethod
    def v128(cls, bits: int) -> "Val":
        return cls(ValType.V128, bits)

    @classmethod
    def funcref(cls, f: object = None) -> "Val":
        return cls(ValType.FUNCREF, ref=f)

    @classmethod
    def externref(cls, obj: object = None) -> "Val":
        return cls(ValType.EXTERNREF, ref=obj)

    @classmethod
    def anyref(cls, obj: object = None) -> "Val":
        """An anyref: a GC object, None, an int in the i31 range (an i31 value) or any
        other object (a host value internalized)."""
        return cls(ValType.ANYREF, ref=any_from_python(obj))

    @classmethod
    def from_raw(cls, type: ValType, raw: Raw) -> "Val":
        if type.is_ref:
            return cls(type, ref=raw)
        return cls(type, bits_from_raw(type, raw))

    @classmethod
    def from_python(cls, type: ValType | str, value: object) -> "Val":
        """Convert a Python value (int, float, Func, object) to a Val of ``type``; an
        ArgumentTypeError or ArgumentError if it is not one."""
        t = ValType.parse(type)
        kind = builtins.type(value).__name__  # the parameter ``type`` hides the builtin
        if isinstance(value, Val):
            if value.type is not t:
                raise ArgumentTypeError(f"expected {t}, got {value.type}")
            return value
        if t is ValType.F32 or t is ValType.F64:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ArgumentTypeError(f"expected a float for {t}, got {kind}")
            try:
                return cls.f32(value) if t is ValType.F32 else cls.f64(value)
            except OverflowError:  # an int too big for a double
                raise ArgumentError(f"{value} does not fit in {t}") from None
        if t.is_ref:
            return cls(t, ref=value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ArgumentTypeError(f"expected an int for {t}, got {kind}")
        bits = _MASK[t].bit_length()
        if t is not ValType.V128 and not -(1 << (bits - 1)) <= value < (1 << bits):
            raise ArgumentError(f"{value} does not fit in {t}")
        if t is ValType.V128 and not 0 <= value < (1 << 128):
            raise ArgumentError(f"{value} does not fit in v128 (an unsigned 128-bit int)")
        return cls(t, value)

    @property
    def raw(self) -> Raw:
        """The engines' raw representation (see the module docstring)."""
        if self.type.is_ref:
            return self.ref
        return raw_from_bits(self.type, self.bits)

    @property
    def value(self) -> Any:
        """The Python value: signed int, float, v128 bits as int, or the reference."""
        t = self.type
        if t is ValType.I32:
            return self.bits - (1 << 32) if self.bits >> 31 else self.bits
        if t is ValType.I64:
            return self.bits - (1 << 64) if self.bits >> 63 else self.bits
        if t is ValType.F32:
            return f32_from_bits(self.bits)
        if t is ValType.F64:
            return f64_from_bits(self.bits)
        if t is ValType.V128:
            return self.bits
        return self.ref

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Val):
            return NotImplemented
        if self.type is not other.type:
            return False
        if self.type.is_ref:
            return self.ref is other.ref or (self.ref is not None and self.ref == other.ref)
        return self.bits == other.bits

    def __hash__(self) -> int:
        return hash((self.type, self.bits if not self.type.is_ref else id(self.ref)))

    def __repr__(self) -> str:
        t = self.type
        if t is ValType.I32 or t is ValType.I64:
            return f"{t}:{self.value}"
        if t is ValType.F32 or t is ValType.F64:
            v = self.value
            if v != v:
                return f"{t}:nan(0x{self.bits:x})"
            return f"{t}:{v!r}"
        if t is ValType.V128:
            return f"v128:0x{self.bits:032x}"
        return f"{t}:{'null' if self.ref is None else self.ref!r}"
