"""Wasm backtraces of the Python engine: the generated functions on the Python stack
(or unwound by a traceback), named through each generated module's ``_WASM_NAMES``."""
from __future__ import annotations

from types import FrameType, TracebackType

from .errors import Exhaustion


def backtrace(frame: FrameType | None) -> list[str]:
    """Names of the generated wasm functions on the Python stack, innermost first."""
    out = []
    while frame is not None:
        names = frame.f_globals.get("_WASM_NAMES")
        if names is not None:
            name = names.get(frame.f_code.co_name)
            if name is not None:
                out.append(name)
        frame = frame.f_back
    return out


def recursion_exhaustion(tb: TracebackType | None, frame: FrameType) -> Exhaustion:
    """The Exhaustion for a RecursionError caught in ``frame`` (an entry from Python) with
    traceback ``tb``: its backtrace is the generated functions it unwound, innermost
    first, then those still on the stack above ``frame`` (a host function calling in)."""
    unwound = []
    while tb is not None:
        unwound.append(tb.tb_frame)
        tb = tb.tb_next
    e = Exhaustion()
    for f in reversed(unwound):
        names = f.f_globals.get("_WASM_NAMES")
        name = names.get(f.f_code.co_name) if names is not None else None
        if name is not None:
            e.frames.append(name)
    e.frames.extend(backtrace(frame.f_back))
    return e


__all__ = ["backtrace", "recursion_exhaustion"]
