"""The operand-stack primitives validation shares (function bodies, GC instructions): the
appendix's pop_vals and the error wording of a mismatch."""
from __future__ import annotations

from fayasm.runtime.types import matches


class Invalid(Exception):
    """A validation failure; whoever knows the function and instruction adds them."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _types_text(ts) -> str:
    return "[" + " ".join("_" if t is None else str(t) for t in ts) + "]"


def _mismatch(expected, got) -> Invalid:
    return Invalid(f"type mismatch: instruction requires {_types_text(expected)}"
                   f" but stack has {_types_text(got)}")


def pop_types(stack: list, base: int, unreach: bool, expected) -> None:
    """Pop ``expected`` (listed bottom first) off ``stack``, like the appendix's pop_vals:
    below the frame's ``base`` an unreachable frame supplies the bottom type."""
    n = len(expected)
    top = len(stack)
    k = top - base
    if k >= n:
        k = n
    elif not unreach:
        raise _mismatch(expected, stack[base:])
    start = top - k
    for j in range(k):
        actual = stack[start + j]
        want = expected[n - k + j]
        if actual is not want and actual is not None and not matches(actual, want):
            raise _mismatch(expected, stack[start:])
    del stack[start:]


def _pop_ref(stack: list, base: int, unreach: bool):
    """Pop a reference operand (None: the bottom type, in unreachable code)."""
    if len(stack) > base:
        t = stack.pop()
        if t is not None and not t.is_ref:
            raise Invalid(f"type mismatch: instruction requires a reference, stack has {t}")
        return t
    if unreach:
        return None
    raise Invalid("type mismatch: instruction requires [ref] but stack has []")
