"""Calling native code from Python: the raw callable of each function, and the Func
objects a JIT instance exports.

A raw callable calls its signature's entry wrapper (stubs.entry) through a ctypes
PYFUNCTYPE prototype: the GIL stays held, and an error the wrapper sets (the bridge's
Signal, after a trap or a host exception) is raised by ctypes, so the normal path checks
nothing. Its source is generated once per signature: numeric values pass as they are
(i32/i64 unsigned, f32 as its raw double, which the wrapper converts exactly); v128 goes
as two words; references as their native words; several results, or a v128, come back
through a small per-function buffer.
"""
from __future__ import annotations

import ctypes
import struct

from fayasm.runtime.func import Func
from fayasm.runtime.types import FuncType, ValType

from . import bridge, stubs
from .types import F32, F64, I32, I64, V128

_CT = {I32: ctypes.c_uint32, I64: ctypes.c_uint64, F32: ctypes.c_double, F64: ctypes.c_double,
       ValType.FUNCREF: ctypes.c_void_p, ValType.EXTERNREF: ctypes.c_void_p}
_RESTYPE = {"void": None, "i32": ctypes.c_uint32, "i64": ctypes.c_uint64,
            "double": ctypes.c_double, "ptr": ctypes.c_void_p}
_FMT = {I32: "I4x", I64: "Q", F32: "d", F64: "d", V128: "QQ", ValType.FUNCREF: "Q",
        ValType.EXTERNREF: "Q"}


def prototype(ft: FuncType):
    """The ctypes prototype of the entry wrapper of ``ft``."""
    args = [ctypes.c_void_p, ctypes.c_void_p]
    for t in ft.params:
        if t is V128:
            args += [ctypes.c_uint64, ctypes.c_uint64]
        else:
            args.append(_CT[t])
    args.append(ctypes.c_void_p)
    return ctypes.PYFUNCTYPE(_RESTYPE[stubs.entry_ret_type(ft)], *args)


_FACTORIES: dict[FuncType, object] = {}


def _factory(ft: FuncType):
    """``make(cf, fn, ctx, out, outaddr)`` -> raw callable, generated for ``ft``."""
    fac = _FACTORIES.get(ft)
    if fac is not None:
        return fac
    params = [f"a{k}" for k in range(len(ft.params))]
    args = ["fn", "ctx"]
    for k, t in enumerate(ft.params):
        if t is V128:
            args += [f"a{k} & M64", f"a{k} >> 64"]
        elif t is ValType.FUNCREF:
            args.append(f"to_word(FUNCREF, a{k})")
        elif t is ValType.EXTERNREF:
            args.append(f"to_word(EXTERNREF, a{k})")
        else:
            args.append(f"a{k}")
    args.append("outaddr")
    lines = [f"def make(cf, fn, ctx, out, outaddr):",
             f"    def raw({', '.join(params)}):",
             "        try:",
             f"            r = cf({', '.join(args)})",
             "        except Signal:",
             "            raise take_error() from None"]
    rs = ft.results
    if stubs.entry_returns_directly(ft):
        t = rs[0]
        if t is ValType.FUNCREF:
            lines.append("        return from_word(FUNCREF, r or 0)")
        elif t is ValType.EXTERNREF:
            lines.append("        return from_word(EXTERNREF, r or 0)")
        else:
            lines.append("        return r")
    elif rs:
        lines.append("        w = unpack(out)")
        vals, k = [], 0
        for t in rs:
            if t is V128:
                vals.append(f"(w[{k}] | (w[{k + 1}] << 64))")
                k += 2
            elif t.is_ref:
                vals.append(f"from_word({t.name}, w[{k}])")
                k += 1
            else:
                vals.append(f"w[{k}]")
                k += 1
        lines.append(f"        return {vals[0]}" if len(rs) == 1 else
                     f"        return ({', '.join(vals)},)")
    lines.append("    return raw")
    ns = {"Signal": bridge.Signal, "take_error": bridge.take_error, "M64": (1 << 64) - 1,
          "to_word": bridge.to_word, "from_word": bridge.from_word,
          "FUNCREF": ValType.FUNCREF, "EXTERNREF": ValType.EXTERNREF,
          "unpack": struct.Struct("<" + "".join(_FMT[t] for t in rs)).unpack_from}
    exec(compile("\n".join(lines), f"<fayasm jit entry {ft}>", "exec"), ns)
    fac = _FACTORIES[ft] = ns["make"]
    return fac


def raw_callable(code, ft: FuncType, fn: int, ctx: int):
    """The raw callable of native function ``fn`` (of ``code``) on context ``ctx``."""
    cf = code.entry(ft)
    words = sum(2 if t is V128 else 1 for t in ft.results)
    out = (ctypes.c_uint64 * max(words, 1))()
    return _factory(ft)(cf, fn, ctx, out, ctypes.addressof(out))


def make_func(raw, ft: FuncType, name: str, owner, fn: int, ctx: int, budget) -> Func:
    return Func._wrap_raw(raw, ft, name, owner=owner)


__all__ = ["prototype", "raw_callable", "make_func"]
