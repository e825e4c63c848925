"""Running one module on one engine, a step at a time, in a form the diff can compare.

A runner instantiates the module (with the deterministic host imports of ``hosts``),
then makes calls; after each step it reports an ``Outcome`` (results, or a trap and its
kind, or an error) and a ``State`` (exported memories, globals and tables, internal
globals and tables where the instance exposes them, and the host-call log).

``FayasmRunner`` runs any registered engine; ``WasmtimeRunner`` runs wasmtime (the PyPI
package) as an outside oracle. wasmtime's trap kinds map to sets of fayasm's codes (it
reports "table out of bounds" where the spec distinguishes "undefined element"), and
its Python API passes f32 values through a C float, which quiets signalling NaNs: its
f32 results and globals are compared with that loss allowed, and a call with a
signalling-NaN f32 argument cannot be made exactly, so comparison with wasmtime stops
there (``Outcome.kind == "inexact"``).
"""
from __future__ import annotations

import os
import struct
import traceback
from dataclasses import dataclass, field

from fayasm.runtime.errors import Error, Trap, WasiExit
from fayasm.runtime.func import Func
from fayasm.runtime.globals import Global
from fayasm.runtime.memory import Memory
from fayasm.runtime.table import MAX_TABLE_SIZE, Table
from fayasm.runtime.types import MAX_PAGES, PAGE_SIZE, ExternKind, ValType
from fayasm.runtime.values import Val

from .hostenv import (
    Extras,
    HostFailure,
    UserTrap,
    fayasm_user_imports,
    wasmtime_extern,
    wasmtime_wasi,
)
from .hosts import (
    HOST_FUNCS,
    HOST_GLOBALS,
    HOST_MEMORY,
    HOST_TABLE,
    REENTER_EXPORT,
    HostLog,
    HostTrap,
    fayasm_imports,
    is_host_import,
)
from .nan import is_nan

FUEL = 1_000_000  # fayasm engines: calls and loop iterations per call (a backstop;
# no deadline, which would make where a run stops depend on timing)
WASMTIME_FUEL = 200_000_000  # wasmtime counts instructions: far more per call


@dataclass
class Outcome:
    """What one step did. ``kind``: "ok", "trap", "exit" (WASI proc_exit; ``code`` is the
    exit code), "host_error" (a host function the caller gave raised), "error" (a fayasm
    error that is not a trap: the module did not compile or link), "crash" (a non-fayasm
    exception escaped: always a bug), "inexact" (this runner cannot take the step
    exactly; see above)."""

    kind: str
    values: list = field(default_factory=list)
    code: str | None = None
    codes: frozenset = frozenset()  # trap codes this outcome is compatible with
    message: str = ""

    def describe(self) -> str:
        from .values import format_val

        if self.kind == "ok":
            return "returned " + (", ".join(format_val(v) for v in self.values) or "nothing")
        if self.kind == "trap":
            return f"trapped: {self.code} ({self.message.splitlines()[0] if self.message else ''})"
        if self.kind == "exit":
            return f"exited with code {self.code}"
        return f"{self.kind}: {self.message}"


BIG_MEMORY = 64 << 20  # larger memories are compared by digest, not kept as bytes


class Digest(bytes):
    """The SHA-256 of a memory too large to keep (see BIG_MEMORY)."""


def memory_image(read, size: int):
    """The bytes of a memory, or its Digest when it is large; ``read(start, n)``."""
    if size <= BIG_MEMORY:
        return bytes(read(0, size))
    import hashlib

    h = hashlib.sha256()
    for start in range(0, size, 16 << 20):
        h.update(read(start, min(16 << 20, size - start)))
    return Digest(h.digest())


@dataclass
class State:
    memories: dict = field(default_factory=dict)  # name -> (pages, bytes)
    globals: dict = field(default_factory=dict)  # name -> Val
    tables: dict = field(default_factory=dict)  # name -> [element key]
    hostlog: list = field(default_factory=list)
    output: dict = field(default_factory=dict)  # "stdout"/"stderr" -> bytes (WASI)


