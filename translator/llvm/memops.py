"""Lowering memory and table instructions.

Memory 0 is addressed from ``%membase`` (its base never moves: the runtime reserves the
maximum with mmap and grows with mprotect) and bounded by ``%MS``, the current size in
bytes, which the function reloads from the memory's native size cell after anything that
may grow it. Every access checks ``zext(addr) + offset + size <= size in bytes`` in 64-bit
arithmetic, so no address can wrap. Bulk operations check their whole range first, then
use memset/memmove/memcpy. Linear-memory accesses carry TBAA tag !1 and VM structures !2,
telling LLVM a store to memory never changes a global, a table or the memory's size.

Memories other than 0 (multi-memory) are found through the context's memory words
(types.Layout.mems: base and size-cell address); their size is read from the cell at each
access (a VM structure: LLVM hoists the read out of loops without calls). A 64-bit memory
(memory64) takes its i64 address as is: the check is ``addr >= usub.sat(size + 1,
offset + access)``, which no address or offset can overflow; a memory32 access keeps the
check above, so memory32 code pays nothing for memory64.

In guard mode (guard.py; ``fe.mod.guard``) a 32-bit memory's loads and stores have no
check at all: the memory's reservation and the fault handler make an access past the end
the trap. Bulk operations and memory64 keep their checks.

Tables are read natively (table.get, table.size, call_indirect) from the mirror the
runtime keeps (natives.TableMirror); changing a table goes through the runtime callback,
so the Python list of elements stays the one truth every engine shares.
"""
from __future__ import annotations

from . import types as T
from .exprs import intrinsic

# The LLVM type of a plain access by the row's shape (integers narrower than their shape
# are accessed as i8/i16/i32 and extended or truncated).
_FLOAT_TYPES = {"f32": "float", "f64": "double", "v128": "<2 x i64>"}


def _access_type(op) -> str:
    return _FLOAT_TYPES.get(op.shape) or f"i{op.access * 8}"


def mem64(fe, index: int) -> bool:
    """Whether memory ``index`` has an i64 address type (memory64)."""
    return fe.mod.info.mems[index].address is T.I64


def table64(fe, index: int) -> bool:
    return fe.mod.info.tables[index].address is T.I64


def _words(fe, index: int) -> tuple[str, str]:
    """(base pointer, current size in bytes) of memory ``index``."""
    if index == 0:
        return "%membase", fe.memsize()
    p = fe.op(f"getelementptr inbounds i64, ptr %ctx, i64 {fe.layout.mems + 2 * index}")
    base = fe.op(f"load ptr, ptr {p}, align 8, !tbaa !2, !invariant.load !6")
    cp = fe.op(f"getelementptr inbounds i64, ptr {p}, i64 1")
    cell = fe.op(f"load ptr, ptr {cp}, align 8, !tbaa !2, !invariant.load !6")
    return base, fe.op(f"load i64, ptr {cell}, align 8, !tbaa !2")


def _wide(fe, v: str, is64: bool) -> str:
    """An address-typed operand as i64."""
    return v if is64 else fe.op(f"zext i32 {v} to i64")


