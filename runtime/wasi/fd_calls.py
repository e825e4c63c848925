"""The fd_* calls of WASI preview 1: reading, writing, seeking, metadata and directory
listing on open descriptors.

Each call takes the Wasi state and the raw wasm arguments (unsigned ints, whose flags and
enums abi.py has checked) and returns a WASI errno; results go to guest memory through
guest.py, which checks every pointer. A call that needs a file (advice, allocation, sync,
sizes, flags) answers EBADF for a stream or a directory, as wasmtime does.
"""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .constants import (
    DIRENT,
    EBADF,
    EINVAL,
    ENAMETOOLONG,
    ENOTCAPABLE,
    ENOTDIR,
    ENOTSUP,
    EPERM,
    ESPIPE,
    FDFLAG_APPEND,
    FDFLAG_NONBLOCK,
    FDSTAT,
    FILESTAT,
    FILETYPE_DIRECTORY,
    FILETYPE_REGULAR_FILE,
    FILETYPE_SYMBOLIC_LINK,
    FSTFLAG_ATIM,
    FSTFLAG_ATIM_NOW,
    FSTFLAG_MTIM,
    FSTFLAG_MTIM_NOW,
    FSTFLAGS_ALL,
    PREOPENTYPE_DIR,
    PRESTAT,
    R_FD_ADVISE,
    R_FD_ALLOCATE,
    R_FD_DATASYNC,
    R_FD_FDSTAT_SET_FLAGS,
    R_FD_FILESTAT_GET,
    R_FD_FILESTAT_SET_SIZE,
    R_FD_FILESTAT_SET_TIMES,
    R_FD_READ,
    R_FD_READDIR,
    R_FD_SEEK,
    R_FD_SYNC,
    R_FD_TELL,
    R_FD_WRITE,
    SUCCESS,
    WHENCE_CUR,
)
from .guest import (
    WasiErrno,
    check,
    check_structs,
    check_u32,
    check_u64,
    iovecs,
    write_bytes,
    write_struct,
    write_u32,
    write_u64,
)
from .handles import DirHandle, FileHandle, Handle, StreamHandle
from .streams import filetype_of

_I64_MAX = (1 << 63) - 1
_ADVICE = [getattr(os, "POSIX_FADV_" + n, None) for n in
           ("NORMAL", "SEQUENTIAL", "RANDOM", "WILLNEED", "DONTNEED", "NOREUSE")]

if TYPE_CHECKING:
    from .core import Wasi


def _need(h: Handle, rights: int) -> None:
    if rights & ~h.rights_base:
        raise WasiErrno(ENOTCAPABLE)


def _signed64(v: int) -> int:
    return v - (1 << 64) if v & (1 << 63) else v


def _offset(v: int) -> int:
    """A filesize argument the host's off_t can hold (EINVAL beyond)."""
    if v > _I64_MAX:
        raise WasiErrno(EINVAL)
    return v


def filestat_values(st: os.stat_result) -> tuple[int, ...]:
    """The FILESTAT fields of a host stat result."""
    return (st.st_dev, st.st_ino, filetype_of(st.st_mode), st.st_nlink, st.st_size,
            st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)


def pack_filestat(view: memoryview, ptr: int, st: os.stat_result) -> None:
    mask = (1 << 64) - 1
    dev, ino, ftype, nlink, size, atim, mtim, ctim = filestat_values(st)
    write_struct(view, ptr, FILESTAT, dev & mask, ino & mask, ftype, nlink & mask,
                 size & mask, atim & mask, mtim & mask, ctim & mask)


def new_times(st: os.stat_result, atim: int, mtim: int, flags: int) -> tuple[int, int]:
    """The (atime, mtime) in ns that fd/path_filestat_set_times ask for; a time not named by
    ``flags`` keeps its current value from ``st``."""
    if flags & ~FSTFLAGS_ALL:
        raise WasiErrno(EINVAL)
    if (flags & FSTFLAG_ATIM and flags & FSTFLAG_ATIM_NOW) or \
            (flags & FSTFLAG_MTIM and flags & FSTFLAG_MTIM_NOW):
        raise WasiErrno(EINVAL)  # a time cannot be both given and "now"
    now = time.time_ns()
    a = atim if flags & FSTFLAG_ATIM else now if flags & FSTFLAG_ATIM_NOW else st.st_atime_ns
    m = mtim if flags & FSTFLAG_MTIM else now if flags & FSTFLAG_MTIM_NOW else st.st_mtime_ns
    return _offset(a), _offset(m)


# ---------------------------------------------------------------------------------------

def fd_advise(w: Wasi, fd: int, offset: int, length: int, advice: int) -> int:
    h = w.fds.file(fd, R_FD_ADVISE)
    _offset(offset), _offset(length)
    host = _ADVICE[advice]
    # Advice is only a hint: where the host has no posix_fadvise, ignoring it is correct.
    if host is not None and hasattr(os, "posix_fadvise"):
        os.posix_fadvise(h.fd, offset, length, host)
    return SUCCESS


