"""Caps on what guests may hold, the way wasmtime's StoreLimits work.

A ``ResourceLimits`` object is given to ``instantiate(..., limits=)``; every instance made
with the same object shares its totals (``total_memory``, ``total_table_elements``,
``instances``), so a host caps a whole set of linked instances at once. Each instance
has an ``Account`` that charges what it defines (memories and tables it imports are
charged to their owner). Pages are charged as they become usable: the address space a
memory reserves up front (the whole maximum) is never counted.

A grow past a cap fails as the spec allows (``memory.grow`` and ``table.grow`` return
-1), or traps with "resource limit exceeded" when ``trap_on_grow_failure`` is set.
A module whose initial memories or tables already exceed a cap fails to instantiate
with ``ResourceLimitError``.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import RESOURCE_LIMIT, ArgumentError, ResourceLimitError, Trap
from .limits import MAX_CALL_DEPTH
from .types import PAGE_SIZE

if TYPE_CHECKING:
    from .memory import Memory
    from .table import Table
    from .types import MemoryType, TableType

# Without ResourceLimits, an instance's tables together hold at most this many elements
# (about 80 MB of references on the Python engines): the per-table limit alone let a
# 192-byte module declare dozens of maximal tables.
MAX_INSTANCE_TABLE_ELEMENTS = 10_000_000

LIMIT_TRAP = RESOURCE_LIMIT


@dataclass(frozen=True)
class Usage:
    """What an instance (``inst.usage()``) or a ResourceLimits (``limits.usage()``) holds."""

    memory_bytes: int = 0
    table_elements: int = 0
    memories: int = 0
    tables: int = 0
    instances: int = 0


_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20,
               "mb": 1000 ** 2, "mib": 1 << 20, "g": 1 << 30, "gb": 1000 ** 3, "gib": 1 << 30,
               "t": 1 << 40, "tib": 1 << 40}


def parse_size(text: str) -> int:
    """``64MiB``, ``512k``, ``1GB``, ``4096``: a byte count (binary units for K/M/G/T)."""
    s = str(text).strip().lower().replace("_", "")
    num = s.rstrip("abcdefghijklmnopqrstuvwxyz ")
    unit = s[len(num):].strip()
    try:
        value = float(num) if "." in num else int(num)
    except ValueError:
        raise ArgumentError(f"not a size: {text!r} (use a byte count such as 65536 or "
                            "64MiB)") from None
    if unit not in _SIZE_UNITS or value < 0 or value != value:
        raise ArgumentError(f"not a size: {text!r} (use a byte count such as 65536 or 64MiB)")
    return int(value * _SIZE_UNITS[unit])


def _cap(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_size(value) if name.endswith(("memory", "output")) else value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ArgumentError(f"ResourceLimits {name} must be a non-negative int or None, "
                            f"got {value!r}")
    return value


class ResourceLimits:
    """Caps for untrusted guests; None means no cap. Sizes are bytes (ints, or strings such
    as ``"64MiB"``).

    Per instance: ``memory`` (bytes of all its memories), ``table_elements`` (entries of
    all its tables), ``memories`` and ``tables`` (how many it may define).
    Shared by every instance made with this object: ``total_memory``,
    ``total_table_elements`` and ``instances``.
    ``wasi_output``: bytes a WASI guest may write to each output stream (fd_write past it
    fails with ENOSPC after writing what fits).
    ``trap_on_grow_failure``: a grow past a cap traps instead of returning -1.
    ``max_stack``: the deepest call stack the instance's code may reach, in stack units
    (``fayasm.runtime.limits.frame_units``: a frame of fewer than 64 locals and operand
    values is one unit, so ``max_stack=1000`` allows 1001 such frames); like wasmtime's
    ``max_wasm_stack`` it only lowers the default (MAX_CALL_DEPTH), and the thread's C
    stack may stop a guest sooner. Past it: Exhaustion, on every engine.
    """

    def __init__(self, *, memory: int | str | None = None, table_elements: int | None = None,
                 memories: int | None = None, tables: int | None = None,
                 total_memory: int | str | None = None, total_table_elements: int | None = None,
                 instances: int | None = None, wasi_output: int | str | None = None,
                 trap_on_grow_failure: bool = False, max_stack: int | None = None) -> None:
        self.memory = _cap("memory", memory)
        self.table_elements = _cap("table_elements", table_elements)
        self.memories = _cap("memories", memories)
        self.tables = _cap("tables", tables)
        self.total_memory = _cap("total_memory", total_memory)
        self.total_table_elements = _cap("total_table_elements", total_table_elements)
        self.instances = _cap("instances", instances)
        self.wasi_output = _cap("wasi_output", wasi_output)
        self.trap_on_grow_failure = bool(trap_on_grow_failure)
        self.max_stack = _cap("max_stack", max_stack)
        self._lock = threading.Lock()
        self._memory_bytes = 0
        self._table_elements = 0
        self._instances = 0
        self._memories = 0
        self._tables = 0

    def usage(self) -> Usage:
        """What all the live instances made with these limits hold now."""
        with self._lock:
            return Usage(self._memory_bytes, self._table_elements, self._memories,
                         self._tables, self._instances)

    def __repr__(self) -> str:
        caps = ", ".join(f"{k}={v}" for k, v in vars(self).items()
                         if not k.startswith("_") and v not in (None, False))
        return f"ResourceLimits({caps})"


class Account:
    """What one instance holds, charged against its limits (None: track only). Memory and
    Table call ``grow_memory`` / ``grow_table`` before they grow."""

    __slots__ = ("limits", "memory_bytes", "table_elements", "memories", "tables", "_lock",
                 "_give_back", "__weakref__")

    def __init__(self, limits: ResourceLimits | None = None):
        self.limits = limits
        self.memory_bytes = self.table_elements = self.memories = self.tables = 0
        self._lock = limits._lock if limits is not None else threading.Lock()
        # What the finalizer gives back to the shared totals when the account dies:
        # [memory bytes, table elements, memories, tables].
        self._give_back = [0, 0, 0, 0]
        if limits is not None:
            with self._lock:
                if limits.instances is not None and limits._instances >= limits.instances:
                    raise ResourceLimitError(
                        f"instance limit reached ({limits.instances} live instances)")
                limits._instances += 1
            weakref.finalize(self, _release, limits, self._give_back)

    def usage(self) -> Usage:
        return Usage(self.memory_bytes, self.table_elements, self.memories, self.tables, 1)

    # -- charging ---------------------------------------------------------------------------
    def _check_memory(self, extra: int) -> str | None:
        lim = self.limits
        if lim is None:
            return None
        if lim.memory is not None and self.memory_bytes + extra > lim.memory:
            return f"memory limit of {lim.memory} bytes per instance"
        if lim.total_memory is not None and lim._memory_bytes + extra > lim.total_memory:
            return f"total memory limit of {lim.total_memory} bytes"
        return None

    def _check_table(self, extra: int) -> str | None:
        lim = self.limits
        if self.table_elements + extra > MAX_INSTANCE_TABLE_ELEMENTS:
            return (f"implementation limit of {MAX_INSTANCE_TABLE_ELEMENTS} table elements per "
                    "instance")
        if lim is None:
            return None
        if lim.table_elements is not None and self.table_elements + extra > lim.table_elements:
            return f"table limit of {lim.table_elements} elements per instance"
        if lim.total_table_elements is not None and \
                lim._table_elements + extra > lim.total_table_elements:
            return f"total table limit of {lim.total_table_elements} elements"
        return None

    def _charge(self, memory: int = 0, table: int = 0, memories: int = 0,
                tables: int = 0) -> None:
        self.memory_bytes += memory
        self.table_elements += table
        self.memories += memories
        self.tables += tables
        if self.limits is not None:
            lim = self.limits
            lim._memory_bytes += memory
            lim._table_elements += table
            lim._memories += memories
            lim._tables += tables
            g = self._give_back
            g[0] += memory
            g[1] += table
            g[2] += memories
            g[3] += tables

    def new_memory(self, mtype: MemoryType) -> Memory:
        """A Memory of type ``mtype`` charged to this instance."""
        from .memory import Memory

        size = mtype.limits.min * PAGE_SIZE
        with self._lock:
            lim = self.limits
            if lim is not None and lim.memories is not None and self.memories >= lim.memories:
                raise ResourceLimitError(f"memory count limit of {lim.memories} per instance")
            why = self._check_memory(size)
            if why:
                raise ResourceLimitError(f"a memory of {mtype.limits.min} pages exceeds the {why}")
            self._charge(memory=size, memories=1)
        mem = Memory(mtype)
        mem._account = self
        return mem

    def new_table(self, ttype: TableType) -> Table:
        """A Table of type ``ttype`` charged to this instance."""
        from .table import Table

        n = ttype.limits.min
        with self._lock:
            lim = self.limits
            if lim is not None and lim.tables is not None and self.tables >= lim.tables:
                raise ResourceLimitError(f"table count limit of {lim.tables} per instance")
            why = self._check_table(n)
            if why:
                raise ResourceLimitError(f"a table of {n} elements exceeds the {why}")
            self._charge(table=n, tables=1)
        table = Table(ttype)
        table._account = self
        return table

    def grow_memory(self, extra_bytes: int) -> bool:
        """Charge a grow; False (or a trap, if the limits say so) past a cap."""
        with self._lock:
            why = self._check_memory(extra_bytes)
            if why is None:
                self._charge(memory=extra_bytes)
                return True
        if self.limits is not None and self.limits.trap_on_grow_failure:
            raise Trap(f"{LIMIT_TRAP}: {why}")
        return False

    def shrink_memory(self, extra_bytes: int) -> None:
        """Give back a grow that was charged but then failed."""
        with self._lock:
            self._charge(memory=-extra_bytes)

    def grow_table(self, extra: int) -> bool:
        with self._lock:
            why = self._check_table(extra)
            if why is None:
                self._charge(table=extra)
                return True
        if self.limits is not None and self.limits.trap_on_grow_failure:
            raise Trap(f"{LIMIT_TRAP}: {why}")
        return False


def stack_limit(limits: ResourceLimits | None) -> int:
    """The depth limit (limits.MAX_CALL_DEPTH, or a lower ``max_stack``) of an instance."""
    if limits is None or limits.max_stack is None:
        return MAX_CALL_DEPTH
    return min(MAX_CALL_DEPTH, limits.max_stack)


def _release(limits: ResourceLimits, totals: list) -> None:
    """An instance's account died: its memories and tables no longer count."""
    with limits._lock:
        limits._instances -= 1
        limits._memory_bytes -= totals[0]
        limits._table_elements -= totals[1]
        limits._memories -= totals[2]
        limits._tables -= totals[3]


__all__ = ["ResourceLimits", "ResourceLimitError", "Usage", "Account", "parse_size",
           "LIMIT_TRAP", "stack_limit"]
