"""engine="jit": compile a module to native code with LLVM and instantiate it.

Compiling gives a CompiledModule, which loads (or builds and caches) the native code of
the module once per option set (plain or metered; guard mode or explicit bounds checks,
guard.py) and shares it between instances. The bounds-check mode is chosen when an
instance's memories are known (``_Builder.wire``); compiling eagerly builds the mode
instances will most likely get (``guard.predicted``).
Instantiating is the engines' one linking step (runtime.plan.link: imports, segments,
the start function); the jit's part (``_Builder``) fills the instance context the code
reads (types.Layout): memory base and size cell, records of every function, table
mirrors, global cells, canonical type ids, data segments.

Each function of an instance is a Func whose raw callable calls its signature's entry
wrapper through a ctypes prototype; Python values are converted by Func.__call__ as on
every engine, except on plain numeric signatures, whose Func class has a native
__call__ (pyentry.py).
"""
from __future__ import annotations

import ctypes
import threading

from fayasm.engines import Imports, WasiArg
from fayasm.errors import TranslationError, describe
from fayasm.linking import plan
from fayasm.module import Module
from fayasm.runtime.budget import Budget, Interrupt
from fayasm.runtime.errors import TABLE_OOB, Error, Trap
from fayasm.runtime.func import Func
from fayasm.runtime.instance import Instance
from fayasm.runtime.limits import MAX_CALL_DEPTH
from fayasm.runtime.plan import Spaces, link
from fayasm.runtime.resources import ResourceLimits, stack_limit
from fayasm.runtime.types import FuncType

from . import callbacks, calls, catching, guard, jit, metering, natives, references, tiering
from . import types as T
from .process import STATE
from .typeids import deftype_id
from .types import Layout

# Runtime-call words: i32 arguments arrive zero-extended and i64 ones (memory64) whole,
# so masking to 64 bits keeps both; the native side truncates an i32 result.
_M64 = 0xFFFFFFFFFFFFFFFF


class CompiledModule:
    """A module ready to instantiate: its native code per option set, made on demand."""

    def __init__(self, module):
        m = module.syntax
        self.module = module
        self.layout = Layout.of(module)
        self.plan = plan(module)
        self.nimp = tiering.num_imported_funcs(module)
        # Per type index, then per defined function: what its functions share.
        # (A struct or array type has no signature: None, type id 0.)
        self.sigs = [calls.signature(ft) if isinstance(ft, FuncType) else None
                     for ft in m.types]
        self.type_ids = [s.typeid if s is not None else 0 for s in self.sigs]
        # A module with rec groups or declared subtyping: functions' ids are their
        # DefTypes' (typeids.deftype_id), so call_indirect tells such types apart.
        self.func_deftypes = self.plan.func_deftypes
        if self.func_deftypes is not None:
            self.type_ids = [deftype_id(d) if s is not None else 0
                             for d, s in zip(m.deftypes, self.sigs)]
        self.func_ids = [self.type_ids[f.type_idx] for f in m.funcs]
        self.func_sigs = [self.sigs[f.type_idx] for f in m.funcs]
        self.has32 = guard.has_memory32(module)
        self._code: dict[tuple[bool, bool], object] = {}
        self._lock = threading.Lock()
        self.catch_cache: dict = {}  # function -> its try_tables' clauses (exceptions.py)

    def code(self, metered: bool, guarded: bool = False):
        opts = (metered, guarded)
        c = self._code.get(opts)
        if c is None:
            with self._lock:  # threads instantiating at once compile once
                c = self._code.get(opts)
                if c is None:
                    try:
                        c = tiering.load_code(self.module, metered, guarded)
                    except (RuntimeError, OSError, ValueError, MemoryError) as e:
                        # llvmlite reports LLVM's refusals as RuntimeError (RecursionError
                        # is one too): keep them fayasm's, and never the guest's Exhaustion.
                        raise TranslationError(
                            "jit", f"{self.module.name}: {describe(e)}") from None
                    self._code[opts] = c
        elif c.lazy and c.upgrade is not None:
            c = self._code[opts] = c.upgrade  # the O2 build has arrived
        return c


