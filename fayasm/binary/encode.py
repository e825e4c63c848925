"""Binary encoder: syntax.Module -> bytes, so that ``decode(encode(m)) == m``."""
from __future__ import annotations

import struct
import threading

from fayasm.closing import deftypes, type_indices
from fayasm.errors import ValidationError
from fayasm.runtime.types import (
    I8,
    I16,
    ArrayType,
    ExternKind,
    GlobalType,
    HeapType,
    Limits,
    RecRef,
    StructType,
    TableType,
    ValType,
)
from fayasm.syntax import ACTIVE, FUNC_INDICES, PASSIVE, Custom, Elem, Instr, Module

from .leb128 import encode_s, encode_u
from .names import encode_names

_REF_FUNC = "ref.func"
_CAST_IMMS = ("label", "casttype", "casttype")
# The module being encoded: a concrete heap type is written as its type index.
_CTX = threading.local()


def _heap(h) -> bytes:
    if isinstance(h, HeapType):
        return bytes([h.value])
    if isinstance(h, RecRef):
        return encode_s(_CTX.group_start + h.index)
    if isinstance(h, int):
        return encode_s(h)
    index = getattr(_CTX, "indices", {}).get(h)
    if index is None:
        raise ValidationError(f"unknown type {h}")
    return encode_s(index)


def _vt(t: ValType) -> bytes:
    code = t.short_code
    if code is not None:
        return bytes([code])
    return (b"\x63" if t.nullable else b"\x64") + _heap(t.heap)


def _storage(st) -> bytes:
    if st is I8:
        return b"\x78"
    if st is I16:
        return b"\x77"
    return _vt(st)


def _field(f) -> bytes:
    return _storage(f.storage) + bytes([int(f.mutable)])


def _comptype(ct) -> bytes:
    if ct.__class__ is StructType:
        return b"\x5F" + _vec(ct.fields, _field)
    if ct.__class__ is ArrayType:
        return b"\x5E" + _field(ct.field)
    return b"\x60" + _vec(ct.params, _vt) + _vec(ct.results, _vt)


def _subtype(d) -> bytes:
    sub = d.sub
    body = _comptype(sub.comp)
    if sub.final and not sub.supers:
        return body
    return (b"\x4F" if sub.final else b"\x50") + _vec(sub.supers, _type_index) + body


def _type_index(h) -> bytes:
    """A supertype as a u32 type index (a heap type is an s33)."""
    if isinstance(h, RecRef):
        return encode_u(_CTX.group_start + h.index)
    index = getattr(_CTX, "indices", {}).get(h)
    if index is None:
        raise ValidationError(f"unknown type {h}")
    return encode_u(index)


def _type_section(m: Module, defs: list) -> bytes:
    groups = m.rec_groups if m.rec_groups is not None else [(k, 1) for k in range(len(defs))]
    out = [encode_u(len(groups))]
    for start, count in groups:
        _CTX.group_start = start
        if m.rec_groups is None:
            out.append(_subtype(defs[start]))
        else:
            out.append(b"\x4E" + encode_u(count)
                       + b"".join(_subtype(defs[k]) for k in range(start, start + count)))
    return b"".join(out)


def _vec(items, enc) -> bytes:
    return encode_u(len(items)) + b"".join(enc(x) for x in items)


def _name(s: str) -> bytes:
    raw = s.encode("utf-8")
    return encode_u(len(raw)) + raw


def _limits(lim: Limits, address: ValType = ValType.I32) -> bytes:
    flag = 4 if address is ValType.I64 else 0  # memory64: bit 2 of the flags
    if lim.max is None:
        return bytes([flag]) + encode_u(lim.min)
    return bytes([flag | 1]) + encode_u(lim.min) + encode_u(lim.max)


def _table_type(t: TableType) -> bytes:
    return _vt(t.elem) + _limits(t.limits, t.address)


