"""What a diff gives a module besides the test hosts of ``hosts``: the caller's imports and
WASI, the same for every runner.

``imports`` is a mapping {module: {name: value}} or a function returning one, called once
per runner (give a function when the imports hold state, such as a Memory, that each
engine must have its own copy of). Functions are logged in the host-call log like the
test hosts, so the calls the engines make to them are compared; a function that raises
ends the step with kind "host_error" on every runner alike.

``snapshot`` (a fayasm Snapshot, or its bytes) makes every fayasm runner start from that
state (fayasm.restore) instead of instantiating afresh; wasmtime runs the module
pre-initialized with it (diff.preinitialized_for_wasmtime) where that can be made.

``wasi`` is a WasiConfig. Each runner gets its own WASI state from it, with stdout and
stderr captured and compared after every step, and stdin empty unless the config gives it
as bytes. wasmtime runs WASI through its own implementation (wasmtime's WasiConfig).
"""
from __future__ import annotations

import copy
import io
import os
import tempfile
from collections.abc import Mapping

from fayasm.runtime.errors import Error, Trap
from fayasm.runtime.func import Func
from fayasm.runtime.globals import Global
from fayasm.runtime.memory import Memory
from fayasm.runtime.table import Table
from fayasm.runtime.types import ExternKind, FuncType, ValType
from fayasm.runtime.wasi import MODULE as WASI_MODULE
from fayasm.runtime.wasi import WasiConfig


class HostFailure(Exception):
    """A caller's host function raised ``original`` (not a trap): the step's outcome."""

    def __init__(self, original: BaseException):
        super().__init__(f"{type(original).__name__}: {original}")
        self.original = original


class UserTrap(Exception):
    """A caller's host function raised a fayasm Trap, carried through wasmtime."""

    def __init__(self, trap: Trap):
        super().__init__(trap.message)
        self.trap = trap


class Extras:
    """The caller's imports and WASI config for one diff; see the module docstring."""

    def __init__(self, imports=None, wasi: WasiConfig | None = None, snapshot=None):
        if imports is not None and not (callable(imports) or isinstance(imports, Mapping)):
            raise Error("imports must be a mapping {module: {name: value}} or a function "
                        f"returning one, got {type(imports).__name__}")
        if wasi is not None and not isinstance(wasi, WasiConfig):
            raise Error(f"wasi must be a fayasm.WasiConfig, got {type(wasi).__name__}")
        self._imports = imports
        self.wasi = wasi
        # A fayasm Snapshot every fayasm runner starts from (fayasm.restore), or None.
        self.snapshot = snapshot

    def imports(self) -> dict:
        """A fresh copy of the caller's imports (one call of the factory)."""
        got = self._imports() if callable(self._imports) else self._imports
        if got is None:
            return {}
        if not isinstance(got, Mapping) or not all(isinstance(v, Mapping) for v in got.values()):
            raise Error("imports must map module names to mappings of field names to values")
        return {name: dict(fields) for name, fields in got.items()}

    def wants_wasi(self, module) -> bool:
        return self.wasi is not None and any(i.module == WASI_MODULE for i in module.imports)

    def fayasm_wasi(self) -> tuple[WasiConfig, io.BytesIO, io.BytesIO]:
        """A copy of the config whose stdout and stderr are captured."""
        assert self.wasi is not None  # asked for when wants_wasi() said so
        config = copy.copy(self.wasi)
        out, err = io.BytesIO(), io.BytesIO()
        config.stdout, config.stderr = out, err
        config.stdin = config.stdin if isinstance(config.stdin, bytes) else b""
        return config, out, err


def logged(log, label: str, ftype: FuncType, fn):
    """``fn`` (a callable or Func) as a host function that logs its calls in ``log`` and
    turns an exception of the caller's own into HostFailure."""
    from .hosts import log_arg

    call = fn.__call__ if isinstance(fn, Func) else fn
    params = ftype.params

    def host(*args):
        log.append((label, tuple(log_arg(t, a) for t, a in zip(params, args))))
        try:
            return call(*args)
        except (Error, HostFailure):
            raise
        except Exception as e:  # noqa: BLE001 - compared as the step's outcome
            raise HostFailure(e) from None
    host.__name__ = label
    return host


