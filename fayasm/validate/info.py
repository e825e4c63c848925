"""What validation learns and later stages reuse: per-function stack facts and the module context.

The IR builder and the interpreter read these instead of re-deriving types, so each record
is indexed by instruction position in the function body (``Function.body``).
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import NamedTuple

from fayasm.runtime.types import FuncType, GlobalType, MemoryType, TableType, ValType

BLOCK, LOOP, IF = "block", "loop", "if"
TRY_TABLE, TRY = "try_table", "try"  # exception handling; "try" is the legacy block


class BlockInfo(NamedTuple):
    """A structured instruction: ``height`` is the operand-stack height at entry below its
    params; ``end_index`` is the body index of its ``end``, ``else_index`` that of ``else``."""

    kind: str  # "block", "loop", "if", "try_table" or "try"
    params: tuple[ValType, ...]
    results: tuple[ValType, ...]
    height: int
    else_index: int | None
    end_index: int

    @property
    def label_types(self) -> tuple[ValType, ...]:
        """The types a branch to this block carries: params for a loop, results otherwise."""
        return self.params if self.kind == LOOP else self.results


@dataclass(slots=True)
class FuncInfo:
    """Facts about one defined function's body of ``n`` instructions.

    ``heights[i]`` is the operand-stack height (values above the frame; locals not
    counted) before instruction ``i``; ``heights[n]`` is the height at the implicit final
    ``end``. ``dead[i]`` is 1 when instruction ``i`` cannot be reached by falling through
    from the previous one (after ``br``, ``br_table``, ``return`` or ``unreachable``, and
    everything inside blocks opened there); for ``else``/``end`` it means the branch that
    ends there does not fall through. ``dead`` also has ``n + 1`` entries. Heights of dead
    instructions are those of the validator's polymorphic stack and mean nothing.
    ``blocks`` maps the index of each ``block``/``loop``/``if`` to its BlockInfo.
    ``types`` maps the index of each ``drop``, untyped ``select`` and ``ref.is_null`` to the
    operand type it consumes (None when only the bottom type is known, in dead code).
    """

    index: int  # in the function index space (imports first)
    type: FuncType
    locals: tuple[ValType, ...]  # params followed by declared locals
    heights: array
    dead: bytearray
    blocks: dict[int, BlockInfo]
    types: dict[int, ValType | None]
    max_height: int


@dataclass(slots=True)
class ModuleInfo:
    """The validation context of a module (the spec's C) plus one FuncInfo per defined function."""

    types: list[FuncType]
    funcs: list[FuncType]  # type of every function in the index space, imports first
    func_type_indices: list[int]  # the type index each function was declared with
    tables: list[TableType]
    mems: list[MemoryType]
    globals: list[GlobalType]
    elems: list[ValType]  # element type of each element segment
    datas: int  # number of data segments
    data_count: int | None  # the data count section's value, if present
    refs: frozenset[int]  # functions that ref.func may name (C.refs)
    num_imported_funcs: int = 0
    num_imported_tables: int = 0
    num_imported_mems: int = 0
    num_imported_globals: int = 0
    tags: list[FuncType] = field(default_factory=list)  # each tag's type, imports first
    num_imported_tags: int = 0
    code: list[FuncInfo] = field(default_factory=list)  # defined functions, in order

    def func_info(self, index: int) -> FuncInfo:
        """The FuncInfo of function ``index`` in the function index space (not an import)."""
        if index < self.num_imported_funcs:
            raise IndexError(f"function {index} is imported")
        return self.code[index - self.num_imported_funcs]
