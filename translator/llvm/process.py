"""The process state (types.S): one block of words that every instance and thread of
the JIT shares, and the exception class an entry wrapper raises to report a trap.

Native code holds the GIL (entries are called through ctypes PYFUNCTYPE prototypes), so
only one thread runs native code at a time, and a thread can lose the GIL only inside a
callback. While it runs, the state's CUR word is its thread block (threads.py) and the
FUEL word its fuel countdown: entries set them, and every native call out to Python parks
the countdown in the block and sets both back when the callback returns (other threads
may have run native code meanwhile). That is why nothing on the Python side saves or
restores native state: Python code can lose the GIL at any point, even before its first
line runs.

Who fills which word: this module the pthread key (TLS_KEY), SIGNAL and SET_ERR;
callbacks.py HOST_CALL and RT_CALL; references.py NULL_REC. engine.py imports all three
before any native code can run.
"""
from __future__ import annotations

import ctypes

from fayasm.runtime.errors import Error

from .types import S

# Stack kept free below the limit native code checks: for host callbacks (Python frames)
# and the frames a function uses before its check.
STACK_MARGIN = 512 * 1024
# Stack above that limit an entry from a host function that wasm called (a re-entry)
# needs, or the entry is Exhaustion at the host call (stubs.entry): recursion through the
# host ends at an entry, as on the other engines, not in whichever frame checks next.
ENTRY_RESERVE = 64 * 1024


class Signal(Exception):
    """What an entry wrapper raises (through PyErr_SetNone) when a trap or a Python
    exception unwound native code to it; ``traps.take_error()`` gives the real exception."""


state = (ctypes.c_int64 * S.WORDS)()
STATE = ctypes.addressof(state)

libc = ctypes.CDLL(None)


def _init_state() -> None:
    key = ctypes.c_uint()
    if libc.pthread_key_create(ctypes.byref(key), None) != 0:
        raise Error("jit: pthread_key_create failed")
    state[S.TLS_KEY] = key.value
    state[S.SIGNAL] = id(Signal)
    state[S.SET_ERR] = ctypes.cast(ctypes.pythonapi.PyErr_SetNone, ctypes.c_void_p).value


_init_state()

__all__ = ["Signal", "state", "STATE", "STACK_MARGIN", "ENTRY_RESERVE", "libc"]
