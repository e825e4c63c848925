"""Globals: a typed, possibly mutable cell. Engines read and write ``raw``."""
from __future__ import annotations

from typing import Any

from .errors import Error
from .types import GlobalType, ValType
from .values import Raw, Val


class Global:
    __slots__ = ("type", "raw", "__weakref__", "native", "cell")

    def __init__(self, val: Val | GlobalType, mutable: bool = False, raw: Raw = None) -> None:
        if isinstance(val, GlobalType):
            self.type = val
            self.raw = raw
        else:
            if not isinstance(val, Val):
                raise Error("Global() takes a Val, e.g. Global(Val.i32(0), mutable=True)")
            self.type = GlobalType(val.type, bool(mutable))
            self.raw = val.raw
        self.native: Any = None  # the jit's cell (hooks.py)
        self.cell: Any = None  # the python engine's closure variable (hooks.py)

    @property
    def val(self) -> Val:
        """The exact value."""
        return Val.from_raw(self.type.valtype, self.raw)

    @val.setter
    def val(self, v: Val) -> None:
        if not self.type.mutable:
            raise Error("global is immutable")
        if v.type is not self.type.valtype:
            raise Error(f"expected a {self.type.valtype} value, got {v.type}")
        self.raw = v.raw

    @property
    def value(self) -> Any:
        """The Python value (signed int, float, reference)."""
        return self.val.value

    @value.setter
    def value(self, v: object) -> None:
        self.val = Val.from_python(self.type.valtype, v)

    def __repr__(self) -> str:
        return f"<Global {self.type} = {self.val!r}>"


class CellGlobal(Global):
    """A global the python engine keeps in a closure variable of its generated code (a
    global no other module can see): ``raw`` reads and writes that variable, so a
    snapshot or a tool sees the value the code sees. ``cell`` is (accessor, position):
    the accessor returns every cell's value, or sets them all when given values."""

    __slots__ = ()

    @property
    def raw(self) -> Raw:
        fn, pos = self.cell
        return fn()[pos]

    @raw.setter
    def raw(self, value: Raw) -> None:
        fn, pos = self.cell
        values = list(fn())
        values[pos] = value
        fn(*values)


def bind_cells(globals_: list[Global], indices: tuple[int, ...], accessor: Any) -> None:
    """Make the globals at ``indices`` read and write the generated code's closure
    variables through ``accessor`` (see CellGlobal); called by a translated file's
    ``_make`` (runtime interface 5)."""
    for pos, index in enumerate(indices):
        g = globals_[index]
        g.cell = (accessor, pos)
        g.__class__ = CellGlobal


__all__ = ["Global", "CellGlobal", "bind_cells", "ValType"]
