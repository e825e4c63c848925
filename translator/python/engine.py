"""engine="python": translate in memory, cache the source on disk, run it."""
from __future__ import annotations

import hashlib
import linecache
import os
import re

from fayasm import __version__, cachedir
from fayasm.engines import Imports, WasiArg
from fayasm.errors import TranslationError, describe
from fayasm.module import Module
from fayasm.runtime.instance import Instance
from fayasm.runtime.resources import ResourceLimits
from fayasm.runtime.support import INTERFACE

from .module import translate
from .names import comment

_DIGEST: str | None = None


def _translator_digest() -> str:
    """A hash of the translator's own sources and the IR builder: a cached translation
    made by other code (a fayasm being developed, or upgraded) is never reused."""
    global _DIGEST
    if _DIGEST is None:
        import fayasm.ir

        h = hashlib.sha256()
        for folder in (os.path.dirname(os.path.abspath(__file__)),
                       os.path.dirname(os.path.abspath(fayasm.ir.__file__))):
            for name in sorted(os.listdir(folder)):
                if name.endswith(".py"):
                    with open(os.path.join(folder, name), "rb") as f:
                        h.update(name.encode() + b"\0" + f.read())
        _DIGEST = h.hexdigest()[:16]
    return _DIGEST


def cache_dir() -> str | None:
    """Where translations are cached (fayasm.cachedir); None when caching is off."""
    return cachedir.cache_dir("python")


class Compiled:
    """A module's translations (unmetered, and metered on demand) as executed namespaces."""

    def __init__(self, module):
        self.module = module
        self.namespaces: dict[bool, dict] = {}

    def namespace(self, metered: bool) -> dict:
        ns = self.namespaces.get(metered)
        if ns is None:
            ns = self.namespaces[metered] = load(self.module, metered)
        return ns


def _key(module, metered: bool) -> str:
    # The runtime interface too: a translation cached for another one would refuse to load.
    h = hashlib.sha256(f"{module.hash}:{__version__}:{INTERFACE}:{_translator_digest()}:"
                       f"{metered}".encode())
    return h.hexdigest()[:40]


def source_for(module, metered: bool = False) -> str:
    """The translation of ``module``, from the disk cache when it is there."""
    d = cache_dir()
    path = os.path.join(d, _key(module, metered) + ".py") if d else None
    if path and os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                src = f.read()
            if src.startswith("# Translated from WebAssembly") and src.endswith("\n"):
                return src
        except (OSError, UnicodeDecodeError):
            pass  # an unreadable entry is rebuilt
    src = translate(module, metered=metered)
    if path and d:
        try:
            os.makedirs(d, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(src)
            os.replace(tmp, path)
        except OSError:
            pass  # caching is best effort
    return src


def load(module, metered: bool) -> dict:
    src = source_for(module, metered)
    # compile() refuses a NUL in the file name: the module's name goes in sanitised.
    filename = f"<fayasm python: {comment(module.name, 40)} {_key(module, metered)[:12]}>"
    try:
        code = compile(src, filename, "exec")
    except (SyntaxError, RecursionError, MemoryError) as e:
        index = _function_at(src, getattr(e, "lineno", None))
        name = module.func_name(index) if index is not None else None
        raise TranslationError("python", f"the translation does not compile: {describe(e)}",
                               index, name) from None
    # Keep the source where tracebacks can find it.
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns: dict = {"__name__": "fayasm_generated"}
    exec(code, ns)
    return ns


_DEF = re.compile(r"    def f(\d+)[_(]")  # a function's def line in _make (module.py)


def _function_at(src: str, lineno: int | None) -> int | None:
    """The index of the wasm function whose translation holds line ``lineno`` of ``src``."""
    if not lineno:
        return None
    lines = src.split("\n", lineno)[:lineno]
    for line in reversed(lines):
        m = _DEF.match(line)
        if m:
            return int(m.group(1))
    return None


class Engine:
    name = "python"

    def compile(self, module: Module) -> Compiled:
        c = Compiled(module)
        c.namespace(False)  # translate and compile eagerly: errors show at compile time
        return c

    def instantiate(self, module: Module, compiled: Compiled, imports: Imports | None = None,
                    fuel: int | None = None, deadline: float | None = None,
                    limits: ResourceLimits | None = None, wasi: WasiArg | None = None) -> Instance:
        """The generated module's own ``instantiate`` (runtime.support, which links through
        runtime.plan.link as the other engines do)."""
        metered = fuel is not None or deadline is not None
        ns = compiled.namespace(metered)
        inst = ns["instantiate"](imports, wasi=wasi, fuel=fuel, deadline=deadline, limits=limits)
        inst.module = module
        return inst

    def wait_idle(self, timeout: float = 600.0) -> bool:
        return True  # nothing runs in the background

    def translate(self, module: Module, metered: bool = False) -> str:
        return translate(module, metered=metered)
