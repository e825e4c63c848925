"""Pre-initialization (``fayasm snapshot m.wasm --init FUNC -o m.init.wasm``): run a module's
initialization once, then write a new module whose data segments, globals and tables hold
the state it left, so that any engine (wasmtime included) starts from there at no cost.

The new module is the old one with: each memory's minimum raised to its pages and its
contents as active data segments (runs of non-zero bytes); each defined global's
initializer the value it had; each table's minimum raised to its size and its elements
written by one active element segment; the segments that were already applied or dropped
made empty passive ones (so every segment keeps its index, and memory.init, table.init and
data.drop behave as they would have), plus one declarative segment so that every ``ref.func``
stays declared; no start function (it ran); and without the init export. What a module
cannot say in its own sections is refused with SnapshotError: an imported memory, table or
mutable global (its state is the host's), an externref other than null, a function
reference to a function that is not in the module's index space. WASI descriptors the
init leaves open are not kept: a module's sections cannot hold them.
"""
from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from fayasm import isa
from fayasm.runtime.errors import SnapshotError
from fayasm.runtime.types import ExternKind, Limits, ValType
from fayasm.syntax import ACTIVE, DECLARATIVE, PASSIVE, Data, Elem, Instr

if TYPE_CHECKING:
    from fayasm.module import Module
    from fayasm.runtime.snapshot import Snapshot

GAP = 32  # zero bytes that end a data segment (a shorter run stays inside one)
_CONST = {ValType.I32: "i32.const", ValType.I64: "i64.const", ValType.F32: "f32.const",
          ValType.F64: "f64.const", ValType.V128: "v128.const"}


def _signed(bits: int, width: int) -> int:
    return bits - (1 << width) if bits >> (width - 1) else bits


def _const(t: ValType, enc: Any, where: str) -> list[Instr]:
    """The constant expression of a snapshot value of type ``t``."""
    if t.is_ref:
        if enc is None:
            return [Instr(isa.OPS["ref.null"], (ValType.ref(True, t.heap),))]
        if enc[0] == "f":
            return [Instr(isa.OPS["ref.func"], (enc[1],))]
        raise SnapshotError(f"{where} holds an externref, which a module cannot hold in its "
                            "sections: pre-initialization needs it null")
    if t is ValType.I32:
        return [Instr(isa.OPS["i32.const"], (_signed(enc, 32),))]
    if t is ValType.I64:
        return [Instr(isa.OPS["i64.const"], (_signed(enc, 64),))]
    return [Instr(isa.OPS[_CONST[t]], (enc,))]


def _offset(address: ValType, at: int) -> list[Instr]:
    return [Instr(isa.OPS["i64.const" if address is ValType.I64 else "i32.const"], (at,))]


_CHUNK = 4096
_RUN = re.compile(rb"[^\0](?:[^\0]|\0{1,%d}(?=[^\0]))*" % (GAP - 1))


def _runs(data: bytes) -> list[tuple[int, bytes]]:
    """(start, bytes) of the non-zero parts of ``data``, split where GAP or more zero
    bytes are (all-zero 4 KiB chunks are skipped without looking at their bytes twice)."""
    zero = bytes(_CHUNK)
    n = len(data)
    regions: list[list[int]] = []
    for k in range(0, n, _CHUNK):
        if data[k:k + _CHUNK] != zero[:min(_CHUNK, n - k)]:
            if regions and regions[-1][1] == k:
                regions[-1][1] = min(k + _CHUNK, n)
            else:
                regions.append([k, min(k + _CHUNK, n)])
    out: list[tuple[int, bytes]] = []
    for a, b in regions:
        out.extend((m.start(), m.group()) for m in _RUN.finditer(data, a, b))
    return out