def _global_type(t: GlobalType) -> bytes:
    return _vt(t.valtype) + bytes([int(t.mutable)])


def _block_type(bt) -> bytes:
    if bt is None:
        return b"\x40"
    if isinstance(bt, ValType):
        return _vt(bt)
    return encode_s(bt)


def _imm(kind: str, value) -> bytes:
    if kind in ("label", "func", "type", "table", "local", "global", "elem", "data", "field",
                "count"):
        return encode_u(value)
    if kind == "casttype":  # its nullability is in the opcode (br_on_cast: see instr)
        return _heap(value.heap)
    if kind == "mem":
        return encode_u(value)
    if kind == "memarg":
        if value.mem:  # multi-memory: flag bit 6, then the memory index
            return encode_u(value.align | 0x40) + encode_u(value.mem) + encode_u(value.offset)
        return encode_u(value.align) + encode_u(value.offset)
    if kind == "labels":
        return _vec(value, encode_u)
    if kind == "blocktype":
        return _block_type(value)
    if kind in ("i32", "i64"):
        return encode_s(value)
    if kind == "f32":
        return struct.pack("<I", value)
    if kind == "f64":
        return struct.pack("<Q", value)
    if kind == "v128":
        return value.to_bytes(16, "little")
    if kind == "lane":
        return bytes([value])
    if kind == "shuffle":
        return bytes(value)
    if kind == "reftype":  # ref.null's heap type, kept as the type it pushes
        return _heap(value.heap)
    if kind == "valtypes":
        return _vec(value, _vt)
    raise AssertionError(kind)


def instr(i: Instr) -> bytes:
    op = i.op
    out = op.opcode_bytes
    if op.imms == _CAST_IMMS:  # br_on_cast: flags, label, heap types
        label, t1, t2 = i.imm
        return (out + bytes([int(bool(t1.nullable)) | int(bool(t2.nullable)) << 1])
                + encode_u(label) + _heap(t1.heap) + _heap(t2.heap))
    if op.imms:
        out += b"".join(_imm(k, v) for k, v in zip(op.imms, i.imm))
    return out


def expr(body: list[Instr]) -> bytes:
    return b"".join(instr(i) for i in body) + b"\x0b"


def _import(imp) -> bytes:
    head = _name(imp.module) + _name(imp.name) + bytes([imp.kind.value])
    if imp.kind is ExternKind.FUNC:
        return head + encode_u(imp.desc)
    if imp.kind is ExternKind.TABLE:
        return head + _table_type(imp.desc)
    if imp.kind is ExternKind.MEMORY:
        return head + _limits(imp.desc.limits, imp.desc.address)
    return head + _global_type(imp.desc)


def _func_indices(e: Elem) -> list[int] | None:
    """The function indices of an element list that is all ``ref.func``, else None."""
    if e.type is not FUNC_INDICES:
        return None
    out = []
    for item in e.init:
        if len(item) != 1 or item[0].op.name != _REF_FUNC:
            return None
        out.append(item[0].imm[0])
    return out


def _elem(e: Elem) -> bytes:
    funcs = _func_indices(e)
    if e.mode == ACTIVE:
        # Flags 0 and 4 name no type: function indices are (ref func), expressions funcref.
        implicit = FUNC_INDICES if funcs is not None else ValType.FUNCREF
        flags = 0 if e.table == 0 and e.type is implicit else 2
    else:
        flags = 1 if e.mode == PASSIVE else 3
    if funcs is None:
        flags |= 4
    out = encode_u(flags)
    if e.mode == ACTIVE:
        if flags & 2:
            out += encode_u(e.table)
        out += expr(e.offset)
    if flags & 3:
        out += _vt(e.type) if funcs is None else b"\x00"
    if funcs is None:
        return out + _vec(e.init, expr)
    return out + _vec(funcs, encode_u)


