"""Lowering a whole module to the text of one LLVM module.

The LLVM module holds every defined function (internal, ``f<index>``), the trap helper,
an entry wrapper and a host trampoline per distinct signature of the type section, and
one exported constant, ``fy_meta``: the addresses of the defined functions, then of the
entries, then of the trampolines (order: ``signatures(module)``), then the uniform entries
of the defined functions (null for those without one). Loading the object
needs that one symbol. Nothing in the code depends on an instance or on the process: the
object can be cached on disk and shared by every instance.

Functions nested deeper than OPT_NESTING are left out of that module (their ``fy_meta``
entry is null and calls reach them through their records): LLVM's optimiser and its
optimising code generator take time quadratic in nesting (O2 spends 35 s on 10,000
nested ifs), so they are compiled apart, without optimisation (``functions_text``).
"""
from __future__ import annotations

import platform

from fayasm import isa
from fayasm.errors import TranslationError, describe
from fayasm.ir import Op
from fayasm.ir.build import build_function
from fayasm.runtime.types import ExternKind, FuncType

from . import control, exceptions, exprs, gc, memops, simd, stubs
from . import types as T
from .function import FunctionEmitter
from .types import Layout

_MEM_EFFECTS = {"memory.fill": memops.memory_fill, "memory.copy": memops.memory_copy,
                "memory.init": memops.memory_init, "data.drop": memops.data_drop}

# Functions with more blocks open at once than this are compiled without optimisation.
OPT_NESTING = 1000
_OPENERS = frozenset(isa.OPS[name] for name in ("block", "loop", "if", "try_table", "try"))
_END = isa.OPS["end"]

METADATA = """!0 = !{!"fayasm tbaa"}
!1 = !{!3, !3, i64 0}
!2 = !{!4, !4, i64 0}
!3 = !{!"wasm memory", !0, i64 0}
!4 = !{!"fayasm vm", !0, i64 0}
!5 = !{!"branch_weights", i32 1, i32 100000}
!6 = !{}"""


def is_deep(body) -> bool:
    """Whether a body (syntax instructions) has more than OPT_NESTING blocks open at once."""
    depth = 0
    for ins in body:
        op = ins.op
        if op in _OPENERS:
            depth += 1
            if depth > OPT_NESTING:
                return True
        elif op is _END:
            depth -= 1
    return False


def deep_functions(module) -> list[int]:
    """Indices (function index space) of the defined functions that are deep (is_deep)."""
    m = module.syntax
    nimp = len(m.imported(ExternKind.FUNC))
    return [nimp + k for k, f in enumerate(m.funcs) if is_deep(f.body)]


def _uniform_functions(m, nimp: int, x86: bool) -> frozenset:
    """The defined functions whose body is a uniform entry (``f<index>_u``; ``f<index>``
    is then a wrapper, see tail calls in control.py): those making a tail call that a
    plain ``musttail`` cannot make flat (to another prototype, through a table, to an
    import, or to such a function itself), if their type allows one (T.uniform_ok),
    and the functions those tail-call by name. The rest of the tail-calling functions
    only make musttail calls among themselves."""
    types = [m.types[f.type_idx] for f in m.funcs]
    imported = [m.types[i.desc] for i in m.imports if i.kind is ExternKind.FUNC]
    ftypes = imported + types
    need: set[int] = set()
    calls: dict[int, set] = {}  # defined function -> the defined functions it tail-calls
    same: dict[int, set] = {}  # ... those of its own prototype
    for k, f in enumerate(m.funcs):
        index = nimp + k
        ll = [T.LL[t] for t in types[k].params]
        for ins in f.body:
            if not ins.op.tail:
                continue
            if ins.op.imms[0] == "func":
                x = ins.imm[0]
                if x >= nimp:
                    calls.setdefault(index, set()).add(x)
                if x < nimp or [T.LL[t] for t in ftypes[x].params] != ll:
                    need.add(index)
                else:
                    same.setdefault(index, set()).add(x)
            else:  # through a table or a reference: the callee is not known
                need.add(index)
    ok = {nimp + k for k, ft in enumerate(types) if T.uniform_ok(ft, x86)}
    uniform = need & ok
    changed = True
    while changed:
        changed = False
        for index in list(uniform):
            # What a uniform entry tail-calls by name gets one too, so that the call
            # drops the caller's frame (backtraces as the interpreter's).
            for x in calls.get(index, ()):
                if x in ok and x not in uniform:
                    uniform.add(x)
                    changed = True
        for index, targets in same.items():
            # A musttail call of a uniform function's wrapper would keep the wrapper's
            # frame while the callee runs: the caller needs a uniform entry too.
            if index in ok and index not in uniform and targets & uniform:
                uniform.add(index)
                changed = True
    return frozenset(uniform)


