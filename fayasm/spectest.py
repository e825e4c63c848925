"""The "spectest" host module the spec test suite imports."""
from __future__ import annotations

from fayasm.runtime.func import Func
from fayasm.runtime.globals import Global
from fayasm.runtime.memory import Memory
from fayasm.runtime.table import Table
from fayasm.runtime.types import FuncType
from fayasm.runtime.values import Val


def _print(*args):
    return None


def spectest_imports() -> dict:
    """A fresh spectest module (its memory and table are mutable state)."""
    def fn(*params):
        return Func(_print, FuncType(params, ()), name="print")

    return {
        "print": fn(),
        "print_i32": fn("i32"),
        "print_i64": fn("i64"),
        "print_f32": fn("f32"),
        "print_f64": fn("f64"),
        "print_i32_f32": fn("i32", "f32"),
        "print_f64_f64": fn("f64", "f64"),
        "global_i32": Global(Val.i32(666)),
        "global_i64": Global(Val.i64(666)),
        "global_f32": Global(Val.f32(666.6)),
        "global_f64": Global(Val.f64(666.6)),
        "table": Table("funcref", 10, 20),
        "table64": Table("funcref", 10, 20, address="i64"),  # memory64's spec tests
        "memory": Memory(1, 2),
    }
