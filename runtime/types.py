"""WebAssembly types (value, function, limits, table, memory, global), shared by every layer."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .errors import ArgumentError


class ValType(Enum):
    """A value type; ``str()`` gives its text name."""

    I32 = "i32"
    I64 = "i64"
    F32 = "f32"
    F64 = "f64"
    V128 = "v128"
    FUNCREF = "funcref"
    EXTERNREF = "externref"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return self.value

    @property
    def code(self) -> int:
        """The type's byte in the binary format."""
        return _CODES[self]

    @property
    def is_num(self) -> bool:
        return self in _NUM

    @property
    def is_ref(self) -> bool:
        return self is ValType.FUNCREF or self is ValType.EXTERNREF

    @classmethod
    def parse(cls, name: "str | ValType") -> "ValType":
        """Accept a ValType or its text name ('i32', 'funcref', ...)."""
        if isinstance(name, ValType):
            return name
        try:
            return cls(name)
        except ValueError:
            raise ArgumentError(f"unknown value type {name!r}") from None

    @classmethod
    def from_code(cls, code: int) -> "ValType | None":
        return _FROM_CODE.get(code)


I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128
FUNCREF, EXTERNREF = ValType.FUNCREF, ValType.EXTERNREF

_CODES = {I32: 0x7F, I64: 0x7E, F32: 0x7D, F64: 0x7C, V128: 0x7B, FUNCREF: 0x70, EXTERNREF: 0x6F}
_FROM_CODE = {v: k for k, v in _CODES.items()}
_NUM = frozenset((I32, I64, F32, F64))


@dataclass(frozen=True, slots=True)
class FuncType:
    """A function type: parameter and result types."""

    params: tuple[ValType, ...] = ()
    results: tuple[ValType, ...] = ()

    def __post_init__(self) -> None:
        # Accept lists and names for convenience; store tuples of ValType.
        object.__setattr__(self, "params", tuple(ValType.parse(t) for t in self.params))
        object.__setattr__(self, "results", tuple(ValType.parse(t) for t in self.results))

    def __str__(self) -> str:
        ps = ", ".join(map(str, self.params))
        rs = ", ".join(map(str, self.results))
        return f"({ps}) -> ({rs})"


@dataclass(frozen=True, slots=True)
class Limits:
    min: int
    max: int | None = None

    def __str__(self) -> str:
        return f"{self.min}" if self.max is None else f"{self.min} {self.max}"

    def matches(self, other: "Limits") -> bool:
        """Import subtyping: self (actual) matches other (expected)."""
        if self.min < other.min:
            return False
        if other.max is None:
            return True
        return self.max is not None and self.max <= other.max


@dataclass(frozen=True, slots=True)
class TableType:
    elem: ValType
    limits: Limits

    def __str__(self) -> str:
        return f"table {self.limits} {self.elem}"


@dataclass(frozen=True, slots=True)
class MemoryType:
    limits: Limits

    def __str__(self) -> str:
        return f"memory {self.limits}"


@dataclass(frozen=True, slots=True)
class GlobalType:
    valtype: ValType
    mutable: bool = False

    def __str__(self) -> str:
        return f"(mut {self.valtype})" if self.mutable else str(self.valtype)


class ExternKind(Enum):
    """The four kinds of importable and exportable entities, valued by their binary code."""

    FUNC = 0
    TABLE = 1
    MEMORY = 2
    GLOBAL = 3

    def __str__(self) -> str:
        return self.name.lower()


PAGE_SIZE = 65536
MAX_PAGES = 65536  # 4 GiB of 32-bit address space
