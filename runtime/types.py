"""WebAssembly types (value, function, limits, table, memory, global), shared by every layer."""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, ClassVar

from .errors import ArgumentError


class HeapType(Enum):
    """An abstract heap type, valued by its binary code. Each belongs to one hierarchy,
    named by its top (``func``, ``extern``); the bottom of a hierarchy (``nofunc``,
    ``noextern``) is a subtype of every heap type in it. GC adds ``any``/``eq``/``i31``/
    ``struct``/``array``/``none`` as members here and rows in ``_HIERARCHY``."""

    FUNC = 0x70
    EXTERN = 0x6F
    NOFUNC = 0x73
    NOEXTERN = 0x72
    EXN = 0x69  # exception handling: caught exceptions (exnref)
    NOEXN = 0x74

    def __str__(self) -> str:
        return self.name.lower()

    @property
    def top(self) -> "HeapType":
        return _HIERARCHY[self][0]

    @property
    def bottom(self) -> "HeapType":
        return _HIERARCHY[self][1]


# heap type -> (top, bottom) of its hierarchy
_HIERARCHY = {HeapType.FUNC: (HeapType.FUNC, HeapType.NOFUNC),
              HeapType.NOFUNC: (HeapType.FUNC, HeapType.NOFUNC),
              HeapType.EXTERN: (HeapType.EXTERN, HeapType.NOEXTERN),
              HeapType.NOEXTERN: (HeapType.EXTERN, HeapType.NOEXTERN),
              HeapType.EXN: (HeapType.EXN, HeapType.NOEXN),
              HeapType.NOEXN: (HeapType.EXN, HeapType.NOEXN)}


class _Bot:
    """The bottom heap type, which only validation of unreachable code sees: what
    ``ref.as_non_null`` of the polymorphic stack pushes is ``(ref bot)``, a subtype of
    every reference type (and of nothing else)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "bot"

    def __reduce__(self) -> str:
        return "BOT"


BOT = _Bot()


class RecRef:
    """Inside a rec group's own definition, a reference to its ``index``-th member (the
    spec's ``rec.i``): what makes a closed type finite though it may refer to itself."""

    __slots__ = ("index",)
    index: int
    _interned: ClassVar[dict] = {}

    def __new__(cls, index: int) -> "RecRef":
        r = cls._interned.get(index)
        if r is None:
            r = object.__new__(cls)
            r.index = index
            cls._interned[index] = r
        return r

    def __reduce__(self) -> tuple:
        return (RecRef, (self.index,))

    def __repr__(self) -> str:
        return f"rec.{self.index}"