def ref_key(t: ValType, ref):
    """A comparable stand-in for a reference: functions by name and type, externs by value."""
    if ref is None:
        return None
    if t.rep is ValType.FUNCREF:
        return ("func", getattr(ref, "name", None), str(getattr(ref, "type", "")))
    return ("extern", ref if isinstance(ref, (int, str, tuple)) else repr(ref))


def _trap_outcome(e: Trap) -> Outcome:
    return Outcome("trap", code=e.code, codes=frozenset({e.code}), message=e.message)


class FayasmRunner:
    """One instance of ``module`` on the fayasm engine ``engine``."""

    lossy_f32 = False

    def __init__(self, engine: str, module, metered: bool = True, fuel: int = FUEL,
                 extras: Extras | None = None):
        self.name = engine
        self.module = module
        self.metered = metered
        self.fuel = fuel  # per call, when metered
        self.extras = extras or Extras()
        self.log = HostLog()
        self.inst = None
        self._watched = None
        self._output = None  # (stdout, stderr) BytesIO of a WASI run

    def _guard(self, fn) -> Outcome:
        try:
            return fn()
        except Trap as e:
            return _trap_outcome(e)
        except WasiExit as e:
            return Outcome("exit", code=str(e.code), message=str(e))
        except HostFailure as e:
            return Outcome("host_error", message=str(e))
        except Error as e:
            return Outcome("error", message=f"{type(e).__name__}: {e}")
        except HostTrap as e:  # a host trap that escaped as itself: a bug in the engine
            return Outcome("crash", message=f"host trap escaped untranslated: {e}")
        except RecursionError:
            return Outcome("crash", message="RecursionError escaped")
        except Exception as e:  # noqa: BLE001 - any other exception is an engine bug
            tb = traceback.extract_tb(e.__traceback__)
            where = f" at {tb[-1].filename}:{tb[-1].lineno}" if tb else ""
            return Outcome("crash", message=f"{type(e).__name__}: {e}{where}")

    def instantiate(self) -> Outcome:
        import fayasm

        def go():
            imports = fayasm_imports(self.module, self.log)
            for name, fields in fayasm_user_imports(self.extras, self.module, self.log).items():
                imports.setdefault(name, {}).update(fields)
            limits = dict(fuel=self.fuel) if self.metered else {}
            if self.extras.wants_wasi(self.module):
                config, out, err = self.extras.fayasm_wasi()
                self._output = (out, err)
                limits["wasi"] = config
            if self.extras.snapshot is not None:
                self.inst = fayasm.restore(self.module, self.extras.snapshot, imports,
                                           engine=self.name, **limits)
            else:
                self.inst = fayasm.instantiate(self.module, imports, engine=self.name, **limits)
            target = self.inst.exports.get(REENTER_EXPORT)
            if isinstance(target, Func):
                self.log.call_back = lambda a: target(a)
            return Outcome("ok")
        return self._guard(go)

    def call(self, name: str, args: list) -> Outcome:
        def go():
            func = self.inst.exports[name]
            if not isinstance(func, Func):
                return Outcome("error", message=f"export {name!r} is not a function")
            if self.metered:
                self.inst.set_fuel(self.fuel)  # a budget per call: one call's use is its own
            try:
                return Outcome("ok", values=func.invoke(list(args)))
            finally:
                if self.inst.wasi is not None:
                    self.inst.wasi.flush()
        return self._guard(go)

    def close(self) -> None:
        if self.inst is not None and self.inst.wasi is not None:
            self.inst.wasi.close()

    def state(self) -> State:
        s = State(hostlog=list(self.log))
        if self._output is not None:
            s.output = {"stdout": self._output[0].getvalue(), "stderr": self._output[1].getvalue()}
        if self.inst is None:
            return s
        if self._watched is None:  # exports never change; probes make them many
            self._watched = [(name, ext) for name, ext in self.inst.exports.items()
                             if isinstance(ext, (Memory, Global, Table))]
        for name, ext in self._watched:
            if isinstance(ext, Memory):
                view = ext.view
                s.memories[name] = (ext.pages, memory_image(
                    lambda a, n, view=view: view[a:a + n], len(view)))
            elif isinstance(ext, Global):
                s.globals[name] = ext.val
            elif isinstance(ext, Table):
                s.tables[name] = [ref_key(ext.type.elem, e) for e in ext.elements]
        for k, t in enumerate(self._internal_tables()):
            s.tables[f"table[{k}]"] = [ref_key(t.type.elem, e) for e in t.elements]
        return s

    def _internal_tables(self):
        """The instance's own tables, where the engine exposes them. (Not its globals: the
        python engine keeps a non-exported global in a variable of the generated code, so
        the Global object it exposes is stale by design. Generated modules export every
        global instead.)"""
        ctx = getattr(self.inst, "engine_state", None)
        tables = getattr(ctx if ctx is not None else self.inst, "tables", None)
        if isinstance(tables, list) and all(isinstance(t, Table) for t in tables):
            return tables
        return []


