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
    ANY = 0x6E
    EQ = 0x6D
    I31 = 0x6C
    STRUCT = 0x6B
    ARRAY = 0x6A
    NONE = 0x71

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
              HeapType.NOEXTERN: (HeapType.EXTERN, HeapType.NOEXTERN)}
for _h in (HeapType.ANY, HeapType.EQ, HeapType.I31, HeapType.STRUCT, HeapType.ARRAY,
           HeapType.NONE):
    _HIERARCHY[_h] = (HeapType.ANY, HeapType.NONE)
# the abstract heap types above each one of the any hierarchy (itself excluded)
_ABSTRACT_SUPERS = {HeapType.EQ: (HeapType.ANY,), HeapType.I31: (HeapType.EQ, HeapType.ANY),
                    HeapType.STRUCT: (HeapType.EQ, HeapType.ANY),
                    HeapType.ARRAY: (HeapType.EQ, HeapType.ANY)}


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
    ANYREF: ClassVar[ValType]
    EQREF: ClassVar[ValType]
    I31REF: ClassVar[ValType]
    STRUCTREF: ClassVar[ValType]
    ARRAYREF: ClassVar[ValType]
    NULLREF: ClassVar[ValType]
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
    """The top reference type whose representation a reference to ``heap`` shares:
    ``funcref``, ``externref`` or ``anyref`` (GC objects, i31 values)."""
    if isinstance(heap, HeapType):
        top = heap.top
        return FUNCREF if top is HeapType.FUNC else EXTERNREF if top is HeapType.EXTERN \
            else ANYREF
    if heap.__class__ is DefType:
        return FUNCREF if heap.kind == "func" else ANYREF
    return FUNCREF  # an index or a RecRef while a module is read: not yet known


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
ANYREF = ValType.ANYREF = ValType._make("anyref", 0x6E, True, HeapType.ANY)
EQREF = ValType.EQREF = ValType._make("eqref", 0x6D, True, HeapType.EQ)
I31REF = ValType.I31REF = ValType._make("i31ref", 0x6C, True, HeapType.I31)
STRUCTREF = ValType.STRUCTREF = ValType._make("structref", 0x6B, True, HeapType.STRUCT)
ARRAYREF = ValType.ARRAYREF = ValType._make("arrayref", 0x6A, True, HeapType.ARRAY)
NULLREF = ValType.NULLREF = ValType._make("nullref", 0x71, True, HeapType.NONE)
_GC_ABBREVS = (ANYREF, EQREF, I31REF, STRUCTREF, ARRAYREF, NULLREF)
for _t in (FUNCREF, EXTERNREF, NULLFUNCREF, NULLEXTERNREF) + _GC_ABBREVS:
    ValType._refs[(True, _t.heap)] = _t  # held by the module: never collected
FUNCREF.rep = NULLFUNCREF.rep = FUNCREF
EXTERNREF.rep = NULLEXTERNREF.rep = EXTERNREF
for _t in _GC_ABBREVS:
    _t.rep = ANYREF
for _t in (I32, I64, F32, F64, V128, FUNCREF, EXTERNREF, NULLFUNCREF, NULLEXTERNREF) \
        + _GC_ABBREVS:
    ValType._by_name[_t.value] = _t

_FROM_CODE = {t._code: t for t in ValType._by_name.values()}
_NUM = frozenset((I32, I64, F32, F64))


_KIND_HEAP: dict = {}  # a defined type's kind -> the abstract heap type just above it


def heap_matches(h1: Any, h2: Any) -> bool:
    """Heap subtyping on closed heap types: ``h1 <: h2``."""
    if h1 is h2 or h1 is BOT:
        return True
    if h2 is BOT:
        return False
    if h1.__class__ is HeapType:
        if h2.__class__ is HeapType:
            if h1 is h1.bottom:
                return h2.top is h1.top
            return h2 in _ABSTRACT_SUPERS.get(h1, ())
        # the bottom of a defined type's hierarchy
        return h1 is (HeapType.NOFUNC if h2.kind == "func" else HeapType.NONE)
    if h2.__class__ is HeapType:
        above = _KIND_HEAP[h1.kind]
        return h2 is above or h2 in _ABSTRACT_SUPERS.get(above, ())
    return h2 in h1.supers_closure()


def top_of(h: Any) -> Any:
    """The top of the hierarchy of a closed heap type (``func``, ``extern``, ``any``)."""
    if h.__class__ is HeapType:
        return h.top
    if h is BOT:
        return BOT
    return HeapType.FUNC if h.kind == "func" else HeapType.ANY


