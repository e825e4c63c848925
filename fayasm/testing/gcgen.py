"""GC in generated modules (``GenConfig.gc``, ``fayasm fuzz --gc``): a few struct and
array types with packed fields and declared subtyping, and expressions that allocate,
read and write fields and elements, test and cast (casts that fail, br_on_cast both
ways), and compare references, each ending in an i32 every engine can be diffed on.

Operands are generated first into fresh locals, so the fixed GC sequence that follows
(with its own blocks) sees no generated branch: label depths stay the generator's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fayasm.runtime.types import I8, I16, ArrayType, FieldType, HeapType, StructType, ValType

from .choose import Chooser
from .shape import Shape

I32, I64, F64 = ValType.I32, ValType.I64, ValType.F64


@dataclass
class GcTypes:
    """Type indices of a module's GC types: ``base`` (sub: mut i32, mut i8, i64),
    ``sub`` (sub base: those and mut i16, f64), ``other`` (final: i32), ``bytes`` (array
    mut i8), ``words`` (array mut i32), ``refs`` (array mut (ref null base)), ``funcs``
    (array mut funcref)."""

    base: int
    sub: int
    other: int
    bytes: int
    words: int
    refs: int
    funcs: int


def add_types(m: Any) -> GcTypes:
    """Append the GC types to ``m``'s type section (one rec group each)."""
    k = len(m.types)
    base_fields = (FieldType(I32, True), FieldType(I8, True), FieldType(I64, False))
    m.types.append(StructType(base_fields))
    m.types.append(StructType(base_fields + (FieldType(I16, True), FieldType(F64, False))))
    m.types.append(StructType((FieldType(I32, False),)))
    m.types.append(ArrayType(FieldType(I8, True)))
    m.types.append(ArrayType(FieldType(I32, True)))
    m.types.append(ArrayType(FieldType(ValType.ref(True, k), True)))
    m.types.append(ArrayType(FieldType(ValType.FUNCREF, True)))
    m.subtypes[k] = (False, ())
    m.subtypes[k + 1] = (False, (k,))
    return GcTypes(k, k + 1, k + 2, k + 3, k + 4, k + 5, k + 6)


