"""The front end's WASI helpers: the imports and config ``fayasm.run`` and the CLI give a
WASI command (``fayasm.run`` itself is in fayasm/__init__.py, beside ``instantiate``).

The WASI host functions themselves live in fayasm.runtime.wasi (engine-neutral, usable
from generated Python code)."""
from __future__ import annotations

import copy
from collections.abc import Collection
from typing import TYPE_CHECKING

from fayasm.runtime.wasi import MODULE, Preopen, Wasi, WasiConfig, command

if TYPE_CHECKING:
    from fayasm.module import Module
    from fayasm.runtime.resources import ResourceLimits


def with_limits(config: WasiConfig | None, limits: ResourceLimits | None) -> WasiConfig:
    """``config`` (or a default one) with ``limits.wasi_output`` as its output cap, where it
    sets none of its own; the caller's config is not changed."""
    config = config if config is not None else WasiConfig()
    cap = getattr(limits, "wasi_output", None)
    if cap is not None and config.max_output is None:
        config = copy.copy(config)
        config.max_output = cap
    return config


def split_run_args(tokens: list[str], value_options: Collection[str],
                   flag_options: Collection[str] = ()) -> tuple[str, list[str], list[str]]:
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


def uses_wasi(module: Module) -> bool:
    """Whether ``module`` imports anything from wasi_snapshot_preview1."""
    return any(i.module == MODULE for i in module.imports)


__all__ = ["Preopen", "Wasi", "WasiConfig", "split_run_args", "uses_wasi", "with_limits"]
