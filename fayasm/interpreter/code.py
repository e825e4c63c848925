"""Preparing a validated function body for execution.

The interpreter runs the validated instruction sequence itself; this pass only resolves
what the spec finds by walking the label stack at run time. Each instruction becomes a
4-tuple ``(kind, a, b, c)`` whose kind says how to execute it; branches carry their target
as ``(pc, height, arity)``: where to continue, the operand-stack height of the target
label, and how many values it keeps. ``block``, ``loop`` and ``end`` need no action once
labels are resolved, and dead code is never reached, so neither is kept. ``return`` is a
branch to the function's own label, which sits on a final RETURN. Rows with the ``tail`` fact
(``return_call*``) become TAIL_CALL and TAIL_CALL_IND: the machine replaces the
running frame by the callee's instead of pushing one.
"""
from __future__ import annotations

import struct

from fayasm import isa
from fayasm.runtime import memops
from fayasm.runtime.limits import frame_units
from fayasm.runtime.numerics import OPS as NUMERIC
from fayasm.runtime.types import ValType

from . import gc, misc

# Execution kinds, numbered roughly by how often they run (the dispatch tests in order).
(LGET, CONST, BIN, LSET, LTEE, BR_IF, LOADU, STORE, BR, UN, IF, JUMP, GGET, GSET, CALL,
 RETURN, SELECT, DROP, LOADS, BR_TABLE, CALL_IND, LOAD, STOREX, MISC, UN_IMM, BIN_IMM,
 TERN, UNREACHABLE, BR_IF_BACK, BR_BACK, TAIL_CALL, TAIL_CALL_IND, CALL_REF, BR_ON_NULL,
 BR_ON_NON_NULL, BR_ON_CAST, BR_ON_CAST_FAIL) = range(37)

_MASK32, _MASK64 = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF
_ZERO = {ValType.I32: 0, ValType.I64: 0, ValType.F32: 0.0, ValType.F64: 0.0, ValType.V128: 0,
         ValType.FUNCREF: None, ValType.EXTERNREF: None, ValType.ANYREF: None}


def zero(t: ValType):
    """A local's initial value (every reference starts null: a non-null one is set
    before it is read, validation sees to that)."""
    return _ZERO[t.rep]

# Integer loads and stores by access size: the struct format of an unsigned and a signed
# access. A signed load reads sign-extended and masks to the result's width.
_INT_FORMATS = {1: ("<B", "<b"), 2: ("<H", "<h"), 4: ("<I", "<i"), 8: ("<Q", "<q")}
_WIDTH_MASK = {ValType.I32: _MASK32, ValType.I64: _MASK64}


def _int_load(op):
    """(kind, unpack_from, mask) for an integer load row."""
    unsigned, signed = _INT_FORMATS[op.access]
    if op.signed:
        return LOADS, struct.Struct(signed).unpack_from, _WIDTH_MASK[op.results[0]]
    return LOADU, struct.Struct(unsigned).unpack_from, 0


def _int_store(op):
    """(pack_into, mask) for an integer store row: the value is cut to the access size."""
    return struct.Struct(_INT_FORMATS[op.access][0]).pack_into, (1 << 8 * op.access) - 1


class _Label:
    """A branch target while a body is prepared; ``pc`` is known once its block ends."""

    __slots__ = ("pc", "height", "arity", "back")

    def __init__(self, pc, height, arity, back):
        self.pc, self.height, self.arity, self.back = pc, height, arity, back

    def resolve(self) -> tuple:
        return (self.pc, self.height, self.arity)


class Template:
    """One defined function prepared for execution (shared by all instances of a module)."""

    __slots__ = ("code", "zeros", "nparams", "nresults", "type", "index", "name", "units",
                 "deftype")

    def __init__(self, code, zeros, nparams, nresults, type, index, name, units=1,
                 deftype=None):
        self.deftype = deftype  # the function's DefType (GC casts, call_indirect)
        self.units = units  # stack units of a frame (limits.frame_units)
        self.code, self.zeros = code, zeros
        self.nparams, self.nresults = nparams, nresults
        self.type, self.index, self.name = type, index, name