class ValType:
    """A value type; ``str()`` gives its text name. Number and vector types and the two
    2.0 reference types are constants (``ValType.I32``, ``ValType.FUNCREF``...); every
    other reference type comes from ``ValType.ref(nullable, heap)``. All are interned, so
    ``is`` compares them. ``heap`` is a HeapType, a DefType (a closed concrete type:
    everything past the front end sees only these), a RecRef (inside a rec group's
    definition) or an int (a type index, only while a module is being read)."""

    __slots__ = ("value", "nullable", "heap", "rep", "_code", "__weakref__")
    value: str
    nullable: bool | None
    heap: Any  # None, a HeapType, DefType, RecRef, BOT or (while reading) an int
    rep: ValType
    _code: int | None
    I32: ClassVar[ValType]
    I64: ClassVar[ValType]
    F32: ClassVar[ValType]
    F64: ClassVar[ValType]
    V128: ClassVar[ValType]
    FUNCREF: ClassVar[ValType]
    EXTERNREF: ClassVar[ValType]
    NULLFUNCREF: ClassVar[ValType]
    NULLEXTERNREF: ClassVar[ValType]
    EXNREF: ClassVar[ValType]
    NULLEXNREF: ClassVar[ValType]
    _by_name: ClassVar[dict] = {}
    # Interned weakly: a module's types go when nothing uses them (hostile input may
    # name any number of them); while one lives, an equal one is that very object.
    _refs: ClassVar[weakref.WeakValueDictionary] = weakref.WeakValueDictionary()

    def __new__(cls, name: "str | ValType") -> "ValType":
        if isinstance(name, ValType):
            return name
        t = cls._by_name.get(name)
        if t is None:
            raise ValueError(f"{name!r} is not a ValType")
        return t

    @classmethod
    def _make(cls, name: str, code: int | None, nullable: bool | None = None,
              heap: Any = None) -> ValType:
        t = object.__new__(cls)
        t.value, t._code, t.nullable, t.heap = name, code, nullable, heap
        t.rep = t
        return t

    @classmethod
    def ref(cls, nullable: bool, heap: Any) -> ValType:
        """The reference type ``(ref null? heap)``."""
        key = (bool(nullable), heap)
        t = cls._refs.get(key)
        if t is None:
            t = cls._make(_ref_text(bool(nullable), heap), None, bool(nullable), heap)
            t.rep = _rep_of(heap)
            cls._refs[key] = t
        return t

    def __reduce__(self) -> tuple:
        if self.heap is None:
            return (ValType, (self.value,))
        return (_ref, (self.nullable, self.heap))

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return self.value

    def __copy__(self) -> ValType:
        return self

    def __deepcopy__(self, memo: object) -> ValType:
        return self

    @property
    def name(self) -> str:
        """As the Enum it once was named them (``I32``, ``FUNCREF``); other reference
        types by their text."""
        return self.value.upper() if self._code is not None else self.value

    @property
    def code(self) -> int:
        """The type's byte in the binary format (a reference type with no one-byte
        abbreviation has none: see ``binary.encode``)."""
        if self._code is None:
            raise ValueError(f"{self} has no one-byte code")
        return self._code

    @property
    def short_code(self) -> int | None:
        return self._code

    @property
    def is_num(self) -> bool:
        return self in _NUM

    @property
    def is_ref(self) -> bool:
        return self.heap is not None

    @property
    def defaultable(self) -> bool:
        """Whether a local of this type has a default value (non-null references have none)."""
        return self.heap is None or bool(self.nullable)

    @property
    def closed(self) -> bool:
        h = self.heap
        return not (h.__class__ is int or h.__class__ is RecRef)

    @classmethod
    def parse(cls, name: "str | ValType") -> "ValType":
        """Accept a ValType or its text name ('i32', 'funcref', ...)."""
        if isinstance(name, ValType):
            return name
        t = cls._by_name.get(name)
        if t is None:
            raise ArgumentError(f"unknown value type {name!r}")
        return t

    @classmethod
    def from_code(cls, code: int) -> "ValType | None":
        return _FROM_CODE.get(code)

    @classmethod
    def simple(cls) -> tuple:
        """The types named by one keyword (numbers, v128, the reference abbreviations)."""
        return tuple(cls._by_name.values())


def _ref(nullable: bool, heap: Any) -> ValType:
    return ValType.ref(nullable, heap)


def _ref_text(nullable: bool, heap: Any) -> str:
    if isinstance(heap, HeapType):
        h = str(heap)
    elif isinstance(heap, int):
        h = str(heap)
    else:
        h = heap.short() if isinstance(heap, DefType) else repr(heap)
    return f"(ref null {h})" if nullable else f"(ref {h})"


def _rep_of(heap: Any) -> ValType:
    """The 2.0 reference type whose representation a reference to ``heap`` shares (an
    exnref is an opaque Python object to every engine, as an externref is)."""
    if isinstance(heap, HeapType):
        return FUNCREF if heap.top is HeapType.FUNC else EXTERNREF
    return FUNCREF  # a defined type: a function type (GC: struct/array types get theirs)


I32 = ValType.I32 = ValType._make("i32", 0x7F)
I64 = ValType.I64 = ValType._make("i64", 0x7E)
F32 = ValType.F32 = ValType._make("f32", 0x7D)
F64 = ValType.F64 = ValType._make("f64", 0x7C)
V128 = ValType.V128 = ValType._make("v128", 0x7B)
FUNCREF = ValType.FUNCREF = ValType._make("funcref", 0x70, True, HeapType.FUNC)
EXTERNREF = ValType.EXTERNREF = ValType._make("externref", 0x6F, True, HeapType.EXTERN)
NULLFUNCREF = ValType.NULLFUNCREF = ValType._make("nullfuncref", 0x73, True, HeapType.NOFUNC)
NULLEXTERNREF = ValType.NULLEXTERNREF = ValType._make("nullexternref", 0x72, True,
                                                      HeapType.NOEXTERN)
