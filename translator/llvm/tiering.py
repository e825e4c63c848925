"""Getting a module's native code: from the disk cache, or compiled at the right tier.

Small modules are compiled at full optimisation (O2) straight away. A big module (more
wasm instructions than TIER_UP_SIZE) first gets quick code (O0-level passes and
instruction selection), which reaches its first call soon; an O2 build then runs in a
background thread with an LLVM context of its own. When it is done, it is cached and
swapped in: every function record of every instance of the module is pointed at the
optimised code, and new calls from Python use it (both tiers share the instance layout
and calling convention, so a swap is a word store). The next process finds the O2 code in
the cache.
"""
from __future__ import annotations

import threading
import weakref

import llvmlite.binding as llvm

from fayasm.runtime.errors import Error

from . import bridge, cache, calls, jit
from .module import module_text, signatures

# Wasm instructions (all function bodies) above which a module starts at the quick tier.
TIER_UP_SIZE = 20_000
OPT_LEVEL = 2


def module_size(module) -> int:
    return sum(len(f.body) for f in module.syntax.funcs)


class ModuleCode:
    """One loaded object of a module: addresses of its functions, entries, trampolines."""

    def __init__(self, module, metered: bool, obj: bytes, opt: int):
        self.module = module
        self.metered = metered
        self.opt = opt
        sigs = signatures(module)
        nd = len(module.syntax.funcs)
        self.loaded = jit.LoadedObject(obj, nd + 2 * len(sigs))
        meta = self.loaded.meta
        self.funcs = meta[:nd]
        self.entry_addrs = dict(zip(sigs, meta[nd:nd + len(sigs)]))
        tramps = list(zip(sigs, meta[nd + len(sigs):]))
        self._entries: dict = {}
        nimp = module.info.num_imported_funcs
        names = module.func_name
        bridge.codemap.add([(a, (names, nimp + k)) for k, a in enumerate(self.funcs)]
                           + [(a, None) for a in meta[nd:]])
        bridge.register_trampolines(tramps)
        self.instances: list = []  # weak references to instance states (for tier-up)

    def signed_entry(self, ft):
        """The entry of ``ft`` with signed integer results (calls with Python values)."""
        key = ("signed", ft)
        cf = self._entries.get(key)
        if cf is None:
            cf = self._entries[key] = calls.signed_prototype(ft)(self.entry_addrs[ft])
        return cf

    def entry(self, ft):
        """The ctypes function object of the entry wrapper of ``ft``."""
        cf = self._entries.get(ft)
        if cf is None:
            cf = self._entries[ft] = calls.prototype(ft)(self.entry_addrs[ft])
        return cf


def _key(module, metered: bool, opt: int) -> str:
    cpu, features = jit.host()
    return cache.key([module.hash, jit.version(), cpu, features, f"metered={metered}",
                      f"opt={opt}"])


def _build(module, metered: bool, opt: int, context=None) -> bytes:
    text = module_text(module, metered)
    return jit.build_object(text, opt, context=context)


def _obtain(module, metered: bool, opt: int) -> ModuleCode | None:
    """The code at ``opt`` from the cache, or None."""
    k = _key(module, metered, opt)
    obj = cache.load(k)
    if obj is None:
        return None
    try:
        return ModuleCode(module, metered, obj, opt)
    except (RuntimeError, Error):
        path = cache.path_for(k)
        cache.store(k, b"")  # unusable: make sure it is rebuilt
        del path
        return None


def load_code(module, metered: bool) -> ModuleCode:
    """The best native code of ``module`` available now (see the module docstring)."""
    jit.init()
    code = _obtain(module, metered, OPT_LEVEL)
    if code is not None:
        return code
    big = module_size(module) > TIER_UP_SIZE
    opt = 0 if big else OPT_LEVEL
    code = _obtain(module, metered, opt) if big else None
    if code is None:
        with jit.LOCK:
            obj = _build(module, metered, opt)
        cache.store(_key(module, metered, opt), obj)
        code = ModuleCode(module, metered, obj, opt)
    if big:
        _start_tier_up(module, metered, code)
    return code


# -- background optimisation --------------------------------------------------------------------
_pending: dict = {}


def _start_tier_up(module, metered: bool, quick: ModuleCode) -> None:
    key = (module.hash, metered)
    if key in _pending:
        return
    t = threading.Thread(target=_tier_up, args=(module, metered, quick, key),
                         name="fayasm-jit-O2", daemon=True)
    _pending[key] = t
    t.start()


def _tier_up(module, metered: bool, quick: ModuleCode, key) -> None:
    try:
        context = llvm.create_context()
        obj = _build(module, metered, OPT_LEVEL, context=context)
        cache.store(_key(module, metered, OPT_LEVEL), obj)
        with jit.LOCK:
            fast = ModuleCode(module, metered, obj, OPT_LEVEL)
        quick.upgrade = fast
        for ref in list(quick.instances):
            ist = ref()
            if ist is not None:
                ist.retarget(fast)
    except BaseException:  # noqa: BLE001 - the quick code keeps working
        pass


def track(code: ModuleCode, ist) -> None:
    """Remember an instance of quick code so a finished tier-up can retarget it."""
    if code.opt != OPT_LEVEL:
        code.instances.append(weakref.ref(ist))


__all__ = ["load_code", "ModuleCode", "track", "module_size", "TIER_UP_SIZE"]
