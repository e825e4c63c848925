"""The Wasi object: one guest's WASI state (descriptors, arguments, environment) and the
host functions that serve it.

    wasi = Wasi(WasiConfig(argv=["prog"], preopens={"/data": "/srv/data"}))
    inst = instantiate(module, imports=wasi.imports())    # any engine
    code = wasi.start(inst)      # binds the instance's memory, runs _start, exit code

The host functions are plain ``Func``s over raw values, so every engine calls them the
same way; they find the guest's memory through the Wasi object, which is bound to the
instance's exported "memory" once instantiation has made it (or to an imported Memory
before). A call returns a WASI errno for everything a well-formed call can meet; it traps
(Trap) when the guest breaks the ABI (a pointer it needs outside memory or misaligned, a
flags or enum argument with an undefined value; see guest.py and abi.py) or calls before
any memory was bound, and proc_exit raises WasiExit. docs/wasi.md lists where this
differs from wasmtime.
"""
from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import Any

from ..errors import Error, Trap, WasiExit
from ..func import Func, HostError
from ..memory import Memory
from ..types import FuncType, ValType
from . import fd_calls, path_calls, proc_calls
from .abi import check_arguments
from .config import WasiConfig
from .constants import ALL_RIGHTS, DIR_RIGHTS, EILSEQ, EINVAL, MODULE, from_host
from .guest import GuestTrap, WasiErrno
from .handles import DirHandle, FdTable, StreamHandle, open_dir
from .streams import CappedStream, open_stream

CALLS: dict[str, tuple[str, Callable[..., int]]] = {
    **proc_calls.CALLS, **fd_calls.CALLS, **path_calls.CALLS}
_TYPES = {"i": ValType.I32, "I": ValType.I64}


def signature(name: str) -> FuncType:
    """The wasm type of a wasi_snapshot_preview1 function."""
    params, _ = CALLS[name]
    results = () if name in proc_calls.NO_RESULT else (ValType.I32,)
    return FuncType(tuple(_TYPES[c] for c in params), results)


class Wasi:
    """The WASI state of one guest; ``imports()`` gives its host functions."""

    def __init__(self, config: WasiConfig | None = None, program: str = "main.wasm"):
        config = config or WasiConfig()
        if not isinstance(config, WasiConfig):
            raise Error(f"expected a WasiConfig, got {type(config).__name__}")
        self.config = config
        self.args = list(config.argv) if config.argv is not None else [os.fsencode(program)]
        self.environ = [k + b"=" + v for k, v in config.env]
        self.memory: Memory | None = None
        self.fds = FdTable()
        self._imports: dict[str, dict[str, Func]] | None = None
        # A state nobody can reach any more closes its host descriptors (an instance made
        # with wasi= owns its state and has no close of its own).
        self._finalizer = weakref.finalize(self, _close, self.fds)
        try:
            for which in (0, 1, 2):
                stream = open_stream((config.stdin, config.stdout, config.stderr)[which], which)
                if which and config.max_output is not None:
                    stream = CappedStream(stream, config.max_output)
                self.fds.handles[which] = StreamHandle(stream, readable=which == 0)
                self.fds.handles[which].origin = ("stdio", which)
            for p in config.preopens:
                try:
                    fd = open_dir(p.host)
                except OSError as e:
                    raise Error(f"cannot preopen {p.host!r} as {p.guest!r}: "
                                f"{e.strerror}") from None
                handle = DirHandle(fd, p.readonly, DIR_RIGHTS, ALL_RIGHTS, preopen=p.guest)
                handle.origin = ("preopen", p.guest)
                self.fds.add(handle)
        except BaseException:
            self.fds.close_all()
            raise

    # -- binding -------------------------------------------------------------------------

    def imports(self) -> dict[str, dict[str, Func]]:
        """{"wasi_snapshot_preview1": {name: Func}} with every preview 1 function."""
        if self._imports is None:
            self._imports = {MODULE: {name: self._host(name, fn)
                                      for name, (_, fn) in CALLS.items()}}
        return self._imports

    def bind(self, target: Any) -> None:
        """Give the host functions the guest's memory: an Instance (its exported "memory"),
        its exports, or a Memory."""
        if isinstance(target, Memory):
            self.memory = target
            return
        exports = getattr(target, "exports", target)
        try:
            memory = exports["memory"]
        except (KeyError, TypeError):
            raise Error('a WASI module must export its memory as "memory"') from None
        if not isinstance(memory, Memory):
            raise Error('the export "memory" is not a memory')
        self.memory = memory

    def view(self) -> memoryview:
        """The guest memory as it is now (it may have grown since the last call)."""
        if self.memory is None:
            raise Trap("WASI call before the instance's memory was bound (Wasi.bind)")
        return self.memory.view

    def start(self, instance: Any) -> int:
        """Bind ``instance`` and run its ``_start``: 0 if it returns, else proc_exit's code.
        A memory bound already (an imported one) is kept; a module that exports none still
        runs, and its calls that need memory trap."""
        if self.memory is None and "memory" in instance.exports:
            self.bind(instance)
        try:
            start = instance.exports["_start"]
        except KeyError:
            raise Error("the module has no _start export (not a WASI command)") from None
        if not isinstance(start, Func):
            raise Error("the export _start is not a function")
        try:
            start()
        except WasiExit as e:
            return e.code
        finally:
            self.flush()
        return 0

    # -- lifetime ------------------------------------------------------------------------

    def flush(self) -> None:
        _flush(self.fds)

    def close(self) -> None:
        """Close every descriptor the guest holds (files opened for stdio paths included;
        inherited streams and file-like objects given by the caller stay open)."""
        self._finalizer()

    def __enter__(self) -> "Wasi":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the calls -----------------------------------------------------------------------

    def _host(self, name: str, fn: Callable[..., int]) -> Func:
        """A raw Func around one call: errors the guest can cause become errnos; WasiExit,
        traps and fayasm errors pass through; anything else is a bug in the host and goes
        back to whoever called into wasm, as any host function's exception does."""
        def call(*args: int) -> int:
            try:
                check_arguments(name, args)
                return fn(self, *args)
            except WasiErrno as e:
                return e.errno
            except GuestTrap as e:
                raise Trap(f"{e.message} in WASI {name}", e.code) from None
            except OSError as e:
                return from_host(e.errno)
            except UnicodeError:
                return EILSEQ
            except (ValueError, OverflowError):
                # os functions reject arguments the host cannot represent this way.
                return EINVAL
            except (Error, HostError, RecursionError):
                raise
            except BaseException as e:  # noqa: BLE001 - handed back to the caller intact
                raise HostError(e) from None

        call.__name__ = name
        return Func.from_raw(call, signature(name), name)

    def __repr__(self) -> str:
        bound = "bound" if self.memory else "unbound"
        return f"<Wasi {len(self.fds.handles)} fds, memory {bound}>"


def _flush(fds: FdTable) -> None:
    for fd in (1, 2):
        h = fds.handles.get(fd)
        if isinstance(h, StreamHandle):
            try:
                h.stream.flush()
            except (OSError, ValueError):
                pass


def _close(fds: FdTable) -> None:
    _flush(fds)
    fds.close_all()
