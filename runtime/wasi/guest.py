"""Bounds-checked access to the guest's linear memory for the WASI calls.

Every pointer a guest passes is checked against the memory's current size before it is
used; a bad one makes the call return EFAULT (wasmtime traps instead; the errno is what
POSIX and the WASI errno list define for a bad address, and it leaves the guest able to
report the error). Checks happen before any side effect, so a call that fails with EFAULT
has done nothing.
"""
from __future__ import annotations

from .constants import EFAULT, EILSEQ, EINVAL, IOVEC, U32, U64


class WasiErrno(Exception):
    """Internal: ends a WASI call early with ``errno`` as its result."""

    def __init__(self, errno: int):
        super().__init__(errno)
        self.errno = errno


def check(view: memoryview, ptr: int, size: int) -> None:
    """Fail with EFAULT unless [ptr, ptr + size) lies inside memory."""
    if ptr + size > len(view):
        raise WasiErrno(EFAULT)


def read_u32(view: memoryview, ptr: int) -> int:
    check(view, ptr, 4)
    return U32.unpack_from(view, ptr)[0]


def write_u32(view: memoryview, ptr: int, value: int) -> None:
    check(view, ptr, 4)
    U32.pack_into(view, ptr, value & 0xFFFFFFFF)


def write_u64(view: memoryview, ptr: int, value: int) -> None:
    check(view, ptr, 8)
    U64.pack_into(view, ptr, value & 0xFFFFFFFFFFFFFFFF)


def write_struct(view: memoryview, ptr: int, st, *values) -> None:
    check(view, ptr, st.size)
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
    check(view, ptr, count * IOVEC.size)
    out = []
    size = len(view)
    for k in range(min(count, IOV_MAX)):
        buf, length = IOVEC.unpack_from(view, ptr + k * IOVEC.size)
        if buf + length > size:
            raise WasiErrno(EFAULT)
        if length:
            out.append(view[buf:buf + length])
    # The rest of the array must still be valid memory even if not used.
    for k in range(IOV_MAX, count):
        buf, length = IOVEC.unpack_from(view, ptr + k * IOVEC.size)
        if buf + length > size:
            raise WasiErrno(EFAULT)
    return out


def string_table(items: list[bytes]) -> tuple[int, int]:
    """(count, total size with NUL terminators) of argv or environ."""
    return len(items), sum(len(s) + 1 for s in items)


def write_string_table(view: memoryview, ptrs: int, buf: int, items: list[bytes]) -> None:
    """Write argv/environ as args_get/environ_get do: a pointer per item at ``ptrs``,
    the NUL-terminated strings packed at ``buf``."""
    count, size = string_table(items)
    check(view, ptrs, 4 * count)
    check(view, buf, size)
    at = buf
    for k, s in enumerate(items):
        U32.pack_into(view, ptrs + 4 * k, at)
        view[at:at + len(s)] = s
        view[at + len(s)] = 0
        at += len(s) + 1
