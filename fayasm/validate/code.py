"""Validation of function bodies: the operand- and control-stack algorithm of the spec's
appendix, recording what later stages need (stack heights, dead code, block types).

Ordinary instructions are typed straight from their rows in ``fayasm.isa``; only the rows
marked ``special`` (typing needs context: locals, labels, tables, ...) have code here.
The bottom type of unreachable code is ``None`` on the operand stack.
"""
from __future__ import annotations

from array import array

from fayasm import features, isa
from fayasm.errors import LOCALS_LIMIT, NESTING_TOO_DEEP, ValidationError
from fayasm.runtime.limits import MAX_LOCALS, MAX_NESTING
from fayasm.runtime.types import BOT, FuncType, ValType, matches

from . import gc
from .info import BLOCK, IF, LOOP, BlockInfo, FuncInfo
from .stack import Invalid, _pop_ref, _types_text, pop_types

I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128
FUNCREF, EXTERNREF = ValType.FUNCREF, ValType.EXTERNREF

_I32S = (I32,)
_BOT_REF = ValType.ref(False, BOT)  # (ref bot): a non-null reference from unreachable code
_I32X3 = (I32, I32, I32)
_EMPTY = ()


def check_types(stack: list, base: int, unreach: bool, expected) -> None:
    """Check that the top of ``stack`` matches ``expected`` without popping (br_table)."""
    pop_types(stack[:], base, unreach, expected)


def _end_types(stack: list, base: int, unreach: bool, results) -> None:
    """Check that exactly ``results`` are left above ``base`` at the end of a block, and
    pop them (the slow path, taken with bottom types or on error)."""
    pop_types(stack, base, unreach, results)
    if len(stack) != base:
        raise Invalid(f"type mismatch: block requires {_types_text(results)}"
                      f" but stack has {_types_text(stack[base:] + list(results))}")


# -- the dispatch table, built once from the instruction table ---------------------------
#
# Every row gets a kind. Ordinary rows are grouped by shape so the hot loop can type the
# common ones inline: _PUSH (t.const), _UNARY and _BINARY (no immediates to check),
# _MEMOP (a lone memarg: loads and stores) and _PLAIN (the rest: index, lane, several
# immediates, three operands). The special rows each have their own kind.

# Kinds are numbered by how often they occur in compiled code, the order the loop tests
# them in; _BLOCK, _LOOP and _IF are consecutive so that one comparison catches all three.
(_LOCAL_GET, _PUSH, _BINARY, _LOCAL_SET, _END, _LOCAL_TEE, _UNARY, _BLOCK, _LOOP, _IF,
 _BR_IF, _BR, _MEMOP, _CALL, _GLOBAL_GET, _PLAIN, _DROP, _SELECT, _ELSE, _RETURN,
 _UNREACHABLE, _GLOBAL_SET, _BR_TABLE, _CALL_INDIRECT, _SELECT_T, _REF_NULL, _REF_IS_NULL,
 _REF_FUNC, _TABLE_GET, _TABLE_SET, _TABLE_GROW, _TABLE_FILL, _TABLE_INIT, _TABLE_COPY,
 _CALL_REF, _RETURN_CALL_REF, _REF_AS_NON_NULL, _BR_ON_NULL, _BR_ON_NON_NULL,
 _FUNC, _RETURN_CALL, _RETURN_CALL_INDIRECT, _GC) = range(43)

