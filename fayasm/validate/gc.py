"""Validation of garbage collection (WebAssembly 3.0): the declared subtyping of a type
section, and the typing of the struct, array, i31, cast and conversion instructions,
with the reference interpreter's wording ("sub type", "immutable field", ...)."""
from __future__ import annotations

from fayasm.runtime.types import (
    BOT,
    ArrayType,
    FuncType,
    HeapType,
    Packed,
    StructType,
    ValType,
    matches,
    top_of,
)

from .stack import Invalid, _pop_ref, pop_types

I32 = ValType.I32
_I31 = ValType.ref(False, HeapType.I31)
_ARRAYREF = ValType.ARRAYREF


# -- declared subtyping ---------------------------------------------------------------
def storage_matches(s1, s2) -> bool:
    if s1.__class__ is Packed or s2.__class__ is Packed:
        return s1 is s2
    return matches(s1, s2)


def field_matches(f1, f2) -> bool:
    """Field subtyping: mutable fields are invariant, immutable ones covariant."""
    if f1.mutable != f2.mutable:
        return False
    if f1.mutable:
        return storage_matches(f1.storage, f2.storage) and storage_matches(f2.storage,
                                                                             f1.storage)
    return storage_matches(f1.storage, f2.storage)


def comp_matches(c1, c2) -> bool:
    """Composite subtyping ``c1 <: c2`` (expanded types)."""
    if c1.__class__ is not c2.__class__:
        return False
    if c1.__class__ is FuncType:
        return (len(c1.params) == len(c2.params) and len(c1.results) == len(c2.results)
                and all(matches(b, a) for a, b in zip(c1.params, c2.params))
                and all(matches(a, b) for a, b in zip(c1.results, c2.results)))
    if c1.__class__ is StructType:
        return (len(c1.fields) >= len(c2.fields)
                and all(field_matches(a, b) for a, b in zip(c1.fields, c2.fields)))
    return field_matches(c1.field, c2.field)


def check_subtypes(deftypes: list, fail) -> None:
    """Every type's declared supertypes: at most one, not final, of the same kind, and a
    composite supertype of the type's own."""
    for k, d in enumerate(deftypes):
        supers = d.declared_supers()
        if len(supers) > 1:
            fail(f"sub type {k} has more than one supertype")
        for s in supers:
            if s.final or not comp_matches(d.expand(), s.expand()):
                fail(f"sub type {k} does not match its supertype")


# -- instructions -----------------------------------------------------------------------
def _deftype(ctx, x: int, kind: str | None = None):
    if not 0 <= x < len(ctx.types):
        raise Invalid(f"unknown type {x}")
    d = ctx.deftypes[x]
    if kind is not None and d.kind != kind:
        raise Invalid(f"type mismatch: type {x} is not a {kind} type")
    return d


def _field(ctx, x: int, y: int):
    d = _deftype(ctx, x, "struct")
    fields = d.expand().fields
    if not 0 <= y < len(fields):
        raise Invalid(f"unknown field {y}")
    return d, fields[y]


def _check_packed(op, f) -> None:
    """get_s/get_u read packed storage only, get an unpacked one."""
    packed = f.storage.__class__ is Packed
    if (op.signed is None) == packed:
        raise Invalid(f"type mismatch: {op.text} of a {'packed' if packed else 'unpacked'}"
                      f" field")


def _elem_type(ctx, y: int) -> ValType:
    if not 0 <= y < len(ctx.elems):
        raise Invalid(f"unknown elem segment {y}")
    return ctx.elems[y]


def _data(ctx, y: int) -> None:
    if not 0 <= y < ctx.ndatas:
        raise Invalid(f"unknown data segment {y}")


def _numeric(f) -> None:
    st = f.storage
    if st.__class__ is not Packed and st.is_ref:
        raise Invalid("array type is not numeric or vector")


def _mutable(f, what: str) -> None:
    if not f.mutable:
        raise Invalid(f"immutable {what}")


def diff(t1: ValType, t2: ValType) -> ValType:
    """``t1 \\ t2``: what is left of t1 when a cast to t2 failed."""
    return ValType.ref(bool(t1.nullable) and not t2.nullable, t1.heap)


def _same_hierarchy(t, rt: ValType) -> None:
    if t is not None and t.heap is not BOT and top_of(t.heap) is not top_of(rt.heap):
        raise Invalid(f"type mismatch: cast of {t} to {rt}")


