"""A WASI guest's open descriptors in a snapshot, and reopening them on restore.

Each descriptor is recorded by its origin (handles.Handle.origin): a standard stream, a
preopen (by its guest name), or a path opened below a preopen (the preopen's guest name,
the path, whether the final symlink was followed), with its rights, fdflags, how it was
opened (read, write, directory) and a file's offset. Restoring rebuilds the descriptor
table of the new instance's Wasi state, which its WasiConfig made: streams and preopens
are taken from it by stream number and guest name, paths reopened below those preopens
(never creating or truncating) and sought to their offset. What cannot be reopened (a
preopen the config lacks, a file that is gone, a descriptor fayasm cannot name, such as
one from path_open below a directory opened some other way) raises SnapshotError, and
the state keeps its own descriptors: nothing is half restored.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..errors import SnapshotError
from .handles import O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, DirHandle, FileHandle, Handle, handle_for
from .sandbox import resolve

if TYPE_CHECKING:
    from .core import Wasi


def capture_descriptors(w: Wasi) -> list:
    """[fd, origin, rights_base, rights_inheriting, fdflags, readable, writable, is_dir,
    offset] per open descriptor, in fd order."""
    out = []
    for fd in sorted(w.fds.handles):
        h = w.fds.handles[fd]
        if h.origin is None:
            raise SnapshotError(f"WASI descriptor {fd} has no origin a snapshot can name "
                                "(it was opened below a directory that is neither a preopen "
                                "nor opened by path)")
        offset = 0
        if isinstance(h, FileHandle) and h.fd >= 0:
            try:
                offset = os.lseek(h.fd, 0, os.SEEK_CUR)
            except OSError:
                offset = 0  # a device or a pipe: nothing to seek to
        out.append([fd, list(h.origin), h.rights_base, h.rights_inheriting, h.fdflags,
                    bool(h.readable), bool(h.writable), isinstance(h, DirHandle), offset])
    return out


def _bad() -> SnapshotError:
    return SnapshotError("the snapshot's WASI descriptors are corrupted")


def _reopen(w: Wasi, rec: list, preopens: dict[str, DirHandle]) -> Handle:
    fd, origin, base, inheriting, fdflags, readable, writable, is_dir, offset = rec
    if not (isinstance(origin, list) and len(origin) == 4 and isinstance(origin[1], str)
            and isinstance(origin[2], str) and type(origin[3]) is bool):
        raise _bad()
    guest, path, follow = origin[1], origin[2], origin[3]
    d = preopens.get(guest)
    if d is None:
        raise SnapshotError(f"WASI descriptor {fd} is {path!r} below the preopen {guest!r}, "
                            "which this instance's WasiConfig does not give")
    flags = O_NOFOLLOW | O_CLOEXEC
    flags |= os.O_RDWR if readable and writable else os.O_WRONLY if writable else os.O_RDONLY
    if is_dir:
        flags |= O_DIRECTORY
    if fdflags & 1:  # FDFLAG_APPEND
        flags |= os.O_APPEND
    if writable and d.readonly:
        raise SnapshotError(f"WASI descriptor {fd} ({path!r}) was open for writing, but the "
                            f"preopen {guest!r} is read-only now")
    try:
        with resolve(d.fd, path, follow) as r:
            host_fd = os.open(r.name, flags, dir_fd=r.dir_fd)
    except Exception as e:  # noqa: BLE001 - an OSError or a WasiErrno: either way, say so
        why = getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise SnapshotError(f"cannot reopen WASI descriptor {fd}: {path!r} below the "
                            f"preopen {guest!r}: {why}") from None
    try:
        h = handle_for(host_fd, readable, writable, d.readonly, base, inheriting, fdflags)
        if isinstance(h, FileHandle) and offset:
            os.lseek(h.fd, offset, os.SEEK_SET)
    except OSError as e:
        raise SnapshotError(f"cannot reopen WASI descriptor {fd} ({path!r}): "
                            f"{e.strerror}") from None
    if isinstance(h, DirHandle) != bool(is_dir):
        h.close()
        raise SnapshotError(f"WASI descriptor {fd} ({path!r}) is no longer a "
                            f"{'directory' if is_dir else 'file'}")
    h.rights_base, h.rights_inheriting = base, inheriting
    h.origin = ("path", guest, path, follow)
    return h


def restore_descriptors(w: Wasi, recs: Any) -> None:
    """Give ``w`` the descriptor table ``recs`` records (capture_descriptors)."""
    if recs is None:
        raise SnapshotError("the snapshot has no WASI state; this instance links WASI")
    if not isinstance(recs, list):
        raise _bad()
    mine = dict(w.fds.handles)
    stdio = {h.origin[1]: h for h in mine.values() if h.origin and h.origin[0] == "stdio"}
    preopens = {h.preopen: h for h in mine.values()
                if isinstance(h, DirHandle) and h.preopen is not None}
    table: dict[int, Handle] = {}
    opened: list[Handle] = []
    try:
        for rec in recs:
            if not (isinstance(rec, list) and len(rec) == 9 and type(rec[0]) is int
                    and 0 <= rec[0] < 1024 and rec[0] not in table and isinstance(rec[1], list)
                    and rec[1] and all(type(v) is int and 0 <= v < top for v, top in (
                        (rec[2], 1 << 64), (rec[3], 1 << 64), (rec[4], 1 << 16),
                        (rec[8], 1 << 63)))
                    and all(type(v) is bool for v in rec[5:8])):
                raise _bad()
            fd, origin = rec[0], rec[1]
            kind = origin[0]
            if kind == "stdio" and len(origin) == 2 and type(origin[1]) is int \
                    and origin[1] in stdio:
                h = stdio[origin[1]]
            elif kind == "preopen" and len(origin) == 2 and isinstance(origin[1], str):
                got = preopens.get(origin[1])
                if got is None:
                    raise SnapshotError(f"WASI descriptor {fd} is the preopen {origin[1]!r}, "
                                        "which this instance's WasiConfig does not give")
                h = got
            elif kind == "path":
                h = _reopen(w, rec, preopens)
                opened.append(h)
            else:
                raise _bad()
            if any(h is other for other in table.values()):
                raise _bad()  # one stream or preopen at two numbers: not what fayasm writes
            h.rights_base, h.rights_inheriting, h.fdflags = rec[2], rec[3], rec[4]
            table[fd] = h
    except BaseException:
        for h in opened:
            h.close()
        raise
    for h in mine.values():
        if not any(h is kept for kept in table.values()):
            h.close()
    w.fds.handles = table


__all__ = ["capture_descriptors", "restore_descriptors"]
