"""Linking WASI into an instance made from Python: ``instantiate(module, wasi=config)`` on
every engine, and a translated file's ``instantiate(wasi=...)``. The linking step
(runtime.plan.link) calls these in this order:

    state, imports, owned = link(config, imports, program="m")   # before instantiating
    ... instantiate with ``imports`` ...
    bind_memory(state, instance, memory)  # before the start function
    start_reactor(state, instance, memory)  # after it: runs _initialize if exported

The WASI application ABI: a command exports ``_start`` (the host runs it, here
``fayasm.run``); every other module is a reactor, whose ``_initialize``, if exported, the
host calls once before any other export; a module that exports both is neither and is
refused.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ArgumentTypeError, LinkError
from ..func import Func
from ..memory import Memory
from ..types import ExternKind
from .config import WasiConfig
from .constants import MODULE
from .core import Wasi

if TYPE_CHECKING:
    from ..instance import Instance


def link(wasi: object, imports: Mapping[str, Any] | None,
         program: str = "main.wasm") -> tuple[Wasi, dict[str, Any], bool]:
    """The Wasi state for ``wasi`` (a WasiConfig, or a Wasi state to share), the imports
    with WASI's functions added (the caller's win where both name one), and whether the
    state was made here (and so belongs to the instance)."""
    if isinstance(wasi, Wasi):
        state, owned = wasi, False
    elif isinstance(wasi, WasiConfig):
        state, owned = Wasi(wasi, program=program), True
    else:
        raise ArgumentTypeError(f"wasi= takes a fayasm.WasiConfig, got {type(wasi).__name__}")
    merged: dict[str, Any] = {name: dict(fields) for name, fields in state.imports().items()}
    for name, fields in (imports or {}).items():
        if name in merged:
            merged[name].update(fields)
        else:
            merged[name] = fields
    return state, merged, owned


def check_kind(export_names: Iterable[str]) -> None:
    """Refuse a module that says it is both a command and a reactor."""
    names = set(export_names)
    if "_start" in names and "_initialize" in names:
        raise LinkError("the module exports both _start and _initialize: WASI commands and "
                        "reactors are exclusive")


def imported_memory(decls: Iterable[Sequence[Any]],
                    imports: Mapping[str, Any]) -> Memory | None:
    """The Memory a module imports (decls: (module, name, kind, ...) tuples), if any."""
    for module, name, kind, *_ in decls:
        if kind is ExternKind.MEMORY:
            value = (imports.get(module) or {}).get(name)
            if isinstance(value, Memory):
                return value
    return None


def bind_memory(state: Wasi, instance: Instance, memory: Memory | None = None) -> None:
    """Bind ``state`` (unless it is bound already) to the instance's exported "memory",
    else to ``memory``, an imported one. The linking step does this before the start
    function runs, since the memory exists by then and the start function may call WASI."""
    if state.memory is None:
        exported = instance.exports.get("memory")
        if isinstance(exported, Memory):
            state.bind(exported)
        elif memory is not None:
            state.bind(memory)


def start_reactor(state: Wasi, instance: Instance, memory: Memory | None = None) -> None:
    """Bind ``state`` (see ``bind_memory``), attach it as ``instance.wasi``, and run
    ``_initialize`` if the module exports it (not ``_start``: a command runs through
    fayasm.run or ``instance.exports._start()``)."""
    bind_memory(state, instance, memory)
    instance.wasi = state
    init = instance.exports.get("_initialize")
    if isinstance(init, Func) and "_start" not in instance.exports:
        try:
            init()
        finally:
            state.flush()


def missing_wasi_hint(error: LinkError) -> LinkError:
    """``error`` with a hint when what is missing is WASI."""
    if any(f'unknown import "{MODULE}".' in p for p in error.problems):
        hint = (f"the module imports WASI ({MODULE}): pass wasi=fayasm.WasiConfig(...) "
                "to instantiate it")
        return LinkError(f"{hint}\n{error}", [hint] + error.problems)
    return error


__all__ = ["link", "check_kind", "imported_memory", "bind_memory", "start_reactor",
           "missing_wasi_hint"]