def bottom_of(h: Any) -> Any:
    """The bottom of the hierarchy of a closed heap type."""
    if h.__class__ is HeapType:
        return h.bottom
    if h is BOT:
        return BOT
    return HeapType.NOFUNC if h.kind == "func" else HeapType.NONE


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


class Packed:
    """A packed storage type of a struct field or array element: ``i8`` or ``i16``
    (stored as an unsigned int of that width, read back signed or unsigned)."""

    __slots__ = ("value", "bits", "mask")
    I8: ClassVar["Packed"]
    I16: ClassVar["Packed"]

    def __init__(self, value: str, bits: int) -> None:
        self.value, self.bits, self.mask = value, bits, (1 << bits) - 1

    def __reduce__(self) -> str:
        return "I8" if self.bits == 8 else "I16"

    def __str__(self) -> str:
        return self.value

    __repr__ = __str__

    @property
    def heap(self) -> None:
        return None  # not a reference (lets code read ``.heap`` of any storage type)

    @property
    def is_ref(self) -> bool:
        return False

    @property
    def defaultable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return True


I8 = Packed.I8 = Packed("i8", 8)
I16 = Packed.I16 = Packed("i16", 16)


@dataclass(frozen=True, slots=True)
class FieldType:
    """A struct field or array element: its storage type (a ValType or a Packed) and
    whether it is mutable."""

    storage: Any
    mutable: bool = False

    def __str__(self) -> str:
        return f"(mut {self.storage})" if self.mutable else str(self.storage)

    @property
    def unpacked(self) -> ValType:
        """The operand type of the field: i32 for a packed one."""
        st = self.storage
        return I32 if st.__class__ is Packed else st


@dataclass(frozen=True, slots=True)
class StructType:
    """A struct type: its fields."""

    fields: tuple = ()

    @property
    def closed(self) -> bool:
        return all(f.storage.closed for f in self.fields)

    def __str__(self) -> str:
        return "(struct " + " ".join(f"(field {f})" for f in self.fields) + ")"


@dataclass(frozen=True, slots=True)
class ArrayType:
    """An array type: its element's field type."""

    field: FieldType

    @property
    def closed(self) -> bool:
        return self.field.storage.closed

    def __str__(self) -> str:
        return f"(array {self.field})"


def comp_kind(comp: Any) -> str:
    """``func``, ``struct`` or ``array``: the kind of a composite type."""
    return ("func" if comp.__class__ is FuncType else "struct" if comp.__class__ is StructType
            else "array")


class SubType:
    """A type definition as a rec group holds it: ``final``, its declared supertypes
    (DefTypes, or RecRefs to earlier members of its own group) and its composite type
    (a FuncType, StructType or ArrayType), whose references to its own group are
    RecRefs. Interned."""

    __slots__ = ("final", "supers", "comp", "__weakref__")
    final: bool
    supers: tuple
    comp: Any
    _interned: ClassVar[weakref.WeakValueDictionary] = weakref.WeakValueDictionary()

    def __new__(cls, final: bool, supers: tuple, comp: Any) -> SubType:
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
    ``expand()`` is its composite type with its group's RecRefs replaced by DefTypes.
    ``supers_closure()`` is every declared supertype (what casts and subtyping walk)."""

    __slots__ = ("group", "index", "_expanded", "_supers", "kind", "__weakref__")
    group: RecGroup
    index: int
    kind: str
    _expanded: Any
    _supers: Any
    _interned: ClassVar[weakref.WeakValueDictionary] = weakref.WeakValueDictionary()

    def __new__(cls, group: RecGroup, index: int) -> "DefType":
        key = (group, index)
        d = cls._interned.get(key)
        if d is None:
            d = object.__new__(cls)
            d.group, d.index, d._expanded, d._supers = group, index, None, None
            d.kind = comp_kind(group.types[index].comp)
            cls._interned[key] = d
        return d

    def __reduce__(self) -> tuple:
        return (DefType, (self.group, self.index))

    @property
    def sub(self) -> SubType:
        return self.group.types[self.index]

    @property
    def final(self) -> bool:
        return self.sub.final

    def unroll(self, h: Any) -> Any:
        """A heap of this type's group closed: a RecRef becomes its DefType."""
        return DefType(self.group, h.index) if h.__class__ is RecRef else h

    def expand(self) -> Any:
        e = self._expanded
        if e is None:
            g = self.group
            e = self._expanded = substitute(self.sub.comp, lambda r: DefType(g, r.index))
        return e

    def declared_supers(self) -> tuple:
        """The declared supertypes, as DefTypes."""
        return tuple(self.unroll(s) for s in self.sub.supers)

    def supers_closure(self) -> tuple:
        """Every declared supertype, transitively (empty without GC's ``sub``)."""
        out = self._supers
        if out is None:
            acc: list = []
            work = list(self.declared_supers())
            while work:
                d = work.pop()
                if d not in acc:
                    acc.append(d)
                    work.extend(d.declared_supers())
            out = self._supers = frozenset(acc)
        return out

    def short(self) -> str:
        c = self.sub.comp
        if c.__class__ is FuncType:
            return (f"(func {' '.join(map(repr, c.params))} -> "
                    f"{' '.join(map(repr, c.results))})")
        return str(c)  # a RecRef inside prints as rec.N: finite for recursive types

    def __repr__(self) -> str:
        return self.short()


