"""The instantiation plan and the one linking step every engine runs.

A ``Plan`` is what instantiating a module needs, as plain data: import types, table,
memory and global definitions with their constant expressions, segments, exports and the
start function. The front end derives it from a module (``fayasm.linking.plan``); a
translated Python file carries it as its ``DESCRIPTION``. ``link`` instantiates a plan in
the spec's order, calling an engine's ``Builder`` where engines differ: match the imports
(with the spec's link error wording), allocate tables and memories, make the functions,
evaluate the globals, let the engine wire its code, place the segments (with the spec's
bounds traps), bind WASI to the memory, run the start function.

Everything here works on plain data so that generated Python modules (which import only
fayasm.runtime) instantiate exactly the way the other engines do.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from . import gcops
from .budget import Budget
from .errors import MEM_OOB, TABLE_OOB, Error, LinkError, Trap
from .func import Func, func_matches
from .globals import Global
from .instance import Instance
from .memory import Memory
from .numerics import OPS as NUMERIC
from .resources import Account, ResourceLimits
from .table import Table
from .types import ExternKind, FuncType, GlobalType, Limits, MemoryType, TableType, matches
from .values import Val

if TYPE_CHECKING:
    from .wasi.core import Wasi

KINDS = {"func": ExternKind.FUNC, "table": ExternKind.TABLE, "memory": ExternKind.MEMORY,
         "global": ExternKind.GLOBAL}


class Plan:
    """What a module says about itself for instantiating it. Import types are FuncType,
    TableType, MemoryType or GlobalType; constant expressions are the plain data
    ``eval_const`` takes; export kinds are ExternKind (or their names, as a translated
    file spells them)."""

    def __init__(self, name: str, imports: list, tables: list, mems: list, globals_: list,
                 elems: list, datas: list, exports: list, start: int | None,
                 func_types: list, names: list, table_inits: dict | None = None,
                 import_deftypes: list | None = None, func_deftypes: list | None = None):
        self.name = name
        # (module, name, kind, type)
        self.imports: list[tuple[str, str, ExternKind, Any]] = imports
        self.tables: list[TableType] = tables
        self.mems: list[MemoryType] = mems
        self.globals: list[tuple[GlobalType, tuple]] = globals_  # (type, init expression)
        self.elems: list[tuple] = elems  # (mode, table, offset expression, item expressions)
        self.datas: list[tuple] = datas  # (mode, memory, offset expression, bytes)
        self.exports: list[tuple[str, ExternKind, int]] = [
            (n, KINDS[k] if isinstance(k, str) else k, i) for n, k, i in exports]
        self.start = start
        self.func_types: list[FuncType] = func_types  # of each defined function
        self.names: list[str] = names  # the wasm name of each defined function
        # defined table index -> the constant expression every element starts as
        self.table_inits: dict[int, tuple] = dict(table_inits or {})
        # GC: the DefType of each import (None for all but functions) and of each defined
        # function, which import matching and casts compare by declared subtyping
        # (None: the plain DefType of each FuncType)
        self.import_deftypes = import_deftypes
        self.func_deftypes = func_deftypes


class Spaces:
    """One instance's index spaces (imports first) and segment instances, as the linking
    step fills them. Engines keep these very lists: ``elems`` and ``datas`` are filled in
    place once the segments are placed."""

    __slots__ = ("funcs", "tables", "mems", "globals", "elems", "datas")

    def __init__(self) -> None:
        self.funcs: list[Func] = []
        self.tables: list[Table] = []
        self.mems: list[Memory] = []
        self.globals: list[Global] = []
        self.elems: list[list] = []
        self.datas: list[bytes] = []

    def of(self, kind: ExternKind) -> list:
        if kind is ExternKind.FUNC:
            return self.funcs
        if kind is ExternKind.TABLE:
            return self.tables
        if kind is ExternKind.MEMORY:
            return self.mems
        return self.globals


class Builder(Protocol):
    """What an engine adds to the linking step. No guest code runs before ``finish``."""

    def functions(self, spaces: Spaces) -> list[Func]:
        """The defined functions, in order; their code may be attached in ``wire``."""
        ...

    def wire(self, spaces: Spaces) -> None:
        """Every index space is complete and the globals hold their initial values:
        connect the engine's code to them (before any segment is placed)."""
        ...

    def finish(self, spaces: Spaces, instance: Instance) -> None:
        """The segments are placed: attach the engine's state to ``instance``."""
        ...


# -- matching imports ---------------------------------------------------------------------
def describe(kind: ExternKind, t: Any) -> str:
    if kind is ExternKind.FUNC:
        return f"func {t}"
    if kind is ExternKind.GLOBAL:
        return f"global {t}"
    return str(t)