_SPECIAL_KINDS = {
    "unreachable": _UNREACHABLE, "block": _BLOCK, "loop": _LOOP, "if": _IF, "else": _ELSE,
    "end": _END, "br": _BR, "br_if": _BR_IF, "br_table": _BR_TABLE, "return": _RETURN,
    "call": _CALL, "call_indirect": _CALL_INDIRECT, "drop": _DROP, "select": _SELECT,
    "select_t": _SELECT_T, "local.get": _LOCAL_GET, "local.set": _LOCAL_SET,
    "local.tee": _LOCAL_TEE, "global.get": _GLOBAL_GET, "global.set": _GLOBAL_SET,
    "table.get": _TABLE_GET, "table.set": _TABLE_SET, "table.grow": _TABLE_GROW,
    "table.fill": _TABLE_FILL, "table.init": _TABLE_INIT, "table.copy": _TABLE_COPY,
    "ref.null": _REF_NULL, "ref.is_null": _REF_IS_NULL, "ref.func": _REF_FUNC,
    "return_call": _RETURN_CALL, "return_call_indirect": _RETURN_CALL_INDIRECT,
    "call_ref": _CALL_REF, "return_call_ref": _RETURN_CALL_REF,
    "ref.as_non_null": _REF_AS_NON_NULL, "br_on_null": _BR_ON_NULL,
    "br_on_non_null": _BR_ON_NON_NULL,
}
_KIND_NAMES = {_BLOCK: BLOCK, _LOOP: LOOP, _IF: IF, _ELSE: IF}
_new_tuple = tuple.__new__  # builds a BlockInfo without its Python-level __new__

# Immediates that need no check; the order in which the others are checked puts the
# memory first, because the reference checks it before a data segment (memory.init).
_CONST_KINDS = frozenset(("i32", "i64", "f32", "f64", "v128"))
_IMM_ORDER = {"mem": 0, "memarg": 0}


def _kind_of(op: isa.Opcode):
    """(kind, signature) of a row; signature is (param0, param1, result, params, checks)."""
    if op.special:
        if op.feature == "gc":
            return _GC, None  # fayasm/validate/gc.py
        return _SPECIAL_KINDS[op.name], None  # a new special row needs a rule here
    params, results = op.params, op.results
    assert len(results) <= 1, op
    checks = tuple(sorted(((k, j) for j, k in enumerate(op.imms) if k not in _CONST_KINDS),
                          key=lambda kj: _IMM_ORDER.get(kj[0], 1)))
    sig = (params[0] if params else None, params[1] if len(params) > 1 else None,
           results[0] if results else None, params, checks)
    shape = (len(params), len(results))
    if not checks and shape == (0, 1):
        return _PUSH, sig
    if not checks and shape == (1, 1):
        return _UNARY, sig
    if not checks and shape == (2, 1):
        return _BINARY, sig
    if [k for k, _ in checks] == ["memarg"] and shape in ((1, 1), (2, 0)):
        return _MEMOP, sig
    return _PLAIN, sig


_KINDS = [0] * len(isa.ALL)
_SIGS: list = [None] * len(isa.ALL)
for _op in isa.ALL:
    _KINDS[_op.id], _SIGS[_op.id] = _kind_of(_op)


class CodeContext:
    """The parts of the module context (the spec's C) that instructions look at."""

    __slots__ = ("types", "type_sigs", "funcs", "func_sigs", "table_elems", "nmems",
                 "global_types", "global_mut", "elems", "ndatas", "refs", "func_name",
                 "_deftypes", "_defs", "func_type_indices", "_func_refs", "mem_at", "table_at",
                 "any64")

    def __init__(self, types, funcs, func_type_indices, tables, mems, globals_, elems,
                 ndatas, refs, func_name=None, deftypes=None):
        self.types = types
        # The closed type of each type index (``deftypes``: the list, or a function that
        # makes it, called only when an instruction needs one: ref.func, call_ref).
        self._deftypes = deftypes
        self._defs = None
        self.func_type_indices = func_type_indices
        self._func_refs: dict = {}
        # (params, results) of each function type; a struct or array type's is None
        self.type_sigs = [(list(ft.params), ft.results) if ft.__class__ is FuncType else None
                          for ft in types]
        self.funcs = funcs
        self.func_sigs = [self.type_sigs[x] or ([], ()) for x in func_type_indices]
        self.table_elems = [t.elem for t in tables]
        self.nmems = len(mems)
        # Address types (memory64): I64 for a 64-bit memory or table, else I32.
        self.mem_at = [m.address for m in mems]
        self.table_at = [t.address for t in tables]
        self.any64 = I64 in self.mem_at or I64 in self.table_at
        self.global_types = [g.valtype for g in globals_]
        self.global_mut = [g.mutable for g in globals_]
        self.elems = elems
        self.ndatas = ndatas
        self.refs = refs
        self.func_name = func_name or (lambda index: None)

    @property
    def deftypes(self) -> list:
        if self._defs is None:
            d = self._deftypes
            self._defs = (d() if callable(d) else d) if d is not None else []
        return self._defs

    def func_ref(self, x: int) -> ValType:
        """The type ``ref.func x`` pushes: (ref $t), $t the function's type."""
        t = self._func_refs.get(x)
        if t is None:
            t = self._func_refs[x] = ValType.ref(
                False, self.deftypes[self.func_type_indices[x]])
        return t


