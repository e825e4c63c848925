"""Lowering the GC instructions to Python: allocations, field and element accesses, casts
and conversions as calls of runtime/gcops.py and runtime/gcobj.py (``_GX``, ``_GO`` in
the generated module), with the module's DefTypes (``_D<k>``) and cast tests (``_C<k>``)
as module-level names. A struct field read is inline: ``(s or _GX.null_struct())[k]``
(a struct with a field ``k`` is a non-empty list, so only null takes the right side)."""
from __future__ import annotations

from fayasm.closing import deftypes
from fayasm.runtime.types import Packed, ValType

M32 = "0xFFFFFFFF"
_DEFAULTS = {ValType.F32: "0.0", ValType.F64: "0.0"}


def _default(storage) -> str:
    if storage.__class__ is Packed or not storage.is_ref:
        return _DEFAULTS.get(storage, "0")
    return "None"


def _packed(storage, v: str) -> str:
    return f"({v} & {storage.mask:#x})" if storage.__class__ is Packed else v


def _signed(storage, v: str) -> str:
    half = 1 << (storage.bits - 1)
    return f"((({v} ^ {half:#x}) - {half:#x}) & {M32})"


class GcLowering:
    """GC expressions and effects of one module's functions (``module``: its
    ModuleEmitter, which owns the module-level names)."""

    def __init__(self, module):
        self.module = module

    def _def(self, k: int):
        return deftypes(self.module.syntax)[k]

    def expr(self, e, x) -> str:
        name = e.op.name
        imm = e.imm
        a = [x(arg) for arg in e.args]
        m = self.module
        if name == "struct.new":
            d = self._def(imm[0])
            vals = [_packed(f.storage, v) for f, v in zip(d.expand().fields, a)]
            return f"_GX.struct_new({m.deftype_name(imm[0])}, [{', '.join(vals)}])"
        if name == "struct.new_default":
            d = self._def(imm[0])
            zeros = ", ".join(_default(f.storage) for f in d.expand().fields)
            return f"_GX.struct_new_default({m.deftype_name(imm[0])}, [{zeros}])"
        if name.startswith("struct.get"):
            get = f"({a[0]} or _GX.null_struct())[{imm[1]}]"
            if name == "struct.get_s":
                return _signed(self._def(imm[0]).expand().fields[imm[1]].storage, get)
            return get
        if name.startswith("array."):
            return self._array(name, imm, a)
        if name == "ref.i31":
            return f"_GO.i31({a[0]})"
        if name == "i31.get_s" or name == "i31.get_u":
            return f"_GX.i31_{e.op.operator}({a[0]})"
        if name == "ref.eq":
            return f"_GO.ref_eq({a[0]}, {a[1]})"
        if name.startswith("ref.test"):
            return f"(1 if {m.cast_name(imm[0])}({a[0]}) else 0)"
        if name.startswith("ref.cast"):
            return f"_GX.cast({m.cast_name(imm[0])}, {a[0]})"
        if name == "any.convert_extern":
            return f"_GO.internalize({a[0]})"
        if name == "extern.convert_any":
            return f"_GO.externalize({a[0]})"
        raise AssertionError(f"no python lowering for {name}")  # pragma: no cover

    def _n(self, n: str) -> str:
        """An array operation's length, charged to the budget by size when metered."""
        return f"_GX.fuel(_budget, {n})" if self.module.metered else n

    def _array(self, name: str, imm: tuple, a: list) -> str:
        m = self.module
        if name == "array.len":
            return f"_GX.array_len({a[0]})"
        d = self._def(imm[0])
        st = d.expand().field.storage
        t = m.deftype_name(imm[0])
        if name == "array.new":
            return f"_GX.array_new({t}, {_packed(st, a[0])}, {self._n(a[1])})"
        if name == "array.new_default":
            return f"_GX.array_new({t}, {_default(st)}, {self._n(a[0])})"
        if name == "array.new_fixed":
            return f"_GX.array_new_fixed({t}, [{', '.join(_packed(st, v) for v in a)}])"
        if name == "array.new_data":
            return f"_GX.array_new_data({t}, _datas[{imm[1]}], {a[0]}, {self._n(a[1])})"
        if name == "array.new_elem":
            return f"_GX.array_new_elem({t}, _elems[{imm[1]}], {a[0]}, {self._n(a[1])})"
        get = f"_GX.array_get({a[0]}, {a[1]})"
        if name == "array.get_s":
            return _signed(st, get)
        if name in ("array.get", "array.get_u"):
            return get
        raise AssertionError(f"no python lowering for {name}")  # pragma: no cover

    def effect(self, s, x) -> str:
        """The statement of a GC instruction without a result."""
        name = s.op.name
        imm = s.imm
        a = [x(arg) for arg in s.args]
        if name == "struct.set":
            st = self._def(imm[0]).expand().fields[imm[1]].storage
            return f"_GX.struct_set({a[0]}, {imm[1]}, {_packed(st, a[1])})"
        st = self._def(imm[0]).expand().field.storage
        if name == "array.set":
            return f"_GX.array_set({a[0]}, {a[1]}, {_packed(st, a[2])})"
        if name == "array.fill":
            return f"_GX.array_fill({a[0]}, {a[1]}, {_packed(st, a[2])}, {self._n(a[3])})"
        if name == "array.copy":
            return f"_GX.array_copy({', '.join(a[:4])}, {self._n(a[4])})"
        if name == "array.init_data":
            return (f"_GX.array_init_data({a[0]}, {a[1]}, _datas[{imm[1]}], {a[2]}, "
                    f"{self._n(a[3])})")
        if name == "array.init_elem":
            return (f"_GX.array_init_elem({a[0]}, {a[1]}, _elems[{imm[1]}], {a[2]}, "
                    f"{self._n(a[3])})")
        raise AssertionError(f"no python lowering for {name}")  # pragma: no cover
