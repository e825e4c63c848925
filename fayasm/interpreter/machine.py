"""The execution loop of the reference interpreter.

Calls between interpreted functions do not recurse in Python: the loop keeps its own
frame stack, counted in stack units (runtime/stack.py), so deep wasm recursion ends in
Exhaustion at the instance's depth limit, never in a RecursionError; an entry from a host
function continues the thread's depth and counts against its C stack. Each frame has its
own operand stack (a list) and locals (a list). A tail call replaces the running frame
and its units (the frame stack does not grow); a tail call to a host function calls it
from below the running frame, then returns its results from that frame.
"""
from __future__ import annotations

import struct

from fayasm.runtime import errors as E
from fayasm.runtime.budget import UNLIMITED, Budget
from fayasm.runtime.errors import Exhaustion, Trap
from fayasm.runtime.func import Func, func_matches
from fayasm.runtime.limits import MAX_CALL_DEPTH
from fayasm.runtime.stack import THREAD

from .code import (
    BIN,
    BIN_IMM,
    BR,
    BR_BACK,
    BR_IF,
    BR_IF_BACK,
    BR_ON_CAST,
    BR_ON_CAST_FAIL,
    BR_ON_NON_NULL,
    BR_ON_NULL,
    BR_TABLE,
    CALL,
    CALL_IND,
    CALL_REF,
    CONST,
    DROP,
    GGET,
    GSET,
    IF,
    JUMP,
    LGET,
    LOAD,
    LOADS,
    LOADU,
    LSET,
    LTEE,
    MISC,
    RETURN,
    SELECT,
    STORE,
    STOREX,
    TAIL_CALL,
    TAIL_CALL_IND,
    TERN,
    UN,
    UN_IMM,
    UNREACHABLE,
)


class Context:
    """The run-time state of one instance: its index spaces and segment instances."""

    __slots__ = ("funcs", "callees", "tables", "mems", "globals", "elems", "datas", "budget",
                 "name", "top")

    def __init__(self, name: str):
        self.name = name
        self.funcs: list[Func] = []
        self.callees: list = []  # per function index: a Code (interpreted here) or a Func
        self.tables: list = []
        self.mems: list = []
        self.globals: list = []
        self.elems: list = []
        self.datas: list = []
        self.budget = Budget()
        # The depth limit plus one: a frame whose end (its depth plus its units) passes
        # it exhausts the stack.
        self.top = MAX_CALL_DEPTH + 1


class Code:
    """A function of an instance: its prepared template bound to the instance's context."""

    __slots__ = ("code", "zeros", "nparams", "nresults", "type", "name", "ctx", "units", "top")

    def __init__(self, template, ctx: Context):
        self.units = template.units
        self.top = ctx.top
        self.code = template.code
        self.zeros = template.zeros
        self.nparams = template.nparams
        self.nresults = template.nresults
        self.type = template.type
        self.name = template.name
        self.ctx = ctx


def _oob_trap():
    return Trap(E.MEM_OOB)


def execute(entry: Code, args: list) -> list:
    """Run ``entry`` on raw ``args``; return its raw results. The entry continues the
    thread's depth (that of the wasm frame that called the host function calling in)."""
    st = THREAD.cell  # [depth, entries, max entries] (runtime/stack.py)
    n = st[1]
    if n >= st[2]:
        raise Exhaustion()  # the thread's C stack holds no more nested entries
    base = st[0]
    st[1] = n + 1
    try:
        return _run(entry, args, base + entry.units, st)
    finally:
        st[1] = n
        st[0] = base