def _check_imms(ctx: CodeContext, op: isa.Opcode, imm: tuple, order) -> None:
    """Check the index, alignment and lane immediates of an ordinary instruction."""
    for kind, j in order:
        value = imm[j]
        if kind == "memarg":
            _check_memarg(ctx, op, value)
        elif kind == "mem":
            if not 0 <= value < ctx.nmems:
                raise Invalid(f"unknown memory {value}")
        elif kind == "lane":
            if not 0 <= value < op.lanes:
                raise Invalid("invalid lane index")
        elif kind == "shuffle":
            if any(not 0 <= lane < 32 for lane in value):
                raise Invalid("invalid lane index")
        elif kind == "data":
            if not 0 <= value < ctx.ndatas:
                raise Invalid(f"unknown data segment {value}")
        elif kind == "elem":
            if not 0 <= value < len(ctx.elems):
                raise Invalid(f"unknown elem segment {value}")
        elif kind == "table":
            if not 0 <= value < len(ctx.table_elems):
                raise Invalid(f"unknown table {value}")
        else:  # pragma: no cover - a new immediate kind in the table
            raise AssertionError(f"no validation rule for immediate kind {kind}")


def _check_memarg(ctx: CodeContext, op: isa.Opcode, ma) -> None:
    """The memory a memarg names exists; alignment at most natural; a 32-bit memory's
    offset below 2**32 (the reference checks in this order)."""
    x = ma[2]
    if not 0 <= x < ctx.nmems:
        raise Invalid(f"unknown memory {x}")
    if ma[0] > op.align:
        raise Invalid("alignment must not be larger than natural")
    if ma[1] > 0xFFFFFFFF and ctx.mem_at[x] is I32:
        raise Invalid("offset out of range")


def _address_sig(ctx: CodeContext, op: isa.Opcode, imm: tuple):
    """(params, result) of an ordinary memory or table row in a module with a 64-bit
    memory or table: the address operands (and sizes) take the address type of the memory
    or table named (memory.copy's length is i64 only if both memories are 64-bit)."""
    params = op.params
    res = op.results[0] if op.results else None
    name = op.name
    if op.cls == "load" or op.cls == "store":
        return (ctx.mem_at[imm[0][2]],) + params[1:], res
    if name == "memory.size":
        return params, ctx.mem_at[imm[0]]
    if name == "memory.grow":
        at = ctx.mem_at[imm[0]]
        return (at,), at
    if name == "memory.fill":
        at = ctx.mem_at[imm[0]]
        return (at, I32, at), res
    if name == "memory.copy":
        d, src = ctx.mem_at[imm[0]], ctx.mem_at[imm[1]]
        return (d, src, I32 if I32 in (d, src) else I64), res
    if name == "memory.init":
        return (ctx.mem_at[imm[1]], I32, I32), res
    if name == "table.size":
        return params, ctx.table_at[imm[0]]
    return params, res


def _table(ctx: CodeContext, x: int) -> ValType:
    if not 0 <= x < len(ctx.table_elems):
        raise Invalid(f"unknown table {x}")
    return ctx.table_elems[x]


def _block_type(ctx: CodeContext, bt):
    """(params, results) of a block type: empty, one value type, or a type index."""
    if bt is None:
        return _EMPTY, _EMPTY
    if bt.__class__ is ValType:
        return _EMPTY, (bt,)
    if not 0 <= bt < len(ctx.types):
        raise Invalid(f"unknown type {bt}")
    ft = ctx.types[bt]
    if ft.__class__ is not FuncType:
        raise Invalid(f"type mismatch: block type {bt} is not a function type")
    return ft.params, ft.results


