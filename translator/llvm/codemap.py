"""Code addresses -> wasm function names, for the backtraces of traps."""
from __future__ import annotations

import bisect
import threading


class CodeMap:
    """Start addresses of all loaded native code, each with (names, index) for a wasm
    function or None for glue. A return address belongs to the last start before it.
    Changes replace both lists at once, so a lookup on another thread never sees them
    out of step."""

    def __init__(self):
        self._map: tuple[list[int], list] = ([], [])
        self.lock = threading.Lock()

    def add(self, entries) -> None:
        with self.lock:
            starts, owners = list(self._map[0]), list(self._map[1])
            for addr, owner in entries:
                i = bisect.bisect_left(starts, addr)
                starts.insert(i, addr)
                owners.insert(i, owner)
            self._map = (starts, owners)

    def remove(self, addrs, more=()) -> None:
        """Forget code that was freed (its addresses may be reused)."""
        with self.lock:
            starts, owners = list(self._map[0]), list(self._map[1])
            for addr in list(addrs) + list(more):
                i = bisect.bisect_left(starts, addr)
                if i < len(starts) and starts[i] == addr:
                    del starts[i]
                    del owners[i]
            self._map = (starts, owners)

    def lookup(self, addr: int):
        starts, owners = self._map
        i = bisect.bisect_right(starts, addr - 1) - 1
        return owners[i] if i >= 0 else None

    def backtrace(self, func: int, trace) -> list[str]:
        """Function names, innermost first, of the return addresses ``trace`` (from
        fy_trap's walk). ``func`` (-1: unknown) raised the trap, or called the host
        function that failed; the innermost wasm code on the trace is that function, or
        one it was inlined into (glue, such as a host trampoline, may come first)."""
        out = []
        for ra in trace:
            owner = self.lookup(ra & 0xFFFFFFFFFFFFFFFF)
            if owner is None:
                continue
            names, index = owner
            if func >= 0:
                out.append(names(func))
                innermost, func = func, -1
                if index == innermost:
                    continue
            out.append(names(index))
        return out


codemap = CodeMap()

__all__ = ["CodeMap", "codemap"]