EXNREF = ValType.EXNREF = ValType._make("exnref", 0x69, True, HeapType.EXN)
NULLEXNREF = ValType.NULLEXNREF = ValType._make("nullexnref", 0x74, True, HeapType.NOEXN)
for _t in (FUNCREF, EXTERNREF, NULLFUNCREF, NULLEXTERNREF, EXNREF, NULLEXNREF):
    ValType._refs[(True, _t.heap)] = _t  # held by the module: never collected
FUNCREF.rep = NULLFUNCREF.rep = FUNCREF
EXTERNREF.rep = NULLEXTERNREF.rep = EXNREF.rep = NULLEXNREF.rep = EXTERNREF
for _t in (I32, I64, F32, F64, V128, FUNCREF, EXTERNREF, NULLFUNCREF, NULLEXTERNREF, EXNREF,
           NULLEXNREF):
    ValType._by_name[_t.value] = _t

_FROM_CODE = {t._code: t for t in ValType._by_name.values()}
_NUM = frozenset((I32, I64, F32, F64))


def heap_matches(h1: Any, h2: Any) -> bool:
    """Heap subtyping on closed heap types: ``h1 <: h2``."""
    if h1 is h2 or h1 is BOT:
        return True
    if h2 is BOT:
        return False
    if h1.__class__ is HeapType:
        if h2.__class__ is HeapType:
            return h1 is h1.bottom and h2.top is h1.top
        return h1 is HeapType.NOFUNC  # the bottom of a defined type's hierarchy
    if h2.__class__ is HeapType:
        return h2 is HeapType.FUNC  # a defined (function) type is a subtype of func
    return h2 in h1.supers_closure()


def matches(t1: ValType | None, t2: ValType | None) -> bool:
    """Value subtyping on closed types: ``t1 <: t2`` (None is the bottom type of
    unreachable code, a subtype of everything)."""
    if t1 is t2 or t1 is None:
        return True
    if t1.heap is None or t2 is None or t2.heap is None:
        return False
    if t1.nullable and not t2.nullable:
        return False
    return heap_matches(t1.heap, t2.heap)


@dataclass(frozen=True, slots=True)
class FuncType:
    """A function type: parameter and result types."""

    params: tuple[ValType, ...] = ()
    results: tuple[ValType, ...] = ()

    def __post_init__(self) -> None:
        # Accept lists and names for convenience; store tuples of ValType.
        object.__setattr__(self, "params", tuple(ValType.parse(t) for t in self.params))
        object.__setattr__(self, "results", tuple(ValType.parse(t) for t in self.results))

    @property
    def closed(self) -> bool:
        """Whether no type index or RecRef is left in it."""
        return all(t.heap is None or t.closed for t in self.params + self.results)

    def __str__(self) -> str:
        ps = ", ".join(map(str, self.params))
        rs = ", ".join(map(str, self.results))
        return f"({ps}) -> ({rs})"


class SubType:
    """A type definition as a rec group holds it: ``final``, its declared supertypes
    (DefTypes) and its composite type (a FuncType; GC adds struct and array types),
    whose references to its own group are RecRefs. Interned."""

    __slots__ = ("final", "supers", "comp", "__weakref__")
    final: bool
    supers: tuple
    comp: FuncType
    _interned: ClassVar[weakref.WeakValueDictionary] = weakref.WeakValueDictionary()

    def __new__(cls, final: bool, supers: tuple, comp: FuncType) -> SubType:
        key = (bool(final), tuple(supers), comp)
        t = cls._interned.get(key)
        if t is None:
            t = object.__new__(cls)
            t.final, t.supers, t.comp = key
            cls._interned[key] = t
        return t

    def __reduce__(self) -> tuple:
        return (SubType, (self.final, self.supers, self.comp))


