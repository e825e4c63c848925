"""What every engine needs to instantiate a module, derived once from its syntax: import
declarations, constant expressions and segments as the plain data fayasm.runtime takes,
gathered in one instantiation plan (``plan``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from fayasm import isa
from fayasm.closing import deftypes
from fayasm.runtime.plan import Plan
from fayasm.runtime.types import ExternKind
from fayasm.syntax import Instr, Module

if TYPE_CHECKING:
    from fayasm.module import Module as PublicModule


def import_decls(m: Module) -> list[tuple]:
    """(module, name, kind, type) for each import, function types resolved."""
    return [(i.module, i.name, i.kind, m.types[i.desc] if i.kind is ExternKind.FUNC else i.desc)
            for i in m.imports]


def const_expr(expr: list, defs: list | None = None) -> tuple:
    """A validated constant expression as runtime data (see runtime.plan.eval_const): one
    instruction as (kind, arg); several (extended constants) as ("expr", items), the
    items in order, an operator as ("op", its name), a GC instruction as ("gc", (name,
    DefType, count)); ``defs`` are the module's DefTypes."""
    if len(expr) == 1:
        return _const_item(expr[0], defs)
    return ("expr", tuple(_const_item(ins, defs) for ins in expr))


def _const_item(ins: Instr, defs: list | None = None) -> tuple:
    name = ins.op.name
    if ins.op.feature == "gc":
        t = defs[ins.imm[0]] if defs is not None and ins.imm else None
        return ("gc", (name, t, ins.imm[1] if len(ins.imm) > 1 else 0))
    if name == "global.get":
        return ("global", ins.imm[0])
    if name == "ref.func":
        return ("func", ins.imm[0])
    if name == "ref.null":
        return ("null", None)
    if ins.op.constexpr:
        return ("op", name)
    return ("const", isa.const_value(ins.op, ins.imm[0]))


def elem_segments(m: Module) -> list[tuple]:
    defs = deftypes(m)
    return [(e.mode, e.table, const_expr(e.offset) if e.offset else None,
             [const_expr(x, defs) for x in e.init]) for e in m.elems]


def data_segments(m: Module) -> list[tuple]:
    return [(d.mode, d.memory, const_expr(d.offset) if d.offset else None, d.init)
            for d in m.datas]


def plan(module: PublicModule) -> Plan:
    """The instantiation plan of ``module`` (a fayasm.Module) that every engine links with
    runtime.plan.link; a translated file carries the same plan as its DESCRIPTION."""
    m = module.syntax
    # Counted from the imports, not module.info: a module known valid is not validated again.
    nimp = sum(1 for i in m.imports if i.kind is ExternKind.FUNC)
    return Plan(
        name=module.name,
        imports=import_decls(m),
        tables=list(m.tables),
        mems=list(m.mems),
        globals_=[(g.type, const_expr(g.init, deftypes(m))) for g in m.globals],
        elems=elem_segments(m),
        datas=data_segments(m),
        exports=[(e.name, e.kind, e.index) for e in m.exports],
        start=m.start,
        func_types=[m.types[f.type_idx] for f in m.funcs],
        names=[module.func_name(nimp + k) for k in range(len(m.funcs))],
        table_inits={k: const_expr(e, deftypes(m)) for k, e in m.table_inits.items()},
        import_deftypes=_import_deftypes(m),
        func_deftypes=[deftypes(m)[f.type_idx] for f in m.funcs] if _has_gc_types(m)
        else None,
    )


def _has_gc_types(m: Module) -> bool:
    """Whether declared subtyping or rec groups make a function's DefType more than its
    FuncType says (else plans and functions carry none: nothing to compare)."""
    return bool(m.subtypes) or m.rec_groups is not None


def _import_deftypes(m: Module) -> list | None:
    if not _has_gc_types(m):
        return None
    defs = deftypes(m)
    return [defs[i.desc] if i.kind is ExternKind.FUNC else None for i in m.imports]
