"""The abstract syntax of a module, as the spec's structure chapter defines it.

Function bodies are flat instruction lists in binary order: ``block``/``loop``/``if`` are
closed by explicit ``else``/``end`` instructions, and the body's own final ``end`` is not
stored. Constant expressions (global initialisers, offsets, element items) are flat lists
too, without their final ``end``. Constants keep exact bits: f32/f64 immediates are ints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Union

from fayasm.isa import Opcode
from fayasm.runtime.types import (
    ExternKind,
    FuncType,
    GlobalType,
    HeapType,
    MemoryType,
    TableType,
    ValType,
)


class MemArg(NamedTuple):
    align: int  # log2 of the alignment hint
    offset: int  # up to 2**64 - 1 (a 32-bit memory's must be below 2**32: validation)
    mem: int = 0  # the memory index (multi-memory; binary flag bit 6 when not 0)


class Instr(NamedTuple):
    """One instruction: its table row and its immediates, in the order of ``op.imms``."""

    op: Opcode
    imm: tuple = ()

    def __repr__(self) -> str:
        if not self.imm:
            return self.op.name
        return f"{self.op.name} {' '.join(map(repr, self.imm))}"


Expr = list  # list[Instr]
BlockType = Union[None, ValType, int]  # empty, one result, or a type index


@dataclass
class Import:
    module: str
    name: str
    kind: ExternKind
    # By kind: a type index (functions), a TableType, MemoryType or GlobalType. Any, since
    # a type checker cannot narrow it by ``kind``.
    desc: Any


@dataclass
class Export:
    name: str
    kind: ExternKind
    index: int


@dataclass
class Function:
    type_idx: int
    locals: tuple[ValType, ...] = ()
    body: list[Instr] = field(default_factory=list)


@dataclass
class Global:
    type: GlobalType
    init: list[Instr] = field(default_factory=list)


ACTIVE, PASSIVE, DECLARATIVE = "active", "passive", "declarative"


# The type of an element segment written as function indices (binary flags 0-3, text
# `func x*` and the bare index list): 3.0 gives it `(ref func)`, as no item can be null.
FUNC_INDICES = ValType.ref(False, HeapType.FUNC)


@dataclass
class Elem:
    type: ValType
    init: list[list[Instr]]  # one constant expression per element
    mode: str = PASSIVE
    table: int = 0
    offset: list[Instr] | None = None


@dataclass
class Data:
    init: bytes
    mode: str = PASSIVE
    memory: int = 0
    offset: list[Instr] | None = None


@dataclass
class Custom:
    """A custom section kept as bytes; ``after`` is the id of the section it follows (0: first)."""

    name: str
    data: bytes
    after: int = 0


@dataclass
class Names:
    """Debug names from the name section, or from $identifiers in text.

    Subsections 0-2 are the core spec's; types, tables, memories, globals, elem and data
    segments and tags are the extended-name-section subsections (4-9, 11). Every name is
    untrusted module text: see translator/python/names.py for how it may reach code.
    """

    module: str | None = None
    funcs: dict[int, str] = field(default_factory=dict)
    locals: dict[int, dict[int, str]] = field(default_factory=dict)
    types: dict[int, str] = field(default_factory=dict)
    tables: dict[int, str] = field(default_factory=dict)
    mems: dict[int, str] = field(default_factory=dict)
    globals: dict[int, str] = field(default_factory=dict)
    elems: dict[int, str] = field(default_factory=dict)
    datas: dict[int, str] = field(default_factory=dict)
    tags: dict[int, str] = field(default_factory=dict)


@dataclass
class Module:
    # composite types (FuncType, StructType, ArrayType), one per type index
    types: list = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    funcs: list[Function] = field(default_factory=list)
    tables: list[TableType] = field(default_factory=list)
    mems: list[MemoryType] = field(default_factory=list)
    globals: list[Global] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    start: int | None = None
    elems: list[Elem] = field(default_factory=list)
    datas: list[Data] = field(default_factory=list)
    data_count: int | None = None  # present iff the binary had a data count section
    customs: list[Custom] = field(default_factory=list)
    # defined table index -> its initializer expression (``(table 10 (ref $t) (ref.func
    # $f))``; binary 0x40 0x00); a table without one starts with null references
    table_inits: dict[int, list[Instr]] = field(default_factory=dict)
    # GC: the (start, count) of each rec group (None: one group per type), and the
    # (final, supertype indices) of each type declared with ``sub``
    rec_groups: list | None = None
    subtypes: dict = field(default_factory=dict)
    # the closed DefType of each type index, set when the module's types are closed
    deftypes: list = field(default_factory=list, compare=False, repr=False)
    names: Names = field(default_factory=Names, compare=False)
    # Branch hints from the text's annotations: defined function k -> {instruction index:
    # 0 unlikely, 1 likely}; the encoder writes them as the metadata.code.branch_hint
    # section (a decoded binary keeps that section as a Custom instead).
    branch_hints: dict[int, dict[int, int]] = field(default_factory=dict, compare=False)

    # Index spaces: imports come first in each.
    def imported(self, kind: ExternKind) -> list[Import]:
        return [i for i in self.imports if i.kind is kind]

    def func_types(self) -> list[FuncType]:
        """The type of every function in the function index space."""
        types = [self.types[i.desc] for i in self.imports if i.kind is ExternKind.FUNC]
        types.extend(self.types[f.type_idx] for f in self.funcs)
        return types

    def table_types(self) -> list[TableType]:
        return [i.desc for i in self.imports if i.kind is ExternKind.TABLE] + list(self.tables)

    def memory_types(self) -> list[MemoryType]:
        return [i.desc for i in self.imports if i.kind is ExternKind.MEMORY] + list(self.mems)

    def global_types(self) -> list[GlobalType]:
        return ([i.desc for i in self.imports if i.kind is ExternKind.GLOBAL]
                + [g.type for g in self.globals])

    def func_name(self, index: int) -> str:
        """A readable name for function ``index``: the name section's, else the export's,
        else ``func[i]``."""
        name = self.names.funcs.get(index)
        if name is None:
            for e in self.exports:
                if e.kind is ExternKind.FUNC and e.index == index:
                    return e.name
            return f"func[{index}]"
        return name