_KIND_HEAP.update(func=HeapType.FUNC, struct=HeapType.STRUCT, array=HeapType.ARRAY)


def _sub_valtype(t: Any, fn: Callable[[Any], Any]) -> Any:
    h = t.heap
    if h.__class__ is RecRef or h.__class__ is int:
        return ValType.ref(bool(t.nullable), fn(h))
    return t


def substitute(ct: Any, fn: Callable[[Any], Any]) -> Any:
    """``ct`` (a composite type) with every reference whose heap is a RecRef or an int
    replaced by ``fn(heap)`` (a DefType); returns ``ct`` itself when nothing changes."""
    if ct.__class__ is FuncType:
        ps = tuple(_sub_valtype(t, fn) for t in ct.params)
        rs = tuple(_sub_valtype(t, fn) for t in ct.results)
        if ps == ct.params and rs == ct.results:
            return ct
        return FuncType(ps, rs)
    if ct.__class__ is StructType:
        fs = tuple(FieldType(_sub_valtype(f.storage, fn), f.mutable) for f in ct.fields)
        return ct if fs == ct.fields else StructType(fs)
    f = ct.field
    st = _sub_valtype(f.storage, fn)
    return ct if st is f.storage else ArrayType(FieldType(st, f.mutable))


def close_types(raw: list, groups: list | None = None,
                error: Callable[[str], Exception] = ValueError,
                subs: dict | None = None) -> list:
    """The DefTypes of a module's type section: ``raw`` holds its composite types as read
    (concrete heap types as type indices), ``groups`` the (start, count) of each rec
    group (default: one group per type), ``subs`` the (final, supertype indices) of each
    type index declared with ``sub`` (default: final, none). A reference to a type not
    yet defined outside its own group raises ``error("unknown type N")``."""
    if groups is None:
        groups = [(k, 1) for k in range(len(raw))]
    subs = subs or {}
    out: list = []
    for start, count in groups:
        def local(h: Any, start: int = start, count: int = count) -> Any:
            if h.__class__ is not int:
                return h
            if 0 <= h < start:
                return out[h]
            if start <= h < start + count:
                return RecRef(h - start)
            raise error(f"unknown type {h}")
        members = []
        for k in range(start, start + count):
            ct = raw[k]
            final, supers = subs.get(k, (True, ()))
            sups = []
            for x in supers:
                if x.__class__ is int and start <= x < k + 1 and x >= k:
                    raise error(f"unknown type {x}")  # a supertype must come before
                sups.append(local(x))
            members.append(SubType(final, tuple(sups),
                                   ct if ct.closed else substitute(ct, local)))
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


def deftypes_from(specs: list) -> list:
    """A module's DefTypes from each type's (param texts, result texts), one rec group
    per type, concrete heap types by index (how a translated file carries them)."""
    raw = [FuncType(tuple(parse_type_text(p) for p in ps), tuple(parse_type_text(r) for r in rs))
           for ps, rs in specs]
    return close_types(raw)
MAX_PAGES64 = 1 << 48  # the spec's bound for a 64-bit memory (2**64 bytes)
MAX_TABLE64 = (1 << 64) - 1  # the spec's bound for a 64-bit table's limits


def address_type(name: "str | ValType") -> ValType:
    """``"i32"``/``"i64"`` (or the ValType) as the address type of a memory or table."""
    t = ValType.parse(name)
    if t is not ValType.I32 and t is not ValType.I64:
        raise ArgumentError(f"an address type is i32 or i64, not {t}")
    return t
