"""The GC instructions in the interpreter: each becomes a MISC handler ``fn(ctx, s, a, b)``
made for its immediates (the DefType resolved, packed fields known); the semantics are
runtime/gcops.py's, the objects runtime/gcobj.py's. br_on_cast and br_on_cast_fail are
branches the machine runs itself, with the test made here (``cast_test``)."""
from __future__ import annotations

from fayasm.runtime import gcops
from fayasm.runtime.errors import CAST_FAILURE, NULL_STRUCT, Trap
from fayasm.runtime.func import func_deftype
from fayasm.runtime.gcobj import Struct, externalize, internalize, make_test, ref_eq
from fayasm.runtime.limits import BULK_SHIFT
from fayasm.runtime.types import Packed


def cast_test(rt):
    """The test ``v -> bool`` of reference type ``rt``."""
    return make_test(rt, func_deftype)


def _packer(storage):
    if storage.__class__ is Packed:
        mask = storage.mask
        return lambda v: v & mask
    return None


def handler(ins, defs: list):
    """The MISC handler of GC instruction ``ins`` (``defs``: the module's DefTypes)."""
    op, imm = ins.op, ins.imm
    name = op.name
    if name in ("struct.new", "struct.new_default", "struct.get", "struct.get_s",
                "struct.get_u", "struct.set"):
        t = defs[imm[0]]
        fields = t.expand().fields
        if name == "struct.new":
            n = len(fields)
            masks = [(k, f.storage.mask) for k, f in enumerate(fields)
                     if f.storage.__class__ is Packed]

            def struct_new(ctx, s, a, b):
                o = Struct(s[len(s) - n:] if n else ())
                del s[len(s) - n:]
                o.type = t
                for k, m in masks:
                    o[k] &= m
                s.append(o)
            return struct_new
        if name == "struct.new_default":
            defaults = gcops.struct_defaults(t)

            def struct_new_default(ctx, s, a, b):
                s.append(gcops.struct_new_default(t, defaults[:]))
            return struct_new_default
        y = imm[1]
        st = fields[y].storage
        if name == "struct.set":
            pk = _packer(st)

            def struct_set(ctx, s, a, b):
                v = s.pop()
                o = s.pop()
                if o is None:
                    raise Trap(NULL_STRUCT)
                o[y] = pk(v) if pk else v
            return struct_set
        if name == "struct.get_s":
            def struct_get_s(ctx, s, a, b):
                s[-1] = gcops.unpack_s(st, gcops.check_struct(s[-1])[y])
            return struct_get_s

        def struct_get(ctx, s, a, b):
            o = s[-1]
            if o is None:
                raise Trap(NULL_STRUCT)
            s[-1] = o[y]
        return struct_get
    if name.startswith("array."):
        return _array_handler(name, imm, defs)
    if name == "ref.i31":
        from fayasm.runtime.gcobj import i31

        def ref_i31(ctx, s, a, b):
            s[-1] = i31(s[-1])
        return ref_i31
    if name == "i31.get_s" or name == "i31.get_u":
        fn = gcops.i31_get_s if name == "i31.get_s" else gcops.i31_get_u

        def i31_get(ctx, s, a, b):
            s[-1] = fn(s[-1])
        return i31_get
    if name == "ref.eq":
        def eq(ctx, s, a, b):
            y = s.pop()
            s[-1] = ref_eq(s[-1], y)
        return eq
    if name.startswith("ref.test"):
        test = cast_test(imm[0])

        def ref_test(ctx, s, a, b):
            s[-1] = 1 if test(s[-1]) else 0
        return ref_test
    if name.startswith("ref.cast"):
        test = cast_test(imm[0])

        def ref_cast(ctx, s, a, b):
            if not test(s[-1]):
                raise Trap(CAST_FAILURE)
        return ref_cast
    if name == "any.convert_extern":
        def convert_extern(ctx, s, a, b):
            s[-1] = internalize(s[-1])
        return convert_extern
    if name == "extern.convert_any":
        def convert_any(ctx, s, a, b):
            s[-1] = externalize(s[-1])
        return convert_any
    raise AssertionError(f"no interpreter rule for {name}")  # pragma: no cover


def _fuel(ctx, n: int) -> int:
    """``n``, charged to a metered instance's budget by size (as bulk memory is)."""
    if n >> BULK_SHIFT and ctx.budget.metered:
        ctx.budget.tick = ctx.budget.charge(ctx.budget.tick, n)
    return n


def _array_handler(name: str, imm: tuple, defs: list):
    if name == "array.len":
        def array_len(ctx, s, a, b):
            s[-1] = gcops.array_len(s[-1])
        return array_len
    t = defs[imm[0]]
    st = t.expand().field.storage
    pk = _packer(st)
    if name == "array.new":
        def array_new(ctx, s, a, b):
            n = _fuel(ctx, s.pop())
            v = s[-1]
            s[-1] = gcops.array_new(t, pk(v) if pk else v, n)
        return array_new
    if name == "array.new_default":
        zero = gcops.default(st)

        def array_new_default(ctx, s, a, b):
            s[-1] = gcops.array_new(t, zero, _fuel(ctx, s[-1]))
        return array_new_default
    if name == "array.new_fixed":
        n = imm[1]

        def array_new_fixed(ctx, s, a, b):
            vals = s[len(s) - n:] if n else []
            del s[len(s) - n:]
            if pk:
                vals = [pk(v) for v in vals]
            s.append(gcops.array_new_fixed(t, vals))
        return array_new_fixed
    if name == "array.new_data":
        x = imm[1]

        def array_new_data(ctx, s, a, b):
            n = _fuel(ctx, s.pop())
            s[-1] = gcops.array_new_data(t, ctx.datas[x], s[-1], n)
        return array_new_data
    if name == "array.new_elem":
        x = imm[1]

        def array_new_elem(ctx, s, a, b):
            n = _fuel(ctx, s.pop())
            s[-1] = gcops.array_new_elem(t, ctx.elems[x], s[-1], n)
        return array_new_elem
    if name == "array.get" or name == "array.get_u":
        def array_get(ctx, s, a, b):
            i = s.pop()
            s[-1] = gcops.array_get(s[-1], i)
        return array_get
    if name == "array.get_s":
        def array_get_s(ctx, s, a, b):
            i = s.pop()
            s[-1] = gcops.unpack_s(st, gcops.array_get(s[-1], i))
        return array_get_s
    if name == "array.set":
        def array_set(ctx, s, a, b):
            v = s.pop()
            i = s.pop()
            gcops.array_set(s.pop(), i, pk(v) if pk else v)
        return array_set
    if name == "array.fill":
        def array_fill(ctx, s, a, b):
            n = _fuel(ctx, s.pop())
            v = s.pop()
            d = s.pop()
            gcops.array_fill(s.pop(), d, pk(v) if pk else v, n)
        return array_fill
    if name == "array.copy":
        def array_copy(ctx, s, a, b):
            n = _fuel(ctx, s.pop())
            src = s.pop()
            other = s.pop()
            d = s.pop()
            gcops.array_copy(s.pop(), d, other, src, n)
        return array_copy
    x = imm[1]
    if name == "array.init_data":
        def array_init_data(ctx, s, a, b):
            n = _fuel(ctx, s.pop())
            src = s.pop()
            d = s.pop()
            gcops.array_init_data(s.pop(), d, ctx.datas[x], src, n)
        return array_init_data

    def array_init_elem(ctx, s, a, b):
        n = _fuel(ctx, s.pop())
        src = s.pop()
        d = s.pop()
        gcops.array_init_elem(s.pop(), d, ctx.elems[x], src, n)
    return array_init_elem
