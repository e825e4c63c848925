"""Native mirrors of the engine-neutral runtime objects, so JIT code can use tables and
globals shared with instances of any engine.

Tables: a Table keeps its Python list of elements as the one truth; its ``native`` hook
(TableMirror) keeps a native array of the elements' native words in step (Table.grow and
Table.set call it, and so do the other engines and instantiation when they change
elements). JIT code reads the array; it changes tables only through the runtime.

Globals: the JIT adopts a Global by moving its value into a 16-byte native cell and
switching the object's class to NativeGlobal, whose ``raw`` property reads and writes the
cell. Globals no JIT instance touches keep the plain slot, so ``.raw`` stays as fast as
ever for the Python engines; an adopted one costs them a property call.
"""
from __future__ import annotations

import ctypes
import weakref

from fayasm.runtime.globals import Global
from fayasm.runtime.types import ValType
from fayasm.runtime.values import f32_from_bits, f32_to_bits

from . import references

_M64 = 0xFFFFFFFFFFFFFFFF


class TableMirror:
    """The native side of one Table: the elements array, and every instance context that
    holds a copy of {elements*, size} (the "sinks", updated when the table grows)."""

    __slots__ = ("array", "capacity", "kind", "size", "sinks", "__weakref__")

    def __init__(self, table):
        self.array = None
        self.capacity = 0
        self.size = 0
        self.kind = table.type.elem
        self.sinks: list = []
        self.grown(table, 0)

    def attach(self, ctx, off: int) -> None:
        """Keep words ``off`` and ``off + 1`` of context ``ctx`` up to date (held weakly:
        a context that died needs no updates)."""
        self.sinks.append((weakref.ref(ctx), off))
        ctx[off] = ctypes.addressof(self.array)
        ctx[off + 1] = self.size

    def grown(self, table, old: int) -> None:
        n = len(table.elements)
        if n > self.capacity or self.array is None:
            cap = max(n, 2 * self.capacity, 4)
            arr = (ctypes.c_uint64 * cap)()
            if self.array is not None and old:
                ctypes.memmove(arr, self.array, 8 * min(old, self.capacity))
            self.array = arr
            self.capacity = cap
        self.changed(table, old, n - old)
        self.size = n
        addr = ctypes.addressof(self.array)
        live = []
        for ref, off in self.sinks:
            ctx = ref()
            if ctx is not None:
                ctx[off] = addr
                ctx[off + 1] = n
                live.append((ref, off))
        self.sinks = live

    def changed(self, table, start: int, n: int) -> None:
        arr, elems, kind = self.array, table.elements, self.kind
        word = references.table_word
        for i in range(start, start + n):
            arr[i] = word(kind, elems[i])


def mirror(table) -> TableMirror:
    """The native mirror of ``table``, attached on first use."""
    m = table.native
    if m is None:
        m = table.native = TableMirror(table)
    return m


# -- globals -----------------------------------------------------------------------------------
_RAW_SLOT = Global.__dict__["raw"]  # the plain slot of an unadopted Global


class GlobalCell:
    """A 16-byte native cell holding a global's value; get/set convert raw values."""

    __slots__ = ("addr", "keep", "get", "set")

    def __init__(self, t: ValType, addr: int, keep):
        self.addr, self.keep = addr, keep
        if t is ValType.I32:
            c = ctypes.c_uint32.from_address(addr)
            self.get = lambda: c.value
            self.set = lambda v: setattr(c, "value", v)
        elif t is ValType.I64:
            c = ctypes.c_uint64.from_address(addr)
            self.get = lambda: c.value
            self.set = lambda v: setattr(c, "value", v)
        elif t is ValType.F32:
            c = ctypes.c_uint32.from_address(addr)
            self.get = lambda: f32_from_bits(c.value)
            self.set = lambda v: setattr(c, "value", f32_to_bits(v))
        elif t is ValType.F64:
            c = ctypes.c_double.from_address(addr)
            self.get = lambda: c.value
            self.set = lambda v: setattr(c, "value", v)
        elif t is ValType.V128:
            c = (ctypes.c_uint64 * 2).from_address(addr)

            def set_v128(v):
                c[0], c[1] = v & _M64, v >> 64
            self.get = lambda: c[0] | (c[1] << 64)
            self.set = set_v128
        else:
            # A reference: the cell holds its native word, the shadow the object itself
            # (what keeps it alive; wasm code writes reference globals through the
            # runtime, which comes here).
            c = ctypes.c_uint64.from_address(addr)
            shadow = [None]

            def set_ref(v):
                c.value = references.to_word(t, v)
                shadow[0] = v
            self.get = lambda: shadow[0] if c.value else None
            self.set = set_ref


class NativeGlobal(Global):
    """A Global whose value lives in a native cell (see the module docstring)."""

    __slots__ = ()

    @property
    def raw(self):
        return self.native.get()

    @raw.setter
    def raw(self, v) -> None:
        self.native.set(v)


def adopt(g: Global, addr: int | None = None, keep=None) -> int:
    """Move ``g``'s value into a native cell (at ``addr``, else a new one); the cell's
    address. A global already adopted keeps its cell."""
    if type(g) is NativeGlobal:
        return g.native.addr
    if addr is None:
        keep = (ctypes.c_uint64 * 2)()
        addr = ctypes.addressof(keep)
    value = _RAW_SLOT.__get__(g)
    cell = GlobalCell(g.type.valtype, addr, keep)
    cell.set(value)
    g.native = cell
    g.__class__ = NativeGlobal
    return addr


__all__ = ["TableMirror", "mirror", "NativeGlobal", "adopt", "GlobalCell"]
