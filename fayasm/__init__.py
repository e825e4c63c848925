"""fayasm: a WebAssembly runtime for Python.

    import fayasm
    m = fayasm.Module(open("m.wasm", "rb").read())   # or WAT text, or Module.from_file
    inst = fayasm.instantiate(m, imports={"env": {"log": print}})
    inst.exports.add(2, 3)
"""
from fayasm.errors import (CompileError, DecodeError, ParseError, TranslationError,
                           ValidationError)
from fayasm.module import ExportType, ImportType, Module
from fayasm.runtime.errors import Error, Exhaustion, LinkError, Trap, WasiExit
from fayasm.runtime.func import Func
from fayasm.runtime.func import HostError as _HostError
from fayasm.runtime.globals import Global
from fayasm.runtime.instance import Exports, Instance
from fayasm.runtime.memory import Memory
from fayasm.runtime.table import Table
from fayasm.runtime.types import (ExternKind, FuncType, GlobalType, Limits, MemoryType,
                                  TableType, ValType)
from fayasm.runtime.values import Val
from fayasm.wasi import WasiConfig, run

__version__ = "0.1.0"


def instantiate(module, imports=None, engine: str | None = None, fuel: int | None = None,
                deadline: float | None = None) -> Instance:
    """Instantiate ``module`` (a Module, or bytes/WAT text) on ``engine``, linking
    ``imports`` ({module: {name: callable | Func | Memory | Table | Global}}, or another
    instance's exports as a module). ``fuel`` bounds the calls and loop iterations the
    instance may run; ``deadline`` bounds each call into it, in seconds."""
    from fayasm import engines

    if not isinstance(module, Module):
        module = Module(module)
    try:
        return engines.instantiate(module, imports, engine=engine, fuel=fuel, deadline=deadline)
    except _HostError as e:  # raised by a host function the start function called
        raise e.original.with_traceback(e.original.__traceback__) from None
    except RecursionError:  # the start function's calls (compiling reports its own)
        raise Exhaustion() from None


def translate(module, metered: bool = False) -> str:
    """The Python source of ``module`` (a Module, or bytes/WAT text): a standalone file that
    imports only fayasm.runtime and has ``instantiate(imports=None, wasi=None)``; run as a
    script, it runs the module's ``_start`` under WASI. ``metered`` adds fuel counting."""
    from fayasm import engines

    from fayasm.module import gc_paused

    if not isinstance(module, Module):
        module = Module(module)
    with gc_paused():
        return engines.get("python").translate(module, metered=metered)


__all__ = [
    "CompileError", "DecodeError", "Error", "Exhaustion", "ExportType", "Exports", "ExternKind",
    "Func", "FuncType", "Global", "GlobalType", "ImportType", "Instance", "LinkError", "Limits",
    "Memory", "MemoryType", "Module", "ParseError", "Table", "TableType", "TranslationError",
    "Trap", "Val", "ValType", "ValidationError", "WasiConfig", "WasiExit", "instantiate",
    "run",
]
