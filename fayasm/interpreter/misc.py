"""The less frequent instructions: memory and table management, bulk operations,
references and SIMD lane loads/stores. Each handler is ``fn(ctx, stack, a, b)`` with the
instruction's immediates in ``a`` and ``b``."""
from __future__ import annotations

import struct

from fayasm.runtime.errors import MEM_OOB, NULL_REF, TABLE_OOB, Trap
from fayasm.runtime.limits import BULK_SHIFT
from fayasm.runtime.memops import LANE_LOADS, LANE_STORES, LOADS, STORES


def memory_size(ctx, s, a, b):
    s.append(ctx.mems[a].pages)


def memory_grow(ctx, s, a, b):
    s[-1] = ctx.mems[a].grow(s[-1]) & b  # b: the address type's mask


def memory_fill(ctx, s, a, b):
    n = s.pop()
    if n >> BULK_SHIFT and ctx.budget.metered:
        ctx.budget.tick = ctx.budget.charge(ctx.budget.tick, n)
    val = s.pop()
    d = s.pop()
    mem = ctx.mems[a]
    if d + n > len(mem.view):
        raise Trap(MEM_OOB)
    mem.fill(d, val, n)


def memory_copy(ctx, s, a, b):
    n = s.pop()
    if n >> BULK_SHIFT and ctx.budget.metered:
        ctx.budget.tick = ctx.budget.charge(ctx.budget.tick, n)
    src = s.pop()
    d = s.pop()
    dmem, smem = ctx.mems[a], ctx.mems[b]
    if src + n > len(smem.view) or d + n > len(dmem.view):
        raise Trap(MEM_OOB)
    dmem.copy_from(smem, d, src, n)


def memory_init(ctx, s, a, b):
    n = s.pop()
    if n >> BULK_SHIFT and ctx.budget.metered:
        ctx.budget.tick = ctx.budget.charge(ctx.budget.tick, n)
    src = s.pop()
    d = s.pop()
    data = ctx.datas[a]
    view = ctx.mems[b].view
    if src + n > len(data) or d + n > len(view):
        raise Trap(MEM_OOB)
    view[d:d + n] = data[src:src + n]


def data_drop(ctx, s, a, b):
    ctx.datas[a] = b""


def table_get(ctx, s, a, b):
    elems = ctx.tables[a].elements
    i = s[-1]
    if i >= len(elems):
        raise Trap(TABLE_OOB)
    s[-1] = elems[i]


def table_set(ctx, s, a, b):
    v = s.pop()
    i = s.pop()
    t = ctx.tables[a]
    if i >= len(t.elements):
        raise Trap(TABLE_OOB)
    t.elements[i] = v
    t.sync(i, 1)


def table_size(ctx, s, a, b):
    s.append(len(ctx.tables[a].elements))


def table_grow(ctx, s, a, b):
    n = s.pop()
    s[-1] = ctx.tables[a].grow(n, s[-1]) & b  # b: the address type's mask


def table_fill(ctx, s, a, b):
    n = s.pop()
    if n >> BULK_SHIFT and ctx.budget.metered:
        ctx.budget.tick = ctx.budget.charge(ctx.budget.tick, n)
    v = s.pop()
    i = s.pop()
    t = ctx.tables[a]
    if i + n > len(t.elements):
        raise Trap(TABLE_OOB)
    t.elements[i:i + n] = [v] * n
    t.sync(i, n)


def table_copy(ctx, s, a, b):
    n = s.pop()
    if n >> BULK_SHIFT and ctx.budget.metered:
        ctx.budget.tick = ctx.budget.charge(ctx.budget.tick, n)
    src = s.pop()
    d = s.pop()
    dt, st = ctx.tables[a], ctx.tables[b]
    if src + n > len(st.elements) or d + n > len(dt.elements):
        raise Trap(TABLE_OOB)
    dt.elements[d:d + n] = st.elements[src:src + n]
    dt.sync(d, n)


def table_init(ctx, s, a, b):
    n = s.pop()
    if n >> BULK_SHIFT and ctx.budget.metered:
        ctx.budget.tick = ctx.budget.charge(ctx.budget.tick, n)
    src = s.pop()
    d = s.pop()
    elem = ctx.elems[a]
    t = ctx.tables[b]
    if src + n > len(elem) or d + n > len(t.elements):
        raise Trap(TABLE_OOB)
    t.elements[d:d + n] = elem[src:src + n]
    t.sync(d, n)


