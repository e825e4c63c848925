"""GC objects at run time (WebAssembly 3.0): structs, arrays, i31 values and host values
internalized into ``any``, shared by every engine so that an object keeps its identity
and type across instances and engines.

A struct or an array is a Python list of its fields' raw values (packed i8/i16 fields
stored as unsigned ints of their width) with its closed ``DefType`` in ``type``: one
object per allocation, collected by CPython (reference counts, and the cycle collector
for self-referencing objects). Equality is identity, as ``ref.eq`` says.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .types import BOT, DefType, HeapType, top_of


class Struct(list):
    """A struct: its fields' raw values in order; ``type`` is its DefType. Read fields
    from Python with ``fields`` (Python values); the list itself is the engines'."""

    __slots__ = ("type",)
    type: DefType
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Struct {self.type!r} at {id(self):#x}>"

    @property
    def fields(self) -> tuple:
        """The fields as Python values (packed fields unsigned, i32/i64 signed)."""
        return tuple(_python(f.storage, v) for f, v in zip(self.type.expand().fields, self))


class Array(list):
    """An array: its elements' raw values; ``type`` is its DefType. ``elements`` reads
    them as Python values."""

    __slots__ = ("type",)
    type: DefType
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Array {self.type!r} len={len(self)} at {id(self):#x}>"

    @property
    def elements(self) -> tuple:
        st = self.type.expand().field.storage
        return tuple(_python(st, v) for v in self)


def new_struct(t: DefType, values: list) -> Struct:
    s = Struct(values)
    s.type = t
    return s


def new_array(t: DefType, values: list) -> Array:
    a = Array(values)
    a.type = t
    return a


class I31:
    """An i31 reference: ``value`` is the signed 31-bit integer. Equal by value."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, I31) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("i31", self.value))

    def __repr__(self) -> str:
        return f"i31({self.value})"


def i31(x: int) -> I31:
    """``ref.i31`` of the raw i32 ``x``: its low 31 bits, sign-extended."""
    return I31(((x & 0x7FFFFFFF) ^ 0x40000000) - 0x40000000)


class HostAny:
    """A host (extern) value internalized into ``any`` by ``any.convert_extern``; equal
    when the host values are. It is no eq, struct, array or i31 value: casts to those fail."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HostAny) and bool(other.obj == self.obj)

    def __hash__(self) -> int:
        return id(self.obj)

    def __repr__(self) -> str:
        return f"host({self.obj!r})"


_GC = (Struct, Array, I31)


def internalize(v: Any) -> Any:
    """``any.convert_extern``: a GC value externalized before comes back as itself."""
    if v is None or v.__class__ in _GC:
        return v
    return HostAny(v)


def externalize(v: Any) -> Any:
    """``extern.convert_any``: an internalized host value is the host value again."""
    return v.obj if v.__class__ is HostAny else v


def ref_eq(a: Any, b: Any) -> int:
    if a is b:
        return 1
    return 1 if a.__class__ is I31 and a == b else 0


_ANY_EQ = (HeapType.ANY, HeapType.EQ)


def heap_test(v: Any, h: Any, func_deftype: Any = None) -> bool:
    """Whether the non-null reference ``v`` is of heap type ``h`` (closed). A function
    reference's DefType comes from ``func_deftype(v)``."""
    c = v.__class__
    if h is HeapType.EXTERN:
        return True  # every extern value, externalized GC objects too
    if c is Struct or c is Array:
        if h.__class__ is HeapType:
            return h in _ANY_EQ or h is (HeapType.STRUCT if c is Struct else HeapType.ARRAY)
        d = v.type
        return d is h or h in d.supers_closure()
    if c is I31:
        return h in _ANY_EQ or h is HeapType.I31
    top = top_of(h)
    if top is HeapType.EXTERN:
        return h is HeapType.EXTERN
    if top is HeapType.FUNC:
        if h is HeapType.FUNC:
            return True
        if h is HeapType.NOFUNC or func_deftype is None:
            return False
        d = func_deftype(v)
        return d is h or h in d.supers_closure()
    return h is HeapType.ANY  # an internalized host value


def make_test(rt: Any, func_deftype: Any = None) -> Callable[[Any], bool]:
    """A function ``v -> bool``: whether the raw reference ``v`` is of reference type
    ``rt`` (what ref.test, ref.cast and br_on_cast check)."""
    h = rt.heap
    nullable = bool(rt.nullable)
    if h is BOT or h is HeapType.NONE or h is HeapType.NOFUNC or h is HeapType.NOEXTERN:
        return lambda v: v is None and nullable
    if nullable:
        return lambda v: v is None or heap_test(v, h, func_deftype)
    return lambda v: v is not None and heap_test(v, h, func_deftype)


def any_from_python(v: Any) -> Any:
    """A Python value as a raw reference of the any hierarchy: None, a GC object as
    itself, an int in the i31 range as that i31 value, any other object internalized
    (what ``any.convert_extern`` makes of it)."""
    if v is None or v.__class__ in (Struct, Array, I31, HostAny):
        return v
    if v.__class__ is int and -(1 << 30) <= v < (1 << 30):
        return I31(v)
    return HostAny(v)


def _python(storage: Any, v: Any) -> Any:
    value = getattr(storage, "value", None)
    if value == "i32":
        return v - (1 << 32) if v >> 31 else v
    if value == "i64":
        return v - (1 << 64) if v >> 63 else v
    return v.value if v.__class__ is I31 else v


__all__ = ["Array", "HostAny", "I31", "Struct", "any_from_python", "externalize", "heap_test",
           "i31",
           "internalize", "make_test", "new_array", "new_struct", "ref_eq"]
