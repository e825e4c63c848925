"""Exact semantics of every numeric WebAssembly 2.0 instruction and of relaxed SIMD
(relaxed.py: the deterministic profile), as plain functions on the
raw values of fayasm.runtime.values (i32/i64 unsigned ints, f64 floats, f32 floats holding
the f32 exactly, v128 unsigned 128-bit ints).

``OPS`` maps each instruction name to its function: operands in stack order, then, for
lane-immediate ops, the lane index (``i8x16.shuffle``: the tuple of 16 indices). Results
are raw values; i32 comparisons and tests return the ints 0 and 1. Traps raise
fayasm.runtime.errors.Trap with the spec's message.
"""
from __future__ import annotations

from . import floats, ints, relaxed, simd, simd_float, simd_int

OPS: dict = {}
for _table in (ints.OPS, floats.OPS, simd.OPS, simd_int.OPS, simd_float.OPS, relaxed.OPS):
    _clash = OPS.keys() & _table.keys()
    assert not _clash, _clash
    OPS.update(_table)
del _table, _clash

__all__ = ["OPS", "floats", "ints", "relaxed", "simd", "simd_float", "simd_int"]
