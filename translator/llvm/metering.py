"""Metering: a metered instance's raw callables, which hand the running fuel chunk
between the Budget (while Python runs) and native code (the state's FUEL word)."""
from __future__ import annotations

from .threads import thread_block
from .types import TB


def metered(call, budget):
    """Wrap a raw callable of a metered instance as the other engines do (Budget.begin:
    the entry costs a unit, nested entries continue the running chunk): native code
    counts the chunk down (in the state's FUEL word, parked in the thread block's while
    Python runs), and the Budget holds it while Python code (a host function, another
    instance) runs."""

    def raw(*args):
        budget.begin()
        tb = thread_block()
        words = tb.words
        saved, prev = words[TB.FUEL], tb.budget
        words[TB.FUEL] = budget.tick
        tb.budget = budget
        try:
            return call(*args)
        finally:
            budget.tick = words[TB.FUEL]
            words[TB.FUEL] = saved
            tb.budget = prev
            budget.end()
    return raw


def stack_limited(call, base: int):
    """Wrap a raw callable of an instance with a lower depth limit (ResourceLimits
    max_stack): its native code compares depths with MAX_CALL_DEPTH, so an entry starts
    ``base`` (MAX_CALL_DEPTH minus its limit) deep, or deeper if it re-enters."""

    def raw(*args):
        words = thread_block().words
        prev = words[TB.DEPTH]
        if prev < base:
            words[TB.DEPTH] = base
        try:
            return call(*args)
        finally:
            words[TB.DEPTH] = prev
    return raw


def enter(f) -> None:
    """What ``metered`` and ``stack_limited`` do before the call, for the native
    ``__call__`` of a Func ``f`` of a metered or stack-limited instance (pyentry.py);
    ``leave(f)`` undoes it after the call, trap or not. What they put back is kept on the
    thread's block (``saved``), innermost last, as calls nest."""
    ist = f.owner
    budget, base = ist.budget, ist.stack_base
    tb = thread_block()
    words = tb.words
    if budget is not None:
        budget.begin()  # may trap (no fuel, an interrupt): nothing to put back then
        tb.saved.append((words[TB.FUEL], tb.budget))
        words[TB.FUEL] = budget.tick
        tb.budget = budget
    if base:
        prev = words[TB.DEPTH]
        tb.saved.append(prev)
        if prev < base:
            words[TB.DEPTH] = base


def leave(f) -> None:
    """The matching exit of ``enter(f)``."""
    ist = f.owner
    budget = ist.budget
    tb = thread_block()
    words = tb.words
    if ist.stack_base:
        words[TB.DEPTH] = tb.saved.pop()
    if budget is not None:
        saved, prev = tb.saved.pop()
        budget.tick = words[TB.FUEL]
        words[TB.FUEL] = saved
        tb.budget = prev
        budget.end()


__all__ = ["metered", "stack_limited", "enter", "leave"]