def fd_allocate(w: Wasi, fd: int, offset: int, length: int) -> int:
    # wasmtime answers ENOTSUP to every fd_allocate; fayasm allocates (docs/wasi.md).
    h = w.fds.file(fd, R_FD_ALLOCATE)
    if not h.writable:
        return EBADF
    if not hasattr(os, "posix_fallocate"):
        return ENOTSUP
    os.posix_fallocate(h.fd, _offset(offset), _offset(length))
    return SUCCESS


def fd_close(w: Wasi, fd: int) -> int:
    w.fds.close(fd)
    return SUCCESS


def _sync(w: Wasi, fd: int, right: int, data_only: bool) -> int:
    # A directory can be synced too (how POSIX programs make a rename durable); wasmtime
    # answers EBADF for one (docs/wasi.md). A stream cannot.
    h = w.fds.get(fd)
    if isinstance(h, StreamHandle):
        return EBADF
    _need(h, right)
    assert isinstance(h, (FileHandle, DirHandle))  # the other handles are streams
    (os.fdatasync if data_only and hasattr(os, "fdatasync") else os.fsync)(h.fd)
    return SUCCESS


def fd_datasync(w: Wasi, fd: int) -> int:
    return _sync(w, fd, R_FD_DATASYNC, True)


def fd_sync(w: Wasi, fd: int) -> int:
    return _sync(w, fd, R_FD_SYNC, False)


def fd_fdstat_get(w: Wasi, fd: int, ptr: int) -> int:
    h = w.fds.get(fd)
    write_struct(w.view(), ptr, FDSTAT, h.filetype, h.fdflags, h.rights_base,
                 h.rights_inheriting)
    return SUCCESS


def fd_fdstat_set_flags(w: Wasi, fd: int, flags: int) -> int:
    # Only a file's flags change: setting O_NONBLOCK on the process's own stdin would
    # change it for everyone sharing it (EBADF for streams and directories, as wasmtime).
    h = w.fds.file(fd)
    if flags & ~(FDFLAG_APPEND | FDFLAG_NONBLOCK):
        return EINVAL  # the sync flags can only be chosen at path_open, as in wasmtime
    _need(h, R_FD_FDSTAT_SET_FLAGS)
    # O_APPEND on a file of a read-only preopen changes nothing: it was opened read-only.
    host = fcntl.fcntl(h.fd, fcntl.F_GETFL)
    host &= ~(os.O_APPEND | os.O_NONBLOCK)
    host |= (os.O_APPEND if flags & FDFLAG_APPEND else 0)
    host |= (os.O_NONBLOCK if flags & FDFLAG_NONBLOCK else 0)
    fcntl.fcntl(h.fd, fcntl.F_SETFL, host)
    h.fdflags = flags
    return SUCCESS


def fd_fdstat_set_rights(w: Wasi, fd: int, base: int, inheriting: int) -> int:
    h = w.fds.get(fd)
    # Rights can only be dropped, never gained.
    if base & ~h.rights_base or inheriting & ~h.rights_inheriting:
        return ENOTCAPABLE
    h.rights_base, h.rights_inheriting = base, inheriting
    return SUCCESS


def fd_filestat_get(w: Wasi, fd: int, ptr: int) -> int:
    h = w.fds.get(fd, R_FD_FILESTAT_GET)
    view = w.view()
    check_structs(view, ptr, FILESTAT)
    host = h.host_fd()
    if host is None:  # a stream with no host descriptor (io.BytesIO): only its type
        write_struct(view, ptr, FILESTAT, 0, 0, h.filetype, 1, 0, 0, 0, 0)
        return SUCCESS
    pack_filestat(view, ptr, os.fstat(host))
    return SUCCESS


def fd_filestat_set_size(w: Wasi, fd: int, size: int) -> int:
    h = w.fds.file(fd, R_FD_FILESTAT_SET_SIZE)
    if h.readonly:
        return EPERM
    if not h.writable:
        return EINVAL  # ftruncate's answer for a descriptor not open for writing
    os.ftruncate(h.fd, _offset(size))
    return SUCCESS


def fd_filestat_set_times(w: Wasi, fd: int, atim: int, mtim: int, flags: int) -> int:
    h = w.fds.get(fd)
    if isinstance(h, StreamHandle):
        return EBADF
    _need(h, R_FD_FILESTAT_SET_TIMES)
    host = h.host_fd()
    if host is None:  # only a stream has none
        return EBADF
    if h.readonly:
        return EPERM
    a, m = new_times(os.fstat(host), atim, mtim, flags)
    os.utime(host, ns=(a, m))
    return SUCCESS


