"""The engine interface and registry: engines are found by name, so the front end never
imports one.

An engine satisfies ``EngineProtocol``: ``name``, ``compile(module) -> compiled``,
``instantiate(module, compiled, imports, fuel=, deadline=, limits=, wasi=) -> Instance``
and ``wait_idle(timeout)``. Calling exports and reading them go through the Instance's
engine-neutral runtime objects. The spec runner, the diff harness, the CLI and the
benchmarks use nothing else, so a new engine plugs in by registering here once.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, Union, cast, runtime_checkable

from fayasm.runtime.errors import Error

if TYPE_CHECKING:
    from fayasm.module import Module
    from fayasm.runtime.instance import Instance
    from fayasm.runtime.resources import ResourceLimits
    from fayasm.runtime.wasi import Wasi, WasiConfig

# {module name: {field name: value}}, values as fayasm.instantiate documents them.
Imports = Mapping[str, Mapping[str, Any]]
# A WasiConfig, or a Wasi state shared between instances.
WasiArg = Union["WasiConfig", "Wasi"]

C = TypeVar("C")  # an engine's compiled form of a module


@runtime_checkable
class EngineProtocol(Protocol[C]):
    """What every engine provides (see the module docstring)."""

    name: str

    def compile(self, module: Module) -> C:
        """The engine's form of ``module``, made once per module and shared by its
        instances; errors of the engine's compiler are TranslationError."""
        ...

    def instantiate(self, module: Module, compiled: C, imports: Imports | None = None, *,
                    fuel: int | None = None, deadline: float | None = None,
                    limits: ResourceLimits | None = None,
                    wasi: WasiArg | None = None) -> Instance:
        """A new instance, linked through runtime.plan.link: ``fuel`` and ``deadline``
        meter it, ``limits`` caps what it may hold, ``wasi`` links WASI preview 1 (bound
        to the memory before the start function runs)."""
        ...

    def wait_idle(self, timeout: float = 600.0) -> bool:
        """Wait until the engine's background work (the jit's optimising builds) is done;
        whether it was within ``timeout`` seconds."""
        ...


@runtime_checkable
class TranslatingEngine(EngineProtocol[C], Protocol[C]):
    """An engine that also gives a module as source code (engine "python")."""

    def translate(self, module: Module, metered: bool = False) -> str:
        ...


# name -> "module:attribute" of a zero-argument factory
REGISTRY: dict[str, str] = {
    "interpreter": "fayasm.interpreter:Engine",
    "python": "fayasm.translator.python.engine:Engine",
    "jit": "fayasm.translator.llvm.engine:Engine",
}
_LOADED: dict[str, EngineProtocol[Any]] = {}
# name -> (registered engine, keyword options of its factory): see register_variant
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {}


def register(name: str, target: str) -> None:
    """Register an engine by the import path of its class (``"pkg.module:Class"``)."""
    REGISTRY[name] = target
    _LOADED.pop(name, None)


def register_variant(name: str, base: str, **options: Any) -> str:
    """Register ``name`` as engine ``base`` made with keyword ``options`` of its factory
    (such as the interpreter's ``relaxed=``, another relaxed SIMD profile); returns
    ``name``. Variants are not listed by names()/available(): they exist for the oracle."""
    if base not in REGISTRY:
        raise Error(f"unknown engine {base!r} (engines: {', '.join(REGISTRY)})")
    VARIANTS[name] = (base, dict(options))
    _LOADED.pop(name, None)
    return name


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


def get(name: str | None = None) -> EngineProtocol[Any]:
    name = name or default()
    if name in _LOADED:
        return _LOADED[name]
    base, options = VARIANTS.get(name, (name, {}))
    target = REGISTRY.get(base)
    if target is None:
        raise Error(f"unknown engine {name!r} (engines: {', '.join(REGISTRY)})")
    modname, _, attr = target.partition(":")
    try:
        engine = getattr(importlib.import_module(modname), attr)(**options)
    except ImportError as e:
        raise Error(f"engine {name!r} is not available: {e}") from None
    if options:
        engine.name = name  # the compiled-module cache is keyed by the engine's name
    _LOADED[name] = engine
    return engine


def translator(name: str = "python") -> TranslatingEngine[Any]:
    """The engine ``name``, which must translate modules to source."""
    eng = get(name)
    if not callable(getattr(eng, "translate", None)):
        raise Error(f"engine {name!r} does not translate modules to source")
    return cast("TranslatingEngine[Any]", eng)


def compiled(engine: EngineProtocol[C], module: Module) -> C:
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


def instantiate(module: Module, imports: Imports | None = None, engine: str | None = None,
                fuel: int | None = None, deadline: float | None = None,
                limits: ResourceLimits | None = None, wasi: WasiArg | None = None) -> Instance:
    """Instantiate ``module`` (a fayasm.Module) on an engine, linking ``imports``."""
    eng = get(engine)
    return eng.instantiate(module, compiled(eng, module), imports, fuel=fuel, deadline=deadline,
                           limits=limits, wasi=wasi)


def wait_idle(timeout: float = 600.0) -> bool:
    """Wait until the background work of every engine loaded so far is done."""
    import time

    end = time.monotonic() + timeout
    return all([e.wait_idle(max(0.0, end - time.monotonic())) for e in list(_LOADED.values())])
