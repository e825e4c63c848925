"""The Python side of the jit's GC instructions: what native code's GC stub calls
(a runtime operation above 0xFF) to allocate, read and write fields and elements, cast and
convert, on the runtime's shared objects (runtime/gcops.py) so every engine agrees.

The stub passes the operation (its number and the buffer's length in words) and a
buffer of words: ``[unused, stack address, imm a, imm b, operands...]``; results are
written from word 4. Operands and results are words as
gc.py stores them: i32 and f32 as their bits, f64 as its bits, v128 as two words, a
reference as its native word (references.py).
"""
from __future__ import annotations

import ctypes
import weakref

from fayasm.runtime import gcops
from fayasm.runtime.func import func_matches
from fayasm.runtime.gcobj import externalize, internalize
from fayasm.runtime.types import Packed, ValType
from fayasm.runtime.values import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits

from . import references
from .gc import HEAPS, OP_NAMES
from .gcheap import any_object, any_word, maybe_collect

_M32, _M64 = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF
_W = ctypes.c_uint64


def decoder(storage):
    """``(words, k) -> raw`` for a value of ``storage`` at word ``k`` (packed fields are
    cut to their width)."""
    if storage.__class__ is Packed:
        mask = storage.mask
        return lambda w, k: w[k] & mask
    if storage is ValType.I32:
        return lambda w, k: w[k] & _M32
    if storage is ValType.I64:
        return lambda w, k: w[k]
    if storage is ValType.F32:
        return lambda w, k: f32_from_bits(w[k] & _M32)
    if storage is ValType.F64:
        return lambda w, k: f64_from_bits(w[k])
    if storage is ValType.V128:
        return lambda w, k: w[k] | (w[k + 1] << 64)
    rep = storage.rep
    if rep is ValType.ANYREF:
        return lambda w, k: any_object(w[k])
    return lambda w, k: references.from_word(rep, w[k])


def encoder(storage):
    """``(words, k, raw)``: store a value of ``storage`` (read unsigned) at word ``k``."""
    if storage.__class__ is Packed or storage is ValType.I32 or storage is ValType.I64:
        def put(w, k, v):
            w[k] = v
    elif storage is ValType.F32:
        def put(w, k, v):
            w[k] = f32_to_bits(v)
    elif storage is ValType.F64:
        def put(w, k, v):
            w[k] = f64_to_bits(v)
    elif storage is ValType.V128:
        def put(w, k, v):
            w[k], w[k + 1] = v & _M64, v >> 64
    elif storage.rep is ValType.ANYREF:
        def put(w, k, v):
            w[k] = any_word(v)
    else:
        rep = storage.rep

        def put(w, k, v):
            w[k] = references.to_word(rep, v)
    return put


def words_of(storage) -> int:
    return 2 if storage is ValType.V128 else 1


class GcModule:
    """What the GC operations of one compiled module need: its DefTypes, the codecs of
    their fields, the tests of its cast types."""

    def __init__(self, module):
        self.deftypes = module.syntax.deftypes
        self._codecs: dict = {}
        self._tests: dict = {}

    def fields(self, k: int):
        """Type ``k``'s fields as (storage, decode, encode, words), for a struct; its
        element's for an array."""
        c = self._codecs.get(k)
        if c is None:
            comp = self.deftypes[k].expand()
            fs = comp.fields if hasattr(comp, "fields") else (comp.field,)
            c = self._codecs[k] = [(f.storage, decoder(f.storage), encoder(f.storage),
                                    words_of(f.storage)) for f in fs]
        return c

    def test(self, a: int, b: int):
        """The cast type of immediates (a, b) as (test, its representation)."""
        key = (a, b)
        t = self._tests.get(key)
        if t is None:
            heap = self.deftypes[b] if a & 2 else HEAPS[b]
            rt = ValType.ref(bool(a & 1), heap)
            t = self._tests[key] = (gcops.cast_test(rt), rt.rep)
        return t


def gc_module(ist) -> GcModule:
    g = ist.gc
    if g is None:
        g = ist.gc = GcModule(ist.compiled.module)
    return g


def _ref(rep, w: int):
    if rep is ValType.ANYREF:
        return any_object(w)
    return references.from_word(rep, w)


# -- the operations -----------------------------------------------------------------------------
def _struct_new(ist, w):
    maybe_collect(w[1])
    k = w[2]
    g = gc_module(ist)
    vals, at = [], 4
    for _, dec, _, n in g.fields(k):
        vals.append(dec(w, at))
        at += n
    w[4] = any_word(gcops.struct_new(g.deftypes[k], vals))


def _struct_new_default(ist, w):
    maybe_collect(w[1])
    t = gc_module(ist).deftypes[w[2]]
    w[4] = any_word(gcops.struct_new_default(t, gcops.struct_defaults(t)))


def _struct_get(ist, w):
    s = gcops.check_struct(any_object(w[4]))
    _, _, enc, _ = gc_module(ist).fields(w[2])[w[3]]
    enc(w, 4, s[w[3]])


def _struct_set(ist, w):
    s = gcops.check_struct(any_object(w[4]))
    _, dec, _, _ = gc_module(ist).fields(w[2])[w[3]]
    s[w[3]] = dec(w, 5)


