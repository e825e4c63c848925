"""engine="jit": compile a module to native code with LLVM and instantiate it.

Compiling gives a CompiledModule, which loads (or builds and caches) the native code of
the module once per option set (plain or metered) and shares it between instances.
Instantiating follows the other engines (runtime.instance resolves imports and applies
segments) and fills the instance context the code reads (types.Layout): memory base and
size cell, records of every function, table mirrors, global cells, canonical type ids,
data segments.

Each function of an instance is a Func whose raw callable calls its signature's entry
wrapper through a ctypes prototype; Python values are converted by Func.__call__ as on
every engine, and calls.py adds a faster path for plain numeric signatures.
"""
from __future__ import annotations

import ctypes
import threading

from fayasm.errors import TranslationError, describe
from fayasm.linking import const_expr, data_segments, elem_segments, import_decls
from fayasm.runtime.budget import Budget
from fayasm.runtime.errors import Error, Trap
from fayasm.runtime.func import Func
from fayasm.runtime.globals import Global
from fayasm.runtime.instance import Instance, eval_const, initialize, resolve_imports
from fayasm.runtime.resources import Account
from fayasm.runtime.table import Table
from fayasm.runtime.types import ExternKind

from . import callbacks, calls, metering, natives, references, tiering
from .process import STATE
from . import types as T
from .types import Layout

_M32 = 0xFFFFFFFF
TABLE_OOB = "out of bounds table access"


class CompiledModule:
    """A module ready to instantiate: its native code per option set, made on demand."""

    def __init__(self, module):
        m = module.syntax
        self.module = module
        self.layout = Layout.of(module)
        self.decls = import_decls(m)
        self.globals = [(g.type, const_expr(g.init)) for g in m.globals]
        self.elems = elem_segments(m)
        self.datas = data_segments(m)
        self.tables = list(m.tables)
        self.mems = list(m.mems)
        self.exports = [(e.name, e.kind, e.index) for e in m.exports]
        self.start = m.start
        self.nimp = tiering.num_imported_funcs(module)
        # Per type index, then per defined function: what its functions share.
        self.sigs = [calls.signature(ft) for ft in m.types]
        self.type_ids = [s.typeid for s in self.sigs]
        self.func_sigs = [self.sigs[f.type_idx] for f in m.funcs]
        self.names = [module.func_name(self.nimp + k) for k in range(len(m.funcs))]
        self._code: dict[bool, object] = {}
        self._lock = threading.Lock()

    def code(self, metered: bool):
        c = self._code.get(metered)
        if c is None:
            with self._lock:  # threads instantiating at once compile once
                c = self._code.get(metered)
                if c is None:
                    try:
                        c = tiering.load_code(self.module, metered)
                    except (RuntimeError, OSError, ValueError, MemoryError) as e:
                        # llvmlite reports LLVM's refusals as RuntimeError (RecursionError
                        # is one too): keep them fayasm's, and never the guest's Exhaustion.
                        raise TranslationError("jit", f"{self.module.name}: {describe(e)}") from None
                    self._code[metered] = c
        elif c.lazy and c.upgrade is not None:
            c = self._code[metered] = c.upgrade  # the O2 build has arrived
        return c


