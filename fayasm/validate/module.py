"""Validation of a module's parts other than function bodies (the spec's "Modules" section):
types, imports, tables, memories, globals, constant expressions, segments, start, exports.

Checks run in the reference interpreter's order, so a module with several faults reports
the one the spec suite expects.
"""
from __future__ import annotations

from fayasm import features, isa
from fayasm.closing import deftypes as module_deftypes
from fayasm.errors import ValidationError
from fayasm.runtime.types import (
    MAX_PAGES,
    MAX_PAGES64,
    MAX_TABLE64,
    ExternKind,
    FuncType,
    ValType,
    matches,
)
from fayasm.syntax import ACTIVE, Module

from . import gc
from .code import CodeContext, validate_function
from .info import ModuleInfo
from .stack import Invalid

FUNCREF, I32, I64 = ValType.FUNCREF, ValType.I32, ValType.I64
_MAX_TABLE = 0xFFFF_FFFF

_GLOBAL_GET = isa.OPS["global.get"]
_REF_NULL = isa.OPS["ref.null"]
_REF_FUNC = isa.OPS["ref.func"]
# The constant instructions with no context: ordinary rows that push one value decoded from
# a literal immediate (t.const).
_LITERALS = {op: op.results[0] for op in isa.ALL
             if not op.special and not op.params and len(op.results) == 1
             and op.imms and op.imms[0] in ("i32", "i64", "f32", "f64", "v128")}
_GC_CONST = frozenset(isa.OPS[name] for name in gc.const_rows())


def _fail(message: str):
    raise ValidationError(message)


def _check_limits(limits, bound: int, message: str) -> None:
    if not 0 <= limits.min <= bound or (limits.max is not None and not 0 <= limits.max <= bound):
        _fail(message)
    if limits.max is not None and limits.min > limits.max:
        _fail("size minimum must not be greater than maximum")


def _check_table_type(tt) -> None:
    if tt.address is I64:
        _check_limits(tt.limits, MAX_TABLE64, "table size must be at most 2^64-1")
    else:
        _check_limits(tt.limits, _MAX_TABLE, "table size must be at most 2^32-1")
    if not tt.elem.is_ref:
        _fail("type mismatch: table elements must be references")


def _check_memory_type(mt) -> None:
    if mt.address is I64:
        _check_limits(mt.limits, MAX_PAGES64, "memory size must be at most 2^48 pages")
    else:
        _check_limits(mt.limits, MAX_PAGES, "memory size must be at most 65536 pages (4GiB)")


def _free_funcs(expr, out: set) -> None:
    for ins in expr or ():
        if ins.op is _REF_FUNC:
            out.add(ins.imm[0])


def declared_refs(module: Module) -> frozenset[int]:
    """C.refs: functions named outside function bodies and the start section (by ref.func
    in globals and segments, or by exports); only these may appear in a body's ref.func."""
    refs: set[int] = set()
    for g in module.globals:
        _free_funcs(g.init, refs)
    for e in module.elems:
        _free_funcs(e.offset, refs)
        for item in e.init:
            _free_funcs(item, refs)
    for d in module.datas:
        _free_funcs(d.offset, refs)
    for expr in module.table_inits.values():
        _free_funcs(expr, refs)
    refs.update(e.index for e in module.exports if e.kind is ExternKind.FUNC)
    return frozenset(refs)


def check_const(expr, expected: ValType, globals_, nfuncs: int, func_refs=None,
                ctx=None) -> None:
    """A constant expression producing one ``expected`` value; ``globals_`` are the globals it
    may read (in 2.0 only imported ones, which must be immutable). Besides t.const,
    global.get, ref.null and ref.func, rows flagged ``constexpr`` (the integer add, sub and
    mul of 3.0's extended constants) may appear."""
    for ins in expr:
        op = ins.op
        if op in _LITERALS or op is _REF_NULL or op is _REF_FUNC or op.constexpr:
            continue
        if op in _GC_CONST and ctx is not None:
            continue
        if op is _GLOBAL_GET:
            x = ins.imm[0]
            if not 0 <= x < len(globals_):
                _fail(f"unknown global {x}")
            if globals_[x].mutable:
                _fail("constant expression required")
            continue
        _fail("constant expression required")
    stack: list = []
    for ins in expr:
        op = ins.op
        if op is _GLOBAL_GET:
            stack.append(globals_[ins.imm[0]].valtype)
        elif op is _REF_NULL:
            t = ins.imm[0]
            stack.append(t if t.nullable else ValType.ref(True, t.heap))
        elif op is _REF_FUNC:
            x = ins.imm[0]
            if not 0 <= x < nfuncs:
                _fail(f"unknown function {x}")
            stack.append(func_refs(x) if func_refs else FUNCREF)
        elif op in _GC_CONST:
            try:
                gc.validate_instr(ctx, op, ins.imm, stack, 0, False, None)
            except Invalid as e:
                _fail(e.message)
        elif op.constexpr:
            n = len(op.params)
            if tuple(stack[len(stack) - n:]) != op.params or len(stack) < n:
                _fail(f"type mismatch: {op.text} requires [{' '.join(map(str, op.params))}],"
                      f" stack has [{' '.join(map(str, stack))}]")
            del stack[len(stack) - n:]
            stack.extend(op.results)
        else:
            stack.append(_LITERALS[op])
    if len(stack) != 1 or not matches(stack[0], expected):
        _fail(f"type mismatch: constant expression must produce [{expected}], produces"
              f" [{' '.join(map(str, stack))}]")