def fayasm_user_imports(extras: Extras, module, log) -> dict:
    """The caller's imports for a fayasm runner, functions logged (see ``logged``)."""
    given = extras.imports()
    out = {name: dict(fields) for name, fields in given.items()}
    for imp in module.imports:
        value = given.get(imp.module, {}).get(imp.name)
        if imp.kind is ExternKind.FUNC and value is not None and callable(value) \
                and not isinstance(value, (Memory, Table, Global)):
            label = f"{imp.module}.{imp.name}"
            out[imp.module][imp.name] = Func(logged(log, label, imp.type, value), imp.type,
                                             name=imp.name)
    return out


# -- wasmtime ---------------------------------------------------------------------------------

def wasmtime_extern(runner, imp, value):
    """``value`` (the caller's import) as a wasmtime extern for ``imp``; (extern, None), or
    (None, why) when wasmtime's Python API cannot take it exactly."""
    wt, store = runner.wt, runner.store
    if imp.kind is ExternKind.FUNC:
        if not callable(value) or isinstance(value, (Memory, Table, Global)):
            return None, f"{type(value).__name__} given for a function"
        t = imp.type
        if ValType.V128 in t.params or ValType.V128 in t.results:
            return None, "wasmtime's Python API cannot pass v128"
        fn = logged(runner.log, f"{imp.module}.{imp.name}", t, value)

        def host(*args):
            try:
                return fn(*args)
            except Trap as e:
                raise UserTrap(e) from None
        wft = wt.FuncType([runner._valtype(p) for p in t.params],
                          [runner._valtype(r) for r in t.results])
        return wt.Func(store, wft, host), None
    if imp.kind is ExternKind.GLOBAL:
        if isinstance(value, Global):
            val, mutable = value.val, value.type.mutable
        elif not imp.type.mutable and isinstance(value, (int, float)):
            from fayasm.runtime.values import Val

            val, mutable = Val.from_python(imp.type.valtype, value), False
        else:
            return None, f"{type(value).__name__} given for a global"
        if val.type is ValType.V128:
            return None, "wasmtime's Python API cannot pass v128"
        gt = wt.GlobalType(runner._valtype(val.type), mutable)
        return wt.Global(store, gt, runner._to_wt(val)), None
    if imp.kind is ExternKind.MEMORY:
        if not isinstance(value, Memory):
            return None, f"{type(value).__name__} given for a memory"
        lim = value.type.limits
        mem = wt.Memory(store, wt.MemoryType(wt.Limits(value.pages, lim.max)))
        data = bytes(value.view)
        if data.strip(b"\0"):
            mem.write(store, data, 0)
        return mem, None
    if not isinstance(value, Table):
        return None, f"{type(value).__name__} given for a table"
    if any(e is not None for e in value.elements):
        return None, "a table holding functions cannot be passed to wasmtime"
    lim = value.type.limits
    wtt = wt.TableType(runner._valtype(value.type.elem), wt.Limits(len(value.elements), lim.max))
    return wt.Table(store, wtt, None), None


def wasmtime_wasi(runner, config: WasiConfig, program: str):
    """Configure the runner's store with ``config`` through wasmtime's WASI; returns the
    paths of the files that capture (stdout, stderr), or None when the config cannot be
    given to wasmtime exactly (arguments that are not UTF-8)."""
    wt = runner.wt
    try:
        argv = [a.decode("utf-8") for a in config.argv] if config.argv is not None else [program]
        env = [(k.decode("utf-8"), v.decode("utf-8")) for k, v in config.env]
    except UnicodeDecodeError:
        return None
    cfg = wt.WasiConfig()
    cfg.argv = argv
    cfg.env = env
    for p in config.preopens:
        cfg.preopen_dir(p.host, p.guest, not p.readonly)
    # Files, not stdout_custom: a Python callback on wasmtime's I/O threads can abort the
    # process when it runs at interpreter exit.
    paths = []
    for which, data in (("stdin", config.stdin if isinstance(config.stdin, bytes) else b""),
                        ("stdout", b""), ("stderr", b"")):
        fd, path = tempfile.mkstemp(prefix=f"fayasm-diff-{which}-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        runner.cleanup.append(path)
        paths.append(path)
    cfg.stdin_file, cfg.stdout_file, cfg.stderr_file = paths  # (setter properties)
    runner.store.set_wasi(cfg)
    return paths[1], paths[2]


__all__ = ["Extras", "HostFailure", "UserTrap", "fayasm_user_imports", "logged",
           "wasmtime_extern", "wasmtime_wasi"]
