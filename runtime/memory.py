"""Linear memory: one mmap reservation whose base address never moves.

The whole maximum size is reserved up front; pages past the current size are PROT_NONE
and become readable and writable (mprotect) as the memory grows. The base address is
therefore stable for native code, and ``buffer`` views stay zero-copy. Python's mmap owns
the mapping, so a view a user keeps also keeps the mapping alive.

``size_address`` is the address of a native 64-bit cell holding the current size in
bytes, kept in sync by ``grow``: native code (the JIT) reads it, so growth by any engine
or by Python is seen by all of them.

A 32-bit memory reserves more than its maximum when it can: ``GUARD_SPAN``, the whole
reach of ``zext(address) + offset + access`` (33 bits) plus a guard page, all PROT_NONE
past the current size. Such a memory is ``guarded``: native code may access it without a
bounds check, since any access past the end faults inside the reservation, and the jit's
fault handler turns that fault into the trap. ``FAYASM_GUARD_PAGES=0``, a failed
reservation (a low ``ulimit -v``, address space used up) and memory64 give the plain
reservation of the maximum (``guarded`` False): engines then check every access.
"""
from __future__ import annotations

import ctypes
import mmap
import os
from typing import TYPE_CHECKING

from .checks import whole
from .errors import MEM_OOB, ArgumentError, ArgumentTypeError, Error, Trap
from .limits import MAX_MEMORY64_PAGES
from .types import MAX_PAGES, MAX_PAGES64, PAGE_SIZE, Limits, MemoryType, ValType, address_type

if TYPE_CHECKING:
    from .resources import Account

_MAP_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000)  # Linux value; Python 3.11 lacks it
_PROT_NONE, _PROT_RW = 0, mmap.PROT_READ | mmap.PROT_WRITE

_libc = ctypes.CDLL(None, use_errno=True)
_mprotect = _libc.mprotect
_mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_mprotect.restype = ctypes.c_int

_memset, _memmove = ctypes.memset, ctypes.memmove

OOB = MEM_OOB
# The reservation of a guarded 32-bit memory: a u32 address plus a u32 offset plus a
# 16-byte access ends below 2**33 + 16; one more page of guard rounds it.
GUARD_SPAN = (1 << 33) + PAGE_SIZE


# FAYASM_GUARD_PAGES=0: no guarded reservations. Read once: generated Python making a
# memory calls nothing outside the runtime (tests/test_hostile_names.py watches).
GUARD_PAGES = os.environ.get("FAYASM_GUARD_PAGES", "1") != "0"


def guard_pages_wanted() -> bool:
    """Whether new 32-bit memories try the guarded reservation (``GUARD_PAGES``)."""
    return GUARD_PAGES


def _reserve(length: int) -> mmap.mmap:
    return mmap.mmap(-1, length, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _MAP_NORESERVE,
                     prot=_PROT_RW)
_max, _min = max, min  # Memory.__init__ takes parameters named min and max, as the spec does