class RecGroup:
    """A recursion group: the unit of type equivalence (iso-recursive, as the spec's
    3.0 type system has it: two groups are the same type iff their members are equal
    with RecRefs inside and identical DefTypes outside). Interned, so ``is`` is type
    equivalence. A module without ``rec`` has one group per type."""

    __slots__ = ("types", "__weakref__")
    types: tuple
    _interned: ClassVar[weakref.WeakValueDictionary] = weakref.WeakValueDictionary()

    def __new__(cls, types: tuple) -> "RecGroup":
        types = tuple(types)
        g = cls._interned.get(types)
        if g is None:
            g = object.__new__(cls)
            g.types = types
            cls._interned[types] = g
        return g

    def __reduce__(self) -> tuple:
        return (RecGroup, (self.types,))


class DefType:
    """A closed defined type: member ``index`` of rec group ``group``. This is what a
    concrete heap type is after the front end (``(ref $t)`` holds one), equal across
    modules exactly when the spec's types are equivalent. Interned (``is`` compares);
    ``expand()`` is its composite type with its group's RecRefs replaced by DefTypes."""

    __slots__ = ("group", "index", "_expanded", "__weakref__")
    group: RecGroup
    index: int
    _expanded: FuncType | None
    _interned: ClassVar[weakref.WeakValueDictionary] = weakref.WeakValueDictionary()

    def __new__(cls, group: RecGroup, index: int) -> "DefType":
        key = (group, index)
        d = cls._interned.get(key)
        if d is None:
            d = object.__new__(cls)
            d.group, d.index, d._expanded = group, index, None
            cls._interned[key] = d
        return d

    def __reduce__(self) -> tuple:
        return (DefType, (self.group, self.index))

    @property
    def sub(self) -> SubType:
        return self.group.types[self.index]

    @property
    def kind(self) -> str:
        return "func"

    def expand(self) -> FuncType:
        e = self._expanded
        if e is None:
            g = self.group
            e = self._expanded = substitute(self.sub.comp, lambda r: DefType(g, r.index))
        return e

    def supers_closure(self) -> tuple:
        """Every declared supertype, transitively (empty without GC's ``sub``)."""
        out: list = []
        work = list(self.sub.supers)
        while work:
            d = work.pop()
            if d not in out:
                out.append(d)
                work.extend(d.sub.supers)
        return tuple(out)

    def short(self) -> str:
        ft = self.sub.comp
        return f"(func {' '.join(map(str, ft.params))} -> {' '.join(map(str, ft.results))})"

    def __repr__(self) -> str:
        return self.short()


def substitute(ft: FuncType, fn: Callable[[Any], Any]) -> FuncType:
    """``ft`` with every reference whose heap is a RecRef or an int replaced by ``fn(heap)``
    (a DefType); returns ``ft`` itself when nothing changes."""
    def sub(t: ValType) -> ValType:
        h = t.heap
        if h.__class__ is RecRef or h.__class__ is int:
            return ValType.ref(bool(t.nullable), fn(h))
        return t
    ps = tuple(sub(t) for t in ft.params)
    rs = tuple(sub(t) for t in ft.results)
    if ps == ft.params and rs == ft.results:
        return ft
    return FuncType(ps, rs)


def close_types(raw: list, groups: list | None = None,
                error: Callable[[str], Exception] = ValueError) -> list:
    """The DefTypes of a module's type section: ``raw`` holds its FuncTypes as read
    (concrete heap types as type indices), ``groups`` the (start, count) of each rec
    group (default: one group per type). A reference to a type not yet defined outside
    its own group raises ``error("unknown type N")``."""
    if groups is None:
        groups = [(k, 1) for k in range(len(raw))]
    out: list = []
    for start, count in groups:
        def local(h: Any, start: int = start, count: int = count) -> Any:
            if h.__class__ is not int:
                return h
            if h < start:
                return out[h]
            if h < start + count:
                return RecRef(h - start)
            raise error(f"unknown type {h}")
        members = []
        for k in range(start, start + count):
            ft = raw[k]
            if ft.closed:
                members.append(SubType(True, (), ft))
                continue
            members.append(SubType(True, (), substitute(ft, local)))
        g = RecGroup(tuple(members))
        out.extend(DefType(g, j) for j in range(count))
    return out


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
    """A table type; ``address`` is I64 for a memory64 table (i64 element indices)."""

    elem: ValType
    limits: Limits
    address: ValType = ValType.I32

    def __str__(self) -> str:
        at = "i64 " if self.address is ValType.I64 else ""
        return f"table {at}{self.limits} {self.elem}"

    def matches(self, other: "TableType") -> bool:
        """Import subtyping: self (actual) matches other (expected)."""
        return (self.elem is other.elem and self.address is other.address
                and self.limits.matches(other.limits))


