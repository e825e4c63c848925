"""The semantics of the GC instructions on raw values, shared by the interpreter and the
python engine's generated code: allocation, field and element access with the spec's
traps, packed storage, bulk array operations, segment reads."""
from __future__ import annotations

import struct
from typing import Any

from .errors import (
    ARRAY_OOB,
    CAST_FAILURE,
    MEM_OOB,
    NULL_ARRAY,
    NULL_I31,
    NULL_STRUCT,
    TABLE_OOB,
    Trap,
)
from .func import func_deftype
from .gcobj import Array, Struct, externalize, i31, internalize, make_test
from .limits import BULK_SHIFT, MAX_ARRAY_LENGTH
from .types import Packed, ValType
from .values import f32_from_bits, f64_from_bits

_ZERO = {ValType.I32: 0, ValType.I64: 0, ValType.F32: 0.0, ValType.F64: 0.0, ValType.V128: 0}


def default(storage: Any) -> Any:
    """The default value of a field or element (its storage type has one)."""
    if storage.__class__ is Packed:
        return 0
    return _ZERO.get(storage)  # a (nullable) reference: null


def pack(storage: Any, v: Any) -> Any:
    """A value as a field of ``storage`` keeps it: packed ones cut to their width."""
    return v & storage.mask if storage.__class__ is Packed else v


def unpack_s(storage: Packed, v: int) -> int:
    """A packed field read signed, as the i32 it gives."""
    half = 1 << (storage.bits - 1)
    return ((v ^ half) - half) & 0xFFFFFFFF


def struct_new(t: Any, values: list) -> Struct:
    s = Struct(values)
    s.type = t
    return s


def struct_new_default(t: Any, defaults: list) -> Struct:
    s = Struct(defaults)
    s.type = t
    return s


def struct_defaults(t: Any) -> list:
    return [default(f.storage) for f in t.expand().fields]


def check_struct(s: Any) -> Any:
    if s is None:
        raise Trap(NULL_STRUCT)
    return s


def fuel(budget: Any, n: int) -> int:
    """``n``, after charging a metered ``budget`` for an array operation of ``n``
    elements (by size, as bulk memory operations are charged; None: unmetered)."""
    if budget is not None and n >> BULK_SHIFT:
        budget.tick = budget.charge(budget.tick, n)
    return n


def null_struct() -> Any:
    """The trap of a field access through a null reference."""
    raise Trap(NULL_STRUCT)


def struct_set(s: Any, k: int, v: Any) -> None:
    if s is None:
        raise Trap(NULL_STRUCT)
    s[k] = v


def cast(test: Any, v: Any) -> Any:
    """ref.cast: ``v`` if ``test(v)``, else the trap."""
    if not test(v):
        raise Trap(CAST_FAILURE)
    return v


def cast_test(rt: Any) -> Any:
    """The test of reference type ``rt`` (gcobj.make_test, functions by their DefType)."""
    return make_test(rt, func_deftype)


def check_array(a: Any) -> Any:
    if a is None:
        raise Trap(NULL_ARRAY)
    return a


def _length(n: int) -> int:
    if n > MAX_ARRAY_LENGTH:  # an implementation limit: allocation fails as a trap
        raise Trap(ARRAY_OOB)
    return n


def array_new(t: Any, v: Any, n: int) -> Array:
    a = Array([v] * _length(n))
    a.type = t
    return a


def array_new_fixed(t: Any, values: list) -> Array:
    a = Array(values)
    a.type = t
    return a


def array_get(a: Any, i: int) -> Any:
    if a is None:
        raise Trap(NULL_ARRAY)
    if i >= len(a):
        raise Trap(ARRAY_OOB)
    return a[i]


def array_set(a: Any, i: int, v: Any) -> None:
    if a is None:
        raise Trap(NULL_ARRAY)
    if i >= len(a):
        raise Trap(ARRAY_OOB)
    a[i] = v


def array_len(a: Any) -> int:
    if a is None:
        raise Trap(NULL_ARRAY)
    return len(a)


def array_fill(a: Any, d: int, v: Any, n: int) -> None:
    if a is None:
        raise Trap(NULL_ARRAY)
    if d + n > len(a):
        raise Trap(ARRAY_OOB)
    a[d:d + n] = [v] * n


def array_copy(a: Any, d: int, b: Any, s: int, n: int) -> None:
    if a is None or b is None:
        raise Trap(NULL_ARRAY)
    if d + n > len(a) or s + n > len(b):
        raise Trap(ARRAY_OOB)
    a[d:d + n] = b[s:s + n]  # a slice is copied first: overlaps move as memmove does