def prepare(func, info, types, ops=None, mems=(), tables=(), defs=()) -> list:
    """Translate one function body (syntax) with its FuncInfo into execution tuples;
    ``ops`` are the numeric semantics (another relaxed SIMD profile's, for the oracle;
    NUMERIC, looked up when called, by default). ``mems`` are the module's memory types:
    an access to a memory other than 0, or to a 64-bit one, runs as a MISC handler with
    an explicit bounds check (misc.access), so the common case keeps its kinds.
    ``defs`` are the module's DefTypes (GC instructions and call_indirect's check)."""
    if ops is None:
        ops = NUMERIC
    wide = [k for k, mt in enumerate(mems) if mt.address is ValType.I64]
    blocks, dead = info.blocks, info.dead
    code: list = []
    # The function's own label: branching to it returns (it resolves to the final RETURN).
    fn_label = _Label(None, 0, len(info.type.results), False)
    ctl: list = [[fn_label, None]]  # [label, index of an if's conditional jump or None]

    for i, ins in enumerate(func.body):
        name = ins.op.name
        imm = ins.imm
        if name in ("block", "loop", "if"):
            b = blocks[i]
            if name == "loop":
                lab = _Label(len(code), b.height, len(b.params), True)
            else:
                lab = _Label(None, b.height, len(b.results), False)
            pending = None
            if name == "if" and not dead[i]:
                pending = len(code)
                code.append([IF, None, 0, 0])  # jumps to the else branch (or the end) on 0
            ctl.append([lab, pending])
            continue
        if name == "else":
            lab, pending = ctl[-1]
            if not dead[i]:
                code.append([JUMP, lab, 0, 0])  # the then-branch falls through to the end
            if pending is not None:
                code[pending][1] = len(code)
            ctl[-1][1] = None
            continue
        if name == "end":
            lab, pending = ctl.pop()
            if lab.pc is None:
                lab.pc = len(code)
            if pending is not None:
                code[pending][1] = len(code)
            continue
        if dead[i] or name == "nop":
            continue
        if name == "local.get":
            code.append((LGET, imm[0], 0, 0))
        elif name == "local.set":
            code.append((LSET, imm[0], 0, 0))
        elif name == "local.tee":
            code.append((LTEE, imm[0], 0, 0))
        elif ins.op.cls == "const":
            code.append((CONST, isa.const_value(ins.op, imm[0]), 0, 0))
        elif name == "global.get":
            code.append((GGET, imm[0], 0, 0))
        elif name == "global.set":
            code.append((GSET, imm[0], 0, 0))
        elif name == "br":
            lab = ctl[-1 - imm[0]][0]
            code.append([BR_BACK if lab.back else BR, lab, 0, 0])
        elif name == "br_if":
            lab = ctl[-1 - imm[0]][0]
            code.append([BR_IF_BACK if lab.back else BR_IF, lab, 0, 0])
        elif name == "br_table":
            labs = [ctl[-1 - d][0] for d in imm[0]] + [ctl[-1 - imm[1]][0]]
            code.append([BR_TABLE, labs, 0, 0])
        elif name == "return":
            code.append([BR, fn_label, 0, 0])
        elif name == "call":
            code.append((CALL, imm[0], 0, 0))
        elif name == "call_indirect":
            code.append((CALL_IND, defs[imm[0]], imm[1], 0))
        elif name == "call_ref":
            code.append((CALL_REF, 0, 0, 0))
        elif name == "br_on_null":
            code.append([BR_ON_NULL, ctl[-1 - imm[0]][0], 0, 0])
        elif name == "br_on_non_null":
            code.append([BR_ON_NON_NULL, ctl[-1 - imm[0]][0], 0, 0])
        elif ins.op.tail:  # the immediates name the callee (see isa FLAGS)
            if ins.op.imms[0] == "func":
                code.append((TAIL_CALL, imm[0], 0, 0))
            elif len(ins.op.imms) > 1:  # through a table
                code.append((TAIL_CALL_IND, defs[imm[0]], imm[1], 0))
            else:  # TAIL_CALL_IND without a table: a reference
                code.append((TAIL_CALL_IND, None, None, 0))
        elif name == "br_on_cast" or name == "br_on_cast_fail":
            code.append([BR_ON_CAST if name == "br_on_cast" else BR_ON_CAST_FAIL,
                         ctl[-1 - imm[0]][0], gc.cast_test(imm[2]), 0])
        elif ins.op.feature == "gc":
            code.append((MISC, gc.handler(ins, defs), 0, 0))
        elif name == "drop":
            code.append((DROP, 0, 0, 0))
        elif name in ("select", "select_t"):
            code.append((SELECT, 0, 0, 0))
        elif name == "unreachable":
            code.append((UNREACHABLE, 0, 0, 0))
        elif ins.op.cls in ("load", "store") and (imm[0].mem or imm[0].mem in wide):
            code.append((MISC, misc.access(ins.op, imm[0].mem), imm[0].offset,
                         imm[1] if len(imm) > 1 else 0))
        elif name in ("memory.grow", "table.grow"):  # the failure -1 as the address type
            at = (mems[imm[0]].address if name == "memory.grow" else tables[imm[0]].address)
            code.append((MISC, misc.HANDLERS[name], imm[0],
                         _MASK64 if at is ValType.I64 else _MASK32))
        elif ins.op.cls == "load" and ins.op.shape in ("i32", "i64"):
            kind, uf, mask = _int_load(ins.op)
            code.append((kind, uf, imm[0].offset, mask))
        elif ins.op.cls == "store" and ins.op.shape in ("i32", "i64"):
            pack, mask = _int_store(ins.op)
            code.append((STORE, pack, imm[0].offset, mask))
        elif name in memops.LOADS:
            code.append((LOAD, memops.LOADS[name], imm[0].offset, imm[1] if len(imm) > 1 else 0))
        elif name in memops.STORES:
            code.append((STOREX, memops.STORES[name], imm[0].offset,
                         imm[1] if len(imm) > 1 else 0))
        elif name in ops:
            fn = ops[name]
            n = len(ins.op.params)
            if ins.op.imms:  # a lane index or a shuffle pattern
                code.append((UN_IMM if n == 1 else BIN_IMM, fn, imm[0], 0))
            else:
                code.append(((None, UN, BIN, TERN)[n], fn, 0, 0))
        else:
            code.append((MISC, misc.HANDLERS[name], imm[0] if imm else 0,
                         imm[1] if len(imm) > 1 else 0))

    fn_label.pc = len(code)
    code.append((RETURN, 0, 0, 0))
    # Labels are all placed now: replace them by (pc, height, arity).
    for k, entry in enumerate(code):
        if isinstance(entry, list):
            a = entry[1]
            if isinstance(a, _Label):
                entry[1] = a.resolve()
            elif isinstance(a, list):
                entry[1] = tuple(lab.resolve() for lab in a)
            code[k] = tuple(entry)
    return code


def make_template(func, info, types, index: int, name: str, ops=None, mems=(),
                  tables=(), defs=()) -> Template:
    code = prepare(func, info, types, ops, mems, tables, defs)
    zeros = [zero(t) for t in func.locals]
    ft = info.type
    units = frame_units(len(info.locals) + info.max_height)
    deftype = defs[func.type_idx] if defs else None
    return Template(code, zeros, len(ft.params), len(ft.results), ft, index, name, units,
                    deftype)