def _limits_match(actual_min: int, actual_max: int | None, lim: Limits) -> bool:
    if actual_min < lim.min:
        return False
    if lim.max is None:
        return True
    return actual_max is not None and actual_max <= lim.max


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _match(kind: ExternKind, t: Any, value: Any,
           where: str = "an import", deftype: Any = None) -> tuple[Any, str | None]:
    """Return (extern, None) if ``value`` can satisfy an import of ``kind``/``t``, else
    (None, reason). A function import with a ``deftype`` matches by declared subtyping."""
    if kind is ExternKind.FUNC:
        if isinstance(value, Func):
            if deftype is not None:
                if not func_matches(value, deftype):
                    return None, f"expected func {t}, got func {value.type}"
            elif value.type != t:
                return None, f"expected func {t}, got func {value.type}"
            return value, None
        if callable(value) and not isinstance(value, (Table, Memory, Global)):
            label = f"{where} ({getattr(value, '__name__', 'callable')})"
            f = Func(value, t, _where=label)
            f.deftype = deftype
            return f, None
        return None, f"expected func {t}, got {type(value).__name__}"
    if kind is ExternKind.TABLE:
        if not isinstance(value, Table):
            return None, f"expected {t}, got {type(value).__name__}"
        lim = value.type.limits
        if value.type.address is not t.address:
            return None, f"expected {t}, got {value.type}"
        if (value.type.elem is not t.elem
                or not _limits_match(len(value.elements), lim.max, t.limits)):
            got = _count(len(value.elements), "element")
            return None, (f"expected {t}, got a {value.type.elem} table of {got} "
                          f"(maximum {'none' if lim.max is None else lim.max})")
        return value, None
    if kind is ExternKind.MEMORY:
        if not isinstance(value, Memory):
            return None, f"expected {t}, got {type(value).__name__}"
        if value.type.address is not t.address:
            return None, f"expected {t}, got {value.type}"
        if not _limits_match(value.pages, value.type.limits.max, t.limits):
            top = value.type.limits.max
            return None, (f"expected {t}, got a memory of {_count(value.pages, 'page')} "
                          f"(maximum {'none' if top is None else top})")
        return value, None
    # Globals: a Global of the same type, or (for immutable imports) a Val or plain number.
    if isinstance(value, Global):
        # An immutable global's type may be a subtype of the import's; a mutable one's
        # must be the same.
        if value.type != t and (t.mutable or value.type.mutable
                                or not matches(value.type.valtype, t.valtype)):
            return None, f"expected global {t}, got global {value.type}"
        return value, None
    if not t.mutable and isinstance(value, (Val, int, float)) and not isinstance(value, bool):
        try:
            return Global(Val.from_python(t.valtype, value)), None
        except Error as e:
            return None, f"expected global {t}: {e}"
    return None, f"expected global {t}, got {type(value).__name__}"


def resolve_imports(decls: list[tuple[str, str, ExternKind, Any]], imports: Any,
                    deftypes: list | None = None) -> list[Any]:
    """Resolve a module's imports. ``decls`` lists (module, name, ExternKind, type);
    ``imports`` maps module names to mappings of field names to values. Raises LinkError
    naming every problem at once."""
    imports = imports or {}
    out: list[Any] = []
    problems: list[str] = []
    for k, (module, name, kind, t) in enumerate(decls):
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
        extern, why = _match(kind, t, value, where, deftypes[k] if deftypes else None)
        if why:
            problems.append(f"incompatible import type for {where}: {why}")
        out.append(extern)
    if problems:
        raise LinkError("\n".join(problems), problems)
    return out


# Constant expressions as plain data: ("const", raw) | ("global", index) | ("func", index)
# | ("null", None), or ("expr", items) for several instructions (3.0's extended constants),
# the items those kinds or ("op", name) for an integer add, sub or mul.
def eval_const(expr: tuple[str, Any], globals_: list[Global], funcs: list[Func]) -> Any:
    kind, arg = expr
    if kind == "const":
        return arg
    if kind == "global":
        return globals_[arg].raw
    if kind == "func":
        return funcs[arg]
    if kind == "expr":
        stack: list = []
        for item in arg:
            if item[0] == "op":
                y = stack.pop()
                stack[-1] = NUMERIC[item[1]](stack[-1], y)
            elif item[0] == "gc":
                gcops.const_op(item[1], stack)
            else:
                stack.append(eval_const(item, globals_, funcs))
        return stack[0]
    if kind == "gc":  # a GC instruction without operands (struct.new_default, ...)
        stack = []
        gcops.const_op(arg, stack)
        return stack[0]
    return None


def segment_instances(elems: list[tuple[Any, ...]], datas: list[tuple[Any, ...]],
                      globals_: list[Global], funcs: list[Func]) -> tuple[list[list[Any]],
                                                                          list[bytes]]:
    """The element and data instances as instantiating leaves them (active and
    declarative ones dropped), without placing anything: what a restore starts from."""
    elem_insts = [[eval_const(e, globals_, funcs) for e in items] if mode == "passive" else []
                  for mode, _, _, items in elems]
    return elem_insts, [bytes(d[3]) if d[0] == "passive" else b"" for d in datas]


def initialize(tables: list[Table], memories: list[Memory], globals_: list[Global],
               funcs: list[Func], elems: list[tuple[Any, ...]],
               datas: list[tuple[Any, ...]]) -> tuple[list[list[Any]], list[bytes]]:
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


