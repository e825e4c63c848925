"""Deterministic host imports for differential testing, the same on every engine.

Generated modules import a subset of ``HOST_FUNCS`` and ``HOST_GLOBALS`` from module
``env``; ``fayasm diff`` supplies them to any module that imports these names. Every call
a guest makes to a host function is recorded in a ``HostLog`` (name and arguments), and
the logs are compared between engines: they show the order and the arguments of calls.
``h_trap`` raises a trap for some arguments, so unwinding through host frames is tested.
``h_reenter`` calls back into the instance that called it (its export ``reenter``), up to
REENTER_DEPTH deep: wasm, host, wasm again, and traps unwinding through all of them.
Float arguments are logged as bits, except that an f32 NaN is logged only as "nan" (a
host on wasmtime receives f32 values through a C float, which may quiet them).
"""
from __future__ import annotations

import math
import struct

from fayasm.runtime.errors import Trap
from fayasm.runtime.func import Func
from fayasm.runtime.globals import Global
from fayasm.runtime.memory import Memory
from fayasm.runtime.table import Table
from fayasm.runtime.types import (
    ExternKind,
    FuncType,
    GlobalType,
    Limits,
    MemoryType,
    TableType,
    ValType,
)
from fayasm.runtime.values import Val

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64
EXTERNREF = ValType.EXTERNREF
HOST_MODULE = "env"
HOST_TRAP_MESSAGE = "host trap"

_M32, _M64 = 0xFFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF


def _s32(x: int) -> int:
    x &= _M32
    return x - (1 << 32) if x >> 31 else x


def _s64(x: int) -> int:
    x &= _M64
    return x - (1 << 64) if x >> 63 else x


# Implementations on Python values (signed ints, floats, reference objects).
def _h_i32(a, b):
    return _s32((a * 31 + b) ^ ((a & _M32) >> 3))


def _h_i64(a):
    u = a & _M64
    return _s64(((u << 7) | (u >> 57)) ^ 0x5DEECE66D)


def _h_f64(a, b):
    r = a * 0.5 + b
    return math.nan if r != r else r  # Python's nan is the canonical NaN


def _h_multi(a):
    return (_s64(a * 3), _s32(a ^ 0x55))


def _h_void(a, b):
    return None


def _h_ext(a):
    return None if a & 7 == 0 else a & 0xFF


def _h_extid(x):
    if x is None:
        return -1
    return x & 0xFFFF if isinstance(x, int) and not isinstance(x, bool) else 7


def _h_trap(a):
    if a % 13 == 5:
        raise HostTrap(HOST_TRAP_MESSAGE)
    return _s32(a + 1)


REENTER_EXPORT = "reenter"
REENTER_DEPTH = 3


def _h_reenter(a):  # without an instance to call back (see HostLog.reenter)
    return _s32(a ^ 0x5A)


class HostTrap(Exception):
    """Raised by ``h_trap``; each runner turns it into its engine's kind of trap."""


#: name -> (FuncType, implementation)
HOST_FUNCS: dict[str, tuple[FuncType, object]] = {
    "h_i32": (FuncType((I32, I32), (I32,)), _h_i32),
    "h_i64": (FuncType((I64,), (I64,)), _h_i64),
    "h_f64": (FuncType((F64, F32), (F64,)), _h_f64),
    "h_multi": (FuncType((I32,), (I64, I32)), _h_multi),
    "h_void": (FuncType((I32, I64), ()), _h_void),
    "h_ext": (FuncType((I32,), (EXTERNREF,)), _h_ext),
    "h_extid": (FuncType((EXTERNREF,), (I32,)), _h_extid),
    "h_trap": (FuncType((I32,), (I32,)), _h_trap),
    "h_reenter": (FuncType((I32,), (I32,)), _h_reenter),
}

