"""Loads and stores other than plain integer ones, shared by the engines: floats, v128 and
SIMD's extending, splatting, zero-filling and lane accesses. Each load is
``fn(view, address) -> raw`` and each store ``fn(view, address, raw)`` (lane accesses take
the vector and the lane too); an address out of bounds raises struct.error, which the
engines report as the spec's "out of bounds memory access"."""
from __future__ import annotations

import struct
from collections.abc import Callable

from .values import f32_from_bits, f32_to_bits

Load = Callable[[memoryview, int], int]
LaneLoad = Callable[[memoryview, int, int, int], int]
LaneStore = Callable[[memoryview, int, int, int], None]

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_QQ = struct.Struct("<QQ")


def _v128_load(view: memoryview, ea: int) -> int:
    lo, hi = _QQ.unpack_from(view, ea)
    return lo | (hi << 64)


def _v128_store(view: memoryview, ea: int, v: int) -> None:
    _QQ.pack_into(view, ea, v & 0xFFFFFFFFFFFFFFFF, v >> 64)


def _extending(fmt: str, lane_bits: int) -> Load:
    """v128.loadMxN_s/u: N lanes of M bits read from 8 bytes, sign- or zero-extended."""
    s = struct.Struct(fmt)
    mask = (1 << lane_bits) - 1

    def load(view: memoryview, ea: int) -> int:
        out = 0
        for k, x in enumerate(s.unpack_from(view, ea)):
            out |= (x & mask) << (k * lane_bits)
        return out
    return load


def _splat(fmt: str, bits: int) -> Load:
    s = struct.Struct(fmt)
    factor = sum(1 << (k * bits) for k in range(128 // bits))

    def load(view: memoryview, ea: int) -> int:
        return s.unpack_from(view, ea)[0] * factor
    return load


def _zero(fmt: str) -> Load:
    s = struct.Struct(fmt)
    return lambda view, ea: s.unpack_from(view, ea)[0]


LOADS = {
    "f32.load": lambda view, ea: f32_from_bits(_U32.unpack_from(view, ea)[0]),
    "f64.load": lambda view, ea: _F64.unpack_from(view, ea)[0],
    "v128.load": _v128_load,
    "v128.load8x8_s": _extending("<8b", 16),
    "v128.load8x8_u": _extending("<8B", 16),
    "v128.load16x4_s": _extending("<4h", 32),
    "v128.load16x4_u": _extending("<4H", 32),
    "v128.load32x2_s": _extending("<2i", 64),
    "v128.load32x2_u": _extending("<2I", 64),
    "v128.load8_splat": _splat("<B", 8),
    "v128.load16_splat": _splat("<H", 16),
    "v128.load32_splat": _splat("<I", 32),
    "v128.load64_splat": _splat("<Q", 64),
    "v128.load32_zero": _zero("<I"),
    "v128.load64_zero": _zero("<Q"),
}

STORES = {
    "f32.store": lambda view, ea, v: _U32.pack_into(view, ea, f32_to_bits(v)),
    "f64.store": lambda view, ea, v: _F64.pack_into(view, ea, v),
    "v128.store": _v128_store,
}

_LANE_STRUCTS = {8: struct.Struct("<B"), 16: struct.Struct("<H"), 32: struct.Struct("<I"),
                 64: struct.Struct("<Q")}


def _load_lane(bits: int) -> LaneLoad:
    """v128.loadN_lane: replace one lane of ``v`` with N bits read from memory."""
    read = _LANE_STRUCTS[bits].unpack_from
    mask = (1 << bits) - 1

    def load(view: memoryview, ea: int, v: int, lane: int) -> int:
        shift = lane * bits
        return (v & ~(mask << shift)) | (read(view, ea)[0] << shift)
    return load


def _store_lane(bits: int) -> LaneStore:
    """v128.storeN_lane: write one lane of ``v`` to memory."""
    write = _LANE_STRUCTS[bits].pack_into
    mask = (1 << bits) - 1

    def store(view: memoryview, ea: int, v: int, lane: int) -> None:
        write(view, ea, (v >> (lane * bits)) & mask)
    return store


LANE_LOADS = {f"v128.load{b}_lane": _load_lane(b) for b in (8, 16, 32, 64)}
LANE_STORES = {f"v128.store{b}_lane": _store_lane(b) for b in (8, 16, 32, 64)}