def _data(d) -> bytes:
    if d.mode == PASSIVE:
        return b"\x01" + encode_u(len(d.init)) + d.init
    head = b"\x00" if d.memory == 0 else b"\x02" + encode_u(d.memory)
    return head + expr(d.offset) + encode_u(len(d.init)) + d.init


def _locals(types) -> bytes:
    runs: list[list] = []
    for t in types:
        if runs and runs[-1][1] is t:
            runs[-1][0] += 1
        else:
            runs.append([1, t])
    return _vec(runs, lambda run: encode_u(run[0]) + _vt(run[1]))


def _code(f) -> bytes:
    body = _locals(f.locals) + expr(f.body)
    return encode_u(len(body)) + body


BRANCH_HINTS = "metadata.code.branch_hint"


def _branch_hints(m: Module) -> bytes:
    """The metadata.code.branch_hint payload: per function, each hinted instruction's byte
    offset in its body (from the locals on), a size of 1 and the hint."""
    nimp = len(m.imported(ExternKind.FUNC))
    out = []
    for k in sorted(m.branch_hints):
        hints = m.branch_hints[k]
        f = m.funcs[k]
        pos = len(_locals(f.locals))
        items = []
        for j, ins in enumerate(f.body):
            if j in hints:
                items.append(encode_u(pos) + b"\x01" + bytes([hints[j]]))
            pos += len(instr(ins))
        out.append(encode_u(nimp + k) + encode_u(len(items)) + b"".join(items))
    return encode_u(len(out)) + b"".join(out)


def _section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + encode_u(len(payload)) + payload


def _custom(c: Custom) -> bytes:
    return _section(0, _name(c.name) + c.data)


def encode(m: Module, names: bool = False) -> bytes:
    """Encode ``m``; custom sections go back where they were. With ``names`` and no name
    section of its own, a name section is written from ``m.names``."""
    out = bytearray(b"\0asm\x01\0\0\0")
    customs = list(m.customs)
    if names and not any(c.name == "name" for c in customs):
        payload = encode_names(m.names)
        if payload:
            customs.append(Custom("name", payload, 11))

    def emit_customs(after: int) -> None:
        for c in customs:
            if c.after == after:
                out.extend(_custom(c))

    emit_customs(0)
    defs = deftypes(m)
    _CTX.indices = type_indices(m)
    sections = [
        (1, m.types, lambda: _type_section(m, defs)),
        (2, m.imports, lambda: _vec(m.imports, _import)),
        (3, m.funcs, lambda: _vec(m.funcs, lambda f: encode_u(f.type_idx))),
        (4, m.tables, lambda: b"".join([encode_u(len(m.tables))] + [
            _table_type(t) if k not in m.table_inits
            else b"\x40\x00" + _table_type(t) + expr(m.table_inits[k])
            for k, t in enumerate(m.tables)])),
        (5, m.mems, lambda: _vec(m.mems, lambda t: _limits(t.limits, t.address))),
        (6, m.globals, lambda: _vec(m.globals, lambda g: _global_type(g.type) + expr(g.init))),
        (7, m.exports, lambda: _vec(m.exports, lambda e: _name(e.name) + bytes([e.kind.value])
                                    + encode_u(e.index))),
        (8, m.start is not None, lambda: encode_u(m.start)),
        (9, m.elems, lambda: _vec(m.elems, _elem)),
        (12, m.data_count is not None, lambda: encode_u(m.data_count)),
        (10, m.funcs, lambda: _vec(m.funcs, _code)),
        (11, m.datas, lambda: _vec(m.datas, _data)),
    ]
    for sid, present, payload in sections:
        if sid == 10 and m.branch_hints and not any(c.name == BRANCH_HINTS for c in customs):
            # Right before the code section, as the format asks.
            out.extend(_custom(Custom(BRANCH_HINTS, _branch_hints(m))))
        if present:
            out.extend(_section(sid, payload()))
        emit_customs(sid)
    return bytes(out)