# -- wasmtime ----------------------------------------------------------------------------

def wasmtime_available() -> bool:
    try:
        import wasmtime  # noqa: F401
    except ImportError:
        return False
    return True


_WT_CODES = {
    "STACK_OVERFLOW": {"call_stack_exhausted"},
    "MEMORY_OUT_OF_BOUNDS": {"memory_out_of_bounds"},
    "HEAP_MISALIGNED": {"memory_out_of_bounds"},
    "TABLE_OUT_OF_BOUNDS": {"table_out_of_bounds", "undefined_element"},
    "INDIRECT_CALL_TO_NULL": {"uninitialized_element"},
    "BAD_SIGNATURE": {"indirect_call_type_mismatch"},
    "INTEGER_OVERFLOW": {"integer_overflow"},
    "INTEGER_DIVISION_BY_ZERO": {"integer_divide_by_zero"},
    "BAD_CONVERSION_TO_INTEGER": {"invalid_conversion_to_integer"},
    "UNREACHABLE": {"unreachable"},
    "UNREACHABLE_CODE_REACHED": {"unreachable"},
    "OUT_OF_FUEL": {"out_of_fuel"},
    # call_ref/return_call_ref of null, ref.as_non_null and GC accesses through null:
    # wasmtime has one code for all
    "NULL_REFERENCE": {"null_function_reference", "null_reference", "null_structure_reference",
                       "null_array_reference", "null_i31_reference"},
    "ARRAY_OUT_OF_BOUNDS": {"array_out_of_bounds"},
    "CAST_FAILURE": {"cast_failure"},
    "ALLOCATION_TOO_LARGE": {"array_out_of_bounds"},  # fayasm's array length limit
}
_WT_MESSAGES = [("out of bounds memory access", "memory_out_of_bounds"),
                ("out of bounds table access", "table_out_of_bounds"),
                ("table out of bounds", "table_out_of_bounds"),
                ("memory out of bounds", "memory_out_of_bounds"),
                ("call stack exhausted", "call_stack_exhausted")]


