"""Functions: the engine-neutral callable every engine exports and imports.

A Func wraps a *raw* callable that takes raw arguments positionally and returns None
(no results), one raw value, or a tuple (several results); see values.py for the raw
representation. Engines call ``raw`` directly (hooks.py lists what engines keep on a
Func); Python code calls the Func itself (Python values) or ``invoke`` (exact ``Val``s).
"""
from __future__ import annotations

import os as _os
import sys
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from .backtrace import recursion_exhaustion
from .errors import ArgumentError, ArgumentTypeError, Error, Exhaustion, Trap
from .gcobj import I31, HostAny, any_from_python, heap_test
from .types import DefType, FuncType, HeapType, ValType, close_types
from .values import Raw, Val, f32_round

_I32, _I64, _F32, _F64, _V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128


class HostError(Exception):
    """Internal carrier for an exception raised by a host function, so engines can unwind
    the wasm stack and hand the original exception back to whoever called into wasm."""

    def __init__(self, original: BaseException):
        super().__init__(original)
        self.original = original


def _to_raw(t: ValType, v: object) -> Raw:
    """A Python value as a raw value of type t (host results, arguments from Python)."""
    if isinstance(v, Val):
        if v.type is not t:
            if not (t.is_ref and v.type.rep is t.rep):
                raise ArgumentTypeError(f"expected {t}, got {v.type}")
            v = v.raw
        else:
            return v.raw
    if t is _I32 or t is _I64:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ArgumentTypeError(f"expected an int for {t}, got {type(v).__name__}")
        bits = 32 if t is _I32 else 64
        if not -(1 << (bits - 1)) <= v < (1 << bits):
            raise ArgumentError(f"{v} does not fit in {t}")
        return v & ((1 << bits) - 1)
    if t is _F32 or t is _F64:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ArgumentTypeError(f"expected a float for {t}, got {type(v).__name__}")
        return f32_round(float(v)) if t is _F32 else float(v)
    if t is _V128:
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < (1 << 128):
            raise ArgumentTypeError("expected an unsigned 128-bit int for v128")
        return v
    if t.rep is ValType.ANYREF:
        v = any_from_python(v)
    if t.rep is ValType.FUNCREF and v is not None and not isinstance(v, Func):
        raise ArgumentTypeError(f"expected a Func or None for funcref, got {type(v).__name__}")
    if t is not ValType.FUNCREF and t is not ValType.EXTERNREF and not ref_fits(t, v):
        raise ArgumentTypeError(f"expected {t}, got {type_name(v)}"
                                + ("" if v is None else f" of type {getattr(v, 'type', '?')}"))
    return v


def ref_fits(t: ValType, ref: object) -> bool:
    """Whether the reference ``ref`` (None, a Func, a host object) is a value of type ``t``."""
    if ref is None:
        return bool(t.nullable)
    h = t.heap
    if h is HeapType.NOFUNC or h is HeapType.NOEXTERN:
        return False
    if t.rep is ValType.FUNCREF:
        if not isinstance(ref, Func):
            return False
        return h is HeapType.FUNC or func_matches(ref, h)
    if t.rep is ValType.ANYREF:
        return heap_test(ref, h)
    return True


def func_deftype(f: Func) -> DefType:
    """The DefType of a function: its declared one (a module's type, maybe with
    supertypes or in a rec group), else that of its FuncType alone (final, no supertypes)."""
    d = f.deftype
    if d is None:
        d = f.deftype = close_types([f.type])[0]
    return d


def func_matches(f: Func, d: DefType) -> bool:
    """Whether function ``f`` is of defined type ``d`` (call_indirect's check, casts)."""
    fd = f.deftype
    if fd is None:
        fd = func_deftype(f)
    return fd is d or d in fd.supers_closure()


def type_name(v: object) -> str:
    return "None" if v is None else type(v).__name__


def _from_raw(t: ValType, raw: Raw) -> Any:
    """A raw value as the Python value users see (signed ints, floats, references; in
    the any hierarchy an i31 as its int and an internalized host value as itself)."""
    if t is _I32:
        return raw - 0x100000000 if raw & 0x80000000 else raw
    if t is _I64:
        return raw - 0x10000000000000000 if raw & 0x8000000000000000 else raw
    if t.rep is ValType.ANYREF and raw is not None:
        c = raw.__class__
        if c is I31:
            return raw.value
        if c is HostAny:
            return raw.obj
    return raw