# Reading elements from a data segment: (element size, decoder of the bytes).
_S = {ValType.I32: struct.Struct("<I"), ValType.I64: struct.Struct("<Q"),
      ValType.F32: struct.Struct("<I"), ValType.F64: struct.Struct("<Q")}


def _elem_size(storage: Any) -> int:
    if storage.__class__ is Packed:
        return storage.bits // 8
    return 16 if storage is ValType.V128 else 8 if storage in (ValType.I64, ValType.F64) else 4


def _decode(storage: Any, data: bytes, at: int, n: int) -> list:
    size = _elem_size(storage)
    if storage.__class__ is Packed or storage is ValType.V128:
        return [int.from_bytes(data[at + k * size:at + (k + 1) * size], "little")
                for k in range(n)]
    fmt = _S[storage]
    out = [fmt.unpack_from(data, at + k * size)[0] for k in range(n)]
    if storage is ValType.F32:
        return [f32_from_bits(b) for b in out]
    if storage is ValType.F64:
        return [f64_from_bits(b) for b in out]
    return out


def array_new_data(t: Any, data: bytes, s: int, n: int) -> Array:
    st = t.expand().field.storage
    if s + n * _elem_size(st) > len(data):
        raise Trap(MEM_OOB)
    a = Array(_decode(st, data, s, _length(n)))
    a.type = t
    return a


def array_new_elem(t: Any, elem: list, s: int, n: int) -> Array:
    if s + n > len(elem):
        raise Trap(TABLE_OOB)
    a = Array(elem[s:s + n])
    a.type = t
    return a


def array_init_data(a: Any, d: int, data: bytes, s: int, n: int) -> None:
    if a is None:
        raise Trap(NULL_ARRAY)
    st = a.type.expand().field.storage
    if d + n > len(a):
        raise Trap(ARRAY_OOB)
    if s + n * _elem_size(st) > len(data):
        raise Trap(MEM_OOB)
    a[d:d + n] = _decode(st, data, s, n)


def array_init_elem(a: Any, d: int, elem: list, s: int, n: int) -> None:
    if a is None:
        raise Trap(NULL_ARRAY)
    if d + n > len(a):
        raise Trap(ARRAY_OOB)
    if s + n > len(elem):
        raise Trap(TABLE_OOB)
    a[d:d + n] = elem[s:s + n]


def i31_get_s(v: Any) -> int:
    if v is None:
        raise Trap(NULL_I31)
    return v.value & 0xFFFFFFFF


def i31_get_u(v: Any) -> int:
    if v is None:
        raise Trap(NULL_I31)
    return v.value & 0x7FFFFFFF


__all__ = ["array_copy", "array_fill", "array_get", "array_init_data", "array_init_elem",
           "array_len", "array_new", "array_new_data", "array_new_elem", "array_new_fixed",
           "array_set", "check_array", "check_struct", "default", "i31_get_s", "i31_get_u",
           "pack", "struct_defaults", "struct_new", "struct_new_default", "unpack_s"]


def const_op(arg: tuple, stack: list) -> None:
    """One GC instruction of a constant expression on ``stack``: ``arg`` is (row name,
    DefType or None, count) as fayasm.linking writes it."""
    name, t, n = arg
    if name == "struct.new":
        fields = t.expand().fields
        k = len(fields)
        vals = [pack(f.storage, v) for f, v in zip(fields, stack[len(stack) - k:])]
        del stack[len(stack) - k:]
        stack.append(struct_new(t, vals))
    elif name == "struct.new_default":
        stack.append(struct_new_default(t, struct_defaults(t)))
    elif name == "array.new":
        count = stack.pop()
        stack[-1] = array_new(t, pack(t.expand().field.storage, stack[-1]), count)
    elif name == "array.new_default":
        stack[-1] = array_new(t, default(t.expand().field.storage), stack[-1])
    elif name == "array.new_fixed":
        st = t.expand().field.storage
        vals = [pack(st, v) for v in stack[len(stack) - n:]] if n else []
        del stack[len(stack) - n:]
        stack.append(array_new_fixed(t, vals))
    elif name == "ref.i31":
        stack[-1] = i31(stack[-1])
    elif name == "any.convert_extern":
        stack[-1] = internalize(stack[-1])
    else:  # extern.convert_any
        stack[-1] = externalize(stack[-1])