def _run(entry: Code, args: list, d: int, st: list) -> list:
    """The loop; ``d`` is the depth at the end of the running frame, ``st`` the thread's
    stack cell."""
    frames: list = []
    cur = entry
    code = cur.code
    ctx = cur.ctx
    L = list(args) + cur.zeros
    s: list = []
    pc = 0
    budget = ctx.budget
    metered = budget.metered
    if metered:
        budget.begin()  # the entry costs a unit; nested entries share the chunk
        tick = budget.tick
    else:
        tick = UNLIMITED
    if d > entry.top:  # after the unit, as the other engines charge it
        if metered:
            budget.end()
        raise Exhaustion()
    try:
        while True:
            k, a, b, c = code[pc]
            pc += 1
            if k == LGET:
                s.append(L[a])
            elif k == CONST:
                s.append(a)
            elif k == BIN:
                y = s.pop()
                s[-1] = a(s[-1], y)
            elif k == LSET:
                L[a] = s.pop()
            elif k == LTEE:
                L[a] = s[-1]
            elif k == BR_IF:
                if s.pop():
                    pc, h, n = a
                    if n:
                        if len(s) != h + n:
                            s[h:] = s[-n:]
                    else:
                        del s[h:]
            elif k == LOADU:
                s[-1] = a(ctx.mems[0].view, s[-1] + b)[0]
            elif k == STORE:
                v = s.pop()
                a(ctx.mems[0].view, s.pop() + b, v & c)
            elif k == BR:
                pc, h, n = a
                if n:
                    if len(s) != h + n:
                        s[h:] = s[-n:]
                else:
                    del s[h:]
            elif k == UN:
                s[-1] = a(s[-1])
            elif k == IF:
                if not s.pop():
                    pc = a
            elif k == JUMP:
                pc = a[0]
            elif k == BR_IF_BACK:
                if s.pop():
                    pc, h, n = a
                    if n:
                        if len(s) != h + n:
                            s[h:] = s[-n:]
                    else:
                        del s[h:]
                    tick -= 1
                    if tick < 0:
                        tick = budget.take() - 1
            elif k == BR_BACK:
                pc, h, n = a
                if n:
                    if len(s) != h + n:
                        s[h:] = s[-n:]
                else:
                    del s[h:]
                tick -= 1
                if tick < 0:
                    tick = budget.take() - 1
            elif k == GGET:
                s.append(ctx.globals[a].raw)
            elif k == GSET:
                ctx.globals[a].raw = s.pop()
            elif k == CALL or k == CALL_IND or k == CALL_REF:
                if k == CALL:
                    callee = ctx.callees[a]
                elif k == CALL_REF:
                    f = s.pop()
                    if f is None:
                        raise Trap(E.NULL_FUNC_REF)
                    callee = f.owner if type(f.owner) is Code else f
                else:
                    i = s.pop()
                    elems = ctx.tables[b].elements
                    if i >= len(elems):
                        raise Trap(f"{E.UNDEFINED_ELEMENT} {i}", "undefined_element")
                    f = elems[i]
                    if f is None:
                        raise Trap(f"{E.UNINITIALIZED_ELEMENT} {i}", "uninitialized_element")
                    if f.deftype is not a and not func_matches(f, a):
                        raise Trap(E.TYPE_MISMATCH)
                    callee = f.owner if type(f.owner) is Code else f
                tick -= 1
                if tick < 0:
                    tick = budget.take() - 1
                if type(callee) is Code:
                    nd = d + callee.units
                    if nd > callee.top:
                        raise Exhaustion()
                    d = nd
                    n = callee.nparams
                    if n:
                        args = s[-n:]
                        del s[-n:]
                        args += callee.zeros
                    else:
                        args = callee.zeros[:]
                    frames.append((code, pc, s, L, cur))
                    cur = callee
                    code = cur.code
                    if cur.ctx is not ctx:
                        ctx = cur.ctx
                    L = args
                    s = []
                    pc = 0
                else:
                    n = len(callee.type.params)
                    if n:
                        args = s[-n:]
                        del s[-n:]
                    else:
                        args = ()
                    st[0] = d  # where an entry the callee makes starts
                    if metered:
                        budget.tick = tick  # the callee may re-enter this instance
                        out = callee.raw(*args)
                        tick = budget.tick
                    else:
                        out = callee.raw(*args)
                    nr = len(callee.type.results)
                    if nr == 1:
                        s.append(out)
                    elif nr:
                        s.extend(out)
            elif k == RETURN:
                n = cur.nresults
                if not frames:
                    return s[len(s) - n:] if n else []
                res = s[len(s) - n:] if n else None
                d -= cur.units
                code, pc, s, L, cur = frames.pop()
                ctx = cur.ctx
                if res:
                    s += res
            elif k == SELECT:
                cond = s.pop()
                y = s.pop()
                if not cond:
                    s[-1] = y
            elif k == DROP:
                s.pop()
            elif k == LOADS:
                s[-1] = a(ctx.mems[0].view, s[-1] + b)[0] & c
            elif k == BR_TABLE:
                i = s.pop()
                here = pc
                pc, h, n = a[i] if i < len(a) - 1 else a[-1]
                if n:
                    if len(s) != h + n:
                        s[h:] = s[-n:]
                else:
                    del s[h:]
                if pc < here:  # back to a loop
                    tick -= 1
                    if tick < 0:
                        tick = budget.take() - 1
            elif k == LOAD:
                s[-1] = a(ctx.mems[0].view, s[-1] + b)
            elif k == STOREX:
                v = s.pop()
                a(ctx.mems[0].view, s.pop() + b, v)
            elif k == MISC:
                if metered:  # bulk operations charge fuel through the Budget
                    budget.tick = tick
                    a(ctx, s, b, c)
                    tick = budget.tick
                else:
                    a(ctx, s, b, c)
            elif k == UN_IMM:
                s[-1] = a(s[-1], b)
            elif k == BIN_IMM:
                y = s.pop()
                s[-1] = a(s[-1], y, b)
            elif k == TERN:
                z = s.pop()
                y = s.pop()
                s[-1] = a(s[-1], y, z)
            elif k == UNREACHABLE:
                raise Trap(E.UNREACHABLE)
            elif k == TAIL_CALL or k == TAIL_CALL_IND:
                if k == TAIL_CALL:
                    callee = ctx.callees[a]
                elif b is None:  # return_call_ref
                    f = s.pop()
                    if f is None:
                        raise Trap(E.NULL_FUNC_REF)
                    callee = f.owner if type(f.owner) is Code else f
                else:
                    callee = _table_callee(ctx, b, a, s.pop())
                tick -= 1
                if tick < 0:
                    tick = budget.take() - 1
                if type(callee) is Code:
                    nd = d - cur.units + callee.units  # the callee's frame replaces this
                    if nd > callee.top:
                        raise Exhaustion()
                    d = nd
                    n = callee.nparams
                    if n:
                        args = s[-n:]
                        args += callee.zeros
                    else:
                        args = callee.zeros[:]
                    cur = callee  # the running frame becomes the callee's
                    code = cur.code
                    if cur.ctx is not ctx:
                        ctx = cur.ctx
                    L = args
                    s = []
                    pc = 0
                else:
                    n = len(callee.type.params)
                    args = s[-n:] if n else ()
                    d -= cur.units  # this frame is gone: the host is called from below
                    st[0] = d  # where an entry the callee makes starts
                    if metered:
                        budget.tick = tick
                        out = callee.raw(*args)
                        tick = budget.tick
                    else:
                        out = callee.raw(*args)
                    nr = len(callee.type.results)
                    res = [out] if nr == 1 else list(out) if nr else []
                    if not frames:
                        return res
                    code, pc, s, L, cur = frames.pop()
                    ctx = cur.ctx
                    s += res
            elif k == BR_ON_NULL or k == BR_ON_NON_NULL:
                if (s[-1] is None) == (k == BR_ON_NULL):
                    if k == BR_ON_NULL:
                        s.pop()
                    here = pc
                    pc, h, n = a
                    if n:
                        if len(s) != h + n:
                            s[h:] = s[-n:]
                    else:
                        del s[h:]
                    if pc < here:  # back to a loop
                        tick -= 1
                        if tick < 0:
                            tick = budget.take() - 1
                elif k == BR_ON_NON_NULL:
                    s.pop()
            elif k == BR_ON_CAST or k == BR_ON_CAST_FAIL:
                if b(s[-1]) == (k == BR_ON_CAST):
                    here = pc
                    pc, h, n = a
                    if len(s) != h + n:
                        s[h:] = s[-n:]
                    if pc < here:  # back to a loop
                        tick -= 1
                        if tick < 0:
                            tick = budget.take() - 1
            else:  # pragma: no cover - prepare() emits no other kind
                raise AssertionError(f"unknown instruction kind {k}")
    except Trap as e:
        _backtrace(e, cur, frames)
        raise
    except (struct.error, IndexError):
        # Loads and stores rely on the buffer's own bounds check: an address past the end
        # of memory (or 2^32 and beyond) fails inside struct or memoryview indexing.
        e = _oob_trap()
        _backtrace(e, cur, frames)
        raise e from None
    except RecursionError:
        e = Exhaustion()
        _backtrace(e, cur, frames)
        raise e from None
    finally:
        if metered:
            budget.tick = tick
            budget.end()


def _table_callee(ctx: Context, table: int, ftype, i: int):
    """The callee of a return_call_indirect at table index ``i``, checked as call_indirect
    checks it: this instance's Code, or another engine's or a host's Func."""
    elems = ctx.tables[table].elements
    if i >= len(elems):
        raise Trap(f"{E.UNDEFINED_ELEMENT} {i}", "undefined_element")
    f = elems[i]
    if f is None:
        raise Trap(f"{E.UNINITIALIZED_ELEMENT} {i}", "uninitialized_element")
    if f.deftype is not ftype and not func_matches(f, ftype):
        raise Trap(E.TYPE_MISMATCH)
    return f.owner if type(f.owner) is Code else f


def _backtrace(e: Trap, cur: Code, frames: list) -> None:
    e.add_frame(cur.name)
    for frame in reversed(frames):
        e.add_frame(frame[4].name)