def elem_drop(ctx, s, a, b):
    ctx.elems[a] = []


def ref_null(ctx, s, a, b):
    s.append(None)


def ref_is_null(ctx, s, a, b):
    s[-1] = 1 if s[-1] is None else 0


def ref_func(ctx, s, a, b):
    s.append(ctx.funcs[a])


def ref_as_non_null(ctx, s, a, b):
    if s[-1] is None:
        raise Trap(NULL_REF)


def _lane_handler(fn, is_load: bool, mem: int = 0, width: int = 0):
    """A lane load or store of memory ``mem``; ``width``: the bytes accessed, checked
    explicitly (a 64-bit address may be past what struct can take)."""
    def handler(ctx, s, memarg, lane):
        v = s.pop()
        ea = s.pop() + memarg.offset
        view = ctx.mems[mem].view
        if width and ea + width > len(view):
            raise Trap(MEM_OOB)
        if is_load:
            s.append(fn(view, ea, v, lane))
        else:
            fn(view, ea, v, lane)
    return handler


_INT_FORMATS = {1: ("<B", "<b"), 2: ("<H", "<h"), 4: ("<I", "<i"), 8: ("<Q", "<q")}


def access(op, mem: int):
    """A MISC handler for load or store row ``op`` on memory ``mem`` (multi-memory, or a
    64-bit memory), bounds-checked here: ``fn(ctx, s, offset, lane)``."""
    width = op.access
    if op.name in LANE_LOADS:
        lane = _lane_handler(LANE_LOADS[op.name], True, mem, width)
        return lambda ctx, s, offset, k: lane(ctx, s, _Offset(offset), k)
    if op.name in LANE_STORES:
        lane = _lane_handler(LANE_STORES[op.name], False, mem, width)
        return lambda ctx, s, offset, k: lane(ctx, s, _Offset(offset), k)
    if op.shape in ("i32", "i64"):
        unsigned, signed = _INT_FORMATS[width]
        if op.cls == "load":
            unpack = struct.Struct(signed if op.signed else unsigned).unpack_from
            mask = 0xFFFFFFFF if op.results[0].value == "i32" else 0xFFFFFFFFFFFFFFFF

            def load(view, ea):
                return unpack(view, ea)[0] & mask
        else:
            pack = struct.Struct(unsigned).pack_into
            cut = (1 << 8 * width) - 1

            def store(view, ea, v):
                pack(view, ea, v & cut)
    elif op.cls == "load":
        load = LOADS[op.name]
    else:
        store = STORES[op.name]
    if op.cls == "load":
        def handler(ctx, s, offset, _):
            view = ctx.mems[mem].view
            ea = s[-1] + offset
            if ea + width > len(view):
                raise Trap(MEM_OOB)
            s[-1] = load(view, ea)
    else:
        def handler(ctx, s, offset, _):
            v = s.pop()
            view = ctx.mems[mem].view
            ea = s.pop() + offset
            if ea + width > len(view):
                raise Trap(MEM_OOB)
            store(view, ea, v)
    return handler


class _Offset:
    """Stands in for a MemArg where a lane handler reads only ``.offset``."""

    __slots__ = ("offset",)

    def __init__(self, offset: int):
        self.offset = offset


HANDLERS = {
    "memory.size": memory_size, "memory.grow": memory_grow, "memory.fill": memory_fill,
    "memory.copy": memory_copy, "memory.init": memory_init, "data.drop": data_drop,
    "table.get": table_get, "table.set": table_set, "table.size": table_size,
    "table.grow": table_grow, "table.fill": table_fill, "table.copy": table_copy,
    "table.init": table_init, "elem.drop": elem_drop,
    "ref.null": ref_null, "ref.is_null": ref_is_null, "ref.func": ref_func,
    "ref.as_non_null": ref_as_non_null,
}
for _name, _fn in LANE_LOADS.items():
    HANDLERS[_name] = _lane_handler(_fn, True)
for _name, _store in LANE_STORES.items():
    HANDLERS[_name] = _lane_handler(_store, False)
