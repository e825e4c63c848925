"""The reference interpreter: runs the validated instructions as the spec's execution
chapter describes. It is the oracle the other engines are diffed against."""
from __future__ import annotations

from fayasm.errors import TranslationError, describe
from fayasm.linking import const_expr, data_segments, elem_segments, import_decls
from fayasm.runtime.budget import Budget
from fayasm.runtime.func import Func
from fayasm.runtime.globals import Global
from fayasm.runtime.instance import Instance, eval_const, initialize, resolve_imports
from fayasm.runtime.resources import Account
from fayasm.runtime.types import ExternKind

from .code import make_template
from .machine import Code, Context, execute


class Compiled:
    """A module prepared for the interpreter: function templates and instantiation data."""

    def __init__(self, module):
        m = module.syntax
        info = module.info
        nimp = info.num_imported_funcs
        self.templates = [_template(module, f, info.code[k], nimp + k)
                          for k, f in enumerate(m.funcs)]
        self.decls = import_decls(m)
        self.globals = [(g.type, const_expr(g.init)) for g in m.globals]
        self.elems = elem_segments(m)
        self.datas = data_segments(m)
        self.tables = list(m.tables)
        self.mems = list(m.mems)
        self.exports = [(e.name, e.kind, e.index) for e in m.exports]
        self.start = m.start


def _template(module, func, fi, index: int):
    """make_template, with a failure (out of memory) naming the function."""
    name = module.func_name(index)
    try:
        return make_template(func, fi, module.syntax.types, index, name)
    except (RecursionError, MemoryError) as e:
        raise TranslationError("interpreter", describe(e), index, name) from None


def _entry(code: Code):
    """The raw callable of an interpreted function, for calls from outside the loop."""
    n = code.nresults

    def raw(*args):
        res = execute(code, args)
        if n == 1:
            return res[0]
        if n == 0:
            return None
        return tuple(res)
    return raw


class Engine:
    name = "interpreter"

    def compile(self, module) -> Compiled:
        return Compiled(module)

    def instantiate(self, module, compiled: Compiled, imports=None, fuel=None, deadline=None,
                    limits=None):
        externs = resolve_imports(compiled.decls, imports)
        account = Account(limits)
        ctx = Context(module.name)
        ctx.budget = Budget(fuel, deadline)
        spaces = {ExternKind.FUNC: ctx.funcs, ExternKind.TABLE: ctx.tables,
                  ExternKind.MEMORY: ctx.mems, ExternKind.GLOBAL: ctx.globals}
        for (_, _, kind, _), ext in zip(compiled.decls, externs):
            spaces[kind].append(ext)
        for tpl in compiled.templates:
            code = Code(tpl, ctx)
            ctx.funcs.append(Func.from_raw(_entry(code), tpl.type, tpl.name, owner=code))
        ctx.callees = [f.owner if type(f.owner) is Code else f for f in ctx.funcs]
        ctx.tables.extend(account.new_table(t) for t in compiled.tables)
        ctx.mems.extend(account.new_memory(t) for t in compiled.mems)
        for gtype, init in compiled.globals:
            ctx.globals.append(Global(gtype, raw=eval_const(init, ctx.globals, ctx.funcs)))
        ctx.elems, ctx.datas = initialize(ctx.tables, ctx.mems, ctx.globals, ctx.funcs,
                                          compiled.elems, compiled.datas)
        exports = {name: spaces[kind][index] for name, kind, index in compiled.exports}
        inst = Instance(exports, self.name, module)
        inst.engine_state = ctx
        inst.account = account
        if ctx.budget.metered:
            inst.budget = ctx.budget
        if compiled.start is not None:
            ctx.funcs[compiled.start].raw()
        return inst
