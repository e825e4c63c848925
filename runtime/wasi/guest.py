"""Bounds- and alignment-checked access to the guest's linear memory for the WASI calls.

A pointer a call needs must lie inside memory and be aligned to its pointee type, or the
call traps, as the WASI ABI says ("If a misaligned pointer is passed to a function, the
function shall trap"; "If an out-of-bounds pointer is passed to a function and the function
needs to dereference it, the function shall trap rather than returning errno.fault") and
wasmtime does. A region of zero bytes is never dereferenced, so it is never checked. The
calls check their pointers before any side effect, so a call that traps has done nothing
(wasmtime checks result pointers after acting: its fd_write with a bad nwritten writes,
then traps).
"""
from __future__ import annotations

import struct

from ..errors import MEM_OOB
from .constants import (
    DIRENT,
    EILSEQ,
    EINVAL,
    EVENT,
    FDSTAT,
    FILESTAT,
    IOVEC,
    PRESTAT,
    SUBSCRIPTION,
    U32,
    U64,
)

# The alignment of each struct in guest memory: that of its widest field.
ALIGN = {FDSTAT: 8, FILESTAT: 8, DIRENT: 8, EVENT: 8, SUBSCRIPTION: 8, IOVEC: 4, PRESTAT: 4}


class WasiErrno(Exception):
    """Internal: ends a WASI call early with ``errno`` as its result."""

    def __init__(self, errno: int):
        super().__init__(errno)
        self.errno = errno


class GuestTrap(Exception):
    """Internal: ends a WASI call with a trap (the Wasi object names the call in it)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


def check(view: memoryview, ptr: int, size: int, align: int = 1) -> None:
    """Trap unless [ptr, ptr + size) lies inside memory and ptr is a multiple of
    ``align``; an empty region passes."""
    if size == 0:
        return
    if ptr % align:
        raise GuestTrap(f"misaligned pointer: {ptr:#x} is not {align}-byte aligned",
                        "wasi_misaligned_pointer")
    if ptr + size > len(view):
        raise GuestTrap(f"{MEM_OOB}: {size} bytes at {ptr:#x} "
                        f"(memory is {len(view)} bytes)", "memory_out_of_bounds")


def check_u32(view: memoryview, ptr: int) -> None:
    """A u32 result the call will write (a size, an fd)."""
    check(view, ptr, 4, 4)


def check_u64(view: memoryview, ptr: int) -> None:
    """A u64 result the call will write (a timestamp, a file offset)."""
    check(view, ptr, 8, 8)


def check_structs(view: memoryview, ptr: int, st: struct.Struct, count: int = 1) -> None:
    """An array of ``count`` structs ``st`` (FILESTAT, EVENT, ...)."""
    check(view, ptr, count * st.size, ALIGN[st])


def read_u32(view: memoryview, ptr: int) -> int:
    check(view, ptr, 4, 4)
    return U32.unpack_from(view, ptr)[0]


def write_u32(view: memoryview, ptr: int, value: int) -> None:
    check(view, ptr, 4, 4)
    U32.pack_into(view, ptr, value & 0xFFFFFFFF)


def write_u64(view: memoryview, ptr: int, value: int) -> None:
    check(view, ptr, 8, 8)
    U64.pack_into(view, ptr, value & 0xFFFFFFFFFFFFFFFF)


def write_struct(view: memoryview, ptr: int, st: struct.Struct, *values: object) -> None:
    check(view, ptr, st.size, ALIGN[st])
    st.pack_into(view, ptr, *values)


def read_bytes(view: memoryview, ptr: int, n: int) -> bytes:
    check(view, ptr, n)
    return bytes(view[ptr:ptr + n])


def write_bytes(view: memoryview, ptr: int, data: bytes) -> None:
    check(view, ptr, len(data))
    view[ptr:ptr + len(data)] = data


def read_string(view: memoryview, ptr: int, n: int) -> str:
    """A path or name the guest passes: UTF-8 (EILSEQ if not), without NUL bytes (EINVAL:
    the host's C calls would silently cut the string there)."""
    raw = read_bytes(view, ptr, n)
    if b"\0" in raw:
        raise WasiErrno(EINVAL)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WasiErrno(EILSEQ) from None


# Linux's IOV_MAX; a longer list is cut, which readv/writev semantics allow (a short
# transfer), and the guest's libc loops.
IOV_MAX = 1024


def iovecs(view: memoryview, ptr: int, count: int) -> list[memoryview]:
    """The buffers of an iovec/ciovec array as writable slices of memory (zero-copy, so
    os.readv and os.writev move bytes straight between the host and the guest)."""
    check(view, ptr, count * IOVEC.size, ALIGN[IOVEC])
    out = []
    # Entries past IOV_MAX are never used, so never dereferenced (nor checked: a long
    # array in a big memory would otherwise cost a loop per entry).
    for k in range(min(count, IOV_MAX)):
        buf, length = IOVEC.unpack_from(view, ptr + k * IOVEC.size)
        check(view, buf, length)
        if length:
            out.append(view[buf:buf + length])
    return out


def string_table(items: list[bytes]) -> tuple[int, int]:
    """(count, total size with NUL terminators) of argv or environ."""
    return len(items), sum(len(s) + 1 for s in items)


def write_string_table(view: memoryview, ptrs: int, buf: int, items: list[bytes]) -> None:
    """Write argv/environ as args_get/environ_get do: a pointer per item at ``ptrs``,
    the NUL-terminated strings packed at ``buf``."""
    count, size = string_table(items)
    check(view, ptrs, 4 * count, 4)
    check(view, buf, size)
    at = buf
    for k, s in enumerate(items):
        U32.pack_into(view, ptrs + 4 * k, at)
        view[at:at + len(s)] = s
        view[at + len(s)] = 0
        at += len(s) + 1