def address(fe, addr: str, offset: int, size: int, mem: int = 0) -> str:
    """Bounds-check an access of ``size`` bytes at ``addr + offset`` in memory ``mem``;
    its pointer. For a 32-bit memory the check is ``zext(addr) > size_in_bytes - (offset
    + size)`` in signed 64-bit arithmetic (both sides are far from overflow): the
    subtraction depends only on the memory size, so LLVM hoists it out of loops and each
    access costs a compare. A 64-bit memory: see the module docstring."""
    k = offset + size
    if mem64(fe, mem):
        base, ms = _words(fe, mem)
        a = addr
        if k >= 1 << 63:  # past any memory this runtime can hold: always out of bounds
            fe.trap_if("true", T.MEM_OOB)
            return fe.op(f"getelementptr i8, ptr {base}, i64 0")
        fe.mod.declare("llvm.usub.sat.i64", "i64", ["i64", "i64"])
        top = fe.op(f"add nuw i64 {ms}, 1")
        limit = fe.op(f"call i64 @llvm.usub.sat.i64(i64 {top}, i64 {k})")
        oob = fe.op(f"icmp uge i64 {a}, {limit}")
    elif fe.mod.guard:
        # Guard mode (guard.py): the memory reserves the whole reach of addr + offset +
        # size, PROT_NONE past its size, so an access out of bounds faults and the fault
        # handler makes it the trap. No check, and no size to read.
        a = fe.op(f"zext i32 {addr} to i64")
        base = "%membase" if mem == 0 else _words(fe, mem)[0]
        ea = fe.op(f"add nuw i64 {a}, {offset}") if offset else a
        return fe.op(f"getelementptr inbounds i8, ptr {base}, i64 {ea}")
    else:  # the instructions, in the order, of memory32 before memory64 support
        a = fe.op(f"zext i32 {addr} to i64")
        base, ms = _words(fe, mem)
        limit = fe.op(f"sub i64 {ms}, {k}")
        oob = fe.op(f"icmp sgt i64 {a}, {limit}")
    fe.trap_if(oob, T.MEM_OOB)
    ea = fe.op(f"add nuw i64 {a}, {offset}") if offset else a
    return fe.op(f"getelementptr inbounds i8, ptr {base}, i64 {ea}")


def _volatile(fe) -> str:
    """Guard mode's accesses are volatile: each may fault, and the fault is the trap, so
    LLVM must keep every one, in program order, at its width. It deletes a plain load
    whose value goes unused (dropped, overwritten, multiplied by 0) and moves loads past
    stores; it merges neighbouring stores (a merged store faulting at the end loses the
    bytes in bounds), vectorizes them or makes a memset of a loop of them. A volatile
    access is none of that, and LLVM treats it as one that may not return, so no store
    to a global or a table moves across it either."""
    return "volatile " if fe.mod.guard else ""


def _ld(fe, ty: str, p: str) -> str:
    return fe.op(f"load {_volatile(fe)}{ty}, ptr {p}, align 1, !tbaa !1")


def _st(fe, ty: str, v: str, p: str) -> None:
    fe.emit(f"store {_volatile(fe)}{ty} {v}, ptr {p}, align 1, !tbaa !1")


def _vec(n: int, bits: int) -> str:
    return f"<{n} x i{bits}>"


def load(fe, e, a: list[str]) -> str:
    op = e.op
    off = e.imm[0].offset
    mem = e.imm[0].mem
    size = op.access
    variant = op.variant
    if variant is None:
        ty = _access_type(op)
        v = _ld(fe, ty, address(fe, a[0], off, size, mem))
        wide = T.LL[op.results[0]]
        if ty in ("float", "double") and not (fe.mod.guard and not mem64(fe, mem)):
            # A plain load may be forwarded a value LLVM knows (an integer constant
            # stored there): a source of known floats, laundered (function.py).
            return fe.launder(ty, v)
        if ty == wide:
            return v
        return fe.op(f"{'sext' if op.signed else 'zext'} {ty} {v} to {wide}")
    bits = op.lane_bits
    if variant == "extend":  # v128.loadMxN_s/u: N lanes of M bits from 8 bytes, widened
        n = 64 // bits
        v = _ld(fe, _vec(n, bits), address(fe, a[0], off, size, mem))
        w = fe.op(f"{'sext' if op.signed else 'zext'} {_vec(n, bits)} {v} to {_vec(n, 2 * bits)}")
        return fe.op(f"bitcast {_vec(n, 2 * bits)} {w} to <2 x i64>")
    n = 128 // bits
    v = _ld(fe, f"i{bits}", address(fe, a[0], off, size, mem))
    if variant == "splat":
        return splat(fe, f"i{bits}", n, v)
    if variant == "zero":
        vec = fe.op(f"insertelement {_vec(n, bits)} zeroinitializer, i{bits} {v}, i32 0")
        return fe.op(f"bitcast {_vec(n, bits)} {vec} to <2 x i64>")
    # v128.loadN_lane (address, vector), immediates (memarg, lane)
    vec = fe.op(f"bitcast <2 x i64> {a[1]} to {_vec(n, bits)}")
    vec = fe.op(f"insertelement {_vec(n, bits)} {vec}, i{bits} {v}, i32 {e.imm[1]}")
    return fe.op(f"bitcast {_vec(n, bits)} {vec} to <2 x i64>")


