"""fayasm: a WebAssembly runtime for Python.

    import fayasm
    m = fayasm.Module(open("m.wasm", "rb").read())   # or WAT text, or Module.from_file
    inst = fayasm.instantiate(m, imports={"env": {"log": print}})
    inst.exports.add(2, 3)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Union

from fayasm import features
from fayasm.errors import CompileError, DecodeError, ParseError, TranslationError, ValidationError
from fayasm.module import ExportType, ImportType, Module
from fayasm.runtime import compiletime
from fayasm.runtime.budget import Interrupt
from fayasm.runtime.compiletime import CompileTimeout
from fayasm.runtime.errors import (
    ArgumentError,
    ArgumentTypeError,
    Error,
    Exhaustion,
    FileError,
    InterfaceError,
    Interrupted,
    LinkError,
    ResourceLimitError,
    SnapshotError,
    Trap,
    WasiExit,
)
from fayasm.runtime.func import Func
from fayasm.runtime.func import HostError as _HostError
from fayasm.runtime.globals import Global
from fayasm.runtime.instance import Exports, Instance
from fayasm.runtime.memory import Memory
from fayasm.runtime.resources import ResourceLimits, Usage
from fayasm.runtime.snapshot import Snapshot
from fayasm.runtime.table import Table
from fayasm.runtime.types import (
    ExternKind,
    FuncType,
    GlobalType,
    Limits,
    MemoryType,
    TableType,
    ValType,
)
from fayasm.runtime.values import Val
from fayasm.runtime.version import VERSION as __version__  # noqa: F401 - the public version
from fayasm.wasi import WasiConfig, with_limits

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping
    from typing import Any

    from fayasm.runtime.wasi import Wasi

# What Module() takes: a binary module or WAT text.
Source = Union[bytes, bytearray, memoryview, str]


def instantiate(module: Module | Source, imports: Mapping[str, Any] | None = None,
                engine: str | None = None, fuel: int | None = None,
                deadline: float | None = None, limits: ResourceLimits | None = None,
                wasi: WasiConfig | Wasi | None = None,
                compile_timeout: float | None = None,
                interrupt: Interrupt | None = None) -> Instance:
    """Instantiate ``module`` (a Module, or bytes/WAT text) on ``engine``, linking
    ``imports`` ({module: {name: callable | Func | Memory | Table | Global}}, or another
    instance's exports as a module). ``fuel`` bounds the calls and loop iterations the
    instance may run (see Instance.get_fuel/set_fuel); ``deadline`` bounds each call into
    it, in seconds; ``limits`` (a ResourceLimits) caps the memory and tables it may hold.
    ``wasi`` (a WasiConfig) links WASI preview 1: the instance's ``.wasi`` is its state,
    and a reactor's ``_initialize`` runs before this returns. ``compile_timeout`` bounds
    the seconds the jit's compiling may take here (default 60, FAYASM_COMPILE_TIMEOUT):
    past it, CompileTimeout; a function compiled on its first call counts against that
    call's ``deadline`` instead. ``interrupt`` (an Interrupt, which may serve many
    instances) lets another thread stop the guest: see Interrupt and Instance.interrupt."""
    from fayasm import engines
    from fayasm.runtime.budget import check_deadline, check_fuel, check_interrupt

    if not isinstance(module, Module):
        module = Module(module)
    check_fuel(fuel)
    check_deadline(deadline)
    check_deadline(compile_timeout, "compile_timeout")
    check_interrupt(interrupt)
    compile_budget = compiletime.DEFAULT_COMPILE_TIMEOUT if compile_timeout is None \
        else compile_timeout
    if limits is not None and not isinstance(limits, ResourceLimits):
        raise ArgumentTypeError(f"limits= takes a fayasm.ResourceLimits, got "
                                f"{type(limits).__name__}")
    if isinstance(wasi, WasiConfig):
        wasi = with_limits(wasi, limits)
    try:
        with compiletime.budget(compile_budget):
            # WASI is linked, bound before the start function and a reactor initialised
            # by the engines' one linking step (runtime.plan.link).
            return engines.instantiate(module, imports, engine=engine, fuel=fuel,
                                       deadline=deadline, limits=limits, wasi=wasi,
                                       interrupt=interrupt)
    except _HostError as e:  # raised by a host function the start function called
        raise e.original.with_traceback(e.original.__traceback__) from None
    except RecursionError as e:
        from fayasm.runtime.func import exhaustion

        raise exhaustion(e) from None


def restore(module: Module | Source, snapshot: Snapshot | bytes,
            imports: Mapping[str, Any] | None = None, engine: str | None = None,
            fuel: int | None = None, deadline: float | None = None,
            limits: ResourceLimits | None = None, wasi: WasiConfig | Wasi | None = None,
            compile_timeout: float | None = None,
            interrupt: Interrupt | None = None) -> Instance:
    """A new instance of ``module`` on ``engine`` in the state of ``snapshot`` (from
    ``Instance.snapshot()``, or its ``to_bytes()``), taken on any engine. ``imports`` are
    linked as ``instantiate`` links them: references to imported functions re-bind to the
    new ones by import name, and the state of imported memories, tables and mutable
    globals is written into the objects given. The start function does not run again.
    ``wasi`` (a WasiConfig) reopens the snapshot's WASI descriptors through its preopens.
    A snapshot of another module, a corrupted one or one of a future format raises
    SnapshotError, as does state the new instance cannot take, and then nothing was
    restored. The other arguments are ``instantiate``'s; runtime/snapshot.py has the
    details."""
    from fayasm.runtime.snapshot import RESTORING, check_module

    if not isinstance(module, Module):
        module = Module(module)
    snap = check_module(snapshot, module.hash)
    token = RESTORING.set(snap)  # the linking step restores it (runtime.plan.link)
    try:
        return instantiate(module, imports, engine=engine, fuel=fuel, deadline=deadline,
                           limits=limits, wasi=wasi, compile_timeout=compile_timeout,
                           interrupt=interrupt)
    finally:
        RESTORING.reset(token)


def translate(module: Module | Source, metered: bool = False) -> str:
    """The Python source of ``module`` (a Module, or bytes/WAT text): a standalone file that
    imports only fayasm.runtime and has ``instantiate(imports=None, wasi=None)``; run as a
    script, it runs the module's ``_start`` under WASI. ``metered`` adds fuel counting."""
    from fayasm import engines
    from fayasm.module import gc_paused

    if not isinstance(module, Module):
        module = Module(module)
    with gc_paused():
        return engines.translator("python").translate(module, metered=metered)


