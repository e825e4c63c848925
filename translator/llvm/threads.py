"""Thread blocks: every thread that enters native code gets one of its own (types.TB:
its jmp_buf, stack limit, depth, fuel countdown and trap record), which the value of the
process state's pthread key names on that thread.

The Python side reads and writes only the calling thread's own block
(``thread_block()``), which also holds its pending exceptions and metering. Any number of
threads may call the same instance (see process.py for why only one runs native code at
a time).
"""
from __future__ import annotations

import ctypes
import sys
import threading
import weakref
from types import FrameType

from fayasm.runtime.errors import Error

from .process import STACK_MARGIN, libc, state
from .types import TB, S


class _Attr(ctypes.Structure):
    _fields_ = [("opaque", ctypes.c_char * 128)]


_pthread_self = libc.pthread_self
_pthread_self.restype = ctypes.c_ulong
_pthread_self.argtypes = []
_setspecific = libc.pthread_setspecific
_setspecific.argtypes = [ctypes.c_uint, ctypes.c_void_p]
_setspecific.restype = ctypes.c_int
_getspecific = libc.pthread_getspecific
_getspecific.argtypes = [ctypes.c_uint]
_getspecific.restype = ctypes.c_void_p


def _stack_low() -> int:
    """The lowest address of the calling thread's stack (0 if unknown)."""
    low = 0
    try:
        attr = _Attr()
        addr, size = ctypes.c_void_p(), ctypes.c_size_t()
        if libc.pthread_getattr_np(ctypes.c_ulong(_pthread_self()), ctypes.byref(attr)) == 0:
            if libc.pthread_attr_getstack(ctypes.byref(attr), ctypes.byref(addr),
                                          ctypes.byref(size)) == 0:
                low = addr.value or 0
            libc.pthread_attr_destroy(ctypes.byref(attr))
    except (AttributeError, OSError):
        low = 0
    return low


def python_depth() -> int:
    """Python frames on this thread's stack."""
    n = 0
    f: FrameType | None = sys._getframe()
    while f is not None:
        n += 1
        f = f.f_back
    return n


class ThreadBlock:
    """One thread's block (types.TB, ``words``), and the Python side's own per-thread
    state: exceptions waiting for the entry that unwinds (``pending``), the Budget of
    the innermost metered entry, host calls in progress (``nest``)."""

    __slots__ = ("words", "addr", "pending", "budget", "nest", "saved", "exn_payload",
                 "__weakref__")

    def __init__(self):
        self.words = (ctypes.c_int64 * TB.WORDS)()
        self.addr = ctypes.addressof(self.words)
        self.pending: list[BaseException] = []
        self.budget = None
        self.nest = 0
        self.saved: list = []  # what metering.enter put back on leave, innermost last
        self.exn_payload = None  # the payload a catch is reading (exceptions.rt_catch)
        low = _stack_low()
        self.words[TB.STACK_LIMIT] = low + STACK_MARGIN if low else 0
        self.install()
        BLOCKS.add(self)

    def install(self) -> None:
        """Make the pthread key name this block on the calling thread."""
        if _setspecific(state[S.TLS_KEY], self.addr) != 0:
            raise Error("jit: pthread_setspecific failed")

    def __del__(self):
        # The thread's Python state is going away (its thread-local data with it): a
        # thread that is not ending (a foreign thread calling in through a callback gets
        # a fresh Python state each time) must not keep naming the freed block. Only if
        # the key names this very block here: a block kept alive past its thread (by a
        # traceback, say) may be collected on a later thread with the same pthread id.
        try:
            key = state[S.TLS_KEY]
            if _getspecific(key) == self.addr:
                _setspecific(key, None)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


# Every thread's block (gcheap: a collection waits while another thread is in an entry).
BLOCKS: weakref.WeakSet = weakref.WeakSet()

# Each thread's ThreadBlock, as ``local.tb``. traps.py reads it with a plain getattr:
# reporting an error must not make a block (a thread with none had no entry to unwind).
local = threading.local()


def thread_block() -> ThreadBlock:
    """The calling thread's block, made on first use (and named by the pthread key)."""
    try:
        return local.tb
    except AttributeError:
        tb = local.tb = ThreadBlock()
        return tb


__all__ = ["ThreadBlock", "thread_block", "local", "python_depth"]
