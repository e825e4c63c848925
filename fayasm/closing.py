"""Closing a module's types: the decoder and the text parser read a concrete heap type as
a type index (``ValType.ref(nullable, 3)``); once the whole module is read, every such
type is replaced by the closed one (a ``DefType``, see runtime/types.py), so validation,
linking and the engines compare types by identity, across modules too.

A reference to a type index that does not exist (or, inside the type section, to a type
not defined yet outside its own rec group) is the spec's "unknown type" ValidationError.
"""
from __future__ import annotations

from fayasm.errors import ValidationError
from fayasm.runtime.types import GlobalType, TableType, ValType, close_types
from fayasm.syntax import Instr, Module

# Instructions read as often as they are: only those with a type immediate need a look.
_TYPE_IMMS = frozenset(("blocktype", "valtypes", "reftype", "heaptype", "casttype"))


class Closer:
    """Closes the types of one module, given its DefTypes (one per type index)."""

    def __init__(self, deftypes: list):
        self.deftypes = deftypes

    def valtype(self, t):
        if t.__class__ is not ValType:
            return t
        h = t.heap
        if h.__class__ is not int:
            return t
        if not 0 <= h < len(self.deftypes):
            raise ValidationError(f"unknown type {h}")
        return ValType.ref(t.nullable, self.deftypes[h])

    def valtypes(self, ts) -> tuple:
        return tuple(self.valtype(t) for t in ts)

    def table(self, t: TableType) -> TableType:
        e = self.valtype(t.elem)
        return t if e is t.elem else TableType(e, t.limits, t.address)

    def global_(self, t: GlobalType) -> GlobalType:
        v = self.valtype(t.valtype)
        return t if v is t.valtype else GlobalType(v, t.mutable)

    def body(self, body: list) -> list:
        """``body`` with its type immediates closed (the same list object, changed)."""
        for k, ins in enumerate(body):
            op = ins.op
            if not ins.imm or not _TYPE_IMMS.intersection(op.imms):
                continue
            imm = []
            for kind, v in zip(op.imms, ins.imm):
                if kind == "blocktype":
                    v = self.valtype(v) if v.__class__ is ValType else v
                elif kind == "valtypes":
                    v = self.valtypes(v)
                elif kind in ("reftype", "heaptype", "casttype"):
                    v = self.valtype(v)
                imm.append(v)
            body[k] = Instr(op, tuple(imm))
        return body


def close_module(m: Module, funcs: bool = True) -> Closer:
    """Close every type in ``m`` in place (function bodies too unless ``funcs`` is False:
    lazily decoded bodies close themselves). Returns the Closer, for later bodies."""
    deftypes = close_types(m.types, m.rec_groups, ValidationError, m.subtypes)
    c = Closer(deftypes)
    m.types = [d.expand() for d in deftypes]
    m.deftypes = deftypes
    for imp in m.imports:
        if isinstance(imp.desc, TableType):
            imp.desc = c.table(imp.desc)
        elif isinstance(imp.desc, GlobalType):
            imp.desc = c.global_(imp.desc)
    m.tables = [c.table(t) for t in m.tables]
    for g in m.globals:
        g.type = c.global_(g.type)
        c.body(g.init)
    for expr in m.table_inits.values():
        c.body(expr)
    for e in m.elems:
        e.type = c.valtype(e.type)
        for x in e.init:
            c.body(x)
        if e.offset:
            c.body(e.offset)
    if funcs:
        for f in m.funcs:
            f.locals = c.valtypes(f.locals)
            c.body(f.body)
    return c


def deftypes(m: Module) -> list:
    """The DefType of each type index of ``m`` (a module built by hand, its types
    already closed, gets one rec group per type)."""
    if len(m.deftypes) != len(m.types):
        m.deftypes = close_types(m.types, m.rec_groups, ValidationError, m.subtypes)
    return m.deftypes


def type_indices(m: Module) -> dict:
    """DefType -> the first type index that defines it (for the encoder and printer)."""
    out: dict = {}
    for k, d in enumerate(deftypes(m)):
        out.setdefault(d, k)
    return out


__all__ = ["Closer", "close_module", "deftypes", "type_indices"]