#: name -> (GlobalType, initial Val)
HOST_GLOBALS: dict[str, tuple[GlobalType, Val]] = {
    "g_i32": (GlobalType(I32, False), Val.i32(42)),
    "g_f64": (GlobalType(F64, False), Val.f64(-1.5)),
    "g_mi64": (GlobalType(I64, True), Val.i64(7)),
    "g_mf32": (GlobalType(F32, True), Val.f32(0.25)),
    "g_ext": (GlobalType(EXTERNREF, False), Val.externref(3)),
}


#: The host's memory and table ("env" "memory", "env" "table"), fresh for each instance.
HOST_MEMORY = MemoryType(Limits(1, 4))
HOST_TABLE = TableType(ValType.FUNCREF, Limits(4, 16))


def log_arg(t: ValType, v):
    """An argument as the log records it (see the module docstring)."""
    if t in (I32, I64):
        return v & (_M32 if t is I32 else _M64)
    if t is F32:
        return "nan" if v != v else struct.unpack("<I", struct.pack("<f", v))[0]
    if t is F64:
        return struct.unpack("<Q", struct.pack("<d", v))[0]
    return v if v is None or isinstance(v, (int, str)) else repr(v)


class HostLog(list):
    """The calls guests made to host functions: ``(name, (args...))``, in order. A runner
    sets ``call_back`` (a function calling the instance's ``reenter`` export with an int)
    once its instance exists."""

    call_back = None
    depth = 0

    def reenter(self, a):
        """``h_reenter``: call back into the instance while not too deep; returns one
        more than what the nested call returned."""
        if self.call_back is None or self.depth >= REENTER_DEPTH:
            return _h_reenter(a)
        self.depth += 1
        try:
            return _s32(self.call_back(a) + 1)
        finally:
            self.depth -= 1

    def recorder(self, name: str, ftype: FuncType, fn, raise_as=None):
        """``fn`` wrapped to log its calls; a HostTrap becomes ``raise_as(message)``."""
        params = ftype.params

        def call(*args):
            self.append((name, tuple(log_arg(t, a) for t, a in zip(params, args))))
            try:
                return fn(*args)
            except HostTrap as e:
                raise (raise_as or Trap)(str(e)) from None
        call.__name__ = name
        return call


def is_host_import(module: str, name: str, kind: ExternKind) -> bool:
    if module != HOST_MODULE:
        return False
    if kind is ExternKind.MEMORY:
        return name == "memory"
    if kind is ExternKind.TABLE:
        return name == "table"
    return name in (HOST_FUNCS if kind is ExternKind.FUNC else HOST_GLOBALS)


def fayasm_imports(module, log: HostLog) -> dict:
    """Fresh fayasm imports for ``module``: the host functions and globals it asks for from
    ``env``, and the spectest module if it imports that."""
    env: dict[str, Func | Memory | Table | Global] = {}
    other = {}
    for imp in module.imports:
        if imp.module == "spectest" and "spectest" not in other:
            from fayasm.spectest import spectest_imports

            other["spectest"] = spectest_imports()
        if not is_host_import(imp.module, imp.name, imp.kind):
            continue
        if imp.kind is ExternKind.FUNC:
            ftype, fn = HOST_FUNCS[imp.name]
            if imp.name == "h_reenter":
                fn = log.reenter
            env[imp.name] = Func(log.recorder(imp.name, ftype, fn), ftype, name=imp.name)
        elif imp.kind is ExternKind.MEMORY:
            env[imp.name] = Memory(HOST_MEMORY)
        elif imp.kind is ExternKind.TABLE:
            env[imp.name] = Table(HOST_TABLE)
        else:
            gtype, val = HOST_GLOBALS[imp.name]
            env[imp.name] = Global(val, mutable=gtype.mutable)
    out = {HOST_MODULE: env} if env else {}
    out.update(other)
    return out


__all__ = ["HOST_FUNCS", "HOST_GLOBALS", "HOST_MEMORY", "HOST_MODULE", "HOST_TABLE", "HostLog",
           "HostTrap", "REENTER_EXPORT", "fayasm_imports", "is_host_import", "log_arg"]
