"""The guest's file descriptor table and what each descriptor holds: a standard stream,
a host file, or a host directory (which is also the root of every path resolved from it).
"""
from __future__ import annotations

import os
from typing import TypeVar

from .constants import (
    DIR_RIGHTS,
    EBADF,
    EMFILE,
    ENOTCAPABLE,
    EPERM,
    FILE_RIGHTS,
    FILETYPE_DIRECTORY,
    R_FD_READ,
    R_FD_WRITE,
    STREAM_RIGHTS,
)
from .guest import WasiErrno
from .streams import Stream, filetype_of

O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
MAX_FDS = 1024  # a guest cannot hold more host descriptors than this (EMFILE)


_H = TypeVar("_H", bound="Handle")


class Handle:
    """What a guest fd refers to; rights and fdflags as WASI reports them."""

    filetype = 0
    readonly = False
    readable = writable = False

    def __init__(self, rights_base: int, rights_inheriting: int, fdflags: int = 0):
        self.rights_base = rights_base
        self.rights_inheriting = rights_inheriting
        self.fdflags = fdflags
        # Where the descriptor came from, for snapshots (wasi/snapshot.py): ("stdio", n),
        # ("preopen", guest name) or ("path", guest name, path below it, follow).
        self.origin: tuple | None = None

    def host_fd(self) -> int | None:
        return None

    def close(self) -> None:
        pass


class StreamHandle(Handle):
    """fd 0, 1 or 2: a Stream, never seekable (like a terminal or a pipe)."""

    def __init__(self, stream: Stream, readable: bool):
        rights = STREAM_RIGHTS & ~(R_FD_WRITE if readable else R_FD_READ)
        super().__init__(rights, 0)
        self.stream = stream
        self.readable = readable
        self.writable = not readable
        self.filetype = stream.filetype()

    def host_fd(self) -> int | None:
        return self.stream.fd

    def close(self) -> None:
        self.stream.close()


class FileHandle(Handle):
    """A host file (or device) opened by path_open; the host descriptor is ours.
    ``readable``/``writable`` say how the host descriptor was opened."""

    def __init__(self, fd: int, filetype: int, readable: bool, writable: bool,
                 rights_base: int, rights_inheriting: int, fdflags: int, readonly: bool):
        super().__init__(rights_base & FILE_RIGHTS, rights_inheriting, fdflags)
        self.fd = fd
        self.readonly = readonly  # reached through a read-only preopen
        self.filetype = filetype
        self.readable = readable
        self.writable = writable

    def host_fd(self) -> int | None:
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class DirHandle(Handle):
    """A host directory. Paths resolve below it and never above it; ``readonly`` comes from
    the preopen it was reached through; ``preopen`` is the guest name of a preopen."""

    filetype = FILETYPE_DIRECTORY

    def __init__(self, fd: int, readonly: bool, rights_base: int, rights_inheriting: int,
                 preopen: str | None = None):
        super().__init__(rights_base & DIR_RIGHTS, rights_inheriting)
        self.fd = fd
        self.readonly = readonly
        self.preopen = preopen
        self.entries: list | None = None  # fd_readdir's listing, made at cookie 0

    def host_fd(self) -> int | None:
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def open_dir(path: str | bytes) -> int:
    """A host directory descriptor for a preopen (which may be a symlink: the host user
    chose it)."""
    return os.open(path, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)


def handle_for(fd: int, readable: bool, writable: bool, readonly: bool, base: int,
               inheriting: int, fdflags: int) -> Handle:
    """Wrap a descriptor path_open just opened, by what it turned out to be."""
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    ftype = filetype_of(st.st_mode)
    if ftype == FILETYPE_DIRECTORY:
        return DirHandle(fd, readonly, base, inheriting)
    return FileHandle(fd, ftype, readable, writable, base, inheriting, fdflags, readonly)


class FdTable:
    """Guest fd numbers to handles; new descriptors take the lowest free number, as POSIX
    open does."""

    def __init__(self) -> None:
        self.handles: dict[int, Handle] = {}

    def get(self, fd: int, rights: int = 0) -> Handle:
        """The handle of ``fd``: EBADF if there is none, ENOTCAPABLE if it lacks ``rights``."""
        h = self.handles.get(fd)
        if h is None:
            raise WasiErrno(EBADF)
        if rights & ~h.rights_base:
            raise WasiErrno(ENOTCAPABLE)
        return h

    def dir(self, fd: int, rights: int = 0) -> DirHandle:
        """A directory handle for a path_* call or fd_readdir: EBADF for any other
        descriptor, as in wasmtime (whose path_open alone says ENOTDIR for a file)."""
        return self._of(DirHandle, fd, rights)

    def file(self, fd: int, rights: int = 0) -> "FileHandle":
        """A file handle for the calls only a file answers (fd_advise, fd_allocate,
        fd_filestat_set_size, fd_fdstat_set_flags): EBADF for a stream or a directory."""
        return self._of(FileHandle, fd, rights)

    def _of(self, kind: type[_H], fd: int, rights: int) -> _H:
        h = self.handles.get(fd)
        if not isinstance(h, kind):
            raise WasiErrno(EBADF)
        if rights & ~h.rights_base:
            raise WasiErrno(ENOTCAPABLE)
        return h

    def data(self, fd: int, rights: int = 0) -> StreamHandle | FileHandle:
        """A stream or file handle for fd_read/fd_write and friends. A directory is EBADF,
        as in wasmtime (it cannot be read or written as bytes)."""
        h = self.handles.get(fd)
        if not isinstance(h, (StreamHandle, FileHandle)):  # none, or a directory
            raise WasiErrno(EBADF)
        if rights & ~h.rights_base:
            raise WasiErrno(ENOTCAPABLE)
        return h

    def add(self, handle: Handle) -> int:
        fd = 0
        while fd in self.handles:
            fd += 1
        if fd >= MAX_FDS:
            handle.close()
            raise WasiErrno(EMFILE)
        self.handles[fd] = handle
        return fd

    def close(self, fd: int) -> None:
        h = self.handles.pop(fd, None)
        if h is None:
            raise WasiErrno(EBADF)
        h.close()

    def renumber(self, old: int, new: int) -> None:
        """fd_renumber: ``new`` (which must be open) is closed and ``old`` moves there."""
        if old not in self.handles or new not in self.handles:
            raise WasiErrno(EBADF)
        if old == new:
            return
        replaced = self.handles[new]
        self.handles[new] = self.handles.pop(old)
        replaced.close()

    def close_all(self) -> None:
        handles, self.handles = list(self.handles.values()), {}
        for h in handles:
            try:
                h.close()
            except OSError:
                pass


def check_writable_dir(d: DirHandle) -> None:
    """Refuse a change below a read-only preopen (EPERM, wasmtime's errno for it)."""
    if d.readonly:
        raise WasiErrno(EPERM)


__all__ = ["Handle", "StreamHandle", "FileHandle", "DirHandle", "FdTable", "open_dir",
           "handle_for", "check_writable_dir"]