class InstanceState:
    """One instance's native side: its context, its functions' targets, and what the
    runtime callbacks need (see callbacks._runtime_call)."""

    def __init__(self, compiled: CompiledModule, code, ctx, budget):
        self.compiled, self.code, self.ctx = compiled, code, ctx
        self.base = ctypes.addressof(ctx)
        self.budget = budget
        self.lazy_blocks = None
        # Native memory and code this instance's native code uses (callbacks.retire).
        self.resources = [ctx, code]
        self.funcs: list = []
        self.tables: list = []
        self.mems: list = []
        self.globals: list = []
        self.elems: list = []
        self.datas: list = []

    # -- function targets (tiering) ----------------------------------------------------------------
    def lazy_block(self, k: int) -> int:
        """The lazy-tier block {state, record} of defined function ``k``."""
        if self.lazy_blocks is None:
            n = len(self.compiled.func_sigs)
            self.lazy_blocks = (ctypes.c_uint64 * (2 * n))()
            self.resources.append(self.lazy_blocks)
        addr = ctypes.addressof(self.lazy_blocks) + 16 * k
        self.lazy_blocks[2 * k] = STATE
        self.lazy_blocks[2 * k + 1] = self.base + 8 * self.compiled.layout.record(k)
        callbacks.register_lazy(addr, self)
        return addr

    def lazy_index(self, block: int) -> int:
        """The defined function whose lazy block is at ``block``."""
        return (block - ctypes.addressof(self.lazy_blocks)) // 16

    def set_target(self, k: int, fn: int, fctx: int) -> None:
        """Point defined function ``k`` (its record, and its Func) at code ``fn`` run
        with context ``fctx``."""
        off = self.compiled.layout.record(k)
        # Both words in one C call: no thread can run native code between them.
        pair = (ctypes.c_uint64 * 2)(fn, fctx)
        ctypes.memmove(self.base + 8 * (off + T.REC_CODE), pair, 16)
        sig = self.compiled.func_sigs[k]
        f = self.funcs[self.compiled.nimp + k]
        raw_e, signed_e = sig.entries()
        raw = calls.raw_callable(sig, raw_e, fn, fctx)
        if self.budget is not None:
            raw = metering.metered(raw, self.budget)
        f._raw = raw
        if signed_e is not None and self.budget is None:
            f._target = (signed_e, fn, fctx)

    def retarget(self, code) -> None:
        """Move every function to ``code`` (a finished tier-up)."""
        self.code = code
        self.resources.append(code)
        for k in range(len(self.compiled.func_sigs)):
            fn, fctx = code.target(k, self)
            self.set_target(k, fn, fctx)

    def runtime_op(self, op: int, w) -> None:
        if op == T.RT_MEMORY_GROW:
            w[0] = self.mems[w[0]].grow(w[1] & _M32) & _M32
        elif op == T.RT_TABLE_GROW:
            t = self.tables[w[0]]
            w[0] = t.grow(w[2] & _M32, references.from_word(t.type.elem, w[1])) & _M32
        elif op == T.RT_TABLE_SET:
            t = self.tables[w[0]]
            t.set(w[1] & _M32, references.from_word(t.type.elem, w[2]))
        elif op == T.RT_TABLE_FILL:
            t = self.tables[w[0]]
            i, n = w[1] & _M32, w[3] & _M32
            if i + n > len(t.elements):
                raise Trap(TABLE_OOB)
            t.elements[i:i + n] = [references.from_word(t.type.elem, w[2])] * n
            _sync(t, i, n)
        elif op == T.RT_TABLE_COPY:
            dt, st = self.tables[w[0]], self.tables[w[1]]
            d, s, n = w[2] & _M32, w[3] & _M32, w[4] & _M32
            if s + n > len(st.elements) or d + n > len(dt.elements):
                raise Trap(TABLE_OOB)
            dt.elements[d:d + n] = st.elements[s:s + n]
            _sync(dt, d, n)
        elif op == T.RT_TABLE_INIT:
            seg, t = self.elems[w[0]], self.tables[w[1]]
            d, s, n = w[2] & _M32, w[3] & _M32, w[4] & _M32
            if s + n > len(seg) or d + n > len(t.elements):
                raise Trap(TABLE_OOB)
            t.elements[d:d + n] = seg[s:s + n]
            _sync(t, d, n)
        elif op == T.RT_ELEM_DROP:
            self.elems[w[0]] = []
        elif op == T.RT_GLOBAL_SET_REF:
            g = self.globals[w[0]]
            g.raw = references.from_word(g.type.valtype, w[1])
        else:  # pragma: no cover
            raise Error(f"jit: unknown runtime operation {op}")


def _sync(t: Table, start: int, n: int) -> None:
    if t._native is not None and n:
        t._native.changed(t, start, n)