def splat(fe, lane_ty: str, n: int, v: str) -> str:
    """A vector of ``n`` copies of scalar ``v``, as <2 x i64>."""
    vt = f"<{n} x {lane_ty}>"
    one = fe.op(f"insertelement {vt} undef, {lane_ty} {v}, i32 0")
    s = fe.op(f"shufflevector {vt} {one}, {vt} undef, <{n} x i32> zeroinitializer")
    return fe.op(f"bitcast {vt} {s} to <2 x i64>")


def store(fe, s, a: list[str]) -> None:
    op = s.op
    off = s.imm[0].offset
    mem = s.imm[0].mem
    if op.variant is None:
        ty = _access_type(op)
        wide = T.LL[op.params[1]]
        v = fe.op(f"trunc {wide} {a[1]} to {ty}") if ty != wide else a[1]
        _st(fe, ty, v, address(fe, a[0], off, op.access, mem))
        return
    # v128.storeN_lane
    bits = op.lane_bits
    n = 128 // bits
    vec = fe.op(f"bitcast <2 x i64> {a[1]} to {_vec(n, bits)}")
    v = fe.op(f"extractelement {_vec(n, bits)} {vec}, i32 {s.imm[1]}")
    _st(fe, f"i{bits}", v, address(fe, a[0], off, op.access, mem))


# -- memory management and bulk memory -----------------------------------------------------------
def memory_size(fe, e) -> str:
    _, ms = _words(fe, e.imm[0])
    pages = fe.op(f"lshr i64 {ms}, 16")
    if mem64(fe, e.imm[0]):
        return pages
    return fe.op(f"trunc i64 {pages} to i32")


def memory_grow(fe, e, a: list[str]) -> str:
    is64 = mem64(fe, e.imm[0])
    buf = fe.runtime_call(T.RT_MEMORY_GROW, [("i64", str(e.imm[0])),
                                             ("i64" if is64 else "i32", a[0])])
    r = fe.op(f"load i64, ptr {buf}")
    fe.reload_memsize()
    return r if is64 else fe.op(f"trunc i64 {r} to i32")


def _range_check(fe, start: str, n: str, limit: str, code: int, wide: bool = False) -> None:
    """Trap unless ``start + n <= limit``. i32 operands: zero-extended and added (no i64
    sum of two of them can wrap); ``wide`` (i64 operands, memory64): compared without
    forming the sum, which could wrap."""
    if not wide:
        s = fe.op(f"zext i32 {start} to i64")
        k = fe.op(f"zext i32 {n} to i64")
        end = fe.op(f"add nuw i64 {s}, {k}")
        bad = fe.op(f"icmp ugt i64 {end}, {limit}")
        fe.trap_if(bad, code)
        return
    past = fe.op(f"icmp ugt i64 {start}, {limit}")
    room = fe.op(f"sub i64 {limit}, {start}")
    over = fe.op(f"icmp ugt i64 {n}, {room}")
    fe.trap_if(fe.op(f"or i1 {past}, {over}"), code)


def _ptr(fe, base: str, x: str, wide: bool = False) -> str:
    if not wide:
        x = fe.op(f"zext i32 {x} to i64")
    return fe.op(f"getelementptr inbounds i8, ptr {base}, i64 {x}")