def validate(module: Module) -> ModuleInfo:
    """Validate ``module``; returns what later stages need, or raises ValidationError."""
    types = list(module.types)
    ntypes = len(types)
    funcs: list[FuncType] = []
    func_type_indices: list[int] = []
    tables, mems, globals_ = [], [], []
    counts = {kind: 0 for kind in ExternKind}
    if module.subtypes:
        gc.check_subtypes(module_deftypes(module), _fail)
    for imp in module.imports:
        kind = imp.kind
        counts[kind] += 1
        if kind is ExternKind.FUNC:
            if not 0 <= imp.desc < ntypes:
                _fail(f"unknown type {imp.desc}")
            if types[imp.desc].__class__ is not FuncType:
                _fail(f"type mismatch: type {imp.desc} is not a function type")
            funcs.append(types[imp.desc])
            func_type_indices.append(imp.desc)
        elif kind is ExternKind.TABLE:
            _check_table_type(imp.desc)
            tables.append(imp.desc)
        elif kind is ExternKind.MEMORY:
            _check_memory_type(imp.desc)
            mems.append(imp.desc)
        else:
            globals_.append(imp.desc)
    imported_globals = list(globals_)
    for f in module.funcs:
        if not 0 <= f.type_idx < ntypes:
            _fail(f"unknown type {f.type_idx}")
        if types[f.type_idx].__class__ is not FuncType:
            _fail(f"type mismatch: type {f.type_idx} is not a function type")
        funcs.append(types[f.type_idx])
        func_type_indices.append(f.type_idx)
    tables.extend(module.tables)
    mems.extend(module.mems)
    globals_.extend(g.type for g in module.globals)
    elems = [e.type for e in module.elems]
    ndatas = len(module.datas)
    refs = declared_refs(module)
    nfuncs = len(funcs)

    code_ctx = CodeContext(types, funcs, func_type_indices, tables, mems, globals_, elems,
                           ndatas, refs, _namer(module), lambda: module_deftypes(module))
    func_refs = code_ctx.func_ref
    # 2.0: globals and segment offsets see only the imported globals (the spec's C').
    # 3.0: a global's initializer sees the globals before it, segments see all of them.
    later = features.current().defined_globals_in_constants
    segment_globals = globals_ if later else imported_globals
    for k, g in enumerate(module.globals):
        seen = globals_[:len(imported_globals) + k] if later else imported_globals
        check_const(g.init, g.type.valtype, seen, nfuncs, func_refs, code_ctx)
    for k, tt in enumerate(module.tables):
        _check_table_type(tt)
        init = module.table_inits.get(k)
        if init is not None:
            check_const(init, tt.elem, imported_globals, nfuncs, func_refs, code_ctx)
        elif not tt.elem.defaultable:
            _fail(f"type mismatch: a table of {tt.elem} needs an initializer")
    for mt in module.mems:
        _check_memory_type(mt)
    for e in module.elems:
        if not e.type.is_ref:
            _fail("type mismatch: element segments hold references")
        for item in e.init:
            check_const(item, e.type, segment_globals, nfuncs, func_refs, code_ctx)
        if e.mode == ACTIVE:
            if not 0 <= e.table < len(tables):
                _fail(f"unknown table {e.table}")
            if not matches(e.type, tables[e.table].elem):
                _fail(f"type mismatch: elem segment of {e.type} for a table of"
                      f" {tables[e.table].elem}")
            check_const(e.offset or [], tables[e.table].address, segment_globals, nfuncs)
    for d in module.datas:
        if d.mode == ACTIVE:
            if not 0 <= d.memory < len(mems):
                _fail(f"unknown memory {d.memory}")
            check_const(d.offset or [], mems[d.memory].address, segment_globals, nfuncs)

    info = ModuleInfo(types, funcs, func_type_indices, tables, mems, globals_, elems, ndatas,
                      module.data_count, refs, counts[ExternKind.FUNC],
                      counts[ExternKind.TABLE], counts[ExternKind.MEMORY],
                      counts[ExternKind.GLOBAL])
    ctx = code_ctx
    first = counts[ExternKind.FUNC]
    info.code = [validate_function(ctx, first + j, funcs[first + j], f.locals, f.body)
                 for j, f in enumerate(module.funcs)]

    if module.start is not None:
        x = module.start
        if not 0 <= x < nfuncs:
            _fail(f"unknown function {x}")
        if funcs[x].params or funcs[x].results:
            _fail(f"start function must have type [] -> [], function {x} has {funcs[x]}")
    spaces = {ExternKind.FUNC: (nfuncs, "function"), ExternKind.TABLE: (len(tables), "table"),
              ExternKind.MEMORY: (len(mems), "memory"),
              ExternKind.GLOBAL: (len(globals_), "global")}
    names = set()
    for ex in module.exports:
        size, what = spaces[ex.kind]
        if not 0 <= ex.index < size:
            _fail(f"unknown {what} {ex.index}")
        if ex.name in names:
            _fail(f"duplicate export name {ex.name!r}")
        names.add(ex.name)
    if len(mems) > 1 and not features.current().multi_memory:
        _fail("multiple memories are not allowed in WebAssembly 2.0")
    return info


def _namer(module: Module):
    """index -> the function's name from the name section or an export, else None."""
    exported: dict[int, str] | None = None

    def name(index: int):
        nonlocal exported
        found = module.names.funcs.get(index) if module.names else None
        if found is None:
            if exported is None:
                exported = {}
                for e in module.exports:
                    if e.kind is ExternKind.FUNC:
                        exported.setdefault(e.index, e.name)
            found = exported.get(index)
        return found

    return name