def run(module: Module | Source | os.PathLike[str], wasi: WasiConfig | None = None,
        engine: str | None = None, imports: Mapping[str, Any] | None = None,
        fuel: int | None = None, deadline: float | None = None,
        limits: ResourceLimits | None = None) -> int:
    """Instantiate ``module`` (a Module, bytes, WAT text or a path) with WASI, run its
    ``_start`` and return the exit code: 0 if _start returns, the code given to proc_exit
    otherwise. ``imports`` adds other imports; ``fuel`` and ``deadline`` are as in
    ``instantiate``, and so are ``limits`` (a ResourceLimits, whose ``wasi_output`` caps
    stdout and stderr). Traps and other errors are raised."""
    import os

    from fayasm.runtime.wasi import Wasi

    program = "main.wasm"
    if isinstance(module, os.PathLike) or (isinstance(module, str) and module.endswith(
            (".wasm", ".wat")) and os.path.exists(module)):
        program = os.fspath(module)
        module = Module.from_file(module)
    elif not isinstance(module, Module):
        module = Module(module)
    with Wasi(with_limits(wasi, limits), program=program) as state:
        try:
            inst = instantiate(module, imports, engine=engine, fuel=fuel, deadline=deadline,
                               limits=limits, wasi=state)
        except WasiExit as e:  # proc_exit from a start function
            return e.code
        return state.start(inst)


__all__ = [
    "features",
    "ArgumentError", "ArgumentTypeError", "CompileError", "DecodeError", "Error", "Exhaustion",
    "ExportType", "Exports", "ExternKind", "FileError",
    "Func", "FuncType", "Global", "GlobalType", "ImportType", "Instance", "InterfaceError",
    "Interrupt", "Interrupted", "LinkError", "Limits",
    "Memory", "MemoryType", "Module", "ParseError", "ResourceLimitError", "CompileTimeout",
    "ResourceLimits", "Snapshot", "SnapshotError",
    "Table", "TableType", "TranslationError", "Trap", "Usage", "Val",
    "ValType", "ValidationError", "WasiConfig", "WasiExit", "instantiate", "restore", "run",
]
