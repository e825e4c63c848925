"""Reference values in native form, and the registries that map them back.

A funcref is the address of a function record (types.REC_*): for a function of a JIT
instance the record lives in its instance context; any other Func gets a host record on
first use, whose code is its signature's trampoline and whose handle names it to the
host-call callback. An externref is the object's id().

Funcs and instances are held weakly: whatever native code can reach is held by a Python
object too (tables by their element lists, globals by their cells' shadows, imports by
the importing instance, the function being called by its caller). Externref objects are
held for the life of the process (an id says nothing about lifetime). An ``any``
reference is a word of gcheap.py, whose collector drops what native code cannot name.
"""
from __future__ import annotations

import ctypes
import threading
import weakref

from fayasm.runtime.errors import Error
from fayasm.runtime.func import Func
from fayasm.runtime.types import FuncType, ValType

from . import glue
from . import types as T
from .argbuffers import host_codec
from .gcheap import any_object, any_word
from .process import STATE, state
from .typeids import typeid
from .types import S

_ANYREF = ValType.ANYREF
RECORDS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # record -> Func
_EXTERNS: dict[int, object] = {}  # id -> object
# handle -> (weakref to the Func, unpack, pack): what the host-call callback calls
HOSTS: dict[int, tuple] = {}
_next_handle = [1]
_CODECS: dict[FuncType, tuple] = {}
_LOCK = threading.RLock()  # threads could race to make the same host record


class NativeRef:
    """What a Func's ``native`` holds: its record's address (and what keeps it alive)."""

    __slots__ = ("addr", "keep")

    def __init__(self, addr: int, keep):
        self.addr, self.keep = addr, keep


def func_record(f) -> int:
    """The record address of Func ``f`` (0 for None), made on first use."""
    if f is None:
        return 0
    nat = f.native
    if nat is not None:
        return nat.addr
    if not isinstance(f, Func):
        raise Error(f"expected a Func, got {type(f).__name__}")
    with _LOCK:
        if f.native is not None:  # another thread made it meanwhile
            return f.native.addr
        code = glue.trampoline(f.type)
        handle = _next_handle[0]
        _next_handle[0] += 1
        codec = _CODECS.get(f.type)
        if codec is None:
            codec = _CODECS[f.type] = host_codec(f.type, to_word, from_word)
        HOSTS[handle] = (weakref.ref(f, lambda _, h=handle: HOSTS.pop(h, None)), *codec)
        block = (ctypes.c_uint64 * 6)()
        addr = ctypes.addressof(block)
        block[T.REC_CODE] = code
        block[T.REC_CTX] = addr + 8 * T.REC_WORDS  # the host block: how code tells hosts
        block[T.REC_TYPE] = typeid(f.type)
        block[4] = STATE
        block[5] = handle
        RECORDS[addr] = f
        f.native = NativeRef(addr, block)
        return addr


def record_func(addr):
    if not addr:
        return None
    f = RECORDS.get(addr)
    if f is None:
        raise Error(f"jit: function reference {addr:#x} to a function that no longer exists")
    return f


def extern_handle(obj) -> int:
    if obj is None:
        return 0
    h = id(obj)
    _EXTERNS[h] = obj
    return h


def extern_object(h):
    if not h:
        return None
    return _EXTERNS[h]


# Empty funcref table slots point here rather than hold 0: call_indirect then needs one
# type check (id 0 matches no signature), and tells "uninitialized" apart only on failure.
_null_rec = (ctypes.c_uint64 * 4)()
NULL_REC = ctypes.addressof(_null_rec)
state[S.NULL_REC] = NULL_REC


def to_word(t: ValType, raw) -> int:
    """A raw reference as its native word."""
    rep = t.rep
    if rep is ValType.FUNCREF:
        return func_record(raw)
    if rep is _ANYREF:
        return any_word(raw)
    return extern_handle(raw)


def table_word(t: ValType, raw) -> int:
    """A table element as its word in the native mirror."""
    if t.rep is ValType.FUNCREF:
        return func_record(raw) if raw is not None else NULL_REC
    if t.rep is _ANYREF:
        return any_word(raw)
    return extern_handle(raw)


def from_word(t: ValType, w: int):
    w &= 0xFFFFFFFFFFFFFFFF
    if t.rep is ValType.FUNCREF:
        return record_func(w)
    if t.rep is _ANYREF:
        return any_object(w)
    return extern_object(w)


__all__ = ["RECORDS", "NativeRef", "func_record", "HOSTS", "record_func", "extern_handle",
           "extern_object", "NULL_REC", "to_word", "table_word", "from_word"]
