"""GC references in native code: words naming the runtime's shared GC objects, and the
collector that lets the jit drop the objects no native frame can still name.

An ``any``-hierarchy reference is one word: 0 is null, an odd word is an i31 value
(``value << 1 | 1``, so ref.i31, i31.get and ref.eq are native and allocate nothing), and
any other word is the ``id()`` of a ``runtime.gcobj`` object (a Struct, an Array, a
HostAny) held in ``HEAP``. Native code never reads an object's memory: field and element
accesses call back into Python (gcrun.py), so an object is the same one on every engine.

``HEAP`` holds the objects whose words native code may still have. Words live in jit
frames (locals, operand slots, spilled registers) and in the native mirrors of globals
and tables; the latter mirror Python objects (Global, Table) that hold the objects
themselves. So every ``COLLECT_EVERY`` new words an allocation collects: it scans the
thread's native stack from the GC stub's frame (whose jmp_buf holds the callee-saved
registers) to the stack's top conservatively, adds the objects the jit instances'
reference globals and tables hold, and keeps only those in ``HEAP``; CPython then frees
the rest (reference counts, and its cycle collector for cycles). A stale word left in a
dead stack slot only keeps an object a little longer. Collection waits while another
thread is inside an entry (its stack is not scanned).
"""
from __future__ import annotations

import ctypes
import threading
from array import array

from fayasm.runtime.errors import Error
from fayasm.runtime.gcobj import I31, Struct
from fayasm.runtime.types import ValType

from .process import state
from .threads import BLOCKS, thread_block
from .types import TB, S

HEAP: dict[int, object] = {}  # word -> object

# Where a Struct's or an Array's items are (a list's ob_item and ob_size), for native
# reads and writes of numeric fields (gc.py); checked below, else every access calls back.
LIST_SIZE, LIST_ITEMS = 16, 24
COLLECT_EVERY = 50_000  # new words between collections (at least)
_M64 = 0xFFFFFFFFFFFFFFFF
_ANY = ValType.ANYREF


class _Stats:
    __slots__ = ("threshold", "collections", "skipped")

    def __init__(self) -> None:
        self.threshold = COLLECT_EVERY
        self.collections = 0
        self.skipped = 0


STATS = _Stats()


def any_word(v: object) -> int:
    """The word of the raw ``any`` reference ``v`` (registered in HEAP)."""
    if v is None:
        return 0
    if v.__class__ is I31:
        return ((v.value & 0x7FFFFFFF) << 1) | 1
    h = id(v)
    HEAP[h] = v
    return h


def any_object(w: int) -> object:
    """The raw ``any`` reference of word ``w``."""
    w &= _M64
    if not w:
        return None
    if w & 1:
        v = (w >> 1) & 0x7FFFFFFF
        return I31(((v ^ 0x40000000) - 0x40000000))
    try:
        return HEAP[w]
    except KeyError:
        raise Error(f"jit: GC reference {w:#x} to an object that was collected") from None


# -- the collector --------------------------------------------------------------------------
class _Attr(ctypes.Structure):
    _fields_ = [("opaque", ctypes.c_char * 128)]


_libc = ctypes.CDLL(None)
_self = _libc.pthread_self
_self.restype = ctypes.c_ulong
_self.argtypes = []
_local = threading.local()


def _stack_top() -> int:
    """The highest address of the calling thread's stack (0 if unknown)."""
    top = getattr(_local, "top", None)
    if top is None:
        top = 0
        try:
            attr = _Attr()
            addr, size = ctypes.c_void_p(), ctypes.c_size_t()
            self_ = ctypes.c_ulong(_self())
            if _libc.pthread_getattr_np(self_, ctypes.byref(attr)) == 0:
                if _libc.pthread_attr_getstack(ctypes.byref(attr), ctypes.byref(addr),
                                               ctypes.byref(size)) == 0:
                    top = (addr.value or 0) + size.value
                _libc.pthread_attr_destroy(ctypes.byref(attr))
        except (AttributeError, OSError):
            top = 0
        _local.top = top
    return top


def _others_inside(blocks, mine) -> bool:
    return any(b is not mine and b.words[TB.JMPBUF] for b in list(blocks))


def maybe_collect(sp: int) -> None:
    """Called by an allocation (``sp``: the GC stub's jmp_buf): collect when HEAP has
    grown by the threshold since the last collection."""
    if len(HEAP) >= STATS.threshold:
        collect(sp)


def _no_instances() -> list:
    return []


# The live jit instances (callbacks.py sets it: it owns their registry).
live_instances = _no_instances


def set_instances(f) -> None:
    global live_instances
    live_instances = f


def collect(sp: int) -> None:
    top = _stack_top()
    if not top or not sp or sp >= top or _others_inside(BLOCKS, thread_block()):
        STATS.skipped += 1
        STATS.threshold = 2 * len(HEAP) + COLLECT_EVERY
        return
    sp &= ~7
    words = array("Q")
    words.frombytes(ctypes.string_at(sp, top - sp))
    live = HEAP.keys() & set(words)
    keep = {h: HEAP[h] for h in live}
    for ist in live_instances():
        for g in ist.globals or ():
            if g.type.valtype.rep is _ANY:
                v = g.raw
                if v is not None and v.__class__ is not I31:
                    keep[id(v)] = v
        for t in ist.tables or ():
            if t.type.elem.rep is _ANY:
                for v in t.elements:
                    if v is not None and v.__class__ is not I31:
                        keep[id(v)] = v
    HEAP.clear()
    HEAP.update(keep)
    STATS.collections += 1
    STATS.threshold = 2 * len(HEAP) + COLLECT_EVERY


def _native_layout() -> bool:
    """Whether lists have the layout native code assumes (CPython 3.11-3.13, 64-bit)."""
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        return False
    mark = object()
    probe = Struct([mark, mark])
    items = ctypes.c_void_p.from_address(id(probe) + LIST_ITEMS).value or 0
    size = ctypes.c_ssize_t.from_address(id(probe) + LIST_SIZE).value
    return items != 0 and size == 2 and ctypes.c_void_p.from_address(items).value == id(mark)


NATIVE_FIELDS = _native_layout()
_api = ctypes.pythonapi
for _word, _fn in ((S.PY_AS_U64, _api.PyLong_AsUnsignedLongLongMask),
                   (S.PY_FROM_U64, _api.PyLong_FromUnsignedLongLong),
                   (S.PY_DECREF, _api.Py_DecRef), (S.PY_AS_DOUBLE, _api.PyFloat_AsDouble),
                   (S.PY_FROM_DOUBLE, _api.PyFloat_FromDouble), (S.PY_INCREF, _api.Py_IncRef),
                   (S.PY_DICT_SET, _api.PyDict_SetItem), (S.PY_FROM_PTR, _api.PyLong_FromVoidPtr),
                   (S.PY_ERR_CLEAR, _api.PyErr_Clear)):
    state[_word] = ctypes.cast(_fn, ctypes.c_void_p).value or 0
state[S.PY_NONE] = id(None)
state[S.I31_TYPE] = id(I31)
state[S.HEAP] = id(HEAP)  # never rebound: collect() clears and refills it


__all__ = ["NATIVE_FIELDS", "LIST_SIZE", "LIST_ITEMS", "HEAP", "STATS", "set_instances",
           "any_word", "any_object", "maybe_collect", "collect"]
