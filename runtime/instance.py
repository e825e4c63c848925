"""Engine-neutral instantiation: resolving imports, evaluating constant expressions,
applying active segments, and the ``Exports`` mapping every engine returns.

Everything here works on plain data so that generated Python modules (which import only
fayasm.runtime) instantiate exactly the way the other engines do.
"""
from __future__ import annotations

from collections.abc import Mapping

from .errors import MEM_OOB, TABLE_OOB, ArgumentTypeError, Error, LinkError, Trap
from .func import Func
from .globals import Global
from .memory import Memory
from .table import Table
from .types import ExternKind, FuncType, GlobalType, MemoryType, TableType
from .values import Val

EXTERN_CLASSES = {ExternKind.FUNC: Func, ExternKind.TABLE: Table, ExternKind.MEMORY: Memory,
                  ExternKind.GLOBAL: Global}


class Exports(Mapping):
    """An instance's exports: ``exports["name"]`` for every name, ``exports.name`` and
    ``getattr(exports, name)`` for the others, and iteration over names.

    The rule for clashes: the mapping's four methods (``keys``, ``items``, ``values``,
    ``get``) and dunders (``__len__``, ``__class__``...) stay the mapping's, so ``dict()``,
    ``len()`` and copying keep working; an export with such a name is reached by indexing.
    Every other attribute name is an export name: nothing internal is reachable.
    """

    __slots__ = ("_Exports__items",)
    _PUBLIC = frozenset(("keys", "items", "values", "get"))

    def __init__(self, items: dict):
        object.__setattr__(self, "_Exports__items", dict(items))

    def __getattribute__(self, name: str):
        if name in Exports._PUBLIC or (name.startswith("__") and name.endswith("__")):
            return object.__getattribute__(self, name)
        items = object.__getattribute__(self, "_Exports__items")
        if name in items:
            return items[name]
        raise AttributeError(f"no export named {name!r} (exports: {', '.join(items) or 'none'})")

    def __getitem__(self, name: str):
        try:
            return object.__getattribute__(self, "_Exports__items")[name]
        except KeyError:
            raise KeyError(f"no export named {name!r}") from None

    def __setattr__(self, name, value):
        raise AttributeError("exports are read-only")

    def __delattr__(self, name):
        raise AttributeError("exports are read-only")

    def __iter__(self):
        return iter(object.__getattribute__(self, "_Exports__items"))

    def __len__(self) -> int:
        return len(object.__getattribute__(self, "_Exports__items"))

    def __contains__(self, name) -> bool:
        return name in object.__getattribute__(self, "_Exports__items")

    def __dir__(self):
        return [n for n in object.__getattribute__(self, "_Exports__items") if n.isidentifier()]

    def __reduce__(self):
        return (Exports, (dict(object.__getattribute__(self, "_Exports__items")),))

    def __repr__(self) -> str:
        items = object.__getattribute__(self, "_Exports__items")
        return "<Exports " + ", ".join(f"{n}: {v!r}" for n, v in items.items()) + ">"


def describe(kind: ExternKind, t) -> str:
    if kind is ExternKind.FUNC:
        return f"func {t}"
    if kind is ExternKind.GLOBAL:
        return f"global {t}"
    return str(t)


def _limits_match(actual_min: int, actual_max, lim) -> bool:
    if actual_min < lim.min:
        return False
    if lim.max is None:
        return True
    return actual_max is not None and actual_max <= lim.max


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _match(kind: ExternKind, t, value, where: str = "an import"):
    """Return (extern, None) if ``value`` can satisfy an import of ``kind``/``t``, else
    (None, reason)."""
    if kind is ExternKind.FUNC:
        if isinstance(value, Func):
            if value.type != t:
                return None, f"expected func {t}, got func {value.type}"
            return value, None
        if callable(value) and not isinstance(value, (Table, Memory, Global)):
            label = f"{where} ({getattr(value, '__name__', 'callable')})"
            return Func(value, t, _where=label), None
        return None, f"expected func {t}, got {type(value).__name__}"
    if kind is ExternKind.TABLE:
        if not isinstance(value, Table):
            return None, f"expected {t}, got {type(value).__name__}"
        lim = value.type.limits
        if value.type.elem is not t.elem or not _limits_match(len(value.elements), lim.max, t.limits):
            got = _count(len(value.elements), "element")
            return None, (f"expected {t}, got a {value.type.elem} table of {got} "
                          f"(maximum {'none' if lim.max is None else lim.max})")
        return value, None
    if kind is ExternKind.MEMORY:
        if not isinstance(value, Memory):
            return None, f"expected {t}, got {type(value).__name__}"
        if not _limits_match(value.pages, value.type.limits.max, t.limits):
            top = value.type.limits.max
            return None, (f"expected {t}, got a memory of {_count(value.pages, 'page')} "
                          f"(maximum {'none' if top is None else top})")
        return value, None
    # Globals: a Global of the same type, or (for immutable imports) a Val or plain number.
    if isinstance(value, Global):
        if value.type != t:
            return None, f"expected global {t}, got global {value.type}"
        return value, None
    if not t.mutable and isinstance(value, (Val, int, float)) and not isinstance(value, bool):
        try:
            return Global(Val.from_python(t.valtype, value)), None
        except Error as e:
            return None, f"expected global {t}: {e}"
    return None, f"expected global {t}, got {type(value).__name__}"


