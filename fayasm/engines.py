"""The engine registry: engines are found by name, so the front end never imports one.

An engine has ``name``, ``compile(module) -> compiled`` and
``instantiate(module, compiled, imports, fuel=None, deadline=None, limits=None) -> Instance``; the spec
runner, the diff harness, the CLI and the benchmarks use nothing else.
"""
from __future__ import annotations

import importlib

from fayasm.runtime.errors import Error

# name -> "module:attribute" of a zero-argument factory
REGISTRY: dict[str, str] = {
    "interpreter": "fayasm.interpreter:Engine",
    "python": "fayasm.translator.python.engine:Engine",
    "jit": "fayasm.translator.llvm.engine:Engine",
}
_LOADED: dict[str, object] = {}


def register(name: str, target: str) -> None:
    """Register an engine by the import path of its class (``"pkg.module:Class"``)."""
    REGISTRY[name] = target
    _LOADED.pop(name, None)


def names() -> list[str]:
    return list(REGISTRY)


def available() -> list[str]:
    """The engines that load on this machine."""
    out = []
    for n in REGISTRY:
        try:
            get(n)
        except Error:
            continue
        out.append(n)
    return out


_default: list[str] = []


def default() -> str:
    """The engine used when none is named: "jit" when llvmlite imports, else "python"
    (with a one-time warning, since that is much slower)."""
    if not _default:
        try:
            import llvmlite.binding  # noqa: F401
            _default.append("jit")
        except ImportError as e:
            import warnings

            warnings.warn(f"fayasm: llvmlite is not available ({e}); using the slower "
                          'engine="python"', RuntimeWarning, stacklevel=2)
            _default.append("python")
    return _default[0]


def get(name: str | None = None):
    name = name or default()
    if name in _LOADED:
        return _LOADED[name]
    target = REGISTRY.get(name)
    if target is None:
        raise Error(f"unknown engine {name!r} (engines: {', '.join(REGISTRY)})")
    modname, _, attr = target.partition(":")
    try:
        engine = getattr(importlib.import_module(modname), attr)()
    except ImportError as e:
        raise Error(f"engine {name!r} is not available: {e}") from None
    _LOADED[name] = engine
    return engine


def compiled(engine, module):
    """The engine's compiled form of ``module``, made once per module object. Compiling
    is not running: the compiler running out of stack or memory is a TranslationError,
    never the guest's Exhaustion."""
    c = module._compiled.get(engine.name)
    if c is None:
        from fayasm.errors import TranslationError, describe
        from fayasm.module import gc_paused

        try:
            with gc_paused():
                c = engine.compile(module)
        except (RecursionError, MemoryError) as e:
            raise TranslationError(engine.name, describe(e)) from None
        module._compiled[engine.name] = c
    return c


def instantiate(module, imports=None, engine: str | None = None, fuel: int | None = None,
                deadline: float | None = None, limits=None):
    """Instantiate ``module`` (a fayasm.Module) on an engine, linking ``imports``."""
    eng = get(engine)
    return eng.instantiate(module, compiled(eng, module), imports, fuel=fuel, deadline=deadline,
                           limits=limits)