def signatures(module) -> list:
    """The distinct function types of the type section, in first-seen order."""
    seen, out = set(), []
    for ft in module.syntax.types:
        if not isinstance(ft, FuncType):
            continue  # a struct or array type
        ft = T.native(ft)
        if ft not in seen:
            seen.add(ft)
            out.append(ft)
    return out



def _ir_comment(text: str, limit: int = 60) -> str:
    """Module text made safe in an LLVM IR ``;`` comment: printable ASCII on one line."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:limit]

class ModuleEmitter:
    def __init__(self, module, metered: bool = False, indirect_calls: bool = False,
                 separate=(), guard: bool = False):
        self.module = module
        self.indirect_calls = indirect_calls  # lazy tier: every call through its record
        self.separate = frozenset(separate)  # functions compiled apart (called by record)
        self.syntax = module.syntax
        self.info = module.info
        self.metered = metered
        # Guard mode (guard.py): 32-bit memories are accessed without bounds checks.
        self.guard = guard
        self.layout = Layout.of(module)
        self.nimp = self.info.num_imported_funcs
        self.has_memory = bool(self.info.mems)
        self.x86 = platform.machine().lower() in ("x86_64", "amd64")
        self.decls: dict[str, str] = {}
        self.uniform = _uniform_functions(self.syntax, self.nimp, self.x86)
        # Rec groups or declared subtyping: call_indirect compares DefTypes (gc.py).
        self.gc_types = bool(self.syntax.subtypes) or self.syntax.rec_groups is not None
        self.emitted = None  # called with the number of functions lowered (progress)

    # -- names and declarations ------------------------------------------------------------------
    def func_symbol(self, index: int) -> str:
        return f"f{index}"

    def tail_symbol(self, index: int) -> str:
        """The uniform entry of function ``index`` (in ``uniform``)."""
        return f"f{index}_u"

    def is_uniform(self, index: int) -> bool:
        return index in self.uniform

    def _tail_meta(self, index: int) -> str:
        return f"ptr @{self.tail_symbol(index)}" if index in self.uniform else "ptr null"

    def declare(self, name: str, ret: str, args: list[str]) -> None:
        if name not in self.decls:
            self.decls[name] = f"declare {ret} @{name}({', '.join(args)})"

    # -- dispatch (called by FunctionEmitter and control) ---------------------------------------
    def lower_stmt(self, fe, s):
        lower = exceptions.STMTS.get(type(s))
        if lower is not None:
            return lower(fe, s)
        return control.lower_stmt(fe, s)

    def lower_cond(self, fe, e):
        return exprs.lower_cond(fe, e)

    def lower_op(self, fe, e: Op) -> str:
        op = e.op
        name = op.name
        handler = _SPECIAL.get(name)
        if handler is not None:
            return handler(fe, e)
        a = [fe.expr(x) for x in e.args]
        if op.align is not None:
            return memops.load(fe, e, a)
        if name in _WITH_ARGS:
            return _WITH_ARGS[name](fe, e, a)
        if op.vector:
            return simd.lower(fe, e, a)
        if op.feature == "gc":
            return gc.expr(fe, e, a)
        return exprs.scalar(fe, e, a)

    def lower_effect(self, fe, s, args: list[str]) -> None:
        name = s.op.name
        if s.op.align is not None:
            memops.store(fe, s, args)
        elif name in _MEM_EFFECTS:
            _MEM_EFFECTS[name](fe, s, args)
        elif s.op.cls == "table":  # set, fill, copy, init, elem.drop
            memops.table_effect(fe, s, args)
        elif s.op.feature == "gc":
            gc.effect(fe, s, args)
        else:  # pragma: no cover
            raise AssertionError(f"unknown effect {name}")

    # -- the module -------------------------------------------------------------------------------
    def direct(self, index: int) -> bool:
        """Whether a call to function ``index`` may name its symbol (it is in this module)."""
        return index >= self.nimp and not self.indirect_calls and index not in self.separate

    def function(self, index: int) -> str:
        """The LLVM text of function ``index``; a failure names the function."""
        try:
            ir = build_function(self.syntax, self.info, index)
            return FunctionEmitter(self, ir, metered=self.metered).emit_function()
        except TranslationError:
            raise
        except (RecursionError, MemoryError, RuntimeError, ValueError) as e:
            raise TranslationError("jit", describe(e), index,
                                   self.module.func_name(index)) from None

    def functions(self) -> list[str]:
        out = []
        for k in range(len(self.syntax.funcs)):
            if self.nimp + k not in self.separate:
                out.append(self.function(self.nimp + k))
            if self.emitted is not None:
                self.emitted(k + 1)
        return out

    def function_text(self, index: int, meta_name: str) -> str:
        """An LLVM module with only function ``index`` (and the trap helper), whose
        address is in table ``meta_name`` (the lazy tier)."""
        return self.functions_text([index], meta_name)

    def functions_text(self, indices: list[int], meta_name: str) -> str:
        """An LLVM module with only functions ``indices`` (and the trap helper), whose
        addresses are in table ``meta_name``, in that order. Their calls go through
        records (``indirect_calls``)."""
        assert self.indirect_calls
        self.decls = {}
        fns = [self.function(index) for index in indices]
        # The functions, then their uniform entries (null for none).
        table = ", ".join([f"ptr @{self.func_symbol(index)}" for index in indices]
                          + [self._tail_meta(index) for index in indices])
        parts = [stubs.DECLARATIONS, *sorted(self.decls.values()),
                 f"@{meta_name} = constant [{2 * len(indices)} x ptr] [{table}]",
                 stubs.trap_helper(), *fns, stubs.ATTRIBUTES, METADATA]
        return "\n\n".join(parts) + "\n"

    def text(self, triple: str = "", data_layout: str = "") -> str:
        funcs = self.functions()
        sigs = signatures(self.module)
        keys = [T.sig_key(ft) for ft in sigs]
        glue = [stubs.trap_helper()]
        for ft, key in zip(sigs, keys):
            glue.append(stubs.entry(ft, key))
            glue.append(stubs.host_trampoline(ft, key))
        ndef = len(self.syntax.funcs)
        meta = (["ptr null" if self.nimp + k in self.separate else
                 f"ptr @{self.func_symbol(self.nimp + k)}" for k in range(ndef)]
                + [f"ptr @fy_entry_{key}" for key in keys]
                + [f"ptr @fy_host_{key}" for key in keys]
                + ["ptr null" if self.nimp + k in self.separate else
                   self._tail_meta(self.nimp + k) for k in range(ndef)])
        head = [f"; fayasm module {_ir_comment(self.module.name)}"]
        if triple:
            head.append(f'target triple = "{triple}"')
        if data_layout:
            head.append(f'target datalayout = "{data_layout}"')
        head.append(stubs.DECLARATIONS)
        head.extend(sorted(self.decls.values()))
        head.append(f"@fy_meta = constant [{len(meta)} x ptr] [{', '.join(meta)}]")
        return "\n\n".join(head + glue + funcs + [stubs.ATTRIBUTES, METADATA]) + "\n"


# Ops lowered from their unevaluated form, and ops taking evaluated args.
def _memory_grow(fe, e):
    a = [fe.expr(x) for x in e.args]
    return memops.memory_grow(fe, e, a)


def _table_grow(fe, e):
    a = [fe.expr(x) for x in e.args]
    return memops.table_grow(fe, e, a)


_SPECIAL = {
    "global.get": exprs.global_get,
    "memory.size": memops.memory_size,
    "memory.grow": _memory_grow,
    "table.size": lambda fe, e: memops.table_size(fe, e, []),
    "table.grow": _table_grow,
    "ref.null": lambda fe, e: "null",
    "ref.func": exprs.ref_func,
}
_WITH_ARGS = {
    "select": exprs.select, "select_t": exprs.select,
    "ref.is_null": exprs.ref_is_null,
    "ref.as_non_null": exprs.ref_as_non_null,
    "table.get": memops.table_get,
}


def module_text(module, metered: bool = False, triple: str = "", data_layout: str = "",
                guard: bool = False) -> str:
    """The LLVM IR text of ``module`` (a validated fayasm.Module)."""
    return ModuleEmitter(module, metered, guard=guard).text(triple, data_layout)


__all__ = ["module_text", "ModuleEmitter", "signatures", "Layout"]