@dataclass(frozen=True, slots=True)
class MemoryType:
    """A memory type; ``address`` is I64 for a memory64 memory (i64 addresses)."""

    limits: Limits
    address: ValType = ValType.I32

    def __str__(self) -> str:
        at = "i64 " if self.address is ValType.I64 else ""
        return f"memory {at}{self.limits}"

    def matches(self, other: "MemoryType") -> bool:
        """Import subtyping: self (actual) matches other (expected)."""
        return self.address is other.address and self.limits.matches(other.limits)


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
    TAG = 4  # exception handling

    def __str__(self) -> str:
        return self.name.lower()


PAGE_SIZE = 65536
MAX_PAGES = 65536  # 4 GiB of 32-bit address space


# -- types as text, for translated files ---------------------------------------------------
# A translated Python module rebuilds its module's DefTypes from their text (deftypes_from)
# and names a concrete reference by type index: "(ref null 3)".
_HEAP_NAMES = {str(h): h for h in HeapType}


def type_text(t: ValType, indices: dict) -> str:
    """``t`` as text, a concrete heap type as its index in ``indices`` (DefType -> index;
    an int or RecRef heap is written as it is)."""
    if t.heap is None or t._code is not None:
        return t.value
    h = t.heap
    if h.__class__ is HeapType:
        name = str(h)
    elif h.__class__ is int:
        name = str(h)
    elif h.__class__ is RecRef:
        raise ValueError("a RecRef has no index of its own")
    else:
        name = str(indices[h])
    return f"(ref null {name})" if t.nullable else f"(ref {name})"


def parse_type_text(text: str, deftypes: list | None = None) -> ValType:
    """The ValType ``type_text`` wrote; a concrete heap type becomes ``deftypes[index]``
    (or stays an int index without ``deftypes``)."""
    t = ValType._by_name.get(text)
    if t is not None:
        return t
    words = text.strip("()").split()
    if not words or words[0] != "ref" or len(words) not in (2, 3):
        raise ArgumentError(f"unknown value type {text!r}")
    nullable = len(words) == 3
    if nullable and words[1] != "null":
        raise ArgumentError(f"unknown value type {text!r}")
    name = words[-1]
    h: Any = _HEAP_NAMES.get(name)
    if h is None:
        if not name.isdigit():
            raise ArgumentError(f"unknown value type {text!r}")
        h = int(name) if deftypes is None else deftypes[int(name)]
    return ValType.ref(nullable, h)


def deftypes_from(specs: list, groups: list | None = None) -> list:
    """A module's DefTypes from each type's (param texts, result texts), concrete heap
    types by index (how a translated file carries them); ``groups`` the (start, count) of
    its rec groups (default: one per type)."""
    raw = [FuncType(tuple(parse_type_text(p) for p in ps), tuple(parse_type_text(r) for r in rs))
           for ps, rs in specs]
    return close_types(raw, [tuple(g) for g in groups] if groups else None)
MAX_PAGES64 = 1 << 48  # the spec's bound for a 64-bit memory (2**64 bytes)
MAX_TABLE64 = (1 << 64) - 1  # the spec's bound for a 64-bit table's limits


def address_type(name: "str | ValType") -> ValType:
    """``"i32"``/``"i64"`` (or the ValType) as the address type of a memory or table."""
    t = ValType.parse(name)
    if t is not ValType.I32 and t is not ValType.I64:
        raise ArgumentError(f"an address type is i32 or i64, not {t}")
    return t
