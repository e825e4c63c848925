"""What a function generator may use of the module around it (``Shape``), and the rows of
the instruction table grouped the way the generators pick them.

The grouping is computed from ``fayasm.isa``: a new row with an ordinary signature is
generated without any change here; only rows marked ``special`` (typed by hand in the
validator too) are handled by code in ``body``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fayasm import isa
from fayasm.runtime.types import FuncType, GlobalType, MemoryType, TableType, ValType

I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128
FUNCREF, EXTERNREF = ValType.FUNCREF, ValType.EXTERNREF
NUMERIC = (I32, I64, F32, F64, V128)
VALTYPES = (I32, I64, F32, F64, V128, FUNCREF, EXTERNREF)


class Sym:
    """A function index not known until the module is laid out (helpers, wrappers)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"${self.name}"


@dataclass
class Callee:
    index: "int | Sym"
    type: FuncType
    name: str = ""  # the host function's name, for host callees
    host: bool = False


@dataclass
class Shape:
    """The module a function body is generated for."""

    types: list[FuncType] = field(default_factory=list)
    callees: list[Callee] = field(default_factory=list)
    globals: list[GlobalType] = field(default_factory=list)  # the whole index space
    fuel: int = 0  # the global the termination guards count down
    checksum: int | None = None  # an i64 global function epilogues fold their locals into
    memory: MemoryType | None = None  # memory 0 (always a 32-bit one)
    # Every memory, memory 0 first: more than one (multi-memory), some with an i64
    # address type (memory64, never memory 0).
    mems: list[MemoryType] = field(default_factory=list)
    tables: list[TableType] = field(default_factory=list)
    slots: dict = field(default_factory=dict)  # table -> [(slot, FuncType)] placed at start
    elem_types: list[ValType] = field(default_factory=list)
    ndatas: int = 0
    refs: list[int] = field(default_factory=list)  # functions ref.func may name
    simd: bool = True
    deep: Sym | None = None  # an unguarded self-recursive (i32) -> i32, for exhaustion
    theme: tuple = ()  # swarm testing: a few instructions this module favours
    deep_nesting: bool = False  # blocks and expressions nest far deeper than usual
    # Whether operands court traps freely. Every call stops at its first trap, and code
    # after it never runs: most modules are careful, so most of their code executes.
    risky: bool = True
    gc: Any = None  # the module's GC types (gcgen.GcTypes) when it uses GC

    def type_index(self, ft: FuncType) -> int:
        try:
            return self.types.index(ft)
        except ValueError:
            self.types.append(ft)
            return len(self.types) - 1


def _needs(op) -> set:
    need = set()
    for kind in op.imms:
        if kind in ("memarg", "mem"):
            need.add("memory")
        elif kind == "data":
            need.add("data")
        elif kind == "elem":
            need.add("elem")
        elif kind == "table":
            need.add("table")
    if op.vector or V128 in op.params or V128 in op.results:
        need.add("simd")
    return need


ORDINARY = [op for op in isa.ALL if not op.special]
NEEDS = {op.name: _needs(op) for op in ORDINARY}


def ops_for(shape: Shape) -> tuple[dict, list]:
    """The ordinary rows usable in ``shape``: by single result type, and the ones with no
    results (stores, bulk memory, drops of segments, nop)."""
    have = set()
    if shape.memory is not None:
        have.add("memory")
    if shape.ndatas:
        have.add("data")
    if shape.elem_types:
        have.add("elem")
    if shape.tables:
        have.add("table")
    if shape.simd:
        have.add("simd")
    usable = [op for op in ORDINARY if NEEDS[op.name] <= have]
    by_result: dict[ValType, list] = {t: [] for t in VALTYPES}
    void = []
    for op in usable:
        if len(op.results) == 1:
            by_result[op.results[0]].append(op)
        elif not op.results:
            void.append(op)
    return by_result, void


def is_nan_op(name: str) -> bool:
    from .nan import NAN_OPS

    return name in NAN_OPS


__all__ = ["Callee", "Shape", "Sym", "ops_for", "ORDINARY", "VALTYPES", "NUMERIC"]
