"""The front end's WASI helpers: the imports and config ``fayasm.run`` and the CLI give a
WASI command (``fayasm.run`` itself is in fayasm/__init__.py, beside ``instantiate``).

The WASI host functions themselves live in fayasm.runtime.wasi (engine-neutral, usable
from generated Python code)."""
from __future__ import annotations

import copy
import os

from fayasm.runtime.wasi import MODULE, Preopen, Wasi, WasiConfig


def merge_imports(wasi_imports: dict, imports) -> dict:
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


def split_run_args(tokens: list[str], value_options,
                   flag_options=()) -> tuple[str, list[str], list[str]]:
    """``fayasm run``'s FILE and what follows it, split into (FILE, fayasm's options,
    the program's arguments). Options named in ``value_options`` (with their values) and
    ``flag_options`` are fayasm's wherever they appear before ``--``; everything after ``--``, and anything
    else, belongs to the program. ValueError for a missing FILE or option value."""
    tail = list(tokens)
    if tail and tail[0] == "--":
        tail.pop(0)
    if not tail:
        raise ValueError("missing FILE (a .wasm or .wat module)")
    file = tail.pop(0)
    options, program = [], []
    while tail:
        tok = tail.pop(0)
        if tok == "--":
            program += tail
            break
        if tok.split("=", 1)[0] in value_options:
            options.append(tok)
            if "=" not in tok:
                if not tail:
                    raise ValueError(f"{tok} needs a value")
                options.append(tail.pop(0))
        elif tok in ("-h", "--help") or tok in flag_options:
            options.append(tok)
        else:
            program.append(tok)
    return file, options, program


def cli_config(dirs, ro_dirs, env, argv, symlinks: str = "allow") -> WasiConfig:
    """The WasiConfig of ``fayasm run``: ``dirs``/``ro_dirs`` as HOST[::GUEST] (GUEST
    defaults to HOST as written, as in wasmtime), ``env`` as NAME=VALUE or a bare NAME
    that passes this process's value on, ``symlinks`` as WasiConfig takes it. ValueError
    for a malformed item."""
    pairs = []
    for item in env or ():
        name, eq, value = item.partition("=")
        if not name:
            raise ValueError(f"--env {item!r}: expected NAME=VALUE")
        if not eq:
            if name not in os.environ:
                continue
            value = os.environ[name]
        pairs.append((name, value))
    config = WasiConfig(argv=argv, env=pairs, symlinks=symlinks)
    for spec, readonly in [(d, False) for d in dirs or ()] + [(d, True) for d in ro_dirs or ()]:
        host, sep, guest = spec.partition("::")
        if not host or (sep and not guest):
            raise ValueError(f"--dir {spec!r}: expected HOST or HOST::GUEST")
        config.preopen(guest if sep else host, host, readonly)
    return config


def uses_wasi(module) -> bool:
    """Whether ``module`` imports anything from wasi_snapshot_preview1."""
    return any(i.module == MODULE for i in module.imports)


__all__ = ["Preopen", "Wasi", "WasiConfig", "cli_config", "merge_imports", "split_run_args",
           "uses_wasi", "with_limits"]
