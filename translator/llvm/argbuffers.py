"""Argument buffers: how a host call's parameters and results are laid out in the
buffer a host trampoline passes (8-byte words; a v128 takes two, an f32 travels as its
double), and the codecs that read and write them.

References travel as native words; the caller supplies the conversions
(references.to_word / from_word), which keeps this module free of the registries.
"""
from __future__ import annotations

import ctypes
import struct

from fayasm.runtime.types import FuncType, ValType

from .types import F32, F64, I32, I64, V128, ByRep

FORMATS = ByRep({I32: "I4x", I64: "Q", F32: "d", F64: "d", V128: "QQ", ValType.FUNCREF: "Q",
           ValType.EXTERNREF: "Q", ValType.ANYREF: "Q"})
_M64 = 0xFFFFFFFFFFFFFFFF


def _decoder(types_, from_word):
    """A function turning a tuple of struct-unpacked words into raw values."""
    steps = []
    k = 0
    for t in types_:
        if t is V128:
            steps.append((k, 2, None))
            k += 2
        elif t.is_ref:
            steps.append((k, 1, t))
            k += 1
        else:
            steps.append((k, 1, False))
            k += 1
    plain = all(kind is False for _, _, kind in steps)

    def decode(words):
        if plain:
            return words
        out = []
        for i, n, kind in steps:
            if n == 2:
                out.append(words[i] | (words[i + 1] << 64))
            elif kind:
                out.append(from_word(kind, words[i]))
            else:
                out.append(words[i])
        return out
    return decode


def _encoder(types_, to_word):
    """A function turning raw values into the word values struct.pack takes."""
    def encode(values):
        out = []
        for t, v in zip(types_, values):
            if t is V128:
                out += (v & _M64, v >> 64)
            elif t.is_ref:
                out.append(to_word(t, v))
            else:
                out.append(v)
        return out
    return encode


def host_codec(ft: FuncType, to_word, from_word):
    """``(unpack, pack)`` for host functions of type ``ft``: ``unpack(buf)`` gives the
    raw parameters in buffer ``buf``; ``pack(buf, out)`` stores the raw result(s)."""
    pfmt = struct.Struct("<" + "".join(FORMATS[t] for t in ft.params))
    rfmt = struct.Struct("<" + "".join(FORMATS[t] for t in ft.results))
    dec = _decoder(ft.params, from_word)
    enc = _encoder(ft.results, to_word)
    n = len(ft.results)
    psize, rsize = pfmt.size, rfmt.size

    def unpack(buf):
        return dec(pfmt.unpack(ctypes.string_at(buf, psize))) if psize else ()

    def pack(buf, out):
        if n == 0:
            return
        if n == 1:
            out = (out,)
        ctypes.memmove(buf, rfmt.pack(*enc(out)), rsize)
    return unpack, pack


__all__ = ["FORMATS", "host_codec"]