def memory_fill(fe, s, a: list[str]) -> None:
    d, val, n = a
    mem = s.imm[0]
    is64 = mem64(fe, mem)
    fe.fuel(n, is64)
    base, ms = _words(fe, mem)
    _range_check(fe, d, n, ms, T.MEM_OOB, is64)
    byte = fe.op(f"trunc i32 {val} to i8")
    k = n if is64 else fe.op(f"zext i32 {n} to i64")
    fe.mod.declare("llvm.memset.p0.i64", "void", ["ptr", "i8", "i64", "i1"])
    fe.emit(f"call void @llvm.memset.p0.i64(ptr {_ptr(fe, base, d, is64)}, i8 {byte}, "
            f"i64 {k}, i1 false)")


def memory_copy(fe, s, a: list[str]) -> None:
    d, src, n = a
    dm, sm = s.imm
    d64, s64 = mem64(fe, dm), mem64(fe, sm)
    wide = d64 or s64  # memory64 on either side: every operand as i64
    fe.fuel(n, d64 and s64)
    dbase, dms = _words(fe, dm)
    sbase, sms = (dbase, dms) if sm == dm else _words(fe, sm)
    if wide:
        d, src, n = _wide(fe, d, d64), _wide(fe, src, s64), _wide(fe, n, d64 and s64)
    _range_check(fe, src, n, sms, T.MEM_OOB, wide)
    _range_check(fe, d, n, dms, T.MEM_OOB, wide)
    k = n if wide else fe.op(f"zext i32 {n} to i64")
    fe.mod.declare("llvm.memmove.p0.p0.i64", "void", ["ptr", "ptr", "i64", "i1"])
    fe.emit(f"call void @llvm.memmove.p0.p0.i64(ptr {_ptr(fe, dbase, d, wide)}, "
            f"ptr {_ptr(fe, sbase, src, wide)}, i64 {k}, i1 false)")


def _data_slot(fe, index: int) -> str:
    return fe.op(f"getelementptr inbounds i64, ptr %ctx, i64 {fe.layout.datas + 2 * index}")


def memory_init(fe, s, a: list[str]) -> None:
    d, src, n = a
    fe.fuel(n)
    mem = s.imm[1]
    is64 = mem64(fe, mem)
    slot = _data_slot(fe, s.imm[0])
    base = fe.op(f"load ptr, ptr {slot}, align 8, !tbaa !2")
    lp = fe.op(f"getelementptr inbounds i64, ptr {slot}, i64 1")
    length = fe.op(f"load i64, ptr {lp}, align 8, !tbaa !2")
    _range_check(fe, src, n, length, T.MEM_OOB)
    mbase, ms = _words(fe, mem)
    if is64:  # an i64 destination, an i32 offset and length
        k = fe.op(f"zext i32 {n} to i64")
        _range_check(fe, d, k, ms, T.MEM_OOB, True)
    else:
        _range_check(fe, d, n, ms, T.MEM_OOB)
        k = fe.op(f"zext i32 {n} to i64")
    fe.mod.declare("llvm.memcpy.p0.p0.i64", "void", ["ptr", "ptr", "i64", "i1"])
    fe.emit(f"call void @llvm.memcpy.p0.p0.i64(ptr {_ptr(fe, mbase, d, is64)}, "
            f"ptr {_ptr(fe, base, src)}, i64 {k}, i1 false)")


def data_drop(fe, s, a: list[str]) -> None:
    # Through the runtime, which empties the instance's data instance (Instance.datas,
    # what snapshots read, as on the other engines) and the context's length word.
    fe.runtime_call(T.RT_DATA_DROP, [("i64", str(s.imm[0]))])


# -- tables ---------------------------------------------------------------------------------------
def table_words(fe, index: int) -> tuple[str, str]:
    """(elements pointer, size as i64) of table ``index``, from the two context words
    its mirror keeps up to date."""
    cell = fe.op(f"getelementptr inbounds i64, ptr %ctx, i64 {fe.layout.tables + 2 * index}")
    sp = fe.op(f"getelementptr inbounds i64, ptr {cell}, i64 1")
    size = fe.op(f"load i64, ptr {sp}, align 8, !tbaa !2")
    elems = fe.op(f"load ptr, ptr {cell}, align 8, !tbaa !2")
    return elems, size