# Frame layout: a small list per open block (the function itself is the outermost).
# _INITS: how many locals had been set for the first time when the block opened.
_K, _START, _PARAMS, _RESULTS, _LABELS, _BASE, _UNREACH, _DEAD, _ELSEI, _INITS = range(10)


def _label_types(frames: list, x: int):
    if not 0 <= x < len(frames):
        raise Invalid(f"unknown label {x}")
    return frames[-1 - x][_LABELS]


def _func_sig(ctx: CodeContext, y: int):
    """(params, results) of type index ``y``, which must be a function type."""
    if not 0 <= y < len(ctx.types):
        raise Invalid(f"unknown type {y}")
    sig = ctx.type_sigs[y]
    if sig is None:
        raise Invalid(f"type mismatch: type {y} is not a function type")
    return sig


def _subtypes(ts1, ts2) -> bool:
    return len(ts1) == len(ts2) and all(matches(a, b) for a, b in zip(ts1, ts2))


def validate_function(ctx: CodeContext, index: int, ftype: FuncType,
                      declared_locals, body: list) -> FuncInfo:
    """Validate one function body (without its final ``end``) and record its FuncInfo."""
    n = len(body)
    locals_ = tuple(ftype.params) + tuple(declared_locals)
    nloc = len(locals_)
    results = ftype.results
    stack: list = []
    append = stack.append
    pop = stack.pop
    heights = [0] * (n + 1)
    dead = bytearray(n + 1)
    blocks: dict = {}
    types: dict = {}
    frames = [[_FUNC, -1, _EMPTY, results, results, 0, False, False, None, 0]]
    # Locals of a type without a default value (non-null references) must be set before
    # they are read; a first set inside a block counts only until that block ends.
    np_ = len(ftype.params)
    track = any(not t.defaultable for t in declared_locals)
    unset = bytearray(0 if k < np_ or t.defaultable else 1 for k, t in enumerate(locals_))
    inited: list = []  # locals set for the first time, innermost block last
    base = 0
    unreach = False  # the spec's "unreachable" flag of the innermost frame
    dead_start = -1  # first index of the current dead stretch, or -1 while live
    kinds, sigs = _KINDS, _SIGS
    global_types, global_mut = ctx.global_types, ctx.global_mut
    nglob = len(global_types)
    func_sigs = ctx.func_sigs
    nfuncs = len(func_sigs)
    nmems = ctx.nmems
    mem_at = ctx.mem_at
    any64 = ctx.any64
    table_at = ctx.table_at
    if len(declared_locals) > MAX_LOCALS:  # a module built by hand (runtime.limits)
        raise ValidationError(LOCALS_LIMIT, func=index, func_name=ctx.func_name(index))
    i = 0
    try:
        for i, (op, imm) in enumerate(body):
            h = len(stack)
            heights[i] = h
            c = kinds[op.id]
            if c == _LOCAL_GET:
                x = imm[0]
                if not 0 <= x < nloc:
                    raise Invalid(f"unknown local {x}")
                if track and unset[x]:
                    raise Invalid("uninitialized local")
                append(locals_[x])
            elif c == _PUSH:
                append(sigs[op.id][2])
            elif c == _BINARY:
                a, b, res, params, _ = sigs[op.id]
                if h - base >= 2 and stack[-1] is b and stack[-2] is a:
                    pop()
                    stack[-1] = res
                else:
                    pop_types(stack, base, unreach, params)
                    append(res)
            elif c == _LOCAL_SET or c == _LOCAL_TEE:
                x = imm[0]
                if not 0 <= x < nloc:
                    raise Invalid(f"unknown local {x}")
                t = locals_[x]
                if h > base and stack[-1] is t:
                    if c == _LOCAL_SET:
                        pop()
                else:
                    pop_types(stack, base, unreach, (t,))
                    if c == _LOCAL_TEE:
                        append(t)
                if track and unset[x]:
                    unset[x] = 0
                    inited.append(x)
            elif c == _END:
                fr = frames[-1]
                k = fr[_K]
                if k == _FUNC:
                    raise Invalid("unexpected end: no block is open")
                res = fr[_RESULTS]
                nr = len(res)
                if not (h - base == nr and (nr == 0 or (nr == 1 and stack[-1] is res[0])
                                            or tuple(stack[base:]) == res)):
                    _end_types(stack, base, unreach, res)
                    stack.extend(res)
                if k == _IF and fr[_PARAMS] != res and not _subtypes(fr[_PARAMS], res):
                    # An if without else has an empty else branch: params must be results.
                    raise Invalid(f"type mismatch: if without else requires"
                                  f" {_types_text(res)} but has {_types_text(fr[_PARAMS])}")
                frames.pop()
                if track:
                    for x in inited[fr[_INITS]:]:
                        unset[x] = 1
                    del inited[fr[_INITS]:]
                blocks[fr[_START]] = _new_tuple(BlockInfo, (_KIND_NAMES[k], fr[_PARAMS], res,
                                                             base, fr[_ELSEI], i))
                outer = frames[-1]
                base = outer[_BASE]
                unreach = outer[_UNREACH]
                if dead_start >= 0 and not (unreach or outer[_DEAD]):
                    dead[dead_start:i + 1] = b"\x01" * (i + 1 - dead_start)
                    dead_start = -1
            elif c == _UNARY:
                a, _, res, params, _ = sigs[op.id]
                if h > base and stack[-1] is a:
                    stack[-1] = res
                else:
                    pop_types(stack, base, unreach, params)
                    append(res)
            elif c <= _IF:  # block, loop or if
                bparams, bres = _block_type(ctx, imm[0])
                if c == _IF:
                    if h > base and stack[-1] is I32:
                        pop()
                    else:
                        pop_types(stack, base, unreach, _I32S)
                np = len(bparams)
                if np:
                    top = len(stack)
                    if not (top - base >= np and tuple(stack[top - np:]) == bparams):
                        pop_types(stack, base, unreach, bparams)
                        stack.extend(bparams)
                frames[-1][_UNREACH] = unreach
                base = len(stack) - np
                unreach = False
                frames.append([c, i, bparams, bres, bparams if c == _LOOP else bres, base,
                               False, dead_start >= 0, None, len(inited)])
                if len(frames) > MAX_NESTING + 1:  # a module built by hand (runtime.limits)
                    raise Invalid(NESTING_TOO_DEEP)
            elif c == _BR_IF:
                x = imm[0]
                if not 0 <= x < len(frames):
                    raise Invalid(f"unknown label {x}")
                if h > base and stack[-1] is I32:
                    pop()
                else:
                    pop_types(stack, base, unreach, _I32S)
                lt = frames[-1 - x][_LABELS]
                if lt:
                    nl = len(lt)
                    top = len(stack)
                    if not (top - base >= nl and (stack[-1] is lt[0] if nl == 1 else
                                                  tuple(stack[top - nl:]) == lt)):
                        pop_types(stack, base, unreach, lt)
                        stack.extend(lt)
            elif c == _BR:
                x = imm[0]
                if not 0 <= x < len(frames):
                    raise Invalid(f"unknown label {x}")
                lt = frames[-1 - x][_LABELS]
                if lt:
                    pop_types(stack, base, unreach, lt)
                del stack[base:]
                unreach = True
                if dead_start < 0:
                    dead_start = i + 1
            elif c == _MEMOP:
                ma = imm[0]
                x = ma[2]
                if not 0 <= x < nmems:
                    raise Invalid(f"unknown memory {x}")
                if ma[0] > op.align:
                    raise Invalid("alignment must not be larger than natural")
                a, b, res, params, _ = sigs[op.id]
                if mem_at[x] is not I32:  # memory64: an i64 address
                    a = I64
                    params = (I64,) + params[1:]
                elif ma[1] > 0xFFFFFFFF:
                    raise Invalid("offset out of range")
                if res is None:  # a store
                    if h - base >= 2 and stack[-1] is b and stack[-2] is a:
                        del stack[-2:]
                    else:
                        pop_types(stack, base, unreach, params)
                elif h > base and stack[-1] is a:  # a load
                    stack[-1] = res
                else:
                    pop_types(stack, base, unreach, params)
                    append(res)
            elif c == _CALL:
                x = imm[0]
                if not 0 <= x < nfuncs:
                    raise Invalid(f"unknown function {x}")
                plist, fres = func_sigs[x]
                np = len(plist)
                if np:
                    if h - base >= np and stack[h - np:] == plist:
                        del stack[h - np:]
                    else:
                        pop_types(stack, base, unreach, plist)
                if fres:
                    stack.extend(fres)
            elif c == _GLOBAL_GET:
                x = imm[0]
                if not 0 <= x < nglob:
                    raise Invalid(f"unknown global {x}")
                append(global_types[x])
            elif c == _PLAIN:
                a, b, res, params, checks = sigs[op.id]
                if checks:
                    _check_imms(ctx, op, imm, checks)
                if any64 and (op.cls == "memory" or op.cls == "load" or op.cls == "store"
                              or op.cls == "table"):
                    params, res = _address_sig(ctx, op, imm)
                if params:
                    pop_types(stack, base, unreach, params)
                if res is not None:
                    append(res)
            elif c == _GLOBAL_SET:
                x = imm[0]
                if not 0 <= x < nglob:
                    raise Invalid(f"unknown global {x}")
                if not global_mut[x]:
                    raise Invalid("immutable global" if features.current().wording_3_0
                                  else "global is immutable")
                t = global_types[x]
                if h > base and stack[-1] is t:
                    pop()
                else:
                    pop_types(stack, base, unreach, (t,))
            elif c == _DROP:
                if h > base:
                    types[i] = pop()
                elif unreach:
                    types[i] = None
                else:
                    raise Invalid("type mismatch: instruction requires [any] but stack has []")
            elif c == _SELECT:
                if h > base and stack[-1] is I32:
                    pop()
                else:
                    pop_types(stack, base, unreach, _I32S)
                operands = []
                for _ in range(2):
                    if len(stack) > base:
                        operands.append(pop())
                    elif unreach:
                        operands.append(None)
                    else:
                        raise Invalid("type mismatch: select requires two operands")
                t1, t2 = operands
                # Untyped select takes numbers or vectors only (bottom counts as both).
                if (t1 is not None and t1.is_ref) or (t2 is not None and t2.is_ref):
                    raise Invalid("type mismatch: select requires numeric or vector operands")
                if t1 is not t2 and t1 is not None and t2 is not None:
                    raise Invalid(f"type mismatch: select operands {t2} and {t1} differ")
                t = t2 if t1 is None else t1
                append(t)
                types[i] = t
            elif c == _ELSE:
                fr = frames[-1]
                if fr[_K] != _IF:
                    raise Invalid("else without a matching if")
                res = fr[_RESULTS]
                if not (h - base == len(res) and tuple(stack[base:]) == res):
                    _end_types(stack, base, unreach, res)
                del stack[base:]
                stack.extend(fr[_PARAMS])
                if track:
                    for x in inited[fr[_INITS]:]:
                        unset[x] = 1
                    del inited[fr[_INITS]:]
                fr[_K] = _ELSE
                fr[_ELSEI] = i
                unreach = False
                if dead_start >= 0 and not fr[_DEAD]:
                    dead[dead_start:i + 1] = b"\x01" * (i + 1 - dead_start)
                    dead_start = -1
            elif c == _RETURN:
                if results:
                    pop_types(stack, base, unreach, results)
                del stack[base:]
                unreach = True
                if dead_start < 0:
                    dead_start = i + 1
            elif c == _UNREACHABLE:
                del stack[base:]
                unreach = True
                if dead_start < 0:
                    dead_start = i + 1
            elif c == _BR_TABLE:
                targets, default = imm
                if h > base and stack[-1] is I32:
                    pop()
                else:
                    pop_types(stack, base, unreach, _I32S)
                nframes = len(frames)
                if not 0 <= default < nframes:
                    raise Invalid(f"unknown label {default}")
                lt = frames[-1 - default][_LABELS]
                arity = len(lt)
                seen = {default}
                for x in targets:
                    if x in seen:
                        continue
                    if not 0 <= x < nframes:
                        raise Invalid(f"unknown label {x}")
                    seen.add(x)
                    other = frames[-1 - x][_LABELS]
                    if len(other) != arity:
                        raise Invalid(f"type mismatch: br_table targets carry {_types_text(lt)}"
                                      f" and {_types_text(other)}")
                    if other != lt:
                        check_types(stack, base, unreach, other)
                if lt:
                    pop_types(stack, base, unreach, lt)
                del stack[base:]
                unreach = True
                if dead_start < 0:
                    dead_start = i + 1
            elif c == _CALL_INDIRECT:
                y, x = imm
                et = _table(ctx, x)
                if not 0 <= y < len(ctx.types):
                    raise Invalid(f"unknown type {y}")
                if not matches(et, FUNCREF):
                    raise Invalid(f"type mismatch: call_indirect requires a funcref table,"
                                  f" table {x} holds {et}")
                at = table_at[x]
                if h > base and stack[-1] is at:
                    pop()
                else:
                    pop_types(stack, base, unreach, (at,))
                plist, fres = _func_sig(ctx, y)
                if plist:
                    pop_types(stack, base, unreach, plist)
                stack.extend(fres)
            elif c == _RETURN_CALL or c == _RETURN_CALL_INDIRECT:
                # A tail call: the callee's results are the function's own; the rest of
                # the block is unreachable, as after return.
                if c == _RETURN_CALL:
                    x = imm[0]
                    if not 0 <= x < nfuncs:
                        raise Invalid(f"unknown function {x}")
                    plist, fres = func_sigs[x]
                else:
                    y, x = imm
                    et = _table(ctx, x)
                    if not 0 <= y < len(ctx.types):
                        raise Invalid(f"unknown type {y}")
                    if et is not FUNCREF:
                        raise Invalid(f"type mismatch: return_call_indirect requires a funcref"
                                      f" table, table {x} holds {et}")
                    pop_types(stack, base, unreach, _I32S)
                    plist, fres = _func_sig(ctx, y)
                if tuple(fres) != tuple(results):
                    raise Invalid(f"type mismatch: tail call returns {_types_text(fres)},"
                                  f" the function returns {_types_text(results)}")
                if plist:
                    pop_types(stack, base, unreach, plist)
                del stack[base:]
                unreach = True
                if dead_start < 0:
                    dead_start = i + 1
            elif c == _SELECT_T:
                ts = imm[0]
                if len(ts) != 1:
                    raise Invalid("invalid result arity")
                t = ts[0]
                pop_types(stack, base, unreach, (t, t, I32))
                append(t)
            elif c == _REF_NULL:
                t = imm[0]  # the type ref.null pushes; a module built by hand may
                append(t if t.nullable else ValType.ref(True, t.heap))  # say (ref $t)
            elif c == _REF_IS_NULL:
                t = _pop_ref(stack, base, unreach)
                append(I32)
                types[i] = t
            elif c == _REF_FUNC:
                x = imm[0]
                if not 0 <= x < nfuncs:
                    raise Invalid(f"unknown function {x}")
                if x not in ctx.refs:
                    raise Invalid(f"undeclared function reference {x}")
                append(ctx.func_ref(x))
            elif c == _TABLE_GET:
                et = _table(ctx, imm[0])
                pop_types(stack, base, unreach, (table_at[imm[0]],))
                append(et)
            elif c == _TABLE_SET:
                et = _table(ctx, imm[0])
                pop_types(stack, base, unreach, (table_at[imm[0]], et))
            elif c == _TABLE_GROW:
                et = _table(ctx, imm[0])
                at = table_at[imm[0]]
                pop_types(stack, base, unreach, (et, at))
                append(at)
            elif c == _TABLE_FILL:
                et = _table(ctx, imm[0])
                at = table_at[imm[0]]
                pop_types(stack, base, unreach, (at, et, at))
            elif c == _TABLE_INIT:
                y, x = imm  # elem segment, then table (binary order)
                et = _table(ctx, x)
                if not 0 <= y < len(ctx.elems):
                    raise Invalid(f"unknown elem segment {y}")
                if not matches(ctx.elems[y], et):
                    raise Invalid(f"type mismatch: elem segment {y} holds {ctx.elems[y]},"
                                  f" table {x} holds {et}")
                pop_types(stack, base, unreach, (table_at[x], I32, I32))
            elif c == _TABLE_COPY:
                x, y = imm  # destination, then source
                et1 = _table(ctx, x)
                et2 = _table(ctx, y)
                if not matches(et2, et1):
                    raise Invalid(f"type mismatch: table {y} holds {et2}, table {x} holds {et1}")
                dt, st = table_at[x], table_at[y]
                pop_types(stack, base, unreach, (dt, st, I32 if I32 in (dt, st) else I64))
            elif c == _CALL_REF or c == _RETURN_CALL_REF:
                y = imm[0]
                if not 0 <= y < len(ctx.types):
                    raise Invalid(f"unknown type {y}")
                plist, fres = _func_sig(ctx, y)
                pop_types(stack, base, unreach, plist + [ValType.ref(True, ctx.deftypes[y])])
                if c == _CALL_REF:
                    stack.extend(fres)
                else:  # a tail call: the callee's results are the function's
                    if not _subtypes(fres, results):
                        raise Invalid(f"type mismatch: return_call_ref returns"
                                      f" {_types_text(fres)}, the function {_types_text(results)}")
                    del stack[base:]
                    unreach = True
                    if dead_start < 0:
                        dead_start = i + 1
            elif c == _REF_AS_NON_NULL:
                t = _pop_ref(stack, base, unreach)
                append(_BOT_REF if t is None else ValType.ref(False, t.heap))
                types[i] = t
            elif c == _BR_ON_NULL or c == _BR_ON_NON_NULL:
                x = imm[0]
                if not 0 <= x < len(frames):
                    raise Invalid(f"unknown label {x}")
                t = _pop_ref(stack, base, unreach)
                nonnull = _BOT_REF if t is None else ValType.ref(False, t.heap)
                lt = frames[-1 - x][_LABELS]
                if c == _BR_ON_NULL:
                    if lt:
                        pop_types(stack, base, unreach, lt)
                        stack.extend(lt)
                    append(nonnull)
                else:
                    if not lt or not (lt[-1].is_ref and matches(nonnull, lt[-1])):
                        raise Invalid(f"type mismatch: br_on_non_null requires a label"
                                      f" ending in a reference to {nonnull},"
                                      f" label carries {_types_text(lt)}")
                    if len(lt) > 1:
                        pop_types(stack, base, unreach, lt[:-1])
                        stack.extend(lt[:-1])
                types[i] = t
            elif c == _GC:
                gc.validate_instr(ctx, op, imm, stack, base, unreach,
                                  lambda x: _label_types(frames, x))
            else:  # pragma: no cover - every special row has a branch above
                raise AssertionError(f"no validation rule for {op.name}")

        # The implicit end of the function body.
        i = n
        heights[n] = len(stack)
        if len(frames) != 1:
            raise Invalid("unclosed block: missing end")
        if not (len(stack) == len(results) and tuple(stack) == results):
            _end_types(stack, 0, unreach, results)
        if dead_start >= 0:
            dead[dead_start:n + 1] = b"\x01" * (n + 1 - dead_start)
    except Invalid as e:
        op_name = body[i].op.text if i < n else "end"
        raise ValidationError(e.message, func=index, instr=i, func_name=ctx.func_name(index),
                              op=op_name) from None
    return FuncInfo(index, ftype, locals_, array("i", heights), dead, blocks, types,
                    max(heights))