def resolve_imports(decls, imports) -> list:
    """Resolve a module's imports. ``decls`` lists (module, name, ExternKind, type);
    ``imports`` maps module names to mappings of field names to values. Raises LinkError
    naming every problem at once."""
    imports = imports or {}
    out, problems = [], []
    for module, name, kind, t in decls:
        where = f'"{module}"."{name}"'
        fields = imports.get(module) if isinstance(imports, Mapping) else None
        if fields is None or name not in fields:
            problems.append(f"unknown import {where} ({describe(kind, t)})")
            out.append(None)
            continue
        try:
            value = fields[name]
        except Exception:  # noqa: BLE001 - a broken user mapping is a link problem
            value = None
        extern, why = _match(kind, t, value, where)
        if why:
            problems.append(f"incompatible import type for {where}: {why}")
        out.append(extern)
    if problems:
        raise LinkError("\n".join(problems), problems)
    return out


# Constant expressions as plain data: ("const", raw) | ("global", index) | ("func", index)
# | ("null", None). 2.0 allows no arithmetic in them.
def eval_const(expr: tuple, globals_: list, funcs: list):
    kind, arg = expr
    if kind == "const":
        return arg
    if kind == "global":
        return globals_[arg].raw
    if kind == "func":
        return funcs[arg]
    return None


def initialize(tables: list, memories: list, globals_: list, funcs: list, elems: list,
               datas: list) -> tuple[list, list]:
    """Apply active segments in order, as instantiation does (bulk-memory semantics: a
    segment out of bounds traps, leaving earlier segments applied). ``elems`` lists
    (mode, table, offset_expr, item_exprs); ``datas`` lists (mode, memory, offset_expr,
    bytes). Returns the element and data instances (dropped ones empty)."""
    elem_insts = [[eval_const(e, globals_, funcs) for e in items] for _, _, _, items in elems]
    data_insts = [bytes(d[3]) for d in datas]
    for k, (mode, table, offset, _) in enumerate(elems):
        if mode == "active":
            start = eval_const(offset, globals_, funcs)
            items = elem_insts[k]
            t = tables[table]
            if start + len(items) > len(t.elements):
                raise Trap(TABLE_OOB)
            t.elements[start:start + len(items)] = items
            t.sync(start, len(items))
        if mode != "passive":
            elem_insts[k] = []
    for k, (mode, memory, offset, data) in enumerate(datas):
        if mode == "active":
            start = eval_const(offset, globals_, funcs)
            mem = memories[memory]
            if start + len(data) > len(mem.view):
                raise Trap(MEM_OOB)
            mem.view[start:start + len(data)] = data
            data_insts[k] = b""
    return elem_insts, data_insts


class Instance:
    """An instantiated module: ``.exports``; engines attach what they need (hooks.py).

    Fuel, as a host controls it (the way wasmtime's Store does): ``get_fuel()``,
    ``set_fuel(n)``, ``add_fuel(n)`` and ``set_deadline(seconds)`` work on an instance
    made with ``fuel=`` or ``deadline=`` (whose code counts fuel), on every engine. Fuel
    is the instance's for its whole life: what a call leaves, the next one gets. Called
    from a host function during a call, ``get_fuel`` says what is left at that point and
    ``set_fuel``/``add_fuel`` take effect when the host function returns; a new deadline
    applies from the next call from outside.
    """

    def __init__(self, exports: dict, engine: str, module=None):
        self.exports = Exports(exports)
        self.engine = engine
        self.module = module
        self.engine_state = None  # the engine's own per-instance state (hooks.py)
        self.account = None  # resources.Account: what the instance holds
        self.budget = None  # budget.Budget, when the instance was made metered
        self.wasi = None  # the WASI state (runtime.wasi.Wasi) instantiate(wasi=...) made

    def _metered(self):
        if self.budget is None:
            raise Error("this instance does not count fuel: instantiate it with fuel=N "
                        "(or deadline=) to control its fuel")
        return self.budget

    def get_fuel(self) -> int | None:
        """The units of fuel left; None if there is no limit (only a deadline)."""
        return self._metered().remaining()

    def set_fuel(self, fuel: int | None) -> None:
        """Leave exactly ``fuel`` units (None: no limit), whatever was left before."""
        self._metered().set_fuel(fuel)

    def add_fuel(self, fuel: int) -> int | None:
        """Add ``fuel`` units to what is left; returns the new total."""
        from .budget import check_fuel

        budget = self._metered()
        fuel = check_fuel(fuel)
        if fuel is None:
            raise ArgumentTypeError("add_fuel needs a number of units")
        left = budget.remaining()
        if left is not None:
            budget.set_fuel(left + fuel)
        return budget.remaining()

    def set_deadline(self, seconds: float | None) -> None:
        """Bound each later call from outside to ``seconds`` (None: no deadline)."""
        from .budget import check_deadline

        self._metered().timeout = check_deadline(seconds)

    def usage(self):
        """What this instance holds now (a ``fayasm.Usage``): bytes of the memories and
        elements of the tables it defines, and how many of each."""
        from .resources import Usage

        return self.account.usage() if self.account is not None else Usage(instances=1)

    def __repr__(self) -> str:
        return f"<Instance ({self.engine}) exports: {', '.join(self.exports)}>"


__all__ = ["Exports", "Instance", "resolve_imports", "initialize", "eval_const",
           "FuncType", "GlobalType", "MemoryType", "TableType", "EXTERN_CLASSES"]
