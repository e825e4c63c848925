"""The cases of scripts/wasi_diff.py: raw WASI calls whose answers fayasm and wasmtime
could disagree on. Each case builds a Guest (scripts/wasi_guest.py); fd 3 is "/sb"
(read-write), fd 4 is "/ro" (read-only); see wasi_diff.make_tree for what they hold.

Groups: "pointer" (out-of-bounds pointers), "align" (misaligned pointers), "flags"
(values outside a flags or enum type), "readonly" (the read-only preopen), "errno"
(which errno a failing call gives), "symlink" (links a guest makes), "basic" (calls that
work, so a broken runner shows up). ``deliberate`` names the row of docs/wasi.md that
explains a difference kept on purpose.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from wasi_guest import (
    ALL,
    APPEND,
    ATIM,
    ATIM_NOW,
    CREAT,
    DIRECTORY,
    DSYNC,
    EXCL,
    FD_ALLOCATE,
    FD_FILESTAT_SET_SIZE,
    FD_READ,
    FD_WRITE,
    FOLLOW,
    MTIM,
    PAGE,
    RO,
    RW,
    SYNC,
    TRUNC,
    Guest,
)

END = PAGE               # one past the last byte
HUGE = 0xFFFFFFF0        # wraps around when a length is added


@dataclass
class Case:
    name: str
    group: str
    build: Callable[[Guest], None]
    deliberate: str | None = None

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")[:60]


CASES: list[Case] = []


def case(group: str, name: str, deliberate: str | None = None):
    def register(fn):
        CASES.append(Case(name, group, fn, deliberate))
        return fn
    return register


def _write(g: Guest, fd, data: str = "data"):
    g.call("fd_write", fd, g.iovs(g.text(data)), 1, g.out(4))


# -- pointers outside memory -------------------------------------------------------------

POINTER_CALLS = {
    "fd_write iovec array": lambda g: g.call("fd_write", 1, END - 4, 1, g.out(4)),
    "fd_write iovec data": lambda g: g.call("fd_write", 1, g.iovs((END - 2, 4)), 1, g.out(4)),
    "fd_write nwritten": lambda g: g.call("fd_write", 1, g.iovs(g.text("x")), 1, END),
    "fd_write iovec data wraps": lambda g: g.call("fd_write", 1, g.iovs((HUGE, 32)), 1, g.out(4)),
    "fd_read iovec data": lambda g: g.call("fd_read", g.open(3, "f.txt"), g.iovs((END - 2, 8)),
                                           1, g.out(4)),
    "fd_read nread": lambda g: g.call("fd_read", g.open(3, "f.txt"), g.iovs((g.out(8), 8)), 1,
                                      END),
    "fd_pread iovec data": lambda g: g.call("fd_pread", g.open(3, "f.txt"),
                                            g.iovs((END - 2, 8)), 1, 0, g.out(4)),
    "fd_pwrite iovec data": lambda g: g.call("fd_pwrite", g.open(3, "f.txt", base=RW),
                                             g.iovs((END - 2, 8)), 1, 0, g.out(4)),
    "fd_fdstat_get": lambda g: g.call("fd_fdstat_get", 1, END - 8),
    "fd_filestat_get": lambda g: g.call("fd_filestat_get", 3, END - 32),
    "fd_prestat_get": lambda g: g.call("fd_prestat_get", 3, END),
    "fd_prestat_dir_name": lambda g: g.call("fd_prestat_dir_name", 3, END - 1, 3),
    "fd_seek newoffset": lambda g: g.call("fd_seek", g.open(3, "f.txt"), 0, 0, END),
    "fd_tell": lambda g: g.call("fd_tell", g.open(3, "f.txt"), END),
    "fd_readdir buffer": lambda g: g.call("fd_readdir", 3, END - 8, 64, 0, g.out(4)),
    "fd_readdir bufused": lambda g: g.call("fd_readdir", 3, g.out(64), 64, 0, END),
    "clock_time_get": lambda g: g.call("clock_time_get", 0, 0, END - 4),
    "clock_res_get": lambda g: g.call("clock_res_get", 1, END),
    "random_get": lambda g: g.call("random_get", END - 4, 8),
    "random_get wraps": lambda g: g.call("random_get", HUGE, 32),
    "args_sizes_get": lambda g: g.call("args_sizes_get", END, g.out(4)),
    "args_get buffer": lambda g: g.call("args_get", g.out(8), END - 2),
    "environ_sizes_get": lambda g: g.call("environ_sizes_get", g.out(4), END),
    "path_open path": lambda g: g.call("path_open", 3, 0, END - 2, 5, 0, RO, 0, 0, g.out(4)),
    "path_open fd result": lambda g: g.call("path_open", 3, 0, g.text("f.txt"), 0, RO, 0, 0, END),
    "path_filestat_get result": lambda g: g.call("path_filestat_get", 3, 0, g.text("f.txt"),
                                                 END - 8),
    "path_create_directory path": lambda g: g.call("path_create_directory", 3, END - 1, 4),
    "path_readlink buffer": lambda g: g.call("path_readlink", 3, g.text("link"), END - 2, 16,
                                             g.out(4)),
    "path_unlink_file path": lambda g: g.call("path_unlink_file", 3, END - 1, 4),
    "poll_oneoff subscriptions": lambda g: g.call("poll_oneoff", END - 16, g.out(32), 1,
                                                  g.out(4)),
    "poll_oneoff nevents": lambda g: g.call("poll_oneoff", _clock_sub(g), g.out(32), 1, END),
}


def _clock_sub(g: Guest, clock: int = 1, timeout: int = 0, flags: int = 0, tag: int = 0) -> int:
    """A subscription (48 bytes): userdata 7, a clock tag and a clock body."""
    body = (clock.to_bytes(4, "little") + bytes(4) + timeout.to_bytes(8, "little")
            + bytes(8) + flags.to_bytes(2, "little"))
    return g.bytes((7).to_bytes(8, "little") + bytes([tag]) + bytes(7)
                   + body.ljust(32, b"\0"))


def _fd_sub(g: Guest, fd: int, tag: int = 1, userdata: int = 5) -> int:
    """An fd_read (tag 1) or fd_write (tag 2) subscription (48 bytes)."""
    return g.bytes(userdata.to_bytes(8, "little") + bytes([tag]) + bytes(7)
                   + fd.to_bytes(4, "little") + bytes(28))


for _name, _build in POINTER_CALLS.items():
    case("pointer", f"{_name} out of bounds")(_build)


@case("pointer", "random_get of 0 bytes at the end of memory")
def _(g):
    g.call("random_get", END, 0)


@case("pointer", "fd_write of 0 iovecs at an address past the end")
def _(g):
    g.call("fd_write", 1, END + 8, 0, g.out(4))


# -- misaligned pointers -----------------------------------------------------------------

ALIGN_CALLS = {
    "fd_write iovec array": lambda g: g.call("fd_write", 1, g.iovs(g.text("x")) + 2, 1,
                                             g.out(4)),
    "fd_write nwritten": lambda g: g.call("fd_write", 1, g.iovs(g.text("x")), 1, g.out(8) + 1),
    "fd_fdstat_get": lambda g: g.call("fd_fdstat_get", 1, g.out(32) + 4),
    "fd_filestat_get": lambda g: g.call("fd_filestat_get", 3, g.out(72) + 4),
    "fd_prestat_get": lambda g: g.call("fd_prestat_get", 3, g.out(16) + 2),
    "fd_seek newoffset": lambda g: g.call("fd_seek", g.open(3, "f.txt"), 0, 0, g.out(16) + 4),
    "clock_time_get": lambda g: g.call("clock_time_get", 0, 0, g.out(16) + 4),
    "args_sizes_get": lambda g: g.call("args_sizes_get", g.out(8) + 1, g.out(4)),
    "args_get argv": lambda g: g.call("args_get", g.out(16) + 2, g.out(64)),
    "path_open fd result": lambda g: g.call("path_open", 3, 0, g.text("f.txt"), 0, RO, 0, 0,
                                            g.out(8) + 2),
    "path_filestat_get result": lambda g: g.call("path_filestat_get", 3, 0, g.text("f.txt"),
                                                 g.out(72) + 4),
    "poll_oneoff subscriptions": lambda g: g.call("poll_oneoff", _clock_sub(g) + 4, g.out(40),
                                                  1, g.out(4)),
    "fd_readdir bufused": lambda g: g.call("fd_readdir", 3, g.out(64), 64, 0, g.out(8) + 2),
}

for _name, _build in ALIGN_CALLS.items():
    case("align", f"{_name} misaligned")(_build)


@case("align", "a byte buffer needs no alignment")
def _(g):
    g.call("random_get", g.out(16) + 3, 5)
    g.call("fd_write", 1, g.iovs((g.bytes(b"odd") + 1, 2)), 1, g.out(4))


# -- values outside their type -----------------------------------------------------------

@case("flags", "clock_time_get unknown clock")
def _(g):
    g.call("clock_time_get", 4, 0, g.out(8))


@case("flags", "clock_res_get unknown clock")
def _(g):
    g.call("clock_res_get", 0xFFFFFFFF, g.out(8))


@case("flags", "fd_seek unknown whence")
def _(g):
    g.call("fd_seek", g.open(3, "f.txt"), 0, 3, g.out(8))


@case("flags", "fd_advise unknown advice")
def _(g):
    g.call("fd_advise", g.open(3, "f.txt"), 0, 0, 6)


@case("flags", "path_open unknown oflags bit")
def _(g):
    g.open(3, "f.txt", oflags=16)


@case("flags", "path_open unknown fdflags bit")
def _(g):
    g.open(3, "f.txt", fdflags=32)


@case("flags", "path_open unknown lookupflags bit")
def _(g):
    g.open(3, "f.txt", lookup=2)


@case("flags", "path_open unknown rights bit")
def _(g):
    g.open(3, "f.txt", base=RO | (1 << 40))


@case("flags", "fd_fdstat_set_flags unknown bit")
def _(g):
    g.call("fd_fdstat_set_flags", g.open(3, "f.txt", base=RW), 64)


@case("flags", "fd_filestat_set_times unknown fstflags bit")
def _(g):
    g.call("fd_filestat_set_times", g.open(3, "f.txt", base=RW), 0, 0, 16)


@case("flags", "path_filestat_set_times unknown fstflags bit")
def _(g):
    g.call("path_filestat_set_times", 3, 0, g.text("f.txt"), 0, 0, 16)


@case("flags", "path_filestat_get unknown lookupflags bit")
def _(g):
    g.call("path_filestat_get", 3, 4, g.text("f.txt"), g.out(64))


@case("flags", "poll_oneoff unknown event type")
def _(g):
    g.call("poll_oneoff", _clock_sub(g, tag=3), g.out(32), 1, g.out(4))


@case("flags", "poll_oneoff unknown subclockflags bit")
def _(g):
    g.call("poll_oneoff", _clock_sub(g, flags=2), g.out(32), 1, g.out(4))


@case("flags", "poll_oneoff unknown clock")
def _(g):
    g.call("poll_oneoff", _clock_sub(g, clock=9), g.out(32), 1, g.out(4))


@case("flags", "proc_raise unknown signal")
def _(g):
    g.call("proc_raise", 99)


@case("flags", "sock_shutdown unknown sdflags bit")
def _(g):
    g.call("sock_shutdown", 0, 4)


@case("flags", "path_link unknown lookupflags bit")
def _(g):
    g.call("path_link", 3, 2, g.text("f.txt"), 3, g.text("hard"))


# -- the read-only preopen ---------------------------------------------------------------

@case("readonly", "read a file")
def _(g):
    fd = g.open(4, "r.txt")
    buf = g.out(16)
    g.call("fd_read", fd, g.iovs((buf, 16)), 1, g.out(4))


@case("readonly", "open for writing")
def _(g):
    g.open(4, "r.txt", base=RW)


@case("readonly", "open with FD_WRITE only")
def _(g):
    g.open(4, "r.txt", base=FD_WRITE)


@case("readonly", "open with FD_FILESTAT_SET_SIZE but no FD_WRITE")
def _(g):
    g.open(4, "r.txt", base=FD_READ | FD_FILESTAT_SET_SIZE)


@case("readonly", "open with FD_ALLOCATE but no FD_WRITE")
def _(g):
    g.open(4, "r.txt", base=FD_READ | FD_ALLOCATE)


@case("readonly", "open with every right")
def _(g):
    g.open(4, "r.txt", base=ALL)


@case("readonly", "open with O_APPEND and read rights")
def _(g):
    g.open(4, "r.txt", fdflags=APPEND)


@case("readonly", "open with O_CREAT of an existing file")
def _(g):
    g.open(4, "r.txt", oflags=CREAT)


@case("readonly", "create a file")
def _(g):
    g.open(4, "new.txt", oflags=CREAT)


@case("readonly", "open with O_TRUNC")
def _(g):
    g.open(4, "r.txt", oflags=TRUNC)


@case("readonly", "open a directory")
def _(g):
    g.open(4, "rdir", oflags=DIRECTORY)


@case("readonly", "open a directory with write rights")
def _(g):
    g.open(4, "rdir", oflags=DIRECTORY, base=RW)


@case("readonly", "open with O_DSYNC")
def _(g):
    g.open(4, "r.txt", fdflags=DSYNC)


@case("readonly", "set O_APPEND on a file")
def _(g):
    g.call("fd_fdstat_set_flags", g.open(4, "r.txt"), APPEND)


@case("readonly", "fd_filestat_set_times on a file")
def _(g):
    g.call("fd_filestat_set_times", g.open(4, "r.txt"), 10**9, 10**9, ATIM | MTIM)


@case("readonly", "fd_filestat_set_times on the preopen")
def _(g):
    g.call("fd_filestat_set_times", 4, 10**9, 10**9, ATIM | MTIM)


@case("readonly", "fd_filestat_set_size on a file")
def _(g):
    g.call("fd_filestat_set_size", g.open(4, "r.txt"), 2)


@case("readonly", "fd_allocate on a file")
def _(g):
    g.call("fd_allocate", g.open(4, "r.txt"), 0, 100)


@case("readonly", "fd_write on a file")
def _(g):
    _write(g, g.open(4, "r.txt"))


@case("readonly", "fd_sync and fd_datasync on a file")
def _(g):
    fd = g.open(4, "r.txt")
    g.call("fd_sync", fd)
    g.call("fd_datasync", fd)


@case("readonly", "path_filestat_set_times")
def _(g):
    g.call("path_filestat_set_times", 4, 0, g.text("r.txt"), 10**9, 10**9, ATIM | MTIM)


@case("readonly", "path_filestat_set_times to now")
def _(g):
    g.call("path_filestat_set_times", 4, 0, g.text("r.txt"), 0, 0, ATIM_NOW)


@case("readonly", "mkdir")
def _(g):
    g.call("path_create_directory", 4, g.text("d"))


@case("readonly", "rmdir")
def _(g):
    g.call("path_remove_directory", 4, g.text("rdir"))


@case("readonly", "unlink")
def _(g):
    g.call("path_unlink_file", 4, g.text("r.txt"))


@case("readonly", "unlink a missing file")
def _(g):
    g.call("path_unlink_file", 4, g.text("missing"))


@case("readonly", "rename inside")
def _(g):
    g.call("path_rename", 4, g.text("r.txt"), 4, g.text("s.txt"))


@case("readonly", "rename out of it")
def _(g):
    g.call("path_rename", 4, g.text("r.txt"), 3, g.text("moved.txt"))


@case("readonly", "rename into it")
def _(g):
    g.call("path_rename", 3, g.text("f.txt"), 4, g.text("moved.txt"))


@case("readonly", "hard link out of it")
def _(g):
    g.call("path_link", 4, 0, g.text("r.txt"), 3, g.text("hard.txt"))


@case("readonly", "hard link into it")
def _(g):
    g.call("path_link", 3, 0, g.text("f.txt"), 4, g.text("hard.txt"))


@case("readonly", "symlink")
def _(g):
    g.call("path_symlink", g.text("r.txt"), 4, g.text("s"))


@case("readonly", "readlink and readdir")
def _(g):
    g.call("path_readlink", 4, g.text("rlink"), g.out(16), 16, g.out(4))
    g.call("fd_readdir", 4, g.out(256), 256, 0, g.out(4))


@case("readonly", "a directory opened below it stays read-only")
def _(g):
    d = g.open(4, "rdir", oflags=DIRECTORY, base=ALL & ~FD_WRITE, inheriting=ALL)
    g.open(d, "x.txt", oflags=CREAT, base=RW)
    g.call("path_create_directory", d, g.text("y"))


# -- which errno -------------------------------------------------------------------------

@case("errno", "fd_allocate on a writable file")
def _(g):
    g.call("fd_allocate", g.open(3, "f.txt", base=RW), 0, 100)


@case("errno", "fd_fdstat_set_rights dropping a right")
def _(g):
    g.call("fd_fdstat_set_rights", g.open(3, "f.txt", base=RW), FD_READ, 0)


@case("errno", "clock_time_get process and thread cputime")
def _(g):
    g.call("clock_time_get", 2, 0, g.out(8))
    g.call("clock_time_get", 3, 0, g.out(8))


@case("errno", "clock_res_get process cputime")
def _(g):
    g.call("clock_res_get", 2, g.out(8))


@case("errno", "poll_oneoff on a process cputime clock")
def _(g):
    g.call("poll_oneoff", _clock_sub(g, clock=2), g.out(32), 1, g.out(4))


@case("errno", "proc_raise")
def _(g):
    g.call("proc_raise", 2)


@case("errno", "fd_prestat_dir_name of stdout")
def _(g):
    g.call("fd_prestat_dir_name", 1, g.out(16), 16)


@case("errno", "fd_prestat_dir_name of an opened directory")
def _(g):
    g.call("fd_prestat_dir_name", g.open(3, "sub", oflags=DIRECTORY), g.out(16), 16)


@case("errno", "fd_prestat_get of a file and of an unknown fd")
def _(g):
    g.call("fd_prestat_get", g.open(3, "f.txt"), g.out(8))
    g.call("fd_prestat_get", 99, g.out(8))


@case("errno", "fd_prestat_dir_name buffer too short")
def _(g):
    g.call("fd_prestat_dir_name", 3, g.out(8), 2)


@case("errno", "fd_readdir on stdout")
def _(g):
    g.call("fd_readdir", 1, g.out(64), 64, 0, g.out(4))


@case("errno", "fd_readdir on a file")
def _(g):
    g.call("fd_readdir", g.open(3, "f.txt"), g.out(64), 64, 0, g.out(4))


@case("errno", "path_open from stdout")
def _(g):
    g.call("path_open", 1, 0, g.text("f.txt"), 0, RO, 0, 0, g.out(4))


@case("errno", "path_open from a file")
def _(g):
    g.call("path_open", g.open(3, "f.txt"), 0, g.text("x"), 0, RO, 0, 0, g.out(4))


@case("errno", "path_filestat_get from stdout and from a file")
def _(g):
    g.call("path_filestat_get", 1, 0, g.text("f.txt"), g.out(64))
    g.call("path_filestat_get", g.open(3, "f.txt"), 0, g.text("x"), g.out(64))


@case("errno", "path_create_directory from stdout")
def _(g):
    g.call("path_create_directory", 1, g.text("d"))


@case("errno", "fd_sync and fd_datasync on stdout")
def _(g):
    g.call("fd_sync", 1)
    g.call("fd_datasync", 1)


@case("errno", "fd_sync on a directory")
def _(g):
    g.call("fd_sync", 3)
    g.call("fd_datasync", 3)
    g.call("fd_sync", g.open(3, "sub", oflags=DIRECTORY))


@case("errno", "fd_advise on stdout")
def _(g):
    g.call("fd_advise", 1, 0, 0, 0)


@case("errno", "fd_advise on a directory")
def _(g):
    g.call("fd_advise", 3, 0, 0, 0)


@case("errno", "fd_allocate on stdout")
def _(g):
    g.call("fd_allocate", 1, 0, 10)


@case("errno", "fd_filestat_set_size on stdout and on a directory")
def _(g):
    g.call("fd_filestat_set_size", 1, 0)
    g.call("fd_filestat_set_size", 3, 0)


@case("errno", "fd_filestat_set_times on stdout")
def _(g):
    g.call("fd_filestat_set_times", 1, 0, 0, ATIM_NOW)


@case("errno", "fd_fdstat_set_flags on stdout")
def _(g):
    g.call("fd_fdstat_set_flags", 1, APPEND)


@case("errno", "fd_fdstat_set_flags on a directory")
def _(g):
    g.call("fd_fdstat_set_flags", 3, 0)


@case("errno", "fd_fdstat_set_flags O_SYNC")
def _(g):
    g.call("fd_fdstat_set_flags", g.open(3, "f.txt", base=RW), SYNC)


@case("errno", "fd_seek and fd_tell on stdout and on a directory")
def _(g):
    g.call("fd_seek", 1, 0, 1, g.out(8))
    g.call("fd_tell", 1, g.out(8))
    g.call("fd_seek", 3, 0, 1, g.out(8))
    g.call("fd_tell", 3, g.out(8))


@case("errno", "fd_seek before the start")
def _(g):
    g.call("fd_seek", g.open(3, "f.txt"), -1, 0, g.out(8))


@case("errno", "fd_read and fd_write on the wrong stream or a directory")
def _(g):
    buf = g.out(8)
    g.call("fd_read", 1, g.iovs((buf, 8)), 1, g.out(4))
    _write(g, 0)
    g.call("fd_read", 3, g.iovs((buf, 8)), 1, g.out(4))
    _write(g, 3)


@case("errno", "fd_pread on stdin and fd_pwrite on stdout")
def _(g):
    g.call("fd_pread", 0, g.iovs((g.out(8), 8)), 1, 0, g.out(4))
    g.call("fd_pwrite", 1, g.iovs(g.text("x")), 1, 0, g.out(4))


@case("errno", "fd_write on a file opened read-only")
def _(g):
    _write(g, g.open(3, "f.txt"))


@case("errno", "fd_read on a file opened write-only")
def _(g):
    g.call("fd_read", g.open(3, "f.txt", base=FD_WRITE), g.iovs((g.out(8), 8)), 1, g.out(4))


@case("errno", "fd_filestat_set_size on a file opened read-only")
def _(g):
    g.call("fd_filestat_set_size", g.open(3, "f.txt"), 1)


@case("errno", "fd_close unknown, fd_renumber to unknown")
def _(g):
    g.call("fd_close", 99)
    g.call("fd_renumber", 1, 99)
    g.call("fd_renumber", 99, 1)


@case("errno", "poll_oneoff with no subscriptions")
def _(g):
    g.call("poll_oneoff", g.out(48), g.out(32), 0, g.out(4))


@case("errno", "poll_oneoff on an unknown fd")
def _(g):
    g.call("poll_oneoff", _fd_sub(g, 99), g.out(32), 1, g.out(4))


@case("errno", "poll_oneoff on a directory")
def _(g):
    g.call("poll_oneoff", _fd_sub(g, 3), g.out(32), 1, g.out(4))


@case("errno", "sockets on stdin and on an unknown fd")
def _(g):
    g.call("sock_accept", 0, 0, g.out(4))
    g.call("sock_accept", 99, 0, g.out(4))
    g.call("sock_shutdown", 1, 1)


@case("errno", "path_open empty path and missing file")
def _(g):
    g.open(3, "")
    g.open(3, "missing")


@case("errno", "path_open a file with a trailing slash")
def _(g):
    g.open(3, "f.txt/")


@case("errno", "path_open O_DIRECTORY on a file")
def _(g):
    g.open(3, "f.txt", oflags=DIRECTORY)


@case("errno", "path_open O_CREAT|O_EXCL of an existing file")
def _(g):
    g.open(3, "f.txt", oflags=CREAT | EXCL)


@case("errno", "path_open a directory for writing")
def _(g):
    g.open(3, "sub", base=RW)


@case("errno", "path_open O_DIRECTORY with write rights")
def _(g):
    g.open(3, "sub", oflags=DIRECTORY, base=RW)


@case("errno", "path_open O_TRUNC without write rights")
def _(g):
    g.open(3, "f.txt", oflags=TRUNC)


@case("errno", "path_open O_CREAT without write rights")
def _(g):
    g.open(3, "new.txt", oflags=CREAT)


@case("errno", "path_open a symlink without following")
def _(g):
    g.open(3, "link")


@case("errno", "path_open through .. out of the preopen")
def _(g):
    g.open(3, "../outside.txt")
    g.open(3, "/etc/passwd")


@case("errno", "path_open a long path and a long component")
def _(g):
    g.open(3, "a/" * 2100)
    g.open(3, "x" * 300)


@case("errno", "path_open a path with a NUL byte")
def _(g):
    g.open(3, "f.txt\0x")


@case("errno", "path_open invalid UTF-8")
def _(g):
    fd_out = g.out(4)
    g.call("path_open", 3, 0, g.text(b"\xff\xfe"), 0, RO, 0, 0, fd_out)


@case("errno", "path_readlink of a file and of a directory")
def _(g):
    g.call("path_readlink", 3, g.text("f.txt"), g.out(16), 16, g.out(4))
    g.call("path_readlink", 3, g.text("sub"), g.out(16), 16, g.out(4))


@case("errno", "path_readlink into a short buffer")
def _(g):
    at = g.out(8)
    g.call("path_readlink", 3, g.text("link"), at, 2, g.out(4))
    g.call("fd_write", 1, g.iovs((at, 2)), 1, g.out(4))


@case("errno", "path_remove_directory of a file, a non-empty dir, and .")
def _(g):
    g.call("path_remove_directory", 3, g.text("f.txt"))
    g.call("path_remove_directory", 3, g.text("sub"))
    g.call("path_remove_directory", 3, g.text("."))


@case("errno", "path_unlink_file of a directory and of a path ending in /")
def _(g):
    g.call("path_unlink_file", 3, g.text("sub"))
    g.call("path_unlink_file", 3, g.text("f.txt/"))


@case("errno", "path_create_directory of an existing name")
def _(g):
    g.call("path_create_directory", 3, g.text("sub"))
    g.call("path_create_directory", 3, g.text("f.txt"))


@case("errno", "path_rename a directory onto a file and onto a non-empty directory")
def _(g):
    g.call("path_rename", 3, g.text("empty"), 3, g.text("f.txt"))
    g.call("path_rename", 3, g.text("empty"), 3, g.text("sub"))


@case("errno", "path_rename a file onto a directory")
def _(g):
    g.call("path_rename", 3, g.text("f.txt"), 3, g.text("empty"))


@case("errno", "path_link to an existing name and of a directory")
def _(g):
    g.call("path_link", 3, 0, g.text("f.txt"), 3, g.text("sub/inner.txt"))
    g.call("path_link", 3, 0, g.text("sub"), 3, g.text("sub2"))


@case("errno", "path_filestat_set_times both given and now")
def _(g):
    g.call("path_filestat_set_times", 3, 0, g.text("f.txt"), 1, 1, ATIM | ATIM_NOW)


@case("errno", "fd_write to a file opened with O_APPEND")
def _(g):
    fd = g.open(3, "f.txt", base=RW, fdflags=APPEND)
    _write(g, fd, "++")
    g.call("fd_pwrite", fd, g.iovs(g.text("!")), 1, 0, g.out(4))


# -- symlinks a guest makes --------------------------------------------------------------

@case("symlink", "a relative symlink pointing outside, then followed")
def _(g):
    g.call("path_symlink", g.text("../outside.txt"), 3, g.text("esc"))
    g.open(3, "esc", lookup=FOLLOW)
    g.call("path_filestat_get", 3, FOLLOW, g.text("esc"), g.out(64))
    g.open(3, "esc", lookup=FOLLOW, oflags=TRUNC, base=RW)
    g.call("path_filestat_set_times", 3, FOLLOW, g.text("esc"), 10**9, 10**9, ATIM | MTIM)
    g.call("path_readlink", 3, g.text("esc"), g.out(16), 16, g.out(4))


@case("symlink", "an absolute symlink")
def _(g):
    g.call("path_symlink", g.text("/etc/passwd"), 3, g.text("abs"))


@case("symlink", "a symlink to a directory outside, then walked through")
def _(g):
    g.call("path_symlink", g.text("sub/../.."), 3, g.text("top"))
    g.open(3, "top/outside.txt")
    g.call("path_create_directory", 3, g.text("top/made"))


@case("symlink", "a symlink that stays inside, then followed")
def _(g):
    g.call("path_symlink", g.text("sub/inner.txt"), 3, g.text("in"))
    fd = g.open(3, "in", lookup=FOLLOW)
    buf = g.out(8)
    g.call("fd_read", fd, g.iovs((buf, 5)), 1, g.out(4))
    g.call("fd_write", 1, g.iovs((buf, 5)), 1, g.out(4))


@case("symlink", "a dangling symlink, then created through")
def _(g):
    g.call("path_symlink", g.text("../made.txt"), 3, g.text("dangle"))
    g.open(3, "dangle", oflags=CREAT, base=RW, lookup=FOLLOW)


@case("symlink", "an empty target")
def _(g):
    g.call("path_symlink", g.text(""), 3, g.text("empty_target"))


@case("symlink", "over an existing name")
def _(g):
    g.call("path_symlink", g.text("f.txt"), 3, g.text("sub"))
    g.call("path_symlink", g.text("f.txt"), 3, g.text("f.txt"))


@case("symlink", "the preopen's own symlink to outside, followed")
def _(g):
    g.open(3, "up", lookup=FOLLOW)
    g.call("path_readlink", 3, g.text("up"), g.out(32), 32, g.out(4))


# -- calls that work ---------------------------------------------------------------------

@case("basic", "write to stdout")
def _(g):
    _write(g, 1, "hello from the guest\n")


@case("basic", "create, write, seek, read")
def _(g):
    fd = g.open(3, "new.txt", oflags=CREAT, base=RW)
    _write(g, fd, "abcdef")
    g.call("fd_seek", fd, 2, 0, g.out(8))
    buf = g.out(8)
    g.call("fd_read", fd, g.iovs((buf, 3)), 1, g.out(4))
    g.call("fd_write", 1, g.iovs((buf, 3)), 1, g.out(4))
    g.call("fd_close", fd)


@case("basic", "mkdir, rename, unlink, rmdir")
def _(g):
    g.call("path_create_directory", 3, g.text("d"))
    g.call("path_rename", 3, g.text("f.txt"), 3, g.text("d/g.txt"))
    g.call("path_unlink_file", 3, g.text("d/g.txt"))
    g.call("path_remove_directory", 3, g.text("d"))


@case("basic", "truncate and times")
def _(g):
    fd = g.open(3, "f.txt", base=RW)
    g.call("fd_filestat_set_size", fd, 2)
    g.call("fd_filestat_set_times", fd, 10**9, 10**9, ATIM | MTIM)
    g.call("path_filestat_set_times", 3, 0, g.text("sub"), 0, 0, ATIM_NOW)


@case("basic", "args, environ, clocks, random, yield")
def _(g):
    g.call("args_sizes_get", g.out(4), g.out(4))
    g.call("args_get", g.out(8), g.out(16))
    g.call("environ_sizes_get", g.out(4), g.out(4))
    g.call("clock_time_get", 0, 0, g.out(8))
    g.call("clock_res_get", 1, g.out(8))
    g.call("random_get", g.out(16), 16)
    g.call("sched_yield")


@case("basic", "poll_oneoff on a clock and stdout")
def _(g):
    sub = _clock_sub(g, timeout=10**9)
    _fd_sub(g, 1, tag=2)   # right after it
    g.call("poll_oneoff", sub, g.out(64), 2, g.out(4))
    g.call("poll_oneoff", _fd_sub(g, 0), g.out(64), 1, g.out(4))   # stdin at its end


@case("basic", "hard link and rename over")
def _(g):
    g.call("path_link", 3, 0, g.text("f.txt"), 3, g.text("hard"))
    g.call("path_rename", 3, g.text("hard"), 3, g.text("sub/inner.txt"))


# -- more: argument order, zero lengths, iovec use -----------------------------------------

@case("flags", "fd_fdstat_set_rights unknown rights bit")
def _(g):
    g.call("fd_fdstat_set_rights", 1, 1 << 40, 0)


@case("flags", "path_open unknown inheriting rights bit")
def _(g):
    g.open(3, "f.txt", inheriting=1 << 40)


@case("flags", "sock_recv unknown riflags bit")
def _(g):
    g.call("sock_recv", 0, g.iovs((g.out(8), 8)), 1, 8, g.out(4), g.out(4))


@case("flags", "sock_accept unknown fdflags bit")
def _(g):
    g.call("sock_accept", 0, 64, g.out(4))


@case("flags", "fd_seek whence beyond a byte")
def _(g):
    g.call("fd_seek", g.open(3, "f.txt"), 0, 256, g.out(8))


@case("flags", "fd_filestat_set_times fstflags beyond 16 bits")
def _(g):
    g.call("fd_filestat_set_times", g.open(3, "f.txt", base=RW), 0, 0, 0x10000)


@case("flags", "unknown oflags bit with an unknown fd")
def _(g):
    g.call("path_open", 99, 0, g.text("f.txt"), 16, RO, 0, 0, g.out(4))


@case("pointer", "random_get of 0 bytes past the end")
def _(g):
    g.call("random_get", END + 8, 0)


@case("pointer", "fd_write to an unknown fd with iovecs out of bounds")
def _(g):
    g.call("fd_write", 99, END - 4, 1, g.out(4))


@case("pointer", "path_open from an unknown fd with a path out of bounds")
def _(g):
    g.call("path_open", 99, 0, END - 2, 5, 0, RO, 0, 0, g.out(4))


@case("pointer", "path_open of a missing file with the result out of bounds")
def _(g):
    g.call("path_open", 3, 0, g.text("missing"), 0, RO, 0, 0, END)


@case("pointer", "path_open creating a file with the result out of bounds")
def _(g):
    g.call("path_open", 3, 0, g.text("made.txt"), CREAT, RW, 0, 0, END)


@case("pointer", "fd_fdstat_get of an unknown fd into a pointer out of bounds")
def _(g):
    g.call("fd_fdstat_get", 99, END)


@case("pointer", "fd_write with a later iovec out of bounds")
def _(g):
    g.call("fd_write", 1, g.iovs(g.text("ok"), (END - 2, 8)), 2, g.out(4))


@case("align", "fd_write of 0 iovecs at a misaligned address")
def _(g):
    g.call("fd_write", 1, g.out(8) + 2, 0, g.out(4))


@case("basic", "fd_write of two iovecs")
def _(g):
    g.call("fd_write", 1, g.iovs(g.text("one "), g.text("two\n")), 2, g.out(4))


@case("basic", "fd_read into two iovecs")
def _(g):
    a, b = g.out(8), g.out(8)
    g.call("fd_read", g.open(3, "f.txt"), g.iovs((a, 2), (b, 3)), 2, g.out(4))
    g.call("fd_write", 1, g.iovs((a, 2), (b, 3)), 2, g.out(4))


@case("errno", "fd_seek without FD_SEEK")
def _(g):
    g.call("fd_seek", g.open(3, "f.txt", base=FD_READ), 1, 0, g.out(8))


@case("readonly", "open with O_SYNC")
def _(g):
    g.open(4, "r.txt", fdflags=SYNC)


@case("errno", "open with O_DSYNC in the writable preopen")
def _(g):
    g.open(3, "f.txt", fdflags=DSYNC)
    g.open(3, "f.txt", base=RW, fdflags=DSYNC)


@case("errno", "fd_filestat_set_size on a file opened with the right but no FD_WRITE")
def _(g):
    g.call("fd_filestat_set_size", g.open(3, "f.txt", base=FD_READ | FD_FILESTAT_SET_SIZE), 1)


@case("errno", "fd_allocate on a file opened with the right but no FD_WRITE")
def _(g):
    g.call("fd_allocate", g.open(3, "f.txt", base=FD_READ | FD_ALLOCATE), 0, 10)


@case("symlink", "path_link following symlinks, inside and out")
def _(g):
    g.call("path_link", 3, FOLLOW, g.text("link"), 3, g.text("hard"))
    g.call("path_link", 3, FOLLOW, g.text("f.txt"), 3, g.text("hard2"))
    g.call("path_link", 3, FOLLOW, g.text("up"), 3, g.text("hard_up"))


# -- the differences kept on purpose -------------------------------------------------------
# case name -> the row of docs/wasi.md's table that explains it.

DELIBERATE = {
    "fd_write nwritten out of bounds": "pointers checked before acting",
    "fd_write nwritten misaligned": "pointers checked before acting",
    "path_open of a missing file with the result out of bounds": "pointers checked before acting",
    "path_open creating a file with the result out of bounds": "pointers checked before acting",
    "fd_write with a later iovec out of bounds": "every iovec is used",
    "fd_write of two iovecs": "every iovec is used",
    "fd_read into two iovecs": "every iovec is used",
    "fd_filestat_set_size on a file": "rights are enforced",
    "fd_allocate on a file": "rights are enforced",
    "fd_sync and fd_datasync on a file": "rights are enforced",
    "fd_filestat_set_size on a file opened read-only": "rights are enforced",
    "fd_seek without FD_SEEK": "rights are enforced",
    "fd_allocate on a writable file": "fd_allocate allocates",
    "fd_allocate on a file opened with the right but no FD_WRITE": "fd_allocate allocates",
    "fd_fdstat_set_rights dropping a right": "fd_fdstat_set_rights drops rights",
    "clock_time_get process and thread cputime": "cputime clocks",
    "clock_res_get process cputime": "cputime clocks",
    "poll_oneoff on a process cputime clock": "cputime clocks",
    "open with O_DSYNC": "sync flags at open",
    "open with O_SYNC": "sync flags at open",
    "open with O_DSYNC in the writable preopen": "sync flags at open",
    "fd_sync on a directory": "fd_sync on a directory",
    "poll_oneoff on an unknown fd": "poll_oneoff errors per subscription",
    "poll_oneoff on a directory": "poll_oneoff errors per subscription",
    "path_link following symlinks, inside and out": "path_link follows symlinks",
}

_names = {c.name for c in CASES}
assert set(DELIBERATE) <= _names, set(DELIBERATE) - _names
for _c in CASES:
    _c.deliberate = DELIBERATE.get(_c.name)