class GcGen:
    """The GC expressions of FunctionGen (a mixin: uses its emit, expr, new_local, c)."""

    # What FunctionGen provides, declared for the type checker.
    c: Chooser
    shape: Shape

    if TYPE_CHECKING:
        def emit(self, name: str, *imm: object) -> None: ...
        def expr(self, t: ValType, depth: int) -> None: ...
        def new_local(self, t: ValType) -> int: ...

    def gc_i32(self, depth: int) -> None:
        g = self.shape.gc
        how = self.c.weighted([(4, "field"), (3, "test"), (3, "cast"), (3, "array"),
                               (2, "i31"), (2, "eq"), (2, "br_on_cast"), (1, "data"),
                               (1, "elem"), (1, "refs")])
        getattr(self, "_gc_" + how)(g, depth)

    # -- pieces ----------------------------------------------------------------------------
    def _operand(self, t: ValType, depth: int) -> int:
        """A local holding a generated value of type ``t``."""
        x = self.new_local(t)
        self.expr(t, depth + 1)
        self.emit("local.set", x)
        return x

    def _new_struct(self, g: GcTypes, which: int, depth: int) -> None:
        """Push a new struct of type ``which`` (base or sub) from generated operands."""
        if self.c.chance(20):
            self.emit("struct.new_default", which)
            return
        types = (I32, I32, I64) + ((I32, F64) if which == g.sub else ())
        xs = [self._operand(t, depth) for t in types]
        for x in xs:
            self.emit("local.get", x)
        self.emit("struct.new", which)

    def _some_object(self, g: GcTypes, depth: int) -> None:
        """Push an anyref: a base or sub struct, an other struct, an i31 or null."""
        how = self.c.weighted([(3, g.base), (3, g.sub), (1, g.other), (1, "i31"),
                               (1, "null"), (2, "extern")])
        if how == "extern":  # a round trip through extern, or a null extern internalized
            if self.c.chance(50):
                self._new_struct(g, g.base, depth)
                self.emit("extern.convert_any")
            else:
                self.emit("ref.null", ValType.ref(True, HeapType.EXTERN))
            self.emit("any.convert_extern")
        elif how == "i31":
            x = self._operand(I32, depth)
            self.emit("local.get", x)
            self.emit("ref.i31")
        elif how == "null":
            self.emit("ref.null", ValType.ref(True, HeapType.ANY))
        elif how == g.other:
            x = self._operand(I32, depth)
            self.emit("local.get", x)
            self.emit("struct.new", g.other)
        else:
            self._new_struct(g, how, depth)

    # -- expressions (each pushes one i32) ----------------------------------------------
    def _gc_field(self, g: GcTypes, depth: int) -> None:
        which = self.c.pick((g.base, g.sub))
        self._new_struct(g, which, depth)
        field = self.c.pick((0, 1, 1) + ((3,) if which == g.sub else ()))
        if field == 0:
            if self.c.chance(40):  # through a local: struct.set, then read back
                x = self.new_local(ValType.ref(True, which))
                self.emit("local.tee", x)
                v = self._operand(I32, depth)
                self.emit("local.get", v)
                self.emit("struct.set", which, 0)
                self.emit("local.get", x)
            self.emit("struct.get", which, 0)
        else:
            self.emit(self.c.pick(("struct.get_s", "struct.get_u")), which, field)

    def _gc_test(self, g: GcTypes, depth: int) -> None:
        self._some_object(g, depth)
        target = self.c.pick((g.base, g.sub, g.other))
        heap = self.c.pick((target, target, HeapType.STRUCT, HeapType.EQ, HeapType.I31,
                            HeapType.ANY, HeapType.NONE, HeapType.ARRAY))
        nullable = self.c.chance(50)
        self.emit("ref.test_null" if nullable else "ref.test", ValType.ref(nullable, heap))

    def _gc_cast(self, g: GcTypes, depth: int) -> None:
        """A cast that often fails (a trap) on a struct of either type, then a read."""
        self._some_object(g, depth)
        target = self.c.pick((g.base, g.sub))
        nullable = self.c.chance(30)
        self.emit("ref.cast_null" if nullable else "ref.cast", ValType.ref(nullable, target))
        self.emit("struct.get_u", target, 1)

    def _gc_array(self, g: GcTypes, depth: int) -> None:
        which = self.c.pick((g.bytes, g.words))
        n = self.c.int(0, 6)
        how = self.c.weighted([(3, "new"), (2, "fixed"), (1, "default")])
        if how == "fixed":
            xs = [self._operand(I32, depth) for _ in range(n)]
            for x in xs:
                self.emit("local.get", x)
            self.emit("array.new_fixed", which, n)
        else:
            if how == "new":
                v = self._operand(I32, depth)
                self.emit("local.get", v)
            self.emit("i32.const", n)
            self.emit("array.new" if how == "new" else "array.new_default", which)
        x = self.new_local(ValType.ref(True, which))
        self.emit("local.set", x)
        # out of bounds now and then (the array's own length, or past it): a trap
        index = self.c.weighted([(6, self.c.int(0, max(0, n - 1))), (1, n), (1, n + 3)])
        op = self.c.weighted([(3, "get"), (1, "set"), (1, "fill"), (1, "copy"), (1, "len")])
        if op == "set":
            self.emit("local.get", x)
            self.emit("i32.const", self.c.int(0, n))
            v = self._operand(I32, depth)
            self.emit("local.get", v)
            self.emit("array.set", which)
        elif op == "fill":
            self.emit("local.get", x)
            self.emit("i32.const", self.c.int(0, n))
            v = self._operand(I32, depth)
            self.emit("local.get", v)
            self.emit("i32.const", self.c.int(0, 3))
            self.emit("array.fill", which)
        elif op == "copy":
            self.emit("local.get", x)
            self.emit("i32.const", self.c.int(0, n))
            self.emit("local.get", x)
            self.emit("i32.const", self.c.int(0, n))
            self.emit("i32.const", self.c.int(0, 3))
            self.emit("array.copy", which, which)
        if op == "len":
            self.emit("local.get", x)
            self.emit("array.len")
            return
        self.emit("local.get", x)
        self.emit("i32.const", index)
        if which == g.bytes:
            self.emit(self.c.pick(("array.get_s", "array.get_u")), which)
        else:
            self.emit("array.get", which)

    def _gc_data(self, g: GcTypes, depth: int) -> None:
        """array.new_data from a passive segment (out of bounds now and then)."""
        if not self.shape.ndatas:
            return self._gc_i31(g, depth)
        d = self.c.int(0, self.shape.ndatas - 1)
        if self.c.chance(50):
            self.emit("i32.const", self.c.int(0, 8))
            self.emit("i32.const", self.c.int(0, 8))
            self.emit("array.new_data", g.bytes, d)
            self.emit("array.len")
            return None
        x = self.new_local(ValType.ref(True, g.words))
        self.emit("i32.const", self.c.int(1, 4))
        self.emit("array.new_default", g.words)
        self.emit("local.tee", x)
        self.emit("i32.const", self.c.int(0, 2))
        self.emit("i32.const", self.c.int(0, 8))
        self.emit("i32.const", self.c.int(0, 2))
        self.emit("array.init_data", g.words, d)
        self.emit("local.get", x)
        self.emit("i32.const", 0)
        self.emit("array.get", g.words)
        return None

    def _gc_elem(self, g: GcTypes, depth: int) -> None:
        """array.new_elem or array.init_elem with a funcref segment, then a null test."""
        segs = [k for k, t in enumerate(self.shape.elem_types) if t is ValType.FUNCREF]
        if not segs:
            return self._gc_i31(g, depth)
        e = self.c.pick(segs)
        if self.c.chance(50):
            self.emit("i32.const", self.c.int(0, 3))
            self.emit("i32.const", self.c.int(0, 3))
            self.emit("array.new_elem", g.funcs, e)
            self.emit("i32.const", 0)
        else:
            x = self.new_local(ValType.ref(True, g.funcs))
            self.emit("i32.const", self.c.int(0, 4))
            self.emit("array.new_default", g.funcs)
            self.emit("local.tee", x)
            self.emit("i32.const", self.c.int(0, 3))
            self.emit("i32.const", self.c.int(0, 2))
            self.emit("i32.const", self.c.int(0, 2))
            self.emit("array.init_elem", g.funcs, e)
            self.emit("local.get", x)
            self.emit("i32.const", self.c.int(0, 3))
        self.emit("array.get", g.funcs)
        self.emit("ref.is_null")
        return None

    def _gc_refs(self, g: GcTypes, depth: int) -> None:
        """An array of struct references: filled, one of them read and tested."""
        x = self.new_local(ValType.ref(True, g.refs))
        n = self.c.int(1, 4)
        self._new_struct(g, self.c.pick((g.base, g.sub)), depth)
        self.emit("i32.const", n)
        self.emit("array.new", g.refs)
        self.emit("local.set", x)
        if self.c.chance(50):
            self.emit("local.get", x)
            self.emit("i32.const", self.c.int(0, n))
            self.emit("ref.null", ValType.ref(True, HeapType.NONE))
            self.emit("i32.const", 1)
            self.emit("array.fill", g.refs)
        self.emit("local.get", x)
        self.emit("i32.const", self.c.int(0, n - 1))
        self.emit("array.get", g.refs)
        self.emit("ref.test", ValType.ref(False, g.sub))
        return None

    def _gc_i31(self, g: GcTypes, depth: int) -> None:
        x = self._operand(I32, depth)
        self.emit("local.get", x)
        self.emit("ref.i31")
        self.emit(self.c.pick(("i31.get_s", "i31.get_u")))

    def _gc_eq(self, g: GcTypes, depth: int) -> None:
        x = self.new_local(ValType.ref(True, g.base))
        self._new_struct(g, g.base, depth)
        self.emit("local.set", x)
        self.emit("local.get", x)
        if self.c.chance(50):
            self.emit("local.get", x)
        else:
            self._new_struct(g, self.c.pick((g.base, g.sub)), depth)
        self.emit("ref.eq")

    def _gc_br_on_cast(self, g: GcTypes, depth: int) -> None:
        """block (result i32): block (result (ref sub)): br_on_cast[_fail] to it, else
        a constant out; a field of what the branch carried."""
        anyref = ValType.ref(True, HeapType.ANY)
        x = self.new_local(anyref)
        self._some_object(g, depth)
        self.emit("local.set", x)
        fail = self.c.chance(40)
        target = ValType.ref(False, g.sub)
        miss = self.c.int(-5, 5)
        self.emit("block", I32)
        self.emit("block", anyref if fail else target)
        self.emit("local.get", x)
        self.emit("br_on_cast_fail" if fail else "br_on_cast", 0, anyref, target)
        if fail:  # the cast succeeded: what falls through is a (ref sub)
            self.emit("struct.get_u", g.sub, 3)
        else:
            self.emit("drop")
            self.emit("i32.const", miss)
        self.emit("br", 1)
        self.emit("end")
        if fail:
            self.emit("ref.test", ValType.ref(False, HeapType.I31))
        else:
            self.emit("struct.get_s", g.sub, 1)
        self.emit("end")


__all__ = ["GcGen", "GcTypes", "add_types"]
