"""Guests for the WASI differential (scripts/wasi_diff.py): a case is a list of raw
wasi_snapshot_preview1 calls, written in Python and turned into a WAT module whose
export "run" makes the calls in order and stores each errno in memory.

    g = Guest()
    fd = g.open(3, "f.txt", base=RW)           # path_open; later steps use the new fd
    g.call("fd_write", fd, g.iovs(g.text("hi")), 1, g.out(4))
    wat = g.wat()

Memory is one page: results (one u32 per step, 0xFFFFFFFF until the step returns) at 0,
scratch outputs from OUT, data from DATA. A step that traps leaves its slot and all later
ones at 0xFFFFFFFF, so the runner can tell which call trapped.
"""
from __future__ import annotations

from fayasm.runtime.types import ValType
from fayasm.runtime.wasi import MODULE, signature

PAGE = 65536
OUT, DATA = 512, 8192
UNSET = 0xFFFFFFFF
MAX_STEPS = OUT // 4

# Rights as path_open takes them (the bits of wasi_snapshot_preview1's $rights).
FD_DATASYNC, FD_READ, FD_SEEK, FD_FDSTAT_SET_FLAGS = 1, 2, 4, 8
FD_SYNC, FD_TELL, FD_WRITE, FD_ADVISE, FD_ALLOCATE = 16, 32, 64, 128, 256
FD_READDIR = 1 << 14
FD_FILESTAT_GET, FD_FILESTAT_SET_SIZE, FD_FILESTAT_SET_TIMES = 1 << 21, 1 << 22, 1 << 23
POLL_FD_READWRITE = 1 << 27
ALL = (1 << 30) - 1
# What wasi-libc's open() asks for: O_RDONLY everything but the rights to change the
# file's data, O_RDWR everything.
RO = ALL & ~(FD_DATASYNC | FD_WRITE | FD_ALLOCATE | FD_FILESTAT_SET_SIZE)
RW = ALL
# oflags, fdflags, lookupflags, fstflags
CREAT, DIRECTORY, EXCL, TRUNC = 1, 2, 4, 8
APPEND, DSYNC, NONBLOCK, RSYNC, SYNC = 1, 2, 4, 8, 16
FOLLOW = 1
ATIM, ATIM_NOW, MTIM, MTIM_NOW = 1, 2, 4, 8


class Load:
    """An argument read from guest memory when the step runs (an fd an earlier
    path_open wrote, for instance)."""

    def __init__(self, addr: int):
        self.addr = addr


class Guest:
    """Builds one case's module: data placed in memory, then the calls."""

    def __init__(self):
        self.steps: list[tuple[str, list]] = []
        self.data: list[tuple[int, bytes]] = []
        self._data_at = DATA
        self._out_at = OUT

    # -- memory ---------------------------------------------------------------------------

    def bytes(self, data: bytes, at: int | None = None) -> int:
        """Place ``data`` (at ``at``, else at the next 8-aligned data address)."""
        if at is None:
            at = self._data_at
            self._data_at = (at + len(data) + 7) & ~7
        self.data.append((at, bytes(data)))
        return at

    def text(self, s: str | bytes) -> tuple[int, int]:
        """A string's (pointer, length), spliced into a call's arguments."""
        raw = s.encode() if isinstance(s, str) else s
        return self.bytes(raw), len(raw)

    def iovs(self, *bufs: tuple[int, int], at: int | None = None) -> int:
        """An iovec array of (pointer, length) pairs."""
        raw = b"".join(p.to_bytes(4, "little") + n.to_bytes(4, "little") for p, n in bufs)
        return self.bytes(raw, at)

    def u32s(self, *values: int) -> int:
        return self.bytes(b"".join(v.to_bytes(4, "little") for v in values))

    def out(self, n: int = 8) -> int:
        """Scratch space for a call's results (8-aligned)."""
        at = self._out_at
        self._out_at = (at + n + 7) & ~7
        if self._out_at > DATA:
            raise ValueError("scratch space exhausted")
        return at

    # -- calls ----------------------------------------------------------------------------

    def call(self, name: str, *args) -> int:
        """Add a call; tuples in ``args`` are spliced (a (pointer, length) pair)."""
        flat = []
        for a in args:
            flat.extend(a if isinstance(a, tuple) else (a,))
        want = len(signature(name).params)
        if len(flat) != want:
            raise ValueError(f"{name} takes {want} arguments, got {len(flat)}")
        if len(self.steps) >= MAX_STEPS:
            raise ValueError("too many steps")
        self.steps.append((name, flat))
        return len(self.steps) - 1

    def open(self, dirfd, path: str, oflags: int = 0, base: int = RO, fdflags: int = 0,
             lookup: int = 0, inheriting: int = 0) -> Load:
        """path_open as a step; the new descriptor, as an argument for later steps."""
        fd_out = self.out(4)
        self.call("path_open", dirfd, lookup, self.text(path), oflags, base, inheriting,
                  fdflags, fd_out)
        return Load(fd_out)

    # -- the module -----------------------------------------------------------------------

    def wat(self) -> str:
        used = sorted({name for name, _ in self.steps})
        lines = ["(module"]
        for name in used:
            t = signature(name)
            params = " ".join(str(p) for p in t.params)
            result = " (result i32)" if t.results else ""
            lines.append(f'  (import "{MODULE}" "{name}" (func ${name} (param {params}){result}))')
        lines.append('  (memory (export "memory") 1)')
        lines.append(f'  (data (i32.const 0) "{_escape(bytes([0xFF]) * (4 * len(self.steps)))}")')
        for at, raw in self.data:
            lines.append(f'  (data (i32.const {at}) "{_escape(raw)}")')
        lines.append('  (func (export "run")')
        for k, (name, args) in enumerate(self.steps):
            operands = " ".join(_operand(t, a) for t, a in zip(signature(name).params, args))
            lines.append(f"    (i32.store (i32.const {4 * k}) (call ${name} {operands}))")
        lines.append("  ))")
        return "\n".join(lines)


def _operand(t: ValType, a) -> str:
    if isinstance(a, Load):
        return f"(i32.load (i32.const {a.addr}))"
    if t is ValType.I64:
        return f"(i64.const {a & 0xFFFFFFFFFFFFFFFF})"
    return f"(i32.const {a & 0xFFFFFFFF})"


def _escape(raw: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in raw)


def results(memory: bytes, steps: int) -> list:
    """Each step's errno from the results area; "trap" for the step that trapped (the
    first one left unset) and None for the steps after it."""
    out: list = []
    for k in range(steps):
        v = int.from_bytes(memory[4 * k:4 * k + 4], "little")
        if v == UNSET:
            out.append("trap")
            out.extend([None] * (steps - k - 1))
            break
        out.append(v)
    return out


__all__ = ["Guest", "Load", "results", "PAGE", "OUT", "DATA", "RO", "RW", "ALL"]
