"""Trap decoding: what an entry that native code unwound to raises, from the trap record
of the calling thread's block (code, argument, backtrace) or the Python exception a
callback left pending there."""
from __future__ import annotations

import ctypes

from fayasm.runtime import errors as E
from fayasm.runtime.errors import Error, Exhaustion, Trap
from fayasm.runtime.exceptions import WasmException
from fayasm.runtime.func import HostError

from . import types as T
from .codemap import codemap
from .threads import local
from .types import TB

# Native trap codes (types.py) -> their messages.
TRAP_MESSAGES = {
    T.UNREACHABLE: E.UNREACHABLE, T.DIV_ZERO: E.DIV_ZERO, T.OVERFLOW: E.INT_OVERFLOW,
    T.CONVERSION: E.BAD_CONVERSION, T.MEM_OOB: E.MEM_OOB, T.TABLE_OOB: E.TABLE_OOB,
    T.UNDEFINED: E.UNDEFINED_ELEMENT, T.UNINITIALIZED: E.UNINITIALIZED_ELEMENT,
    T.MISMATCH: E.TYPE_MISMATCH, T.NULL_FUNC: E.NULL_FUNC_REF, T.NULL_REF: E.NULL_REF,
    T.NULL_EXN: E.NULL_EXN_REF,
    T.NULL_I31: E.NULL_I31, T.NULL_STRUCT: E.NULL_STRUCT, T.NULL_ARRAY: E.NULL_ARRAY,
    T.ARRAY_OOB: E.ARRAY_OOB,
}


def is_recursion(e: BaseException | None) -> bool:
    """Whether ``e`` comes from Python's recursion limit (ctypes wraps a RecursionError
    raised while converting arguments in an ArgumentError)."""
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, RecursionError):
            return True
        if isinstance(e, ctypes.ArgumentError) and "RecursionError" in str(e):
            return True
        e = e.__cause__ or e.__context__
        seen += 1
    return False


def set_pending(e: BaseException) -> None:
    """Leave ``e`` for the entry that native code unwinds to on this thread."""
    # A fayasm Error says what it is (a compile failure is never the guest's Exhaustion,
    # even when a RecursionError caused it).
    if not isinstance(e, Error) and is_recursion(e):
        e = Exhaustion()
    tb = getattr(local, "tb", None)
    if tb is not None:  # else take_error has nothing to read: Exhaustion
        tb.pending.append(e)
        tb.words[TB.TRAP_CODE] = T.PENDING  # RT_THREAD fails with no fy_trap to say so


def take_error() -> BaseException:
    """The exception that unwound native code to the entry (on this thread) that just
    raised process.Signal."""
    tb = getattr(local, "tb", None)
    if tb is None:
        # The thread's first entry could not even make its block: in practice Python's
        # recursion limit (the callback could not start).
        return Exhaustion()
    w, pending = tb.words, tb.pending
    code = w[TB.TRAP_CODE]
    on_entry = False
    if code == T.PENDING:
        # Nothing pending: a callback failed before it could run, which in practice is
        # Python's recursion limit (ctypes reports it and returns 0).
        exc = pending.pop() if pending else Exhaustion()
        # A HostError carries a host function's own exception (its RecursionError too):
        # it goes back to the caller unchanged.
        if not isinstance(exc, (Error, HostError)) and is_recursion(exc):
            exc = Exhaustion()
    elif code == T.EXHAUSTED:
        exc = Exhaustion()
        on_entry = w[TB.TRAP_ARG] == 1  # a frame's own check: the frame never ran
    else:
        msg = TRAP_MESSAGES.get(code, "unknown trap")
        if code in (T.UNDEFINED, T.UNINITIALIZED):
            msg = f"{msg} {w[TB.TRAP_ARG]}"
        exc = Trap(msg)
    pending.clear()
    if isinstance(exc, WasmException) and not exc.frames:
        n = min(w[TB.TRACE_LEN], TB.TRACE_MAX)
        exc.frames.extend(codemap.backtrace(w[TB.TRAP_FUNC], w[TB.TRACE:TB.TRACE + n]))
    if isinstance(exc, Trap):
        n = min(w[TB.TRACE_LEN], TB.TRACE_MAX)
        trace = w[TB.TRACE:TB.TRACE + n]
        exc.frames.extend(codemap.backtrace(w[TB.TRAP_FUNC], trace))
        if on_entry:
            del exc.frames[:1]
    return exc


__all__ = ["TRAP_MESSAGES", "is_recursion", "set_pending", "take_error"]
