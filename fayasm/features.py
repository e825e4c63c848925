"""Which WebAssembly proposals the front end accepts: all of 3.0's it knows by default, or
exactly WebAssembly 2.0 (the 2.0 spec suite expects 2.0's errors where 3.0 gave the
same bytes a meaning: a memory index where 2.0 has a reserved zero byte, u64 limits).

The choice is a context variable, so a host or the spec runner scopes it::

    with features.using(features.WASM2):
        fayasm.Module(source)

Everything 2.0 accepts, 3.0 accepts with the same meaning, so a module decoded under
one and read lazily under the other is the same module.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Features:
    """A set of proposals beyond 2.0, each on or off."""

    multi_memory: bool = True  # memory indices on memory instructions, several memories
    memory64: bool = True  # i64 address types for memories and tables, u64 limits
    # 3.0's constant expressions may read defined globals: a global's initializer those
    # defined before it, segment offsets and items any (immutable) global; 2.0's, only
    # imported ones.
    defined_globals_in_constants: bool = True
    # The spec's error wording changed: 3.0 says "immutable global" for a global.set of
    # an immutable global, where 2.0 said "global is immutable", and "i8 constant out of
    # range" for a text lane index that is no u8, where 2.0 said "malformed lane index".
    wording_3_0: bool = True
    # Exception handling: the tag section, tag imports and exports, exnref, throw and
    # try_table (and the legacy try/catch/delegate/rethrow).
    exceptions: bool = True

    @property
    def key(self) -> str:
        """A stable text naming the set (part of fayasm.validcache's keys)."""
        return ",".join(f.name for f in fields(self) if getattr(self, f.name))

    def names(self) -> list[str]:
        return [f.name.replace("_", "-") for f in fields(self) if getattr(self, f.name)]


WASM3 = Features()
WASM2 = Features(multi_memory=False, memory64=False, defined_globals_in_constants=False,
                 wording_3_0=False, exceptions=False)

_current: contextvars.ContextVar[Features] = contextvars.ContextVar("fayasm_features",
                                                                    default=WASM3)


def current() -> Features:
    return _current.get()


@contextlib.contextmanager
def using(f: Features):
    """Decode, parse and validate with the proposals of ``f`` inside the block."""
    token = _current.set(f)
    try:
        yield f
    finally:
        _current.reset(token)


def used(m) -> list[str]:
    """The proposals a module (``syntax.Module``) uses, as names: the instruction rows'
    features (``simd``, ``bulk-memory``...; not ``mvp``) and the ones that show in its
    types: ``multi-memory`` (several memories, or a memory index other than 0) and
    ``memory64`` (a memory or table with an i64 address type)."""
    found: set[str] = set()
    mems = m.memory_types()
    if len(mems) > 1:
        found.add("multi-memory")
    if any(t.address.value == "i64" for t in list(mems) + list(m.table_types())):
        found.add("memory64")
    for f in m.funcs:
        for ins in f.body:
            op = ins.op
            if op.feature and op.feature != "mvp":
                found.add(op.feature)
            if "memarg" in op.imms and ins.imm[op.imms.index("memarg")].mem:
                found.add("multi-memory")
            elif "mem" in op.imms and any(v for k, v in zip(op.imms, ins.imm) if k == "mem"):
                found.add("multi-memory")
    return sorted(found)
