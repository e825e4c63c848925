"""Tables: growable vectors of references (raw: a Func or None for funcref, any object or
None for externref)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .checks import whole
from .errors import TABLE_OOB, ArgumentError, Error, Trap
from .limits import MAX_TABLE_SIZE
from .types import MAX_TABLE64, Limits, TableType, ValType, address_type

if TYPE_CHECKING:
    from .resources import Account

OOB = TABLE_OOB
_min = min  # Table.__init__ takes parameters named min and max, as the spec does


class Table:
    __slots__ = ("type", "elements", "max", "__weakref__", "native", "_account")

    """A table; ``address="i64"`` makes a memory64 table (i64 element indices)."""

    def __init__(self, elem: ValType | str | TableType = "funcref", min: int = 0,
                 max: int | None = None, init: object = None,
                 address: str | ValType = "i32") -> None:
        if isinstance(elem, TableType):
            t = elem
        else:
            et = ValType.parse(elem)
            if not et.is_ref:
                raise Error(f"a table holds references, not {et}")
            at = address_type(address)
            top = MAX_TABLE64 if at is ValType.I64 else 0xFFFFFFFF
            whole(min, "a table's minimum (elements)")
            if max is not None:
                whole(max, "a table's maximum (elements)")
            if min < 0 or (max is not None and max < min) or min > top or (
                    max is not None and max > top):
                raise ArgumentError(f"invalid table limits: min {min}, max {max} "
                                    f"(min <= max <= {top})")
            t = TableType(et, Limits(min, max), at)
        self.type = t
        self.max = MAX_TABLE_SIZE if t.limits.max is None else _min(t.limits.max, MAX_TABLE_SIZE)
        if t.limits.min > MAX_TABLE_SIZE:
            raise Error(f"table of {t.limits.min} elements exceeds the limit of {MAX_TABLE_SIZE}")
        self.elements: list[Any] = [init] * t.limits.min
        self.native: Any = None  # the jit's mirror, kept in step by grow/set/sync (hooks.py)
        # The instance's resources.Account that charges its growth.
        self._account: Account | None = None

    @property
    def size(self) -> int:
        return len(self.elements)

    def grow(self, delta: int, init: object = None) -> int:
        """Grow by ``delta`` entries set to ``init``; the old size, or -1 if it cannot grow."""
        whole(delta, "the elements to grow by")
        old = len(self.elements)
        if delta < 0 or old + delta > self.max:
            return -1
        if delta and self._account is not None and not self._account.grow_table(delta):
            return -1
        self.elements.extend([init] * delta)
        if self.native is not None:
            self.native.grown(self, old)
        return old

    def get(self, index: int) -> object:
        whole(index, "a table index")
        if not 0 <= index < len(self.elements):
            raise Trap(OOB)
        return self.elements[index]

    def set(self, index: int, value: object) -> None:
        whole(index, "a table index")
        if not 0 <= index < len(self.elements):
            raise Trap(OOB)
        self.elements[index] = value
        if self.native is not None:
            self.native.changed(self, index, 1)

    def sync(self, start: int, n: int) -> None:
        """Bring the native mirror (if any) up to date after ``elements[start:start + n]``
        were written directly (bulk operations, segments)."""
        if self.native is not None and n:
            self.native.changed(self, start, n)

    def __len__(self) -> int:
        return len(self.elements)

    def __repr__(self) -> str:
        return f"<Table {self.type.elem} size {len(self.elements)}>"