def _elem(ist, k):
    return gc_module(ist).fields(k)[0]


def _array_new(ist, w):
    maybe_collect(w[1])
    _, dec, _, n = _elem(ist, w[2])
    v = dec(w, 4)
    w[4] = any_word(gcops.array_new(gc_module(ist).deftypes[w[2]], v, w[4 + n] & _M32))


def _array_new_default(ist, w):
    maybe_collect(w[1])
    st = _elem(ist, w[2])[0]
    t = gc_module(ist).deftypes[w[2]]
    w[4] = any_word(gcops.array_new(t, gcops.default(st), w[4] & _M32))


def _array_new_fixed(ist, w):
    maybe_collect(w[1])
    _, dec, _, n = _elem(ist, w[2])
    vals = [dec(w, 4 + n * j) for j in range(w[3])]
    w[4] = any_word(gcops.array_new_fixed(gc_module(ist).deftypes[w[2]], vals))


def _array_new_data(ist, w):
    maybe_collect(w[1])
    t = gc_module(ist).deftypes[w[2]]
    w[4] = any_word(gcops.array_new_data(t, ist.datas[w[3]], w[4] & _M32, w[5] & _M32))


def _array_new_elem(ist, w):
    maybe_collect(w[1])
    t = gc_module(ist).deftypes[w[2]]
    w[4] = any_word(gcops.array_new_elem(t, ist.elems[w[3]], w[4] & _M32, w[5] & _M32))


def _array_get(ist, w):
    _, _, enc, _ = _elem(ist, w[2])
    enc(w, 4, gcops.array_get(any_object(w[4]), w[5] & _M32))


def _array_set(ist, w):
    _, dec, _, _ = _elem(ist, w[2])
    a = any_object(w[4])
    i = w[5] & _M32
    gcops.array_set(a, i, dec(w, 6))


def _array_len(ist, w):
    w[4] = gcops.array_len(any_object(w[4]))


def _array_fill(ist, w):
    _, dec, _, n = _elem(ist, w[2])
    gcops.array_fill(any_object(w[4]), w[5] & _M32, dec(w, 6), w[6 + n] & _M32)


def _array_copy(ist, w):
    gcops.array_copy(any_object(w[4]), w[5] & _M32, any_object(w[6]), w[7] & _M32,
                     w[8] & _M32)


def _array_init_data(ist, w):
    gcops.array_init_data(any_object(w[4]), w[5] & _M32, ist.datas[w[3]], w[6] & _M32,
                          w[7] & _M32)


def _array_init_elem(ist, w):
    gcops.array_init_elem(any_object(w[4]), w[5] & _M32, ist.elems[w[3]], w[6] & _M32,
                          w[7] & _M32)


def _ref_test(ist, w):
    test, rep = gc_module(ist).test(w[2], w[3])
    w[4] = 1 if test(_ref(rep, w[4])) else 0


def _ref_cast(ist, w):
    test, rep = gc_module(ist).test(w[2], w[3])
    gcops.cast(test, _ref(rep, w[4]))


def _any_convert_extern(ist, w):
    w[4] = any_word(internalize(references.extern_object(w[4])))


def _extern_convert_any(ist, w):
    w[4] = references.extern_handle(externalize(any_object(w[4])))


def _call_indirect(ist, w):
    f = references.RECORDS.get(w[4])
    d = gc_module(ist).deftypes[w[2]]
    w[4] = 1 if f is not None and func_matches(f, d) else 0


_HANDLERS = {
    "struct.new": _struct_new, "struct.new_default": _struct_new_default,
    "struct.get": _struct_get, "struct.set": _struct_set,
    "array.new": _array_new, "array.new_default": _array_new_default,
    "array.new_fixed": _array_new_fixed, "array.new_data": _array_new_data,
    "array.new_elem": _array_new_elem, "array.get": _array_get, "array.set": _array_set,
    "array.len": _array_len, "array.fill": _array_fill, "array.copy": _array_copy,
    "array.init_data": _array_init_data, "array.init_elem": _array_init_elem,
    "ref.test": _ref_test, "ref.cast": _ref_cast,
    "any.convert_extern": _any_convert_extern, "extern.convert_any": _extern_convert_any,
    "call_indirect": _call_indirect,
}
_TABLE = [_HANDLERS[name] for name in OP_NAMES]


_ARRAYS = [_W * n for n in range(64)]
_registry: dict = {}  # ctx address -> InstanceState (callbacks.py's registry)
_last: list = [0, lambda: None]  # the context last seen, a weak reference to its instance


def set_registry(instances) -> None:
    global _registry
    _registry = instances


def gc_call(op: int, ctx: int, addr: int) -> None:
    """Run GC operation ``op`` (``code | words << 16`` above the low byte, see gc.call)
    on the buffer at ``addr``, for the instance of context ``ctx``."""
    if ctx == _last[0]:
        ist = _last[1]()
        if ist is None:
            ist = _registry[ctx]
    else:
        ist = _registry[ctx]
        _last[0], _last[1] = ctx, weakref.ref(ist)
    n = op >> 16
    w = (_ARRAYS[n] if n < 64 else _W * n).from_address(addr)
    _TABLE[(op >> 8) & 0xFF](ist, w)


__all__ = ["gc_call", "GcModule", "decoder", "encoder"]