# -- the linking step ---------------------------------------------------------------------
def link(plan: Plan, imports: Any, builder: Builder, *, engine: str, module: Any = None,
         budget: Budget | None = None, limits: ResourceLimits | None = None,
         wasi: Any = None) -> Instance:
    """Instantiate ``plan``, linking ``imports`` ({module: {name: value}}). ``budget`` is
    the engine's fuel and deadline state (kept on the instance when it meters); ``limits``
    a ResourceLimits; ``wasi`` a WasiConfig, or a Wasi state to share (its functions join
    the imports, it is bound to the memory before the start function runs, and a
    reactor's ``_initialize`` runs after it). A LinkError for missing WASI says how to
    give it; a state made here is closed if instantiating fails."""
    state: Wasi | None = None
    owned = False
    if wasi is not None:
        from .wasi import link as wasi_link

        wasi_link.check_kind(name for name, _, _ in plan.exports)
        state, imports, owned = wasi_link.link(wasi, imports, program=plan.name)
    try:
        return _link(plan, imports, builder, engine, module, budget, limits, state)
    except LinkError as e:
        from .wasi.link import missing_wasi_hint

        if owned and state is not None:
            state.close()
        raise missing_wasi_hint(e) from None
    except BaseException:
        if owned and state is not None:
            state.close()
        raise


def _link(plan: Plan, imports: Any, builder: Builder, engine: str, module: Any,
          budget: Budget | None, limits: ResourceLimits | None, wasi: Wasi | None) -> Instance:
    from .snapshot import RESTORING

    # A restore (fayasm.restore): the snapshot's state instead of the segments and the
    # start function; taken here, so that nothing else this context links restores it.
    snap = RESTORING.get()
    if snap is not None:
        RESTORING.set(None)
    externs = resolve_imports(plan.imports, imports, plan.import_deftypes)
    spaces = Spaces()
    for (_, _, kind, _), ext in zip(plan.imports, externs):
        spaces.of(kind).append(ext)
    account = Account(limits)
    spaces.tables.extend(account.new_table(t) for t in plan.tables)
    spaces.mems.extend(account.new_memory(t) for t in plan.mems)
    # Defined functions exist before the globals (ref.func may name them).
    spaces.funcs.extend(builder.functions(spaces))
    for gtype, init in plan.globals:
        spaces.globals.append(Global(gtype, raw=eval_const(init, spaces.globals, spaces.funcs)))
    if plan.table_inits:
        first = len(spaces.tables) - len(plan.tables)
        for k, init in plan.table_inits.items():
            t = spaces.tables[first + k]
            t.elements[:] = [eval_const(init, spaces.globals, spaces.funcs)] * len(t.elements)
            t.sync(0, len(t.elements))
    builder.wire(spaces)
    if snap is None:
        elem_insts, data_insts = initialize(spaces.tables, spaces.mems, spaces.globals,
                                            spaces.funcs, plan.elems, plan.datas)
    else:
        elem_insts, data_insts = segment_instances(plan.elems, plan.datas, spaces.globals,
                                                   spaces.funcs)
    spaces.elems[:] = elem_insts
    spaces.datas[:] = data_insts
    if snap is not None:
        from .snapshot import restore_state

        nimp = {k: sum(1 for d in plan.imports if d[2] is KINDS[k])
                for k in ("memory", "table", "global")}
        own, host_writes, extra = restore_state(snap, plan, spaces,
                                                lambda kind, i: i < nimp[kind])
        for write in own:
            write()
    inst = Instance({name: spaces.of(kind)[index] for name, kind, index in plan.exports},
                    engine, module)
    inst.funcs, inst.tables, inst.mems, inst.globals = (spaces.funcs, spaces.tables,
                                                        spaces.mems, spaces.globals)
    inst.elems, inst.datas = spaces.elems, spaces.datas
    inst.account = account
    if budget is not None and budget.metered:
        inst.budget = budget
    builder.finish(spaces, inst)
    memory: Memory | None = None
    if wasi is not None:
        from .wasi.link import bind_memory, imported_memory

        # The memory exists before the start function runs, so WASI calls from it work.
        memory = imported_memory(plan.imports, imports)
        bind_memory(wasi, inst, memory)
        inst.wasi = wasi
    if snap is not None:
        # The start function (and a reactor's _initialize) ran before the snapshot.
        from .snapshot import finish_restore

        if wasi is not None:
            from .wasi.snapshot import restore_descriptors

            restore_descriptors(wasi, snap.wasi)
        for write in host_writes:
            write()
        finish_restore(inst, extra)
        return inst
    if plan.start is not None:
        try:
            spaces.funcs[plan.start].raw()
        finally:
            if wasi is not None:
                wasi.flush()
    if wasi is not None:
        from .wasi.link import start_reactor

        start_reactor(wasi, inst, memory)
    return inst


__all__ = ["Plan", "Spaces", "Builder", "link", "resolve_imports", "eval_const", "initialize",
           "segment_instances",
           "describe", "KINDS"]
