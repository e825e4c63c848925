"""The callbacks native code makes into Python: host calls (a host function's record
reached from wasm) and runtime operations (growing and changing tables, memories and
globals, refuelling, compiling a lazy function, naming a thread's block), and the
registries of live instances those operations find by context address.

An instance that dies while native code runs has its native memory kept until no native
call is in progress (``retire``).
"""
from __future__ import annotations

import ctypes
import sys
import weakref

from fayasm.runtime.errors import Exhaustion
from fayasm.runtime.stack import THREAD as STACK

from . import gcheap, gcrun
from . import types as T
from .gcrun import gc_call
from .process import state
from .references import HOSTS
from .threads import python_depth, thread_block
from .traps import set_pending
from .types import TB, S

HOST_CALL = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int64, ctypes.c_void_p)
RT_CALL = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


_HEADROOM = 150  # Python frames kept free below the recursion limit


def _host_call(handle, buf):
    tb = None
    try:
        tb = thread_block()
        n = tb.nest = tb.nest + 1
        # An entry into the interpreter or the python engine from this host function
        # continues the jit's depth (runtime/stack.py).
        st = STACK.cell
        saved = st[0]
        st[0] = tb.words[TB.DEPTH]
        try:
            # Recursion through the host: stop at a clean point, well before Python's
            # recursion limit would hit a callback as it starts (ctypes could only print
            # it). C-level calls count towards the limit too, hence twice the frames.
            if n & 3 == 0 and 2 * python_depth() > sys.getrecursionlimit() - _HEADROOM:
                raise Exhaustion()
            ref, unpack, pack = HOSTS[handle]
            func = ref()
            budget = tb.budget
            if budget is None:
                out = func.raw(*unpack(buf))
            else:
                # The running chunk goes to the Budget while Python runs: a re-entry
                # into the instance continues it, and what it leaves comes back here.
                words = tb.words
                budget.tick = words[TB.FUEL]
                try:
                    out = func.raw(*unpack(buf))
                finally:
                    words[TB.FUEL] = budget.tick
            pack(buf, out)
        finally:
            tb.nest -= 1
            st[0] = saved
        return T.OK
    except BaseException as e:  # noqa: BLE001 - handed to the entry that unwinds
        # No function call here: at the recursion limit it would fail in turn
        # (take_error turns a RecursionError into Exhaustion).
        if tb is not None:
            tb.pending.append(e)
        return 0


_INSTANCES = weakref.WeakValueDictionary()  # ctx address -> engine.InstanceState
_LAZY = weakref.WeakValueDictionary()  # lazy block address -> engine.InstanceState


def live_instances() -> list:
    """The jit instances alive now (their engine states)."""
    return list(_INSTANCES.values())


gcheap.set_instances(live_instances)  # the collector's roots include their globals, tables
gcrun.set_registry(_INSTANCES)


def register_lazy(block: int, ist) -> None:
    _LAZY[block] = ist


def register_instance(ctx: int, ist, resources) -> None:
    """Track instance state ``ist`` (its context at ``ctx``); ``resources`` (its native
    memory and code) go to ``retire`` when it dies."""
    _INSTANCES[ctx] = ist
    weakref.finalize(ist, retire, resources)


_graveyard: list = []


def retire(resources) -> None:
    """An instance died: free its native memory and code, unless native code may still
    be running on some stack, on any thread (then keep it until a later retirement finds
    none)."""
    if state[S.ACTIVE]:
        _graveyard.append(resources)
    else:
        _graveyard.clear()


def _runtime_call(op, ctx, args):
    block = None
    try:
        # Not jit code while it runs (guard.py), as for a host call's trampoline.
        block = thread_block().words
        block[TB.HOST] += 1
        if op > 0xFF:  # a GC operation (gc.py): the commonest, so the first test
            gc_call(op, ctx, args)
        elif op == T.RT_THREAD:
            thread_block().install()  # the key is unset on this thread: name its block
        elif op == T.RT_COMPILE:
            ist = _LAZY[ctx]
            ist.code.compile(ist.lazy_index(ctx))
        elif op == T.RT_REFUEL:
            # The countdown is below zero: by one after a call or a loop, by more after
            # a bulk operation (Budget.charge).
            tb = thread_block()
            budget = tb.budget
            fuel = tb.words[TB.FUEL]
            while fuel < 0:
                fuel += budget.take() if budget is not None else 1 << 62
            tb.words[TB.FUEL] = fuel
        else:
            words = (ctypes.c_int64 * 6).from_address(args)
            _INSTANCES[ctx].runtime_op(op, words)
        return T.OK
    except BaseException as e:  # noqa: BLE001
        set_pending(e)
        return 0
    finally:
        if block is not None:
            block[TB.HOST] -= 1


_host_call_cb = HOST_CALL(_host_call)
_runtime_call_cb = RT_CALL(_runtime_call)
state[S.HOST_CALL] = ctypes.cast(_host_call_cb, ctypes.c_void_p).value
state[S.RT_CALL] = ctypes.cast(_runtime_call_cb, ctypes.c_void_p).value

__all__ = ["live_instances", "register_lazy", "register_instance", "retire"]