def table_get(fe, e, a: list[str]) -> str:
    index = e.imm[0]
    elems, size = table_words(fe, index)
    idx = _wide(fe, a[0], table64(fe, index))
    bad = fe.op(f"icmp uge i64 {idx}, {size}")
    fe.trap_if(bad, T.TABLE_OOB)
    p = fe.op(f"getelementptr inbounds ptr, ptr {elems}, i64 {idx}")
    v = fe.op(f"load ptr, ptr {p}, align 8, !tbaa !2")
    if fe.mod.info.tables[index].elem.rep is T.FUNCREF:
        # An empty slot holds the null record (references.NULL_REC): as a value it is null.
        nr = fe.op(f"load ptr, ptr {fe.state_word_ptr(T.S.NULL_REC)}, align 8, !tbaa !2, "
                   "!invariant.load !6")
        isnull = fe.op(f"icmp eq ptr {v}, {nr}")
        v = fe.op(f"select i1 {isnull}, ptr null, ptr {v}")
    return v


def table_size(fe, e, a: list[str]) -> str:
    _, size = table_words(fe, e.imm[0])
    if table64(fe, e.imm[0]):
        return size
    return fe.op(f"trunc i64 {size} to i32")


def _ref(fe, v: str) -> tuple[str, str]:
    return ("i64", fe.op(f"ptrtoint ptr {v} to i64"))


def table_grow(fe, e, a: list[str]) -> str:
    init, delta = a
    is64 = table64(fe, e.imm[0])
    buf = fe.runtime_call(T.RT_TABLE_GROW, [("i64", str(e.imm[0])), _ref(fe, init),
                                            ("i64" if is64 else "i32", delta)])
    r = fe.op(f"load i64, ptr {buf}")
    return r if is64 else fe.op(f"trunc i64 {r} to i32")


def _at(is64: bool) -> str:
    return "i64" if is64 else "i32"


def table_effect(fe, s, a: list[str]) -> None:
    name = s.op.name
    imm = s.imm
    if name == "table.set":
        at = _at(table64(fe, imm[0]))
        fe.runtime_call(T.RT_TABLE_SET, [("i64", str(imm[0])), (at, a[0]), _ref(fe, a[1])])
    elif name == "table.fill":
        is64 = table64(fe, imm[0])
        fe.fuel(a[2], is64)
        fe.runtime_call(T.RT_TABLE_FILL, [("i64", str(imm[0])), (_at(is64), a[0]),
                                          _ref(fe, a[1]), (_at(is64), a[2])])
    elif name == "table.copy":
        d64, s64 = table64(fe, imm[0]), table64(fe, imm[1])
        fe.fuel(a[2], d64 and s64)
        fe.runtime_call(T.RT_TABLE_COPY, [("i64", str(imm[0])), ("i64", str(imm[1])),
                                          (_at(d64), a[0]), (_at(s64), a[1]),
                                          (_at(d64 and s64), a[2])])
    elif name == "table.init":
        fe.fuel(a[2])
        fe.runtime_call(T.RT_TABLE_INIT, [("i64", str(imm[0])), ("i64", str(imm[1])),
                                          (_at(table64(fe, imm[1])), a[0]), ("i32", a[1]),
                                          ("i32", a[2])])
    elif name == "elem.drop":
        fe.runtime_call(T.RT_ELEM_DROP, [("i64", str(imm[0]))])
    else:  # pragma: no cover
        raise AssertionError(name)


__all__ = ["load", "store", "address", "splat", "memory_size", "memory_grow", "memory_fill",
           "memory_copy", "memory_init", "data_drop", "table_get", "table_size", "table_grow",
           "table_effect", "intrinsic"]