class Engine:
    name = "jit"

    def compile(self, module) -> CompiledModule:
        c = CompiledModule(module)
        c.code(False)  # compile eagerly: errors show at compile time
        return c

    def instantiate(self, module, compiled: CompiledModule, imports=None, fuel=None,
                    deadline=None, limits=None):
        metered = fuel is not None or deadline is not None
        code = compiled.code(metered)
        budget = Budget(fuel, deadline) if metered else None
        externs = resolve_imports(compiled.decls, imports)
        account = Account(limits)
        lay = compiled.layout
        ctx = (ctypes.c_uint64 * lay.words)()
        ist = InstanceState(compiled, code, ctx, budget)
        base = ist.base
        spaces = {ExternKind.FUNC: ist.funcs, ExternKind.TABLE: ist.tables,
                  ExternKind.MEMORY: ist.mems, ExternKind.GLOBAL: ist.globals}
        for (_, _, kind, _), ext in zip(compiled.decls, externs):
            spaces[kind].append(ext)
        ctx[Layout.STATE] = STATE
        # Functions: the records of the defined ones live in the context.
        nimp = compiled.nimp
        records, names = references.RECORDS, compiled.names
        for k, sig in enumerate(compiled.func_sigs):
            off = lay.record(k)
            ctx[off + T.REC_TYPE] = sig.typeid
            addr = base + 8 * off
            # Metered functions take Func.__call__ -> the metered raw callable.
            cls = sig.cls if budget is None else calls.JitFunc
            f = cls._wrap_raw(None, sig.ft, names[k], owner=ist)
            f._native = references.NativeRef(addr, ctx)
            records[addr] = f
            ist.funcs.append(f)
        code.attach(ist)
        for i in range(nimp):
            ctx[lay.funcs + i] = references.func_record(ist.funcs[i])
        for k in range(len(compiled.func_sigs)):
            ctx[lay.funcs + nimp + k] = base + 8 * lay.record(k)
        for k, tid in enumerate(compiled.type_ids):
            ctx[lay.types + k] = tid
        # Tables, memories, globals.
        ist.tables.extend(account.new_table(t) for t in compiled.tables)
        for i, t in enumerate(ist.tables):
            natives.mirror(t).attach(ctx, lay.tables + 2 * i)
        ist.mems.extend(account.new_memory(t) for t in compiled.mems)
        if ist.mems:
            ctx[Layout.MEM_BASE] = ist.mems[0].address
            ctx[Layout.MEM_SIZE] = ist.mems[0].size_address
        nimp_g = len(ist.globals)
        for k, (gtype, init) in enumerate(compiled.globals):
            g = Global(gtype, raw=eval_const(init, ist.globals, ist.funcs))
            off = lay.gcell(k)
            natives.adopt(g, base + 8 * off, ctx)
            ist.globals.append(g)
        for i in range(nimp_g):
            ctx[lay.globals + i] = natives.adopt(ist.globals[i])
        for k in range(len(compiled.globals)):
            ctx[lay.globals + nimp_g + k] = base + 8 * lay.gcell(k)
        callbacks.register_instance(base, ist, ist.resources)
        ist.elems, ist.datas = initialize(ist.tables, ist.mems, ist.globals, ist.funcs,
                                          compiled.elems, compiled.datas)
        for k, data in enumerate(ist.datas):
            ctx[lay.datas + 2 * k] = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
            ctx[lay.datas + 2 * k + 1] = len(data)
        exports = {name: spaces[kind][index] for name, kind, index in compiled.exports}
        inst = Instance(exports, self.name, module)
        inst._jit = ist
        inst._account = account
        inst._budget = budget
        inst.funcs, inst.tables, inst.mems, inst.globals = (ist.funcs, ist.tables, ist.mems,
                                                            ist.globals)
        if compiled.start is not None:
            ist.funcs[compiled.start]._raw()
        return inst


__all__ = ["Engine", "CompiledModule", "InstanceState", "Func"]
