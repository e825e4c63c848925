"""Calling native code from Python: the raw callable of each function, and the Func
objects a JIT instance exports.

A raw callable calls its signature's entry wrapper (stubs.entry) through a ctypes
PYFUNCTYPE prototype: the GIL stays held, and an error the wrapper sets (process.Signal,
after a trap or a host exception) is raised by ctypes, so the normal path checks nothing.
Its source is generated once per signature: numeric values pass as they are
(i32/i64 unsigned, f32 as its raw double, which the wrapper converts exactly); v128 goes
as two words; references as their native words; several results, or a v128, come back
through a small per-function buffer.

Entry wrappers take the function's code address and context as arguments, so one entry
per signature serves every function of that signature, in any loaded object.
"""
from __future__ import annotations

import ctypes
import struct

from fayasm.runtime.errors import Error, Exhaustion
from fayasm.runtime.func import Func, HostError
from fayasm.runtime.types import FuncType, ValType

from . import glue, stubs
from .argbuffers import FORMATS
from .process import Signal
from .references import from_word, to_word
from .traps import is_recursion, take_error
from .typeids import typeid
from .types import F32, F64, I32, I64, V128, ByRep

_CT = ByRep({I32: ctypes.c_uint32, I64: ctypes.c_uint64, F32: ctypes.c_double,
             F64: ctypes.c_double, ValType.FUNCREF: ctypes.c_void_p,
             ValType.EXTERNREF: ctypes.c_void_p})
_RESTYPE = {"void": None, "i32": ctypes.c_uint32, "i64": ctypes.c_uint64,
            "double": ctypes.c_double, "ptr": ctypes.c_void_p}


def prototype(ft: FuncType):
    """The ctypes prototype of the entry wrapper of ``ft`` (raw values)."""
    args = [ctypes.c_void_p, ctypes.c_void_p]
    for t in ft.params:
        if t is V128:
            args += [ctypes.c_uint64, ctypes.c_uint64]
        else:
            args.append(_CT[t])
    args.append(ctypes.c_void_p)
    return ctypes.PYFUNCTYPE(_RESTYPE[stubs.entry_ret_type(ft)], *args)


def _raw_factory(ft: FuncType):
    """``make(cf, fn, ctx, out, outaddr)`` -> raw callable, generated for ``ft``."""
    params = [f"a{k}" for k in range(len(ft.params))]
    args = ["fn", "ctx"]
    for k, t in enumerate(ft.params):
        if t is V128:
            args += [f"a{k} & M64", f"a{k} >> 64"]
        elif t.rep is ValType.FUNCREF:
            args.append(f"to_word(FUNCREF, a{k})")
        elif t.rep is ValType.EXTERNREF:
            args.append(f"to_word(EXTERNREF, a{k})")
        else:
            args.append(f"a{k}")
    args.append("outaddr")
    lines = ["def make(cf, fn, ctx, out, outaddr):",
             f"    def raw({', '.join(params)}):",
             "        try:",
             f"            r = cf({', '.join(args)})",
             "        except Signal:",
             "            raise take_error() from None",
             "        except ArgumentError as e:",
             "            raise argument_error(e) from None"]
    rs = ft.results
    if stubs.entry_returns_directly(ft):
        t = rs[0]
        if t.rep is ValType.FUNCREF:
            lines.append("        return from_word(FUNCREF, r or 0)")
        elif t.rep is ValType.EXTERNREF:
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
                vals.append(f"from_word({t.rep.name}, w[{k}])")
                k += 1
            else:
                vals.append(f"w[{k}]")
                k += 1
        lines.append(f"        return {vals[0]}" if len(rs) == 1 else
                     f"        return ({', '.join(vals)},)")
    lines.append("    return raw")
    ns = {"Signal": Signal, "take_error": take_error, "M64": (1 << 64) - 1,
          "ArgumentError": ctypes.ArgumentError, "argument_error": _argument_error,
          "to_word": to_word, "from_word": from_word,
          "FUNCREF": ValType.FUNCREF, "EXTERNREF": ValType.EXTERNREF,
          "unpack": struct.Struct("<" + "".join(FORMATS[t] for t in rs)).unpack_from}
    exec(compile("\n".join(lines), f"<fayasm jit entry {ft}>", "exec"), ns)
    return ns["make"]


# -- calls from Python with Python values ---------------------------------------------------------
class JitFunc(Func):
    """A Func of a JIT instance. Subclasses generated per plain numeric signature (at most
    one result, no v128 or references; not metered) add a ``__call__`` that checks the
    arguments' types and ranges inline and calls the entry directly, with a prototype
    whose i32/i64 result types are signed; anything else takes Func.__call__, which also
    reports every argument error."""

    # (entry, code, context): one attribute, so a thread retargeting the function (a
    # tier-up) never lets another call new code with an old context.
    __slots__ = ("_target",)


