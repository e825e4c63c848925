"""A whole module's native code: one object, or a bundle when some functions are deep.

Functions nested deeper than module.OPT_NESTING are compiled apart, without
optimisation, into an object of their own (LLVM's optimiser and its optimising code
generator take time quadratic in nesting). ``build_code`` is what the eager tier and
the O2 worker compile and cache; tiering.ModuleCode loads it with ``split_code``.
"""
from __future__ import annotations

import re
import struct

from fayasm.errors import TranslationError, describe
from fayasm.runtime.compiletime import CompileTimeout
from fayasm.runtime.errors import Error

from . import jit
from .module import ModuleEmitter, deep_functions

# A whole module's code with deep functions compiled apart: this magic, then the length
# of the optimised object (u64), the number of deep functions (u32) and their indices
# (u32 each), then the optimised object, then the object of the deep functions.
_BUNDLE = b"FYDEEP1\0"


def build_code(module, metered: bool, opt: int, emitted=None, guard: bool = False) -> bytes:
    """The whole module compiled at ``opt``: one object, or a bundle of the optimised
    object and one of the deep functions, compiled without optimisation. ``emitted``:
    called with the number of functions lowered so far (progress). ``guard``: guard-mode
    code (guard.py)."""
    deep = deep_functions(module)
    emitter = ModuleEmitter(module, metered, separate=deep, guard=guard)
    emitter.emitted = emitted
    obj = _build(module, emitter.text(), opt)
    if not deep:
        return obj
    apart = ModuleEmitter(module, metered, indirect_calls=True,
                          guard=guard).functions_text(deep, "fy_meta_deep")
    deep_obj = _build(module, apart, 0)
    head = struct.pack(f"<QI{len(deep)}I", len(obj), len(deep), *deep)
    return _BUNDLE + head + obj + deep_obj


def _build(module, text: str, opt: int) -> bytes:
    """jit.build_object, with LLVM's failures as TranslationErrors naming the function
    when LLVM's message names one."""
    try:
        with jit.LOCK:
            return jit.build_object(text, opt)
    except CompileTimeout:
        raise
    except (Error, RuntimeError, OSError, MemoryError) as e:
        found = re.search(r"@f(\d+)\b", str(e))
        index = int(found.group(1)) if found else None
        name = module.func_name(index) if index is not None else None
        raise TranslationError("jit", describe(e), index, name) from None


def split_code(code: bytes) -> tuple[bytes, list[int], bytes]:
    """(optimised object, deep function indices, their object) of build_code's result."""
    if not code.startswith(_BUNDLE):
        return code, [], b""
    try:
        at = len(_BUNDLE)
        size, n = struct.unpack_from("<QI", code, at)
        at += 12
        deep = list(struct.unpack_from(f"<{n}I", code, at))
        at += 4 * n
    except struct.error:
        raise Error("jit: malformed code bundle") from None
    if at + size >= len(code):
        raise Error("jit: malformed code bundle")
    return code[at:at + size], deep, code[at + size:]


__all__ = ["build_code", "split_code"]