def _f32_bits_of(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


class WasmtimeRunner:
    """One instance of ``module`` on wasmtime."""

    name = "wasmtime"
    lossy_f32 = True

    def __init__(self, module, fuel: int | None = WASMTIME_FUEL, extras: Extras | None = None,
                 program: str = "main.wasm"):
        import wasmtime

        self.wt = wasmtime
        self.module = module
        self.fuel = fuel  # per call; None: no fuel
        self.extras = extras or Extras()
        self.program = program
        self.log = HostLog()
        self.inst = None
        self._watched = None
        self._output = None
        self.cleanup: list = []  # temporary files to remove
        self.notes: list = []  # what the diff should say about this runner
        config = wasmtime.Config()
        # the generators make modules with several memories, some 64-bit
        config.wasm_multi_memory = True
        config.wasm_memory64 = True
        config.consume_fuel = fuel is not None
        # typed function references (call_ref, br_on_null...) and return_call_ref
        config.wasm_function_references = True
        config.wasm_tail_call = True
        config.wasm_gc = True  # GC modules (fayasm fuzz --gc)
        self.engine = wasmtime.Engine(config)
        self.store = wasmtime.Store(self.engine)
        if fuel is not None:
            self.store.set_fuel(fuel)
        # fayasm's implementation limits, so that growth fails in both at the same sizes
        # (without them wasmtime grows a table by 2**31 entries and takes gigabytes)
        self.store.set_limits(memory_size=MAX_PAGES * PAGE_SIZE, table_elements=MAX_TABLE_SIZE)

    # -- values ------------------------------------------------------------------------
    def _valtype(self, t: ValType):
        wt = self.wt.ValType
        return {ValType.I32: wt.i32(), ValType.I64: wt.i64(), ValType.F32: wt.f32(),
                ValType.F64: wt.f64(), ValType.FUNCREF: wt.funcref(),
                ValType.EXTERNREF: wt.externref()}[t.rep]

    def _to_wt(self, v: Val):
        t = v.type
        wt = self.wt.Val
        if t is ValType.I32:
            return wt.i32(v.value)
        if t is ValType.I64:
            return wt.i64(v.value)
        if t is ValType.F32:
            return wt.f32(struct.unpack("<f", struct.pack("<I", v.bits))[0])
        if t is ValType.F64:
            return wt.f64(struct.unpack("<d", struct.pack("<Q", v.bits))[0])
        if t.rep is ValType.EXTERNREF:
            return wt.externref(v.ref)
        if t.rep is ValType.FUNCREF:
            return wt.funcref(None)
        raise Error(f"wasmtime's Python API cannot pass {t}")

    def _from_wt(self, t: ValType, x) -> Val:
        if isinstance(x, self.wt.Val):  # wasmtime gives null references as a Val of None
            x = x.value
        if t in (ValType.I32, ValType.I64):
            return Val.from_bits(t, x)
        if t is ValType.F32:
            return Val.from_bits(t, _f32_bits_of(x))
        if t is ValType.F64:
            return Val.from_bits(t, struct.unpack("<Q", struct.pack("<d", x))[0])
        if t.rep is ValType.FUNCREF:  # typed references keep their declared type
            return Val(t, ref=None if x is None else _WasmtimeFuncRef(x, self.store))
        return Val(t, ref=x)

    # -- steps -------------------------------------------------------------------------
    def _guard(self, fn) -> Outcome:
        wt = self.wt
        try:
            return fn()
        except HostTrap as e:
            return Outcome("trap", code="trap", codes=frozenset({"trap"}), message=str(e))
        except UserTrap as e:
            return _trap_outcome(e.trap)
        except HostFailure as e:
            return Outcome("host_error", message=str(e))
        except wt.ExitTrap as e:
            return Outcome("exit", code=str(e.code), message=f"exit code {e.code}")
        except wt.Trap as e:
            return self._trap(e)
        except wt.WasmtimeError as e:
            return self._error(str(e))
        except Error as e:
            return Outcome("error", message=f"{type(e).__name__}: {e}")
        except Exception as e:  # noqa: BLE001 - a bug of this runner: reported, not raised
            tb = traceback.extract_tb(e.__traceback__)
            where = f" at {tb[-1].filename}:{tb[-1].lineno}" if tb else ""
            return Outcome("crash", message=f"wasmtime runner: {type(e).__name__}: {e}{where}")

    def _trap(self, e) -> Outcome:
        code = e.trap_code
        codes = _WT_CODES.get(code.name) if code is not None else None
        if codes is None:
            return self._error(e.message)
        primary = sorted(codes)[0]
        return Outcome("trap", code=primary, codes=frozenset(codes), message=e.message)

    def _error(self, message: str) -> Outcome:
        for text, code in _WT_MESSAGES:
            if text in message:
                return Outcome("trap", code=code, codes=frozenset({code}), message=message)
        return Outcome("error", message=f"wasmtime: {message.splitlines()[0] if message else ''}")

    def instantiate(self) -> Outcome:
        wt = self.wt

        def go():
            wmod = wt.Module(self.engine, self.module.binary)
            linker = wt.Linker(self.engine)
            linker.allow_shadowing = True  # the caller's imports over WASI's
            wasi = self.extras.wants_wasi(self.module)
            if wasi:
                self._output = wasmtime_wasi(self, self.extras.wasi, self.program)
                self.notes.append("wasmtime: results and WASI output compared, not memory "
                                  "(its WASI implementation may differ in short writes)")
                if self._output is None:
                    return Outcome("inexact", message="WASI arguments or environment that "
                                   "are not UTF-8 cannot pass through wasmtime's Python API")
                linker.define_wasi()
            given = self.extras.imports()
            for imp in self.module.imports:
                fields = given.get(imp.module, {})
                if imp.name in fields:
                    extern, why = wasmtime_extern(self, imp, fields[imp.name])
                    if extern is None:
                        return Outcome("inexact", message=f"wasmtime runner cannot pass {imp}: "
                                       f"{why}")
                elif wasi and imp.module == "wasi_snapshot_preview1":
                    continue
                elif not is_host_import(imp.module, imp.name, imp.kind):
                    return Outcome("inexact", message=f"wasmtime runner cannot supply {imp}")
                else:
                    extern = self._test_host(imp)
                linker.define(self.store, imp.module, imp.name, extern)
            self.inst = linker.instantiate(self.store, wmod)
            exports = self.inst.exports(self.store)
            init = exports.get("_initialize") if wasi else None
            if isinstance(init, wt.Func) and exports.get("_start") is None:
                init(self.store)  # a WASI reactor, as fayasm.instantiate(wasi=...) does
            return Outcome("ok")
        return self._guard(go)

    def _test_host(self, imp):
        """The wasmtime extern of one of the test hosts (hosts.py)."""
        wt = self.wt
        if imp.kind is ExternKind.MEMORY:
            lim = HOST_MEMORY.limits
            return wt.Memory(self.store, wt.MemoryType(wt.Limits(lim.min, lim.max)))
        if imp.kind is ExternKind.TABLE:
            lim = HOST_TABLE.limits
            wtt = wt.TableType(wt.ValType.funcref(), wt.Limits(lim.min, lim.max))
            return wt.Table(self.store, wtt, None)
        if imp.kind is ExternKind.FUNC:
            ft, fn = HOST_FUNCS[imp.name]
            wft = wt.FuncType([self._valtype(t) for t in ft.params],
                              [self._valtype(t) for t in ft.results])
            if imp.name == "h_reenter":
                return self._reenter(wft, ft)
            return wt.Func(self.store, wft, self.log.recorder(imp.name, ft, fn,
                                                              raise_as=HostTrap))
        gt, val = HOST_GLOBALS[imp.name]
        wgt = wt.GlobalType(self._valtype(gt.valtype), gt.mutable)
        return wt.Global(self.store, wgt, self._to_wt(val))

    def _reenter(self, wft, ft):
        """h_reenter on wasmtime: logged like every host call; the call back goes through
        the Caller (the store is busy while wasm runs)."""
        wt, log = self.wt, self.log

        def host(caller, a):
            log.append(("h_reenter", (a & 0xFFFF_FFFF,)))
            f = caller.get(REENTER_EXPORT)
            saved = log.call_back
            log.call_back = (lambda x: f(caller, x)) if isinstance(f, wt.Func) else None
            try:
                return log.reenter(a)
            finally:
                log.call_back = saved
        return wt.Func(self.store, wft, host, access_caller=True)

    def call(self, name: str, args: list) -> Outcome:
        for a in args:
            if a.type is ValType.F32 and is_nan(a.bits, 32) and not a.bits & 0x400000:
                return Outcome("inexact", message="an f32 signalling NaN argument cannot pass "
                               "through wasmtime's Python API exactly")
            if a.type is ValType.V128:
                return Outcome("inexact", message="wasmtime's Python API cannot pass v128")

        types = self.module_results(name)
        if ValType.V128 in types:
            return Outcome("inexact", message="wasmtime's Python API cannot pass v128")

        def go():
            func = self.inst.exports(self.store)[name]
            if self.fuel is not None:
                self.store.set_fuel(self.fuel)  # a budget per call, as on fayasm's engines
            out = func(self.store, *[self._to_wt(a) for a in args])
            if len(types) == 0:
                vals = []
            elif len(types) == 1:
                vals = [self._from_wt(types[0], out)]
            else:
                vals = [self._from_wt(t, x) for t, x in zip(types, out)]
            return Outcome("ok", values=vals)
        return self._guard(go)

    def module_results(self, name: str):
        for e in self.module.exports:
            if e.name == name:
                return e.type.results
        return ()

    def close(self) -> None:
        for path in self.cleanup:
            try:
                os.unlink(path)
            except OSError:
                pass
        self.cleanup = []

    def state(self) -> State:
        wt = self.wt
        s = State(hostlog=list(self.log))
        if self._output is not None:
            s.output = {}
            for stream, path in zip(("stdout", "stderr"), self._output):
                with open(path, "rb") as f:
                    s.output[stream] = f.read()
            # wasmtime's WASI differs from fayasm's in what it may (short writes, rights):
            # the guest's memory and globals differ in ways that are no bug, so only its
            # results and output are compared.
            return s
        if self.inst is None:
            return s
        if self._watched is None:  # exports never change; probes make them many
            exports = self.inst.exports(self.store)
            self._watched = [(name, ext) for name, ext in exports.items()
                             if isinstance(ext, (wt.Memory, wt.Global, wt.Table))]
            self._types = {e.name: e for e in self.module.exports}
        types = self._types
        for name, ext in self._watched:
            if isinstance(ext, wt.Memory):
                n = ext.data_len(self.store)
                s.memories[name] = (ext.size(self.store), memory_image(
                    lambda a, k, ext=ext: ext.read(self.store, a, a + k), n))
            elif isinstance(ext, wt.Global):
                t = types[name].type.valtype
                if t is not ValType.V128:
                    s.globals[name] = self._from_wt(t, ext.value(self.store))
            elif isinstance(ext, wt.Table):
                t = types[name].type.elem
                s.tables[name] = [self._table_key(t, ext.get(self.store, k))
                                  for k in range(ext.size(self.store))]
        return s

    def _table_key(self, t: ValType, x):
        if isinstance(x, self.wt.Val):  # wasmtime gives null entries as a Val of None
            x = x.value
        if x is None:
            return None
        if t.rep is ValType.FUNCREF:
            return ("func", None, self._wt_type_text(x))
        return ref_key(t, x)

    def _wt_type_text(self, f):
        return _wt_type_text(f, self.store)


def _wt_type_text(f, store):
    """None: a wasmtime function's type is not asked for, since wasmtime's Python API
    aborts the process when it lists a type with v128 in it. Funcrefs from wasmtime are
    compared by null-ness only."""
    return None


class _WasmtimeFuncRef:
    """A funcref wasmtime returned: compared by its type only."""

    def __init__(self, f, store):
        self.name = None
        self.type = _wt_type_text(f, store)


__all__ = ["FayasmRunner", "WasmtimeRunner", "Outcome", "State", "ref_key",
           "wasmtime_available", "FUEL"]
