"""The reference interpreter: runs the validated instructions as the spec's execution
chapter describes. It is the oracle the other engines are diffed against.

``Engine(relaxed={"fmadd": 1, ...})`` runs relaxed SIMD with other choices of the spec's
parameters than the deterministic profile every engine uses (runtime/numerics/relaxed.py);
the differential-testing oracle makes such engines (``engines.register_variant``) to
accept what another runtime may lawfully return."""
from __future__ import annotations

from collections.abc import Mapping

from fayasm.closing import deftypes
from fayasm.engines import Imports, WasiArg
from fayasm.errors import TranslationError, describe
from fayasm.linking import plan
from fayasm.module import Module
from fayasm.runtime import numerics
from fayasm.runtime.budget import Budget, Interrupt
from fayasm.runtime.func import Func
from fayasm.runtime.instance import Instance
from fayasm.runtime.numerics import OPS as NUMERIC
from fayasm.runtime.plan import Spaces, link
from fayasm.runtime.resources import ResourceLimits, stack_limit

from .code import make_template
from .machine import Code, Context, execute


class Compiled:
    """A module prepared for the interpreter: function templates and the instantiation plan."""

    def __init__(self, module, ops=None):
        info = module.info
        nimp = info.num_imported_funcs
        self.templates = [_template(module, f, info.code[k], nimp + k, ops)
                          for k, f in enumerate(module.syntax.funcs)]
        self.plan = plan(module)


def _template(module, func, fi, index: int, ops):
    """make_template, with a failure (out of memory) naming the function."""
    name = module.func_name(index)
    try:
        syntax = module.syntax
        return make_template(func, fi, syntax.types, index, name, ops,
                             mems=syntax.memory_types(), tables=syntax.table_types(),
                             defs=deftypes(syntax))
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


class _Builder:
    """The interpreter's part of instantiating (runtime.plan.Builder): a Code per function
    bound to one Context, which holds the instance's index spaces."""

    def __init__(self, compiled: Compiled, ctx: Context):
        self.compiled, self.ctx = compiled, ctx

    def functions(self, spaces: Spaces) -> list[Func]:
        ctx = self.ctx
        ctx.funcs, ctx.tables, ctx.mems, ctx.globals = (spaces.funcs, spaces.tables,
                                                        spaces.mems, spaces.globals)
        ctx.elems, ctx.datas = spaces.elems, spaces.datas
        out = []
        for tpl in self.compiled.templates:
            code = Code(tpl, ctx)
            f = Func.from_raw(_entry(code), tpl.type, tpl.name, owner=code)
            f.deftype = tpl.deftype
            out.append(f)
        return out

    def wire(self, spaces: Spaces) -> None:
        self.ctx.callees = [f.owner if type(f.owner) is Code else f for f in spaces.funcs]

    def finish(self, spaces: Spaces, instance: Instance) -> None:
        instance.engine_state = self.ctx


class Engine:
    name = "interpreter"

    def __init__(self, relaxed: Mapping[str, int] | None = None):
        self.ops = None
        if relaxed:
            self.ops = {**NUMERIC, **numerics.relaxed.table(relaxed)}
            self.name = "interpreter[" + ",".join(f"{k}={v}" for k, v in sorted(
                relaxed.items())) + "]"

    def compile(self, module: Module) -> Compiled:
        return Compiled(module, self.ops)

    def instantiate(self, module: Module, compiled: Compiled, imports: Imports | None = None,
                    fuel: int | None = None, deadline: float | None = None,
                    limits: ResourceLimits | None = None, wasi: WasiArg | None = None,
                    interrupt: Interrupt | None = None) -> Instance:
        ctx = Context(module.name)
        ctx.budget = Budget(fuel, deadline, interrupt)
        ctx.top = stack_limit(limits) + 1
        return link(compiled.plan, imports, _Builder(compiled, ctx), engine=self.name,
                    module=module, budget=ctx.budget, limits=limits, wasi=wasi)

    def wait_idle(self, timeout: float = 600.0) -> bool:
        return True  # nothing runs in the background