def _readable(w: Wasi, fd: int, rights: int) -> StreamHandle | FileHandle:
    h = w.fds.data(fd)
    if not h.readable:
        raise WasiErrno(EBADF)
    _need(h, rights)
    return h


def _writable(w: Wasi, fd: int, rights: int) -> StreamHandle | FileHandle:
    h = w.fds.data(fd)
    if not h.writable:
        raise WasiErrno(EBADF)
    _need(h, rights)
    return h


def _scatter(bufs: Iterable[memoryview], data: bytes) -> None:
    at = 0
    for b in bufs:
        if at >= len(data):
            break
        chunk = data[at:at + len(b)]
        b[:len(chunk)] = chunk
        at += len(chunk)


# The iovecs are checked before the descriptor, the result pointer after it, as wasmtime
# orders them (wasmtime uses only the first non-empty iovec; fayasm uses them all).

def fd_read(w: Wasi, fd: int, iovs: int, iovs_len: int, nread_ptr: int) -> int:
    view = w.view()
    bufs = iovecs(view, iovs, iovs_len)
    h = _readable(w, fd, R_FD_READ)
    check_u32(view, nread_ptr)
    if not bufs:
        n = 0
    elif isinstance(h, StreamHandle):
        data = h.stream.read(sum(len(b) for b in bufs))
        _scatter(bufs, data)
        n = len(data)
    else:
        n = os.readv(h.fd, bufs)
    write_u32(view, nread_ptr, n)
    return SUCCESS


def fd_pread(w: Wasi, fd: int, iovs: int, iovs_len: int, offset: int, nread_ptr: int) -> int:
    view = w.view()
    bufs = iovecs(view, iovs, iovs_len)
    h = w.fds.data(fd)
    if isinstance(h, StreamHandle):
        return ESPIPE
    h = _readable(w, fd, R_FD_READ | R_FD_SEEK)
    assert isinstance(h, FileHandle)  # not a stream (above)
    check_u32(view, nread_ptr)
    offset = _offset(offset)
    if not bufs:
        n = 0
    elif hasattr(os, "preadv"):
        n = os.preadv(h.fd, bufs, offset)
    else:
        data = os.pread(h.fd, sum(len(b) for b in bufs), offset)
        _scatter(bufs, data)
        n = len(data)
    write_u32(view, nread_ptr, n)
    return SUCCESS


def fd_write(w: Wasi, fd: int, iovs: int, iovs_len: int, nwritten_ptr: int) -> int:
    view = w.view()
    bufs = iovecs(view, iovs, iovs_len)
    h = _writable(w, fd, R_FD_WRITE)
    check_u32(view, nwritten_ptr)
    if not bufs:
        n = 0
    elif isinstance(h, StreamHandle):
        n = h.stream.write(b"".join(bufs))
    else:
        n = os.writev(h.fd, bufs)
    write_u32(view, nwritten_ptr, n)
    return SUCCESS


def fd_pwrite(w: Wasi, fd: int, iovs: int, iovs_len: int, offset: int, nwritten_ptr: int) -> int:
    view = w.view()
    bufs = iovecs(view, iovs, iovs_len)
    h = w.fds.data(fd)
    if isinstance(h, StreamHandle):
        return ESPIPE
    h = _writable(w, fd, R_FD_WRITE | R_FD_SEEK)
    assert isinstance(h, FileHandle)  # not a stream (above)
    check_u32(view, nwritten_ptr)
    offset = _offset(offset)
    if not bufs:
        n = 0
    elif hasattr(os, "pwritev"):
        n = os.pwritev(h.fd, bufs, offset)
    else:
        n = os.pwrite(h.fd, b"".join(bufs), offset)
    write_u32(view, nwritten_ptr, n)
    return SUCCESS


def fd_seek(w: Wasi, fd: int, offset: int, whence: int, newoffset_ptr: int) -> int:
    h = w.fds.data(fd)
    if isinstance(h, StreamHandle):
        return ESPIPE
    offset = _signed64(offset)
    # Asking where we are (offset 0 from the current position) only needs FD_TELL.
    _need(h, R_FD_TELL if whence == WHENCE_CUR and offset == 0 else R_FD_SEEK)
    view = w.view()
    check_u64(view, newoffset_ptr)
    pos = os.lseek(h.fd, offset, (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END)[whence])
    write_u64(view, newoffset_ptr, pos)
    return SUCCESS


def fd_tell(w: Wasi, fd: int, ptr: int) -> int:
    h = w.fds.data(fd)
    if isinstance(h, StreamHandle):
        return ESPIPE
    _need(h, R_FD_TELL)
    view = w.view()
    check_u64(view, ptr)
    write_u64(view, ptr, os.lseek(h.fd, 0, os.SEEK_CUR))
    return SUCCESS


