"""What the structured lowering (function.py) and the state machine (flat.py) share
about branches: the frame of a Python loop that branches leave, and br_table's grouping
of its indices by target with the limits that choose how it dispatches."""
from __future__ import annotations

from fayasm.ir import BrTable

TABLE_LOOKUP_MIN = 6  # distinct br_table targets from which a tuple lookup is used
CHAIN = 8  # cases one if/elif chain of FunctionEmitter.case_tree tests


class LoopFrame:
    """A Python loop being emitted: its wasm loop, and the labels flagged out of it."""

    __slots__ = ("label", "stmt", "escapes")

    def __init__(self, label, stmt):
        self.label, self.stmt = label, stmt
        self.escapes: set = set()


def table_cases(s: BrTable) -> tuple[list, dict]:
    """The distinct targets of a br_table (first-seen order, the default among them), and
    for each (by id) the indices that select it."""
    distinct: dict = {}
    cases: dict = {}
    for i, lab in enumerate(s.labels):
        if id(lab) not in distinct:
            distinct[id(lab)] = lab
            cases[id(lab)] = []
        cases[id(lab)].append(i)
    if id(s.default) not in distinct:
        distinct[id(s.default)] = s.default
        cases[id(s.default)] = []
    return list(distinct.values()), cases


def case_number(s: BrTable, distinct: list, cases: dict) -> str:
    """``_k = `` the position in ``distinct`` of the target ``_i`` selects."""
    number = [0] * len(s.labels)
    for k, lab in enumerate(distinct):
        for i in cases[id(lab)]:
            number[i] = k
    default = next(k for k, lab in enumerate(distinct) if lab is s.default)
    return f"_k = {tuple(number)!r}[_i] if _i < {len(number)} else {default}"


__all__ = ["TABLE_LOOKUP_MIN", "CHAIN", "LoopFrame", "table_cases", "case_number"]