class Memory:
    """A linear memory of ``size`` 64 KiB pages. ``view`` is the engines' current memoryview.
    ``address="i64"`` makes a memory64 memory (i64 addresses, limits up to 2**48 pages;
    it grows up to runtime.limits.MAX_MEMORY64_PAGES here)."""

    __slots__ = ("type", "_map", "address", "view", "pages", "max", "_reserved", "_cell",
                 "_account", "guarded", "__weakref__")

    def __init__(self, min: int | MemoryType = 0, max: int | None = None,
                 address: str | ValType = "i32") -> None:
        if isinstance(min, MemoryType):
            lim = min.limits
            address = min.address
            min, max = lim.min, lim.max
        at = address_type(address)
        top = MAX_PAGES64 if at is ValType.I64 else MAX_PAGES
        whole(min, "a memory's minimum (pages)")
        if max is not None:
            whole(max, "a memory's maximum (pages)")
        if min < 0 or min > top or (max is not None and not min <= max <= top):
            raise ArgumentError(f"invalid memory limits: min {min} pages, max {max} "
                                f"(at most {top}, and min <= max)")
        self.type = MemoryType(Limits(min, max), at)
        # The instance's resources.Account that charges its growth.
        self._account: Account | None = None
        self.max = top if max is None else max
        if at is ValType.I64:  # an implementation limit: the reservation stays bounded
            self.max = _min(self.max, MAX_MEMORY64_PAGES)
            if min > self.max:
                raise Error(f"a memory of {min} pages exceeds the implementation limit of "
                            f"{MAX_MEMORY64_PAGES} pages")
        # Reserve at least one page so that mmap never sees a zero length.
        self._reserved = _max(self.max, 1) * PAGE_SIZE
        self.guarded = False
        m = None
        if at is ValType.I32 and guard_pages_wanted():
            try:
                m = _reserve(GUARD_SPAN)
                self._reserved, self.guarded = GUARD_SPAN, True
            except OSError:
                m = None  # the plain reservation below; engines check each access
        if m is None:
            try:
                m = _reserve(self._reserved)
            except OSError as e:
                raise Error(f"cannot reserve {self._reserved} bytes for a memory: {e}") from None
        self._map = m
        probe = ctypes.c_char.from_buffer(self._map)
        self.address = ctypes.addressof(probe)
        del probe
        self.pages = min
        size = min * PAGE_SIZE
        self._cell = ctypes.c_uint64(size)
        if size < self._reserved:
            self._protect(size, self._reserved - size, _PROT_NONE)
        self.view = memoryview(self._map)[:size]

    def _protect(self, start: int, length: int, prot: int) -> None:
        if length and _mprotect(self.address + start, length, prot) != 0:
            raise Error(f"mprotect failed: errno {ctypes.get_errno()}")

    @property
    def size(self) -> int:
        """Current size in pages."""
        return self.pages

    @property
    def size_address(self) -> int:
        """Address of the native cell holding the current size in bytes (see above)."""
        return ctypes.addressof(self._cell)

    @property
    def reservation(self) -> int:
        """Bytes of address space reserved from ``address`` (GUARD_SPAN when guarded)."""
        return self._reserved

    @property
    def data_size(self) -> int:
        """Current size in bytes."""
        return self.pages * PAGE_SIZE

    @property
    def buffer(self) -> memoryview:
        """A zero-copy view of the whole current memory (``numpy.frombuffer`` works on it)."""
        return self.view

    def grow(self, delta: int) -> int:
        """Grow by ``delta`` pages; return the old size in pages, or -1 if it cannot grow."""
        whole(delta, "the pages to grow by")
        old = self.pages
        new = old + delta
        if delta < 0 or new > self.max:
            return -1
        if delta:
            account = self._account
            if account is not None and not account.grow_memory(delta * PAGE_SIZE):
                return -1
            try:
                self._protect(old * PAGE_SIZE, delta * PAGE_SIZE, _PROT_RW)
            except Error:
                if account is not None:
                    account.shrink_memory(delta * PAGE_SIZE)
                return -1
            self.pages = new
            self.view = memoryview(self._map)[:new * PAGE_SIZE]
            self._cell.value = new * PAGE_SIZE
        return old

    def fill(self, d: int, val: int, n: int) -> None:
        """memory.fill: ``n`` bytes of ``val`` at ``d``, in place (no n-byte temporary)."""
        if d < 0 or n < 0 or d + n > len(self.view):
            raise Trap(OOB)
        _memset(self.address + d, val & 0xFF, n)

    def copy_from(self, src: "Memory", d: int, s: int, n: int) -> None:
        """memory.copy: ``n`` bytes from ``src`` at ``s`` to ``d`` here; overlap is fine."""
        if d < 0 or s < 0 or n < 0 or s + n > len(src.view) or d + n > len(self.view):
            raise Trap(OOB)
        _memmove(self.address + d, src.address + s, n)

    def read(self, addr: int, n: int) -> bytes:
        whole(addr, "an address")
        whole(n, "a length")
        if addr < 0 or n < 0 or addr + n > len(self.view):
            raise Trap(OOB)
        return bytes(self.view[addr:addr + n])

    def write(self, addr: int, data: bytes | bytearray | memoryview) -> None:
        whole(addr, "an address")
        if isinstance(data, (str, int)):
            raise ArgumentTypeError(f"write needs bytes, got {type(data).__name__}")
        try:
            data = bytes(data)
        except TypeError:
            raise ArgumentTypeError(f"write needs bytes, got {type(data).__name__}") from None
        if addr < 0 or addr + len(data) > len(self.view):
            raise Trap(OOB)
        self.view[addr:addr + len(data)] = data

    def __repr__(self) -> str:
        at = ", i64" if self.type.address is ValType.I64 else ""
        return f"<Memory {self.pages} pages, max {self.max}{at}>"

