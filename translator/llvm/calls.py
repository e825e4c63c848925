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

Calls from Python with Python values on plain numeric signatures skip all of this: the
signature's Func class has a native ``__call__`` (pyentry.py) that converts the values
and calls the entry wrapper itself.
"""
from __future__ import annotations

import ctypes
import struct
import threading

from fayasm.runtime import compiletime
from fayasm.runtime.errors import Error, Exhaustion
from fayasm.runtime.func import Func, HostError
from fayasm.runtime.types import FuncType, ValType

from . import glue, metering, pyentry, stubs
from .argbuffers import FORMATS
from .process import Signal
from .references import from_word, to_word
from .traps import is_recursion, take_error
from .typeids import typeid
from .types import F32, F64, I32, I64, V128, ByRep

_CT = ByRep({I32: ctypes.c_uint32, I64: ctypes.c_uint64, F32: ctypes.c_double,
             F64: ctypes.c_double, ValType.FUNCREF: ctypes.c_void_p,
             ValType.EXTERNREF: ctypes.c_void_p, ValType.ANYREF: ctypes.c_void_p})
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
        elif t.is_ref:
            args.append(f"to_word({t.rep.name}, a{k})")
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
        elif t.is_ref:
            lines.append(f"        return from_word({t.rep.name}, r or 0)")
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
          "ANYREF": ValType.ANYREF,
          "unpack": struct.Struct("<" + "".join(FORMATS[t] for t in rs)).unpack_from}
    exec(compile("\n".join(lines), f"<fayasm jit entry {ft}>", "exec"), ns)
    return ns["make"]


# -- calls from Python with Python values ---------------------------------------------------------
class JitFunc(Func):
    """A Func of a JIT instance. Classes made per plain numeric signature (i32, i64, f32,
    f64 only) get a native ``__call__`` (pyentry.py) that checks the arguments' types and
    ranges and calls the entry wrapper itself (between metering.enter and leave for a
    metered or stack-limited instance); anything else takes Func.__call__, which also
    reports every argument error."""

    # The function's record address, as a bytes object the native __call__ reads (the
    # record always names the current code and context: a tier-up rewrites it whole).
    __slots__ = ("_target",)


def _user_error():
    """The exception a call from Python raises after a Signal: a host function's own
    exception comes back as itself (see runtime.func._call)."""
    e = take_error()
    if isinstance(e, HostError):
        return e.original.with_traceback(e.original.__traceback__)
    return e


def _raise_user_error():
    """What the native __call__ calls after a trap or a host exception (Signal cleared)."""
    raise _user_error() from None


def _argument_error(e: ctypes.ArgumentError) -> Exception:
    """ctypes refused an argument: Python's recursion limit while converting it (then
    the call stack is exhausted), or a value of the wrong kind."""
    if is_recursion(e):
        return Exhaustion()
    return Error(f"bad argument: {e}")


def _call_class(ft: FuncType, index: int, metered: bool) -> type:
    """The JitFunc class of ``ft`` with its native ``__call__`` (pyentry.py); ``metered``:
    for metered or stack-limited instances (metering.enter and leave around the entry).
    The native code is compiled on the class's first call from Python: most functions
    of a big module are never called from Python (SQLite's 79 signatures cost 1 s)."""
    cls = type(f"JitFunc_{index}{'m' if metered else ''}", (JitFunc,), {"__slots__": ()})
    hooks = (metering.enter, metering.leave) if metered else None

    def first_call(self, *args, **kwargs):
        # The compile is part of the call: a call's deadline bounds it as well.
        budget = getattr(self.owner, "budget", None)
        limit = compiletime.DEFAULT_COMPILE_TIMEOUT
        if budget is not None and budget.timeout is not None:
            limit = min(limit, budget.timeout)
        with _FIRST_CALL_LOCK, compiletime.budget(limit):
            if cls.__dict__["__call__"] is first_call:
                try:
                    cls.__call__ = pyentry.call_descriptor(ft, cls, Func.__call__,
                                                           _raise_user_error, hooks)
                except RuntimeError:  # an object layout pyentry cannot find
                    cls.__call__ = Func.__call__
                except Error:  # its compile failed (a compile budget): next time
                    return Func.__call__(self, *args, **kwargs)
        return cls.__call__(self, *args, **kwargs)

    cls.__call__ = first_call  # type: ignore[method-assign]
    return cls


def target_word(record: int) -> bytes:
    """What a fast Func's ``_target`` holds: its record's address."""
    return _WORD.pack(record)


_WORD = struct.Struct("<Q")


class Signature:
    """Everything per function type the functions of that type share: the canonical type
    id, the entry prototype, the raw-callable factory, the fast Func class."""

    __slots__ = ("ft", "typeid", "factory", "index", "fast", "_cls", "out_words", "proto",
                 "_entry")

    def __init__(self, ft: FuncType, index: int):
        self.ft = ft
        self.typeid = typeid(ft)
        self.factory = _raw_factory(ft)
        self.index = index
        self.fast = pyentry.supported(ft)
        self._cls: list = [None, None]  # [unmetered, metered]
        self.out_words = 0 if stubs.entry_returns_directly(ft) else \
            max(1, sum(2 if t is V128 else 1 for t in ft.results))
        self.proto = prototype(ft)
        self._entry = None

    def entry(self):
        """The ctypes function of this signature's entry wrapper (glue.entry_address:
        the best one loaded so far)."""
        addr = glue.entry_address(self.ft)
        e = self._entry
        if e is None or e[0] != addr:
            e = self._entry = (addr, self.proto(addr))
        return e[1]

    def cls(self, metered: bool = False) -> type:
        """The Func class of an instance's functions of this signature (``metered``: of
        a metered or stack-limited instance): with a native __call__ when the signature
        is plain numeric (made on first use, once the entry wrapper is loaded)."""
        c = self._cls[metered]
        if c is None:
            c = JitFunc
            if self.fast:
                with _LOCK:
                    c = self._cls[metered]
                    if c is None:
                        c = _call_class(self.ft, self.index, metered)
                    self._cls[metered] = c
            self._cls[metered] = c
        return c


_LOCK = threading.Lock()
_FIRST_CALL_LOCK = threading.Lock()
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


__all__ = ["prototype", "raw_callable", "target_word", "JitFunc", "Signature", "signature"]
