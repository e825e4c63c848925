"""The runtime side of exceptions in native code (exceptions.py has the lowering and the
scheme): the RT_THROW, RT_THROW_REF and RT_CATCH operations of the runtime callback."""
from __future__ import annotations

import ctypes

from fayasm.ir.build import build_function
from fayasm.runtime.errors import Error
from fayasm.runtime.exceptions import Exn, WasmException
from fayasm.runtime.types import FuncType

from . import references
from . import types as T
from .argbuffers import host_codec
from .exceptions import try_tables
from .threads import thread_block

_CODECS: dict = {}


def _codec(params: tuple):
    c = _CODECS.get(params)
    if c is None:
        c = _CODECS[params] = host_codec(FuncType(params, params), references.to_word,
                                         references.from_word)
    return c


def rt_throw(ist, w) -> None:
    """RT_THROW: w[0] the tag index, w[1] the payload buffer."""
    tag = ist.tags[w[0]]
    unpack, _ = _codec(tag.type.params)
    raise WasmException.of(Exn(tag, list(unpack(w[1]))))


def rt_throw_ref(ist, w) -> None:
    """RT_THROW_REF: w[0] the exnref's handle (not null), w[1] handlers to skip."""
    exn = references.extern_object(w[0])
    if not isinstance(exn, Exn):
        raise Error("jit: throw_ref of something that is not an exception")
    e = WasmException.of(exn)
    e.skip = w[1]
    raise e


def clauses_of(compiled, func: int, ordinal: int) -> tuple:
    """The (kind, tag index or None) of each clause of a function's try_table ``ordinal``
    (the function's IR built again, once, and kept)."""
    cache = compiled.catch_cache
    got = cache.get(func)
    if got is None:
        module = compiled.module
        ir = build_function(module.syntax, module.info, func)
        got = cache[func] = [tuple((kind, tag) for kind, tag, _ in tt.catches)
                             for tt in try_tables(ir.body)]
    return got[ordinal]


def rt_catch(ist, func: int, ordinal: int, w) -> None:
    """RT_CATCH: which clause of the try_table takes the thread's pending exception:
    its index in w[0] (-1: none, it stays pending), the payload buffer in w[1], the
    exnref's handle in w[2]."""
    tb = thread_block()
    e = tb.pending[-1] if tb.pending else None
    w[0] = -1
    if not isinstance(e, WasmException):
        return
    if e.skip:
        e.skip -= 1
        return
    exn = e.exn
    for k, (kind, tag) in enumerate(clauses_of(ist.compiled, func, ordinal)):
        if tag is not None and ist.tags[tag] is not exn.tag:
            continue
        tb.pending.pop()
        params = exn.tag.type.params if tag is not None else ()
        if params:
            _, pack = _codec(params)
            buf = (ctypes.c_uint64 * max(sum(T.WORDS[t] for t in params), 1))()
            tb.exn_payload = buf  # read by the landing code right away
            pack(ctypes.addressof(buf), tuple(exn.raw) if len(params) > 1 else exn.raw[0])
            w[1] = ctypes.addressof(buf)
        if kind & 1:
            w[2] = references.extern_handle(exn)
        w[0] = k
        return


__all__ = ["rt_catch", "rt_throw", "rt_throw_ref", "clauses_of"]