class InstanceState:
    """One instance's native side: its context, its functions' targets, and what the
    runtime callbacks need (see callbacks._runtime_call)."""

    def __init__(self, compiled: CompiledModule, code, ctx, budget):
        # ``code`` is None until wire() has chosen the bounds-check mode.
        self.compiled, self.code, self.ctx = compiled, code, ctx
        self.guarded = False
        self.base = ctypes.addressof(ctx)
        self.budget = budget
        self.stack_base = 0  # MAX_CALL_DEPTH minus the instance's depth limit
        self.lazy_blocks = None
        # Native memory and code this instance's native code uses (callbacks.retire).
        self.resources = [ctx]
        self.funcs: list = []
        self.tables: list = []
        self.mems: list = []
        self.globals: list = []
        self.elems: list = []
        self.datas: list = []
        self.tags: list = []
        self.gc = None  # gcrun.GcModule, made by the first GC operation

    # -- function targets (tiering) ---------------------------------------------------------------
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

    def set_target(self, k: int, fn: int, fctx: int, tail: int = 0) -> None:
        """Point defined function ``k`` (its record, and its Func) at code ``fn`` run
        with context ``fctx``, and uniform entry ``tail`` (0: none)."""
        off = self.compiled.layout.record(k)
        sig = self.compiled.func_sigs[k]
        # The whole record in one C call: no thread can run native code in between.
        words = (ctypes.c_uint64 * T.REC_WORDS)()
        words[T.REC_CODE], words[T.REC_CTX] = fn, fctx
        words[T.REC_TYPE], words[T.REC_TAIL] = self.compiled.func_ids[k], tail
        ctypes.memmove(self.base + 8 * off, words, 8 * T.REC_WORDS)
        f = self.funcs[self.compiled.nimp + k]
        raw = calls.raw_callable(sig, sig.entry(), fn, fctx)
        if self.stack_base:
            raw = metering.stack_limited(raw, self.stack_base)
        if self.budget is not None:
            raw = metering.metered(raw, self.budget)
        f.raw = raw

    def retarget(self, code) -> None:
        """Move every function to ``code`` (a finished tier-up)."""
        self.code = code
        self.resources.append(code)
        for k in range(len(self.compiled.func_sigs)):
            self.set_target(k, *code.target(k, self))

    def runtime_op(self, op: int, w) -> None:
        if op == T.RT_MEMORY_GROW:
            w[0] = self.mems[w[0]].grow(w[1] & _M64) & _M64
        elif op == T.RT_TABLE_GROW:
            t = self.tables[w[0]]
            w[0] = t.grow(w[2] & _M64, references.from_word(t.type.elem, w[1])) & _M64
        elif op == T.RT_TABLE_SET:
            t = self.tables[w[0]]
            t.set(w[1] & _M64, references.from_word(t.type.elem, w[2]))
        elif op == T.RT_TABLE_FILL:
            t = self.tables[w[0]]
            i, n = w[1] & _M64, w[3] & _M64
            if i + n > len(t.elements):
                raise Trap(TABLE_OOB)
            t.elements[i:i + n] = [references.from_word(t.type.elem, w[2])] * n
            t.sync(i, n)
        elif op == T.RT_TABLE_COPY:
            dt, st = self.tables[w[0]], self.tables[w[1]]
            d, s, n = w[2] & _M64, w[3] & _M64, w[4] & _M64
            if s + n > len(st.elements) or d + n > len(dt.elements):
                raise Trap(TABLE_OOB)
            dt.elements[d:d + n] = st.elements[s:s + n]
            dt.sync(d, n)
        elif op == T.RT_TABLE_INIT:
            seg, t = self.elems[w[0]], self.tables[w[1]]
            d, s, n = w[2] & _M64, w[3] & _M64, w[4] & _M64
            if s + n > len(seg) or d + n > len(t.elements):
                raise Trap(TABLE_OOB)
            t.elements[d:d + n] = seg[s:s + n]
            t.sync(d, n)
        elif op == T.RT_ELEM_DROP:
            self.elems[w[0]] = []
        elif op == T.RT_DATA_DROP:
            k = w[0]
            slot = self.compiled.layout.datas + 2 * k
            self.ctx[slot + 1] = 0  # the length first: native code reads it before the base
            self.ctx[slot] = 0
            self.datas[k] = b""
        elif op == T.RT_THROW:
            catching.rt_throw(self, w)
        elif op == T.RT_THROW_REF:
            catching.rt_throw_ref(self, w)
        elif op == T.RT_CATCH:
            catching.rt_catch(self, w[0], w[1], w)
        elif op == T.RT_GLOBAL_SET_REF:
            g = self.globals[w[0]]
            g.raw = references.from_word(g.type.valtype, w[1])
        else:  # pragma: no cover
            raise Error(f"jit: unknown runtime operation {op}")