def validate_instr(ctx, op, imm, stack: list, base: int, unreach: bool, labels) -> None:
    """Type one GC instruction on ``stack`` (``labels(x)`` gives label x's types)."""
    name = op.name
    if name == "struct.new" or name == "struct.new_default":
        d = _deftype(ctx, imm[0], "struct")
        fields = d.expand().fields
        if name == "struct.new":
            pop_types(stack, base, unreach, tuple(f.unpacked for f in fields))
        elif not all(f.storage.defaultable for f in fields):
            raise Invalid("type mismatch: struct.new_default of a field without default")
        stack.append(ValType.ref(False, d))
    elif name in ("struct.get", "struct.get_s", "struct.get_u"):
        d, f = _field(ctx, imm[0], imm[1])
        _check_packed(op, f)
        pop_types(stack, base, unreach, (ValType.ref(True, d),))
        stack.append(f.unpacked)
    elif name == "struct.set":
        d, f = _field(ctx, imm[0], imm[1])
        _mutable(f, "field")
        pop_types(stack, base, unreach, (ValType.ref(True, d), f.unpacked))
    elif name.startswith("array.new"):
        d = _deftype(ctx, imm[0], "array")
        f = d.expand().field
        if name == "array.new":
            pop_types(stack, base, unreach, (f.unpacked, I32))
        elif name == "array.new_default":
            if not f.storage.defaultable:
                raise Invalid("type mismatch: array.new_default of an element without default")
            pop_types(stack, base, unreach, (I32,))
        elif name == "array.new_fixed":
            n = imm[1]
            if n > 10000:
                raise Invalid("type mismatch: array.new_fixed of too many operands")
            pop_types(stack, base, unreach, (f.unpacked,) * n)
        elif name == "array.new_data":
            _numeric(f)
            _data(ctx, imm[1])
            pop_types(stack, base, unreach, (I32, I32))
        else:  # array.new_elem
            et = _elem_type(ctx, imm[1])
            if not storage_matches(et, f.storage):
                raise Invalid(f"type mismatch: elem segment of {et} for an array of {f}")
            pop_types(stack, base, unreach, (I32, I32))
        stack.append(ValType.ref(False, d))
    elif name in ("array.get", "array.get_s", "array.get_u"):
        d = _deftype(ctx, imm[0], "array")
        f = d.expand().field
        _check_packed(op, f)
        pop_types(stack, base, unreach, (ValType.ref(True, d), I32))
        stack.append(f.unpacked)
    elif name == "array.set" or name == "array.fill":
        d = _deftype(ctx, imm[0], "array")
        f = d.expand().field
        _mutable(f, "array")
        ts = (ValType.ref(True, d), I32, f.unpacked)
        pop_types(stack, base, unreach, ts + (I32,) if name == "array.fill" else ts)
    elif name == "array.len":
        pop_types(stack, base, unreach, (_ARRAYREF,))
        stack.append(I32)
    elif name == "array.copy":
        d1 = _deftype(ctx, imm[0], "array")
        d2 = _deftype(ctx, imm[1], "array")
        f1, f2 = d1.expand().field, d2.expand().field
        _mutable(f1, "array")
        if not storage_matches(f2.storage, f1.storage):
            raise Invalid("array types do not match")
        pop_types(stack, base, unreach, (ValType.ref(True, d1), I32, ValType.ref(True, d2),
                                         I32, I32))
    elif name == "array.init_data" or name == "array.init_elem":
        d = _deftype(ctx, imm[0], "array")
        f = d.expand().field
        _mutable(f, "array")
        if name == "array.init_data":
            _numeric(f)
            _data(ctx, imm[1])
        else:
            et = _elem_type(ctx, imm[1])
            if not storage_matches(et, f.storage):
                raise Invalid(f"type mismatch: elem segment of {et} for an array of {f}")
        pop_types(stack, base, unreach, (ValType.ref(True, d), I32, I32, I32))
    elif name == "ref.i31":
        pop_types(stack, base, unreach, (I32,))
        stack.append(_I31)
    elif name == "i31.get_s" or name == "i31.get_u":
        pop_types(stack, base, unreach, (ValType.I31REF,))
        stack.append(I32)
    elif name == "ref.eq":
        pop_types(stack, base, unreach, (ValType.EQREF, ValType.EQREF))
        stack.append(I32)
    elif name.startswith("ref.test") or name.startswith("ref.cast"):
        rt = imm[0]
        t = _pop_ref(stack, base, unreach)
        _same_hierarchy(t, rt)
        stack.append(I32 if name.startswith("ref.test") else rt)
    elif name == "br_on_cast" or name == "br_on_cast_fail":
        x, rt1, rt2 = imm
        lt = labels(x)
        if not matches(rt2, rt1):
            raise Invalid(f"type mismatch: {rt2} does not match {rt1}")
        taken, rest = (rt2, diff(rt1, rt2)) if name == "br_on_cast" else (diff(rt1, rt2), rt2)
        if not lt or not matches(taken, lt[-1]):
            raise Invalid(f"type mismatch: {name} to a label of {list(lt)}")
        pop_types(stack, base, unreach, (rt1,))
        if len(lt) > 1:
            pop_types(stack, base, unreach, lt[:-1])
            stack.extend(lt[:-1])
        stack.append(rest)
    elif name == "any.convert_extern" or name == "extern.convert_any":
        source, target = ((HeapType.EXTERN, HeapType.ANY) if name == "any.convert_extern"
                          else (HeapType.ANY, HeapType.EXTERN))
        t = _pop_ref(stack, base, unreach)
        if t is not None and not matches(t, ValType.ref(True, source)):
            raise Invalid(f"type mismatch: {name} of {t}")
        stack.append(ValType.ref(True if t is None else bool(t.nullable), target))
    else:  # pragma: no cover - a GC row without a rule
        raise AssertionError(f"no validation rule for {name}")


def const_rows() -> frozenset:
    """The GC rows allowed in constant expressions."""
    return frozenset(("struct.new", "struct.new_default", "array.new", "array.new_default",
                      "array.new_fixed", "ref.i31", "any.convert_extern",
                      "extern.convert_any"))


__all__ = ["ArrayType", "check_subtypes", "comp_matches", "const_rows", "diff",
           "validate_instr"]
