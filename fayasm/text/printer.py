"""Printer: syntax.Module -> WAT text that parses back to the same module.

Indices are printed as numbers (names from the name section may hold characters the text
format cannot spell); debug names appear in comments when they are safe there. Constants
are exact: floats as hex floats or ``nan:0x...``, v128 as four i32 lanes.
"""
from __future__ import annotations

import math
import re
import threading

from fayasm.closing import deftypes, type_indices
from fayasm.runtime.types import (
    ExternKind,
    GlobalType,
    HeapType,
    Limits,
    RecRef,
    TableType,
    ValType,
)
from fayasm.runtime.values import f32_from_bits, f64_from_bits
from fayasm.syntax import ACTIVE, CATCH_NAMES, DECLARATIVE, PASSIVE, Instr, Module

_OPENERS = ("block", "loop", "if", "try_table", "try")
_MIDDLES = ("else", "catch", "catch_all")  # close one branch of a block, open the next
MAX_INDENT = 40  # levels of indentation in a function body


def string(data: bytes) -> str:
    """A WAT string literal for ``data``: printable ASCII as is, everything else as \\hh."""
    out = ['"']
    for b in data:
        if 0x20 <= b < 0x7F and b not in (0x22, 0x5C):
            out.append(chr(b))
        else:
            out.append(f"\\{b:02x}")
    out.append('"')
    return "".join(out)


def _name(s: str) -> str:
    return string(s.encode("utf-8"))


_ID = re.compile(r"^[0-9A-Za-z!#$%&'*+\-./:<=>?@\\^_`|~]+$")


def _ids(names: dict[int, str]) -> dict[int, str]:
    """Names that can be written as text identifiers ($name): valid id characters and
    unique within their space, since a repeated id is malformed text."""
    seen: dict[str, int] = {}
    for idx, name in names.items():
        if _ID.match(name):
            seen[name] = -1 if name in seen else idx
    return {idx: name for name, idx in seen.items() if idx >= 0}


def _comment(text: str | None) -> str:
    """A block comment holding ``text``, or nothing if the text could end the comment."""
    if not text or "(;" in text or ";)" in text or not text.isprintable():
        return ""
    return f" (; {text} ;)"


def _float(bits: int, width: int) -> str:
    if width == 32:
        sign, exp_mask, mant_bits = bits >> 31, 0xFF, 23
        exp = (bits >> 23) & 0xFF
        value = f32_from_bits(bits)
    else:
        sign, exp_mask, mant_bits = bits >> 63, 0x7FF, 52
        exp = (bits >> 52) & 0x7FF
        value = f64_from_bits(bits)
    s = "-" if sign else ""
    if exp == exp_mask:
        mant = bits & ((1 << mant_bits) - 1)
        if mant == 0:
            return f"{s}inf"
        return f"{s}nan:0x{mant:x}"
    if value == 0:
        return f"{s}0x0p+0"
    return s + math.fabs(value).hex()


# The module being printed: a concrete heap type is printed as its type index.
_CTX = threading.local()


def _heap(h) -> str:
    if isinstance(h, HeapType):
        return str(h)
    if isinstance(h, RecRef):
        return str(getattr(_CTX, "group_start", 0) + h.index)
    if isinstance(h, int):
        return str(h)
    index = getattr(_CTX, "indices", {}).get(h)
    return str(index) if index is not None else h.short()


def _vt(t: ValType) -> str:
    """A value type's text (a concrete reference as ``(ref null? N)``)."""
    if t.heap is None or t.short_code is not None:
        return t.value
    return f"(ref null {_heap(t.heap)})" if t.nullable else f"(ref {_heap(t.heap)})"


def _limits(lim: Limits) -> str:
    return str(lim.min) if lim.max is None else f"{lim.min} {lim.max}"


def _global_type(t: GlobalType) -> str:
    return f"(mut {_vt(t.valtype)})" if t.mutable else _vt(t.valtype)


def _address(t) -> str:
    return "i64 " if t.address is ValType.I64 else ""


def _table_type(t: TableType) -> str:
    return f"{_address(t)}{_limits(t.limits)} {_vt(t.elem)}"


