"""Glue: the per-signature native code every function of a signature shares, from any
module (entry wrappers, which Python calls into; host trampolines, which a host
function's record points at), and the registry of the first loaded copy of each.

The first object loaded for a signature serves every function of it, until an object
compiled at a higher optimisation level comes (the lazy tier's glue is compiled at O0,
which is quick; a whole module's at O2). Objects whose glue was ever used are kept for the
life of the process: code made earlier may still hold their addresses.
"""
from __future__ import annotations

import threading

from fayasm.runtime.types import FuncType

from . import cache, jit, stubs
from . import types as T
from .codemap import codemap
from .module import METADATA

_TRAMPOLINES: dict[FuncType, int] = {}  # signature -> address of its host trampoline
_ENTRIES: dict[FuncType, int] = {}  # signature -> address of its entry wrapper
_LEVEL: dict[FuncType, int] = {}  # signature -> optimisation level of the glue registered
_KEEP: list = []  # loaded objects whose glue is in use: they live as long as the process
_LOCK = threading.RLock()


def register_glue(owner, sigs, entries, trampolines, opt: int = 2) -> None:
    """Record the entry wrappers and host trampolines (addresses, one per signature of
    ``sigs``) of a loaded object ``owner`` compiled at ``opt``."""
    used = False
    with _LOCK:
        for ft, e, t in zip(sigs, entries, trampolines):
            if ft not in _ENTRIES or _LEVEL[ft] < opt:
                _TRAMPOLINES[ft], _ENTRIES[ft], _LEVEL[ft] = t, e, opt
                used = True
        if used:
            _KEEP.append(owner)


def entry_address(ft: FuncType) -> int:
    """The entry wrapper of ``ft`` (registered by the code that uses it)."""
    return _ENTRIES[T.native(ft)]


def trampoline(ft: FuncType) -> int:
    """The host trampoline of ``ft``, compiled when no loaded module has one (a host
    function of a type its importers do not declare, reached through a shared table)."""
    ft = T.native(ft)
    code = _TRAMPOLINES.get(ft)
    if code is None:
        with _LOCK:
            code = _TRAMPOLINES.get(ft)
            if code is None:
                compile_glue(ft)
                code = _TRAMPOLINES[ft]
    return code


def glue_text(sigs, lazy: bool = False) -> str:
    """An LLVM module with only the trap helper and the glue of ``sigs``: entries, then
    host trampolines, then (``lazy``) the lazy tier's stubs, in ``fy_meta``."""
    keys = [T.sig_key(ft) for ft in sigs]
    parts = [stubs.DECLARATIONS, stubs.trap_helper()]
    for ft, key in zip(sigs, keys):
        parts.append(stubs.entry(ft, key))
        parts.append(stubs.host_trampoline(ft, key))
        if lazy:
            parts.append(stubs.lazy_stub(ft, key))
    meta = [f"ptr @fy_entry_{k}" for k in keys] + [f"ptr @fy_host_{k}" for k in keys]
    if lazy:
        meta += [f"ptr @fy_lazy_{k}" for k in keys]
    parts.append(f"@fy_meta = constant [{len(meta)} x ptr] [{', '.join(meta)}]")
    parts += [stubs.ATTRIBUTES, METADATA]
    return "\n\n".join(parts) + "\n"


_GLUE: list = []


def compile_glue(ft) -> None:
    """Build (or load from the cache) and register the glue of signature ``ft`` alone."""
    k = cache.key(["glue", T.sig_key(ft), jit.version(), *jit.host()])
    obj = cache.load(k)
    if obj is None:
        with jit.LOCK:
            obj = jit.build_object(glue_text([ft]), 1)
        cache.store(k, obj)
    loaded = jit.LoadedObject(obj, 2)
    _GLUE.append(loaded)
    codemap.add([(loaded.meta[0], None), (loaded.meta[1], None)])
    register_glue(loaded, [ft], [loaded.meta[0]], [loaded.meta[1]], 1)


__all__ = ["register_glue", "entry_address", "trampoline", "glue_text", "compile_glue"]
