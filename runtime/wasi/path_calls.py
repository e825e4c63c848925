"""The path_* calls of WASI preview 1, all confined to the directory handle they start
from (see sandbox.py). A read-only preopen refuses every change with EPERM; what a guest
may do with symlinks is WasiConfig.symlinks (see symlinks.py)."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from .constants import (
    EISDIR,
    ENAMETOOLONG,
    ENOENT,
    ENOTCAPABLE,
    ENOTDIR,
    EPERM,
    FDFLAG_APPEND,
    FDFLAG_DSYNC,
    FDFLAG_NONBLOCK,
    FDFLAG_RSYNC,
    FDFLAG_SYNC,
    FILESTAT,
    LOOKUP_SYMLINK_FOLLOW,
    OFLAG_CREAT,
    OFLAG_DIRECTORY,
    OFLAG_EXCL,
    OFLAG_TRUNC,
    R_FD_WRITE,
    R_PATH_CREATE_DIRECTORY,
    R_PATH_CREATE_FILE,
    R_PATH_FILESTAT_GET,
    R_PATH_FILESTAT_SET_SIZE,
    R_PATH_FILESTAT_SET_TIMES,
    R_PATH_LINK_SOURCE,
    R_PATH_LINK_TARGET,
    R_PATH_OPEN,
    R_PATH_READLINK,
    R_PATH_REMOVE_DIRECTORY,
    R_PATH_RENAME_SOURCE,
    R_PATH_RENAME_TARGET,
    R_PATH_SYMLINK,
    R_PATH_UNLINK_FILE,
    READ_RIGHTS,
    SUCCESS,
)
from .fd_calls import new_times, pack_filestat
from .guest import WasiErrno, check, check_structs, check_u32, read_string, write_bytes, write_u32
from .handles import (
    O_CLOEXEC,
    O_DIRECTORY,
    O_NOFOLLOW,
    DirHandle,
    FileHandle,
    check_writable_dir,
    handle_for,
)
from .sandbox import Resolved, resolve
from .symlinks import check_new_symlink

_FDFLAG_HOST = ((FDFLAG_APPEND, "O_APPEND"), (FDFLAG_DSYNC, "O_DSYNC"),
                (FDFLAG_NONBLOCK, "O_NONBLOCK"), (FDFLAG_RSYNC, "O_RSYNC"),
                (FDFLAG_SYNC, "O_SYNC"))

if TYPE_CHECKING:
    from .core import Wasi


# Linux's PATH_MAX and NAME_MAX: a longer path (or component) fails with ENAMETOOLONG
# before it is read, as the host would fail it; a 7 MB path took 8.6 s to resolve.
PATH_MAX, NAME_MAX = 4096, 255


def _path(w: Wasi, ptr: int, length: int) -> str:
    if length >= PATH_MAX:
        raise WasiErrno(ENAMETOOLONG)
    path = read_string(w.view(), ptr, length)
    if any(len(part.encode("utf-8", "surrogateescape")) > NAME_MAX
           for part in path.split("/")):
        raise WasiErrno(ENAMETOOLONG)
    return path


def _check_new_link(r: Resolved, path: str) -> None:
    """The new name of a link or symlink, resolved as ``r``: ending in "/", it names a
    directory, which a new link can never be. Refused as Linux and wasmtime refuse it:
    ENOENT when nothing has that name (resolve already gave ENOTDIR for a file, and the
    link call gives EEXIST for a directory)."""
    if path.endswith("/") and r.lstat() is None:
        raise WasiErrno(ENOENT)


def path_open(w: Wasi, fd: int, dirflags: int, path: int, path_len: int, oflags: int,
              base: int, inheriting: int, fdflags: int, fd_ptr: int) -> int:
    view = w.view()
    check(view, path, path_len)  # wasmtime reads the path before it looks at fd
    if isinstance(w.fds.handles.get(fd), FileHandle):
        return ENOTDIR
    d = w.fds.dir(fd, R_PATH_OPEN)
    # A descriptor opened below d can only get rights d passes on.
    if base & ~d.rights_inheriting or inheriting & ~d.rights_inheriting:
        return ENOTCAPABLE
    if oflags & OFLAG_CREAT and not d.rights_base & R_PATH_CREATE_FILE:
        return ENOTCAPABLE
    if oflags & OFLAG_TRUNC and not d.rights_base & R_PATH_FILESTAT_SET_SIZE:
        return ENOTCAPABLE
    name = _path(w, path, path_len)
    check_u32(view, fd_ptr)
    write = bool(base & R_FD_WRITE)
    read = bool(base & READ_RIGHTS) or not write
    # O_APPEND without FD_WRITE is harmless: the file is opened read-only (as wasmtime).
    if d.readonly and (write or oflags & (OFLAG_CREAT | OFLAG_TRUNC)):
        return EPERM
    if oflags & OFLAG_DIRECTORY and write:
        return EISDIR
    flags = O_NOFOLLOW | O_CLOEXEC
    flags |= os.O_RDWR if read and write else os.O_WRONLY if write else os.O_RDONLY
    if oflags & OFLAG_CREAT:
        flags |= os.O_CREAT
    if oflags & OFLAG_EXCL:
        flags |= os.O_EXCL
    if oflags & OFLAG_TRUNC:
        flags |= os.O_TRUNC
    if oflags & OFLAG_DIRECTORY:
        flags |= O_DIRECTORY
    for bit, host in _FDFLAG_HOST:
        if fdflags & bit:
            flags |= getattr(os, host, 0)
    with resolve(d.fd, name, bool(dirflags & LOOKUP_SYMLINK_FOLLOW)) as r:
        # O_NOFOLLOW: the final name was checked not to be a symlink when following was
        # asked for; if it is one now (or following was not asked for) the open fails
        # with ELOOP rather than leaving the sandbox.
        host_fd = os.open(r.name, flags, 0o666, dir_fd=r.dir_fd)
    handle = handle_for(host_fd, read, write, d.readonly, base, inheriting, fdflags)
    handle.origin = path_origin(d, name, bool(dirflags & LOOKUP_SYMLINK_FOLLOW))
    new_fd = w.fds.add(handle)
    write_u32(view, fd_ptr, new_fd)
    return SUCCESS


def path_origin(d: DirHandle, name: str, follow: bool) -> tuple | None:
    """The origin (handles.Handle.origin) of ``name`` opened below ``d``."""
    if d.preopen is not None:
        return ("path", d.preopen, name, follow)
    if d.origin is not None and d.origin[0] == "path":
        return ("path", d.origin[1], d.origin[2].rstrip("/") + "/" + name, follow)
    return None


def path_create_directory(w: Wasi, fd: int, path: int, path_len: int) -> int:
    d = w.fds.dir(fd, R_PATH_CREATE_DIRECTORY)
    name = _path(w, path, path_len)
    check_writable_dir(d)
    with resolve(d.fd, name, False) as r:
        os.mkdir(r.name, 0o777, dir_fd=r.dir_fd)
    return SUCCESS


def path_filestat_get(w: Wasi, fd: int, flags: int, path: int, path_len: int, buf: int) -> int:
    d = w.fds.dir(fd, R_PATH_FILESTAT_GET)
    view = w.view()
    check_structs(view, buf, FILESTAT)
    name = _path(w, path, path_len)
    with resolve(d.fd, name, bool(flags & LOOKUP_SYMLINK_FOLLOW)) as r:
        st = os.stat(r.name, dir_fd=r.dir_fd, follow_symlinks=False)
    pack_filestat(view, buf, st)
    return SUCCESS


def path_filestat_set_times(w: Wasi, fd: int, flags: int, path: int, path_len: int, atim: int,
                            mtim: int, fstflags: int) -> int:
    d = w.fds.dir(fd, R_PATH_FILESTAT_SET_TIMES)
    name = _path(w, path, path_len)
    check_writable_dir(d)
    with resolve(d.fd, name, bool(flags & LOOKUP_SYMLINK_FOLLOW)) as r:
        st = os.stat(r.name, dir_fd=r.dir_fd, follow_symlinks=False)
        times = new_times(st, atim, mtim, fstflags)
        os.utime(r.name, ns=times, dir_fd=r.dir_fd, follow_symlinks=False)
    return SUCCESS


def path_link(w: Wasi, old_fd: int, old_flags: int, old_path: int, old_len: int, new_fd: int,
              new_path: int, new_len: int) -> int:
    od = w.fds.dir(old_fd, R_PATH_LINK_SOURCE)
    nd = w.fds.dir(new_fd, R_PATH_LINK_TARGET)
    old = _path(w, old_path, old_len)
    new = _path(w, new_path, new_len)
    # A link from a read-only preopen into a writable one would make the file writable.
    check_writable_dir(od)
    check_writable_dir(nd)
    with resolve(od.fd, old, bool(old_flags & LOOKUP_SYMLINK_FOLLOW)) as o, \
            resolve(nd.fd, new, False) as n:
        _check_new_link(n, new)
        os.link(o.name, n.name, src_dir_fd=o.dir_fd, dst_dir_fd=n.dir_fd,
                follow_symlinks=False)
    return SUCCESS


def path_readlink(w: Wasi, fd: int, path: int, path_len: int, buf: int, buf_len: int,
                  bufused_ptr: int) -> int:
    d = w.fds.dir(fd, R_PATH_READLINK)
    view = w.view()
    check(view, buf, buf_len)
    check_u32(view, bufused_ptr)
    name = _path(w, path, path_len)
    with resolve(d.fd, name, False) as r:
        target = os.fsencode(os.readlink(r.name, dir_fd=r.dir_fd))
    if target.startswith(b"/"):
        return EPERM  # an absolute target names the host's file system: not shown (wasmtime)
    data = target[:buf_len]  # cut to the buffer, as POSIX readlink does
    write_bytes(view, buf, data)
    write_u32(view, bufused_ptr, len(data))
    return SUCCESS


def path_remove_directory(w: Wasi, fd: int, path: int, path_len: int) -> int:
    d = w.fds.dir(fd, R_PATH_REMOVE_DIRECTORY)
    name = _path(w, path, path_len)
    check_writable_dir(d)
    with resolve(d.fd, name, False) as r:
        os.rmdir(r.name, dir_fd=r.dir_fd)
    return SUCCESS


def path_rename(w: Wasi, fd: int, old_path: int, old_len: int, new_fd: int, new_path: int,
                new_len: int) -> int:
    od = w.fds.dir(fd, R_PATH_RENAME_SOURCE)
    nd = w.fds.dir(new_fd, R_PATH_RENAME_TARGET)
    old = _path(w, old_path, old_len)
    new = _path(w, new_path, new_len)
    check_writable_dir(od)
    check_writable_dir(nd)
    with resolve(od.fd, old, False) as o, resolve(nd.fd, new, False) as n:
        os.rename(o.name, n.name, src_dir_fd=o.dir_fd, dst_dir_fd=n.dir_fd)
    return SUCCESS


def path_symlink(w: Wasi, old_path: int, old_len: int, fd: int, new_path: int,
                 new_len: int) -> int:
    d = w.fds.dir(fd, R_PATH_SYMLINK)
    target = _path(w, old_path, old_len)
    name = _path(w, new_path, new_len)
    check_writable_dir(d)
    check_new_symlink(w.config.symlinks, target)
    with resolve(d.fd, name, False) as r:
        _check_new_link(r, name)
        os.symlink(target, r.name, dir_fd=r.dir_fd)
    return SUCCESS


def path_unlink_file(w: Wasi, fd: int, path: int, path_len: int) -> int:
    d = w.fds.dir(fd, R_PATH_UNLINK_FILE)
    name = _path(w, path, path_len)
    check_writable_dir(d)
    with resolve(d.fd, name, False) as r:
        os.unlink(r.name, dir_fd=r.dir_fd)
    return SUCCESS


CALLS: dict[str, tuple[str, Callable[..., int]]] = {
    "path_create_directory": ("iii", path_create_directory),
    "path_filestat_get": ("iiiii", path_filestat_get),
    "path_filestat_set_times": ("iiiiIIi", path_filestat_set_times),
    "path_link": ("iiiiiii", path_link),
    "path_open": ("iiiiiIIii", path_open),
    "path_readlink": ("iiiiii", path_readlink),
    "path_remove_directory": ("iii", path_remove_directory),
    "path_rename": ("iiiiii", path_rename),
    "path_symlink": ("iiiii", path_symlink),
    "path_unlink_file": ("iii", path_unlink_file),
}