def initialized_module(module: Module, snap: Snapshot, drop_export: str | None = None) -> bytes:
    """The binary of ``module`` with the state of ``snap`` (of an instance of it) in its
    sections (see the module docstring)."""
    from fayasm.binary.encode import encode
    from fayasm.module import Module as ModuleClass

    if snap.module_hash != module.hash:
        raise SnapshotError("the snapshot is of another module")
    m = module.syntax
    imported = {k: sum(1 for i in m.imports if i.kind is k) for k in ExternKind}
    nmem, ntab, nglob = (imported[ExternKind.MEMORY], imported[ExternKind.TABLE],
                         imported[ExternKind.GLOBAL])
    if nmem or ntab:
        raise SnapshotError("the module imports a memory or a table, whose state is the "
                            "host's: it cannot be pre-initialized into the module")
    for imp in m.imports:
        if imp.kind is ExternKind.GLOBAL and imp.desc.mutable:
            raise SnapshotError(f"the module imports the mutable global {imp.module}.{imp.name}, "
                                "whose state is the host's: it cannot be pre-initialized")
    if snap.objects:
        raise SnapshotError("the snapshot holds externref objects, which a module cannot hold")
    mems = []
    datas: list[Data] = []
    for i, mt in enumerate(m.mems):
        pages, contents = snap.mems[i]
        mems.append(dataclasses.replace(mt, limits=Limits(pages, mt.limits.max)))
        datas.extend(Data(init=run, mode=ACTIVE, memory=i, offset=_offset(mt.address, at))
                     for at, run in _runs(contents))
    tables = []
    elems: list[Elem] = []
    for i, tt in enumerate(m.tables):
        items = snap.tables[i]
        tables.append(dataclasses.replace(tt, limits=Limits(len(items), tt.limits.max)))
        exprs = [_const(tt.elem, e, f"table {i} element {k}") for k, e in enumerate(items)]
        if exprs:
            elems.append(Elem(type=tt.elem, init=exprs, mode=ACTIVE, table=i,
                              offset=_offset(tt.address, 0)))
    globals_ = [dataclasses.replace(g, init=_const(g.type.valtype, snap.globals[nglob + k],
                                                   f"global {nglob + k}"))
                for k, g in enumerate(m.globals)]
    # Old segments keep their indices: as instantiating left them, or empty.
    old_elems = []
    declared: list[list[Instr]] = []
    for k, e in enumerate(m.elems):
        declared.extend(item for item in e.init if item and item[0].op.name == "ref.func")
        if e.mode == PASSIVE and not snap.elems_dropped[k]:
            old_elems.append(e)
        else:
            old_elems.append(Elem(type=e.type, init=[], mode=PASSIVE))
    old_datas = [d if d.mode == PASSIVE and not snap.datas_dropped[k] else Data(init=b"")
                 for k, d in enumerate(m.datas)]
    new_elems = old_elems + elems
    if declared:
        new_elems.append(Elem(type=ValType.FUNCREF, init=declared, mode=DECLARATIVE))
    new_datas = old_datas + datas
    exports = [e for e in m.exports if not (e.name == drop_export and e.kind is ExternKind.FUNC)]
    out = dataclasses.replace(
        m, mems=mems, tables=tables, globals=globals_, elems=new_elems, datas=new_datas,
        data_count=len(new_datas) if m.data_count is not None else None, start=None,
        exports=exports, table_inits=dict(m.table_inits))
    binary = encode(out, names=True)
    ModuleClass(binary)  # it must decode and validate: a failure here is fayasm's bug
    return binary


def preinitialize(module: Module, init: str, engine: str | None = None,
                  imports: Any = None, wasi: Any = None) -> bytes:
    """Instantiate ``module``, call its export ``init`` (no arguments), and return the
    binary of the module pre-initialized with the state that left (initialized_module)."""
    import fayasm

    inst = fayasm.instantiate(module, imports, engine=engine, wasi=wasi)
    func = inst.exports.get(init)
    if not isinstance(func, fayasm.Func):
        raise SnapshotError(f"the module exports no function named {init!r}")
    if func.type.params:
        raise SnapshotError(f"{init} takes arguments {func.type}: an init function takes none")
    func()
    return initialized_module(module, inst.snapshot(), drop_export=init)


__all__ = ["initialized_module", "preinitialize", "GAP"]