def _memory_type(t) -> str:
    return f"{_address(t)}{_limits(t.limits)}"


def _block_type(bt) -> str:
    if bt is None:
        return ""
    if isinstance(bt, ValType):
        return f" (result {_vt(bt)})"
    return f" (type {bt})"


def _memarg(op, ma) -> str:
    parts = [str(ma.mem)] if ma.mem else []
    if ma.offset:
        parts.append(f"offset={ma.offset}")
    if ma.align != op.align:
        parts.append(f"align={1 << ma.align}")
    return " ".join(parts)


def instr_text(i: Instr) -> str:
    """One instruction in the flat text syntax."""
    op, imm = i.op, i.imm
    name = op.text
    if not op.imms:
        return name
    kinds = op.imms
    if kinds == ("type", "table"):  # call_indirect, return_call_indirect
        return f"{name} {imm[1]} (type {imm[0]})"
    if name == "table.init":
        return f"table.init {imm[1]} {imm[0]}"
    if name == "memory.init":
        return f"memory.init {imm[1]} {imm[0]}" if imm[1] else f"memory.init {imm[0]}"
    parts = [name]
    for kind, v in zip(kinds, imm):
        if kind == "blocktype":
            parts[-1] += _block_type(v)
        elif kind == "mem":
            if any(imm[k] for k, other in enumerate(kinds) if other == "mem"):
                parts.append(str(v))  # memory.copy names both or neither
        elif kind == "memarg":
            m = _memarg(op, v)
            if m:
                parts.append(m)
        elif kind == "labels":
            parts.extend(map(str, v))
        elif kind in ("f32", "f64"):
            parts.append(_float(v, 32 if kind == "f32" else 64))
        elif kind == "v128":
            lanes = [(v >> (32 * k)) & 0xFFFFFFFF for k in range(4)]
            parts.append("i32x4 " + " ".join(f"0x{x:08x}" for x in lanes))
        elif kind == "shuffle":
            parts.extend(map(str, v))
        elif kind == "reftype":
            parts.append(_heap(v.heap))
        elif kind == "catches":
            parts.extend(f"({CATCH_NAMES[c.kind]}{'' if c.tag is None else f' {c.tag}'}"
                         f" {c.label})" for c in v)
        elif kind == "valtypes":
            # Typed select keeps its (possibly empty) result list: plain select differs.
            parts.append(f"(result {' '.join(map(_vt, v))})".replace("(result )", "(result)"))
        else:
            parts.append(str(v))
    return " ".join(p for p in parts if p)


def _expr(body: list[Instr]) -> str:
    return " ".join(instr_text(i) for i in body)


def _body(body: list[Instr], indent: str) -> list[str]:
    """One line per instruction, indented by nesting depth up to MAX_INDENT levels (deeper
    lines stay at that indentation, so the text is linear in the body's size)."""
    lines = []
    pads = [indent + "  " * d for d in range(MAX_INDENT + 1)]
    depth = 1
    for i in body:
        name = i.op.name
        if name == "end" or name == "delegate" or name in _MIDDLES:
            depth -= 1
        lines.append(pads[min(max(depth, 0), MAX_INDENT)] + instr_text(i))
        if name in _OPENERS or name in _MIDDLES:
            depth += 1
    return lines