_CALL_CHECKS = {
    I32: "type({a}) is int and -2147483648 <= {a} <= 4294967295",
    I64: "type({a}) is int and -9223372036854775808 <= {a} <= 18446744073709551615",
    F32: "type({a}) is float and {a} == {a}",  # a NaN takes the exact path (f32_round)
    F64: "type({a}) is float",
}
_SIGNED = {I32: ctypes.c_int32, I64: ctypes.c_int64, F32: ctypes.c_double, F64: ctypes.c_double}


def _fast_callable(ft: FuncType) -> bool:
    return len(ft.results) <= 1 and all(t in _CALL_CHECKS for t in ft.params + ft.results)


def _signed_prototype(ft: FuncType):
    """The entry's prototype for calls with Python values: signed integer results."""
    args = [ctypes.c_void_p, ctypes.c_void_p] + [_CT[t] for t in ft.params] + [ctypes.c_void_p]
    return ctypes.PYFUNCTYPE(_SIGNED[ft.results[0]] if ft.results else None, *args)


def _argument_error(e: ctypes.ArgumentError) -> Exception:
    """ctypes refused an argument: Python's recursion limit while converting it (then
    the call stack is exhausted), or a value of the wrong kind."""
    if is_recursion(e):
        return Exhaustion()
    return Error(f"bad argument: {e}")


def _user_error():
    """The exception a call from Python raises after a Signal: a host function's own
    exception comes back as itself (see runtime.func._call)."""
    e = take_error()
    if isinstance(e, HostError):
        return e.original.with_traceback(e.original.__traceback__)
    return e


def _call_class(ft: FuncType, index: int) -> type:
    n = len(ft.params)
    names = [f"a{k}" for k in range(n)]
    checks = " and ".join(_CALL_CHECKS[t].format(a=a) for t, a in zip(ft.params, names))
    unpack = f"        {', '.join(names)}, = args" if n else ""
    src = "\n".join(filter(None, [
        "def __call__(self, *args):",
        f"    if len(args) == {n}:",
        unpack,
        f"        if {checks or 'True'}:",
        "            cf, fn, ctx = self._target",
        "            try:",
        f"                return cf(fn, ctx, {''.join(a + ', ' for a in names)}None)",
        "            except Signal:",
        "                raise user_error() from None",
        "            except ArgumentError as e:",
        "                raise argument_error(e) from None",
        "    return generic(self, *args)"]))
    ns = {"Signal": Signal, "user_error": _user_error, "generic": Func.__call__,
          "ArgumentError": ctypes.ArgumentError, "argument_error": _argument_error}
    exec(compile(src, f"<fayasm jit call {ft}>", "exec"), ns)
    return type(f"JitFunc_{index}", (JitFunc,), {"__slots__": (), "__call__": ns["__call__"]})


class Signature:
    """Everything per function type the functions of that type share: the canonical type
    id, the entry prototypes, the raw-callable factory, the fast Func class."""

    __slots__ = ("ft", "typeid", "factory", "cls", "out_words", "proto", "signed", "_entries")

    def __init__(self, ft: FuncType, index: int):
        self.ft = ft
        self.typeid = typeid(ft)
        self.factory = _raw_factory(ft)
        fast = _fast_callable(ft)
        self.cls = _call_class(ft, index) if fast else JitFunc
        self.out_words = 0 if stubs.entry_returns_directly(ft) else \
            max(1, sum(2 if t is V128 else 1 for t in ft.results))
        self.proto = prototype(ft)
        self.signed = _signed_prototype(ft) if fast else None
        self._entries = None

    def entries(self) -> tuple:
        """(raw entry, signed entry or None): ctypes functions of this signature's entry
        wrapper (glue.entry_address; the signed one only for fast signatures)."""
        e = self._entries
        if e is None:
            addr = glue.entry_address(self.ft)
            e = self._entries = (self.proto(addr), self.signed(addr) if self.signed else None)
        return e


_SIGNATURES: dict[FuncType, Signature] = {}


def signature(ft: FuncType) -> Signature:
    s = _SIGNATURES.get(ft)
    if s is None:
        s = _SIGNATURES[ft] = Signature(ft, len(_SIGNATURES))
    return s


def raw_callable(sig: Signature, entry, fn: int, ctx: int):
    """The raw callable of native function ``fn`` on context ``ctx`` through ``entry``
    (the ctypes function of its signature's entry wrapper)."""
    if sig.out_words:
        out = (ctypes.c_uint64 * sig.out_words)()
        return sig.factory(entry, fn, ctx, out, ctypes.addressof(out))
    return sig.factory(entry, fn, ctx, None, None)


__all__ = ["prototype", "raw_callable", "JitFunc", "Signature", "signature"]