class _Builder:
    """The jit's part of instantiating (runtime.plan.Builder): function records, table
    mirrors, the memory's base and global cells in the native context."""

    def __init__(self, ist: InstanceState):
        self.ist = ist

    def functions(self, spaces: Spaces) -> list[Func]:
        ist = self.ist
        ist.funcs, ist.tables, ist.mems, ist.globals = (spaces.funcs, spaces.tables,
                                                        spaces.mems, spaces.globals)
        ist.elems, ist.datas, ist.tags = spaces.elems, spaces.datas, spaces.tags
        compiled, ctx, base, lay = ist.compiled, ist.ctx, ist.base, ist.compiled.layout
        records, names = references.RECORDS, compiled.plan.names
        out = []
        for k, sig in enumerate(compiled.func_sigs):
            off = lay.record(k)
            ctx[off + T.REC_TYPE] = compiled.func_ids[k]
            addr = base + 8 * off
            # A plain signature's functions get a native __call__ reading the record
            # (pyentry.py; metering.enter/leave around it for metered ones); the others
            # take Func.__call__ -> the raw callable (metered.py wraps it as needed).
            cls = sig.cls(ist.budget is not None or ist.stack_base != 0)
            f = cls.from_raw(None, sig.ft, names[k], owner=ist)
            if cls is not calls.JitFunc:
                f._target = calls.target_word(addr)
            f.native = references.NativeRef(addr, ctx)
            if compiled.func_deftypes is not None:
                f.deftype = compiled.func_deftypes[k]
            records[addr] = f
            out.append(f)
        return out

    def wire(self, spaces: Spaces) -> None:
        ist = self.ist
        compiled, ctx, base, lay = ist.compiled, ist.ctx, ist.base, ist.compiled.layout
        ctx[Layout.STATE] = STATE
        ist.guarded = guard.choose(ist.mems, compiled.module.name) if compiled.has32 else False
        ist.code = compiled.code(ist.budget is not None, ist.guarded)
        ist.resources.append(ist.code)
        ist.code.attach(ist)
        nimp = compiled.nimp
        for i in range(nimp):
            ctx[lay.funcs + i] = references.func_record(ist.funcs[i])
        for k in range(len(compiled.func_sigs)):
            ctx[lay.funcs + nimp + k] = base + 8 * lay.record(k)
        for k, tid in enumerate(compiled.type_ids):
            ctx[lay.types + k] = tid
        for i, t in enumerate(ist.tables):
            natives.mirror(t).attach(ctx, lay.tables + 2 * i)
        if ist.mems:
            ctx[Layout.MEM_BASE] = ist.mems[0].address
            ctx[Layout.MEM_SIZE] = ist.mems[0].size_address
        for i, mem in enumerate(ist.mems):
            ctx[lay.mems + 2 * i] = mem.address
            ctx[lay.mems + 2 * i + 1] = mem.size_address
        nimp_g = len(ist.globals) - len(compiled.plan.globals)
        for i, g in enumerate(ist.globals):
            if i < nimp_g:
                ctx[lay.globals + i] = natives.adopt(g)
            else:
                off = lay.gcell(i - nimp_g)
                natives.adopt(g, base + 8 * off, ctx)
                ctx[lay.globals + i] = base + 8 * off
        callbacks.register_instance(base, ist, ist.resources)

    def finish(self, spaces: Spaces, instance: Instance) -> None:
        ist, ctx, lay = self.ist, self.ist.ctx, self.ist.compiled.layout
        for k, data in enumerate(ist.datas):
            ctx[lay.datas + 2 * k] = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
            ctx[lay.datas + 2 * k + 1] = len(data)
        instance.engine_state = ist


class Engine:
    name = "jit"

    def __init__(self) -> None:
        jit.init()  # loading the engine readies LLVM (about a millisecond)

    def compile(self, module: Module) -> CompiledModule:
        c = CompiledModule(module)
        # Compile eagerly (errors show at compile time), in the mode instances will get.
        c.code(False, guard.predicted(module))
        return c

    def instantiate(self, module: Module, compiled: CompiledModule,
                    imports: Imports | None = None, fuel: int | None = None,
                    deadline: float | None = None, limits: ResourceLimits | None = None,
                    wasi: WasiArg | None = None, interrupt: Interrupt | None = None) -> Instance:
        metered = fuel is not None or deadline is not None or interrupt is not None
        budget = Budget(fuel, deadline, interrupt) if metered else None
        ctx = (ctypes.c_uint64 * compiled.layout.words)()
        ist = InstanceState(compiled, None, ctx, budget)
        ist.stack_base = MAX_CALL_DEPTH - stack_limit(limits)
        return link(compiled.plan, imports, _Builder(ist), engine=self.name, module=module,
                    budget=budget, limits=limits, wasi=wasi)

    def wait_idle(self, timeout: float = 600.0) -> bool:
        return tiering.wait_for_workers(timeout)

    def notes(self, module: Module) -> list[str]:
        """What ``fayasm inspect`` says about running ``module`` here: the bounds-check
        mode its instances get (with memories made by the runtime)."""
        if not guard.has_memory32(module):
            return []
        why = guard.enabled()
        mode = "guard pages" if why is None else f"explicit bounds checks ({why})"
        return [f"memory accesses: {mode}"]


__all__ = ["Engine", "CompiledModule", "InstanceState", "Func"]
