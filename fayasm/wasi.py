"""Running WASI commands: ``fayasm.run(module, wasi=WasiConfig(...))``.

The WASI host functions themselves live in fayasm.runtime.wasi (engine-neutral, usable
from generated Python code); this module adds the engine choice."""
from __future__ import annotations

import copy
import os

from fayasm.runtime.errors import WasiExit
from fayasm.runtime.wasi import MODULE, Preopen, Wasi, WasiConfig, command


def _merge(wasi_imports: dict, imports) -> dict:
    """The WASI imports plus the caller's; the caller's win where both name a field."""
    out = {name: dict(fields) for name, fields in wasi_imports.items()}
    for name, fields in (imports or {}).items():
        if name in out:
            out[name].update(fields)
        else:
            out[name] = fields
    return out


def with_limits(config: WasiConfig | None, limits) -> WasiConfig:
    """``config`` (or a default one) with ``limits.wasi_output`` as its output cap, where it
    sets none of its own; the caller's config is not changed."""
    config = config if config is not None else WasiConfig()
    cap = getattr(limits, "wasi_output", None)
    if cap is not None and config.max_output is None:
        config = copy.copy(config)
        config.max_output = cap
    return config


def run(module, wasi: WasiConfig | None = None, engine: str | None = None, imports=None,
        fuel: int | None = None, deadline: float | None = None, limits=None) -> int:
    """Instantiate ``module`` (a Module, bytes, WAT text or a path) with WASI, run its
    ``_start`` and return the exit code: 0 if _start returns, the code given to proc_exit
    otherwise. ``imports`` adds other imports; ``fuel`` and ``deadline`` are as in
    ``instantiate``, and so are ``limits`` (a ResourceLimits, whose ``wasi_output`` caps
    stdout and stderr). Traps and other errors are raised."""
    import fayasm

    program = "main.wasm"
    if isinstance(module, os.PathLike) or (isinstance(module, str) and module.endswith(
            (".wasm", ".wat")) and os.path.exists(module)):
        program = os.fspath(module)
        module = fayasm.Module.from_file(module)
    elif not isinstance(module, fayasm.Module):
        module = fayasm.Module(module)
    with Wasi(with_limits(wasi, limits), program=program) as state:
        try:
            inst = fayasm.instantiate(module, _merge(state.imports(), imports),
                                      engine=engine, fuel=fuel, deadline=deadline,
                                      limits=limits)
        except WasiExit as e:  # proc_exit from a start function
            return e.code
        return state.start(inst)


def split_run_args(tokens: list[str], value_options,
                   flag_options=()) -> tuple[str, list[str], list[str]]:
    """``fayasm run``'s FILE and what follows it, split into (FILE, fayasm's options,
    the program's arguments) by the WASI command line's rules (runtime/wasi/command.py):
    options named in ``value_options`` (with their values) and ``flag_options`` are
    fayasm's wherever they appear before ``--``. ValueError for a missing FILE or option
    value."""
    tail = list(tokens)
    if tail and tail[0] == "--":
        tail.pop(0)
    if not tail:
        raise ValueError("missing FILE (a .wasm or .wat module)")
    options, program = command.split(tail[1:], value_options, flag_options)
    return tail[0], options, program


def uses_wasi(module) -> bool:
    """Whether ``module`` imports anything from wasi_snapshot_preview1."""
    return any(i.module == MODULE for i in module.imports)


__all__ = ["Preopen", "Wasi", "WasiConfig", "run", "split_run_args", "uses_wasi"]