class Func:
    """A WebAssembly function. ``Func(fn, FuncType(params, results))`` makes a host function
    from a Python callable; ``f(*args)`` calls with Python values; ``f.invoke(vals)`` with
    exact Vals. ``f.type`` is its FuncType."""

    __slots__ = ("type", "raw", "name", "host", "owner", "__weakref__", "native", "deftype")

    def __init__(self, fn: Callable[..., Any], type: FuncType, name: str | None = None,
                 _where: str | None = None) -> None:
        if not isinstance(type, FuncType):
            raise ArgumentTypeError("Func(fn, type) needs a FuncType")
        if not callable(fn):
            raise ArgumentTypeError("Func(fn, type) needs a callable")
        self.type = type
        self.name = name or getattr(fn, "__name__", "host")
        self.host: Callable[..., Any] | None = fn
        self.owner: object = None
        self.native: Any = None
        self.deftype: Any = None  # its DefType when not the plain one of ``type`` (GC)
        # _where: how errors name it (the import it was made for, when linking made it)
        self.raw = _host_wrapper(fn, type, _where or repr(self.name))

    @classmethod
    def from_raw(cls, raw: Callable[..., Any], type: FuncType, name: str,
                 owner: object = None) -> "Func":
        """A Func around an engine's raw callable (no conversions; see hooks.py)."""
        f = cls.__new__(cls)
        f.type = type
        f.raw = raw
        f.name = name
        f.host = None
        f.owner = owner
        f.native = None
        f.deftype = None
        return f

    def __call__(self, *args: Any) -> Any:
        t = self.type
        if len(args) != len(t.params):
            raise ArgumentTypeError(f"{self.name} takes {len(t.params)} arguments ({t}), "
                                    f"got {len(args)}")
        raw = [_to_raw(p, a) for p, a in zip(t.params, args)]
        out = _call(self, raw)
        rs = t.results
        if not rs:
            return None
        if len(rs) == 1:
            return _from_raw(rs[0], out)
        return tuple(_from_raw(r, v) for r, v in zip(rs, out))

    def invoke(self, vals: list[Val]) -> list[Val]:
        """Call with exact values; returns the results as a list of Vals."""
        t = self.type
        if len(vals) != len(t.params):
            raise ArgumentTypeError(f"{self.name} takes {len(t.params)} arguments ({t}), "
                                    f"got {len(vals)}")
        raw = []
        for p, v in zip(t.params, vals):
            if not isinstance(v, Val) or v.type is not p and not (
                    p.is_ref and v.type.rep is p.rep and ref_fits(p, v.raw)):
                raise ArgumentTypeError(f"{self.name} expects {t}, got {vals}")
            raw.append(v.raw)
        out = _call(self, raw)
        rs = t.results
        if not rs:
            return []
        if len(rs) == 1:
            return [Val.from_raw(rs[0], out)]
        return [Val.from_raw(r, v) for r, v in zip(rs, out)]

    def __repr__(self) -> str:
        return f"<Func {self.name} {self.type}>"


def _call(f: Func, raw: list[Raw]) -> Any:
    """Enter wasm from Python: host exceptions come back as themselves; a Python stack
    overflow becomes Exhaustion, with the wasm backtrace of the generated code (engine
    "python") it went through."""
    try:
        return f.raw(*raw)
    except HostError as e:
        raise e.original.with_traceback(e.original.__traceback__) from None
    except RecursionError as e:
        raise recursion_exhaustion(e.__traceback__, sys._getframe()) from None


def exhaustion(e: RecursionError, frame: FrameType | None = None) -> Exhaustion:
    """The Exhaustion for Python's recursion limit caught in ``frame`` (default: the
    caller's): the wasm frames are the generated functions (engine "python") it unwound
    and those still above ``frame``, innermost first, as other engines give."""
    return recursion_exhaustion(e.__traceback__, frame or sys._getframe(1))


# fayasm's own code: runtime/ (this folder), fayasm/ and translator/ beside it, and the
# code it generates ("<fayasm python: ...>", "<fayasm jit ...>").
_HERE = _os.path.dirname(_os.path.abspath(__file__))
_OWN = (_HERE + _os.sep, _os.path.join(_os.path.dirname(_HERE), "fayasm") + _os.sep,
        _os.path.join(_os.path.dirname(_HERE), "translator") + _os.sep, "<fayasm")


def _through_wasm(tb: TracebackType | None) -> bool:
    """Whether an exception that unwound to a host wrapper (``tb`` starting at its frame)
    came through fayasm's code below the host function: a call back into wasm."""
    tb = tb.tb_next if tb is not None else None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(_OWN):
            return True
        tb = tb.tb_next
    return False


def _host_wrapper(fn: Callable[..., Any], type: FuncType, where: str) -> Callable[..., Any]:
    params, results = type.params, type.results
    n = len(results)

    def bad(e: Error) -> Error:
        return Error(f"host function {where} returned a bad result for {type}: {e}")

    def raw(*args: Raw) -> Any:
        try:
            out = fn(*[_from_raw(p, a) for p, a in zip(params, args)])
        except (Error, HostError):
            raise
        except RecursionError as e:
            # Python's stack ran out in a call back into wasm: the guest's recursion, its
            # Exhaustion. Raised by the host's own code: back to the caller unchanged.
            if _through_wasm(e.__traceback__):
                raise
            raise HostError(e) from None
        except BaseException as e:  # noqa: BLE001 - handed back to the caller intact
            raise HostError(e) from None
        if n == 0:
            return None
        if n == 1:
            if isinstance(out, (tuple, list)) and len(out) == 1:
                out = out[0]
            try:
                return _to_raw(results[0], out)
            except Error as e:
                raise bad(e) from None
        if not isinstance(out, (tuple, list)) or len(out) != n:
            got = f"{len(out)} values" if isinstance(out, (tuple, list)) else type_name(out)
            raise bad(Error(f"expected {n} values, got {got}"))
        try:
            return tuple(_to_raw(r, v) for r, v in zip(results, out))
        except Error as e:
            raise bad(e) from None

    return raw


__all__ = ["Func", "HostError", "Trap"]
