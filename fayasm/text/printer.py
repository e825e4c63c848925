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
    ArrayType,
    ExternKind,
    GlobalType,
    HeapType,
    Limits,
    Packed,
    RecRef,
    StructType,
    TableType,
    ValType,
)
from fayasm.runtime.values import f32_from_bits, f64_from_bits
from fayasm.syntax import ACTIVE, DECLARATIVE, FUNC_INDICES, PASSIVE, Instr, Module

from .annotations import print_custom

_OPENERS = ("block", "loop", "if")
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


def _storage(st) -> str:
    return st.value if st.__class__ is Packed else _vt(st)


def _field(f) -> str:
    return f"(mut {_storage(f.storage)})" if f.mutable else _storage(f.storage)


def _subtype(d) -> str:
    """A type definition's text: its composite type, in ``(sub ...)`` if it has
    supertypes or is not final."""
    sub = d.sub
    t = sub.comp
    if t.__class__ is StructType:
        body = "(struct" + "".join(f" (field {_field(f)})" for f in t.fields) + ")"
    elif t.__class__ is ArrayType:
        body = f"(array {_field(t.field)})"
    else:
        params = f" (param {' '.join(map(_vt, t.params))})" if t.params else ""
        results = f" (result {' '.join(map(_vt, t.results))})" if t.results else ""
        body = f"(func{params}{results})"
    if sub.final and not sub.supers:
        return body
    supers = "".join(" " + _heap(h) for h in sub.supers)
    return f"(sub{' final' if sub.final else ''}{supers} {body})"


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
        elif kind == "casttype":
            parts.append(_vt(v))
        elif kind == "valtypes":
            # Typed select keeps its (possibly empty) result list: plain select differs.
            parts.append(f"(result {' '.join(map(_vt, v))})".replace("(result )", "(result)"))
        else:
            parts.append(str(v))
    return " ".join(p for p in parts if p)


def _expr(body: list[Instr]) -> str:
    return " ".join(instr_text(i) for i in body)


def _body(body: list[Instr], indent: str, hints: dict | None = None) -> list[str]:
    """One line per instruction, indented by nesting depth up to MAX_INDENT levels (deeper
    lines stay at that indentation, so the text is linear in the body's size); a branch
    hint (``hints``: instruction index -> 0 or 1) as its annotation before the branch."""
    lines = []
    pads = [indent + "  " * d for d in range(MAX_INDENT + 1)]
    depth = 1
    for k, i in enumerate(body):
        name = i.op.name
        if name in ("end", "else"):
            depth -= 1
        hint = f'(@metadata.code.branch_hint "\\0{hints[k]}") ' if hints and k in hints else ""
        lines.append(pads[min(max(depth, 0), MAX_INDENT)] + hint + instr_text(i))
        if name in _OPENERS or name == "else":
            depth += 1
    return lines


def print_module(m: Module) -> str:
    """The module as WAT text."""
    n = m.names
    # Names that are no identifier go in (@name ...) annotations (module and functions).
    if n.module is None:
        out = ["(module"]
    elif _ID.match(n.module):
        out = [f"(module ${n.module}"]
    else:
        out = [f"(module (@name {string(n.module.encode('utf-8'))})"]
    ind = "  "
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
        name = n.funcs.get(idx)
        if name is None or idx in spaces[ExternKind.FUNC]:
            return head(ExternKind.FUNC, idx)
        return f"(;{idx};) (@name {string(name.encode('utf-8'))})"

    defs = deftypes(m)
    _CTX.indices = type_indices(m)
    groups = m.rec_groups if m.rec_groups is not None else [(k, 1) for k in range(len(defs))]
    for start, count in groups:
        _CTX.group_start = start
        lines = [f"(type {head('type', k)} {_subtype(defs[k])})"
                 for k in range(start, start + count)]
        if count == 1:  # a group of one is the plain definition
            out.append(ind + lines[0])
        else:
            out.append(f"{ind}(rec {' '.join(lines)})")

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
        else:
            desc = f"(global {head(ExternKind.GLOBAL, idx)} {_global_type(imp.desc)})"
        out.append(line + desc + ")")
    fbase = counters[ExternKind.FUNC]
    for k, f in enumerate(m.funcs):
        idx = fbase + k
        out.append(f"{ind}(func {func_head(idx)} (type {f.type_idx})")
        if f.locals:
            out.append(f"{ind}  (local {' '.join(map(_vt, f.locals))})")
        out.extend(_body(f.body, ind, m.branch_hints.get(k)))
        out[-1] += ")"
    for k, tt in enumerate(m.tables):
        init = f" {_expr(m.table_inits[k])}" if k in m.table_inits else ""
        out.append(f"{ind}(table {head(ExternKind.TABLE, counters[ExternKind.TABLE] + k)} "
                   f"{_table_type(tt)}{init})")
    for k, mt in enumerate(m.mems):
        out.append(f"{ind}(memory {head(ExternKind.MEMORY, counters[ExternKind.MEMORY] + k)} "
                   f"{_memory_type(mt)})")
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
        if e.type is FUNC_INDICES and all(len(x) == 1 and x[0].op.name == "ref.func"
                                          for x in e.init):
            out.append(f"{line} func{''.join(f' {x[0].imm[0]}' for x in e.init)})")
            continue
        items = " ".join(f"(item {_expr(x)})" for x in e.init)
        out.append(f"{line} {_vt(e.type)}{' ' + items if items else ''})")
    for k, d in enumerate(m.datas):
        line = f"{ind}(data {head('data', k)}"
        if d.mode == ACTIVE:
            assert d.offset is not None  # an active segment has one
            line += f" (memory {d.memory}) (offset {_expr(d.offset)})"
        out.append(f"{line} {string(d.init)})")
    # Custom sections as annotations (3.0 text), each with its placement, so the text keeps
    # them and parsing puts them back where they were.
    out.extend(f"{ind}{print_custom(c, string)}" for c in m.customs)
    out[-1] += ")"
    return "\n".join(out) + "\n"


__all__ = ["print_module", "instr_text", "string", "PASSIVE"]
