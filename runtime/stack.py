"""The call stack of each thread, as the interpreter and the python engine count it.

Two bounds, both per thread. The *depth*: every wasm frame costs stack units by its size
(``limits.frame_units``), and a frame may not end above the depth limit of its instance
(``limits.MAX_CALL_DEPTH``, lowered by ``ResourceLimits(max_stack=)``), so deep recursion
with big frames is bounded in memory as well as in calls. The *entries*: wasm frames of
these engines cost no C stack (CPython 3.11+ runs Python-to-Python calls without
recursing in C), but every entry into wasm from a host function does (about 1.8 KiB
of C stack each, see scripts/stack_bounds.py), so a thread allows as many nested entries
as its C stack holds (``max_entries``), with room to spare for the host's own code. Past
either bound the guest gets Exhaustion, never a crash. The jit bounds its native frames
by their real addresses (translator/llvm) and counts depth the same way.

``THREAD.cell`` is the calling thread's state, a list (one thread-local lookup, then
list indexing, on the paths that run per entry and per host call): ``cell[DEPTH]`` is
where the next entry starts (the depth of the wasm frame that called out to a host
function, set by the call; an entry puts back what it found, so it is 0 when no wasm
runs on the thread), ``cell[ENTRIES]`` the entries in progress and
``cell[MAX_ENTRIES]`` how many the thread's C stack allows. The jit's host calls set the
depth too (and put it back), so an entry from a host function the jit called continues
the jit's depth; the jit's own entries continue its own count (its thread block).
"""
from __future__ import annotations

import ctypes
import resource
import threading

from .limits import ENTRY_BYTES, STACK_RESERVE

_DEFAULT_STACK = 8 << 20  # when the platform cannot say (glibc's default for threads)


class _Attr(ctypes.Structure):
    _fields_ = [("opaque", ctypes.c_char * 128)]  # pthread_attr_t (56 bytes on glibc)


def _pthread_stack_size() -> int:
    """The calling thread's stack size from pthread_getattr_np (0 if unavailable). For
    the main thread glibc derives it from RLIMIT_STACK and the mappings below it."""
    try:
        libc = ctypes.CDLL(None)
        self_ = libc.pthread_self
        self_.restype = ctypes.c_ulong
        self_.argtypes = []
        attr = _Attr()
        addr, size = ctypes.c_void_p(), ctypes.c_size_t()
        if libc.pthread_getattr_np(ctypes.c_ulong(self_()), ctypes.byref(attr)) != 0:
            return 0
        try:
            if libc.pthread_attr_getstack(ctypes.byref(attr), ctypes.byref(addr),
                                          ctypes.byref(size)) != 0:
                return 0
        finally:
            libc.pthread_attr_destroy(ctypes.byref(attr))
        return int(size.value)
    except (AttributeError, OSError, TypeError):
        return 0


def thread_stack_size() -> int:
    """Bytes of C stack the calling thread has: pthread_getattr_np where it exists; else
    RLIMIT_STACK for the main thread and threading.stack_size() (or the platform default)
    for the others."""
    size = _pthread_stack_size()
    if size:
        return size
    if threading.current_thread() is threading.main_thread():
        soft = resource.getrlimit(resource.RLIMIT_STACK)[0]
        return soft if 0 < soft != resource.RLIM_INFINITY else _DEFAULT_STACK
    return threading.stack_size() or _DEFAULT_STACK


def entries_for(size: int) -> int:
    """Nested entries into wasm a C stack of ``size`` bytes allows: what is left after
    STACK_RESERVE (plus an eighth, for the host's code around them), ENTRY_BYTES each."""
    return max(1, (size - STACK_RESERVE - size // 8) // ENTRY_BYTES)


DEPTH, ENTRIES, MAX_ENTRIES = 0, 1, 2


class _Thread(threading.local):
    """One thread's count (a threading.local: made on the thread's first entry)."""

    def __init__(self) -> None:
        self.stack_size = thread_stack_size()
        self.cell = [0, 0, entries_for(self.stack_size)]


THREAD = _Thread()

__all__ = ["THREAD", "DEPTH", "ENTRIES", "MAX_ENTRIES", "thread_stack_size", "entries_for"]
