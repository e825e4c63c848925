"""Globals: a typed, possibly mutable cell. Engines read and write ``raw``."""
from __future__ import annotations

from typing import Any

from .errors import Error
from .types import GlobalType, ValType
from .values import Raw, Val


class Global:
    __slots__ = ("type", "raw", "__weakref__", "native")

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


__all__ = ["Global", "ValType"]