def print_module(m: Module) -> str:
    """The module as WAT text."""
    out = ["(module"]
    ind = "  "
    n = m.names
    spaces = {kind: _ids(names) for kind, names in (
        ("type", n.types), (ExternKind.FUNC, n.funcs), (ExternKind.TABLE, n.tables),
        (ExternKind.MEMORY, n.mems), (ExternKind.GLOBAL, n.globals), ("elem", n.elems),
        ("data", n.datas))}
    raw = {"type": n.types, ExternKind.FUNC: n.funcs, ExternKind.TABLE: n.tables,
           ExternKind.MEMORY: n.mems, ExternKind.GLOBAL: n.globals, "elem": n.elems,
           "data": n.datas}

    def head(kind, idx: int) -> str:
        """``$id (;idx;)`` where the name can be an id, else the index and a safe comment."""
        ids = spaces[kind]
        if idx in ids:
            return f"${ids[idx]} (;{idx};)"
        return f"(;{idx};){_comment(raw[kind].get(idx))}"

    def func_head(idx: int) -> str:
        return head(ExternKind.FUNC, idx)

    defs = deftypes(m)
    _CTX.indices = type_indices(m)
    for start, count in (m.groups or [(k, 1) for k in range(len(defs))]):
        _CTX.group_start = start  # RecRefs count from its rec group's first type
        if count != 1:
            out.append(f"{ind}(rec")
        for k in range(start, start + count):
            t = defs[k].sub.comp
            params = f" (param {' '.join(map(_vt, t.params))})" if t.params else ""
            results = f" (result {' '.join(map(_vt, t.results))})" if t.results else ""
            out.append(f"{ind}(type {head('type', k)} (func{params}{results}))")
        if count != 1:
            out[-1] += ")"

    counters = {k: 0 for k in ExternKind}
    for imp in m.imports:
        idx = counters[imp.kind]
        counters[imp.kind] += 1
        line = f"{ind}(import {_name(imp.module)} {_name(imp.name)} "
        if imp.kind is ExternKind.FUNC:
            desc = f"(func {func_head(idx)} (type {imp.desc}))"
        elif imp.kind is ExternKind.TABLE:
            desc = f"(table {head(ExternKind.TABLE, idx)} {_table_type(imp.desc)})"
        elif imp.kind is ExternKind.MEMORY:
            desc = f"(memory {head(ExternKind.MEMORY, idx)} {_memory_type(imp.desc)})"
        elif imp.kind is ExternKind.TAG:
            desc = f"(tag (;{idx};) (type {imp.desc}))"
        else:
            desc = f"(global {head(ExternKind.GLOBAL, idx)} {_global_type(imp.desc)})"
        out.append(line + desc + ")")
    fbase = counters[ExternKind.FUNC]
    for k, f in enumerate(m.funcs):
        idx = fbase + k
        out.append(f"{ind}(func {func_head(idx)} (type {f.type_idx})")
        if f.locals:
            out.append(f"{ind}  (local {' '.join(map(_vt, f.locals))})")
        out.extend(_body(f.body, ind))
        out[-1] += ")"
    for k, tt in enumerate(m.tables):
        init = f" {_expr(m.table_inits[k])}" if k in m.table_inits else ""
        out.append(f"{ind}(table {head(ExternKind.TABLE, counters[ExternKind.TABLE] + k)} "
                   f"{_table_type(tt)}{init})")
    for k, mt in enumerate(m.mems):
        out.append(f"{ind}(memory {head(ExternKind.MEMORY, counters[ExternKind.MEMORY] + k)} "
                   f"{_memory_type(mt)})")
    for k, tx in enumerate(m.tags):
        out.append(f"{ind}(tag (;{counters[ExternKind.TAG] + k};) (type {tx}))")
    for k, g in enumerate(m.globals):
        out.append(f"{ind}(global {head(ExternKind.GLOBAL, counters[ExternKind.GLOBAL] + k)} "
                   f"{_global_type(g.type)} "
                   f"{_expr(g.init)})")
    for x in m.exports:
        out.append(f"{ind}(export {_name(x.name)} ({x.kind} {x.index}))")
    if m.start is not None:
        out.append(f"{ind}(start {m.start})")
    for k, e in enumerate(m.elems):
        line = f"{ind}(elem {head('elem', k)}"
        if e.mode == ACTIVE:
            assert e.offset is not None  # an active segment has one
            line += f" (table {e.table}) (offset {_expr(e.offset)})"
        elif e.mode == DECLARATIVE:
            line += " declare"
        items = " ".join(f"(item {_expr(x)})" for x in e.init)
        out.append(f"{line} {_vt(e.type)}{' ' + items if items else ''})")
    for k, d in enumerate(m.datas):
        line = f"{ind}(data {head('data', k)}"
        if d.mode == ACTIVE:
            assert d.offset is not None  # an active segment has one
            line += f" (memory {d.memory}) (offset {_expr(d.offset)})"
        out.append(f"{line} {string(d.init)})")
    out[-1] += ")"
    return "\n".join(out) + "\n"


__all__ = ["print_module", "instr_text", "string", "PASSIVE"]