def fd_prestat_get(w: Wasi, fd: int, ptr: int) -> int:
    h = w.fds.handles.get(fd)
    # wasi-libc scans fds from 3 up until EBADF to find the preopens, so every descriptor
    # that is not a preopen answers EBADF.
    if not isinstance(h, DirHandle) or h.preopen is None:
        return EBADF
    write_struct(w.view(), ptr, PRESTAT, PREOPENTYPE_DIR, len(h.preopen.encode("utf-8")))
    return SUCCESS


def fd_prestat_dir_name(w: Wasi, fd: int, path: int, path_len: int) -> int:
    h = w.fds.handles.get(fd)
    if h is None:
        return EBADF
    if not isinstance(h, DirHandle) or h.preopen is None:
        return ENOTDIR  # wasmtime's answer (fd_prestat_get's is EBADF)
    name = h.preopen.encode("utf-8")
    if path_len < len(name):
        return ENAMETOOLONG
    write_bytes(w.view(), path, name)
    return SUCCESS


def fd_renumber(w: Wasi, fd: int, to: int) -> int:
    w.fds.renumber(fd, to)
    return SUCCESS


# -- fd_readdir --------------------------------------------------------------------------

def _entry_type(entry: os.DirEntry[str]) -> int:
    try:
        if entry.is_symlink():
            return FILETYPE_SYMBOLIC_LINK
        if entry.is_dir(follow_symlinks=False):
            return FILETYPE_DIRECTORY
        if entry.is_file(follow_symlinks=False):
            return FILETYPE_REGULAR_FILE
        return filetype_of(entry.stat(follow_symlinks=False).st_mode)
    except OSError:
        return 0  # vanished since the listing: unknown


def list_dir(h: DirHandle) -> list[tuple[bytes, int, int]]:
    """(name, inode, file type) of every entry, "." and ".." first, the rest sorted by
    name so that a listing does not depend on the host file system's order."""
    me = os.fstat(h.fd).st_ino
    if h.preopen is not None:
        parent = me  # the sandbox root is its own parent, as "/" is
    else:
        try:
            parent = os.stat("..", dir_fd=h.fd).st_ino
        except OSError:
            parent = me
    out = [(b".", me, FILETYPE_DIRECTORY), (b"..", parent, FILETYPE_DIRECTORY)]
    with os.scandir(h.fd) as it:
        rest = [(os.fsencode(e.name), e.inode(), _entry_type(e)) for e in it]
    rest.sort()
    return out + rest


def fd_readdir(w: Wasi, fd: int, buf: int, buf_len: int, cookie: int, bufused_ptr: int) -> int:
    h = w.fds.dir(fd, R_FD_READDIR)
    view = w.view()
    check(view, buf, buf_len)
    check_u32(view, bufused_ptr)
    if cookie == 0 or h.entries is None:
        h.entries = list_dir(h)
    # Entries from the cookie on, each a dirent then its name; the buffer is filled
    # completely, the last entry cut if need be (the guest retries with a bigger buffer).
    out = bytearray()
    mask = (1 << 64) - 1
    for k in range(cookie, len(h.entries)):
        name, ino, ftype = h.entries[k]
        out += DIRENT.pack(k + 1, ino & mask, len(name), ftype)
        out += name
        if len(out) >= buf_len:
            break
    data = bytes(out[:buf_len])
    view[buf:buf + len(data)] = data
    write_u32(view, bufused_ptr, len(data))
    return SUCCESS


# name -> (wasm parameter types, function); every call returns an errno (i32).
CALLS: dict[str, tuple[str, Callable[..., int]]] = {
    "fd_advise": ("iIIi", fd_advise),
    "fd_allocate": ("iII", fd_allocate),
    "fd_close": ("i", fd_close),
    "fd_datasync": ("i", fd_datasync),
    "fd_fdstat_get": ("ii", fd_fdstat_get),
    "fd_fdstat_set_flags": ("ii", fd_fdstat_set_flags),
    "fd_fdstat_set_rights": ("iII", fd_fdstat_set_rights),
    "fd_filestat_get": ("ii", fd_filestat_get),
    "fd_filestat_set_size": ("iI", fd_filestat_set_size),
    "fd_filestat_set_times": ("iIIi", fd_filestat_set_times),
    "fd_pread": ("iiiIi", fd_pread),
    "fd_prestat_get": ("ii", fd_prestat_get),
    "fd_prestat_dir_name": ("iii", fd_prestat_dir_name),
    "fd_pwrite": ("iiiIi", fd_pwrite),
    "fd_read": ("iiii", fd_read),
    "fd_readdir": ("iiiIi", fd_readdir),
    "fd_renumber": ("ii", fd_renumber),
    "fd_seek": ("iIii", fd_seek),
    "fd_sync": ("i", fd_sync),
    "fd_tell": ("ii", fd_tell),
    "fd_write": ("iiii", fd_write),
}
