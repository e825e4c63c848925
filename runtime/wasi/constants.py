"""WASI preview 1 numbers: errnos, rights, flags, file types and struct layouts.

The values come from the ``wasi_snapshot_preview1`` witx definitions; the struct layouts
are the witx-computed ones (little-endian, naturally aligned), written as struct formats.
"""
from __future__ import annotations

import errno as _host
import struct

MODULE = "wasi_snapshot_preview1"

# -- errno (u16) -------------------------------------------------------------------------
ERRNO_NAMES = (
    "SUCCESS", "2BIG", "ACCES", "ADDRINUSE", "ADDRNOTAVAIL", "AFNOSUPPORT", "AGAIN", "ALREADY",
    "BADF", "BADMSG", "BUSY", "CANCELED", "CHILD", "CONNABORTED", "CONNREFUSED", "CONNRESET",
    "DEADLK", "DESTADDRREQ", "DOM", "DQUOT", "EXIST", "FAULT", "FBIG", "HOSTUNREACH", "IDRM",
    "ILSEQ", "INPROGRESS", "INTR", "INVAL", "IO", "ISCONN", "ISDIR", "LOOP", "MFILE", "MLINK",
    "MSGSIZE", "MULTIHOP", "NAMETOOLONG", "NETDOWN", "NETRESET", "NETUNREACH", "NFILE",
    "NOBUFS", "NODEV", "NOENT", "NOEXEC", "NOLCK", "NOLINK", "NOMEM", "NOMSG", "NOPROTOOPT",
    "NOSPC", "NOSYS", "NOTCONN", "NOTDIR", "NOTEMPTY", "NOTRECOVERABLE", "NOTSOCK", "NOTSUP",
    "NOTTY", "NXIO", "OVERFLOW", "OWNERDEAD", "PERM", "PIPE", "PROTO", "PROTONOSUPPORT",
    "PROTOTYPE", "RANGE", "ROFS", "SPIPE", "SRCH", "STALE", "TIMEDOUT", "TXTBSY", "XDEV",
    "NOTCAPABLE",
)
ERRNO = {name: n for n, name in enumerate(ERRNO_NAMES)}

SUCCESS = 0
E2BIG, EACCES, EAGAIN, EBADF, EBUSY = 1, 2, 6, 8, 10
EEXIST, EFAULT, EFBIG, EILSEQ, EINVAL = 20, 21, 22, 25, 28
EIO, EISDIR, ELOOP, EMFILE = 29, 31, 32, 33
ENAMETOOLONG, ENOENT, ENOMEM, ENOSPC, ENOSYS, ENOTDIR, ENOTEMPTY = 37, 44, 48, 51, 52, 54, 55
ENOTSOCK, ENOTSUP, ENOTTY, EOVERFLOW, EPERM, EPIPE, EROFS, ESPIPE = 57, 58, 59, 61, 63, 64, 69, 70
EXDEV, ENOTCAPABLE = 75, 76

# Host errno -> WASI errno, by name, so it is right on every host platform. Names the
# host lacks are skipped; EWOULDBLOCK and EOPNOTSUPP are aliases on most hosts.
_ALIASES = {"EWOULDBLOCK": "AGAIN", "EOPNOTSUPP": "NOTSUP", "EDEADLOCK": "DEADLK"}
HOST_ERRNO: dict[int, int] = {}
for _name, _n in ERRNO.items():
    _code = getattr(_host, "E" + _name, None)
    if _code is not None and _n:
        HOST_ERRNO.setdefault(_code, _n)
for _alias, _name in _ALIASES.items():
    _code = getattr(_host, _alias, None)
    if _code is not None:
        HOST_ERRNO.setdefault(_code, ERRNO[_name])


def from_host(code: int | None) -> int:
    """The WASI errno for a host errno (EIO when the host's number has no WASI name)."""
    return EIO if code is None else HOST_ERRNO.get(code, EIO)


# -- rights (u64) ------------------------------------------------------------------------
RIGHT_NAMES = (
    "FD_DATASYNC", "FD_READ", "FD_SEEK", "FD_FDSTAT_SET_FLAGS", "FD_SYNC", "FD_TELL",
    "FD_WRITE", "FD_ADVISE", "FD_ALLOCATE", "PATH_CREATE_DIRECTORY", "PATH_CREATE_FILE",
    "PATH_LINK_SOURCE", "PATH_LINK_TARGET", "PATH_OPEN", "FD_READDIR", "PATH_READLINK",
    "PATH_RENAME_SOURCE", "PATH_RENAME_TARGET", "PATH_FILESTAT_GET",
    "PATH_FILESTAT_SET_SIZE", "PATH_FILESTAT_SET_TIMES", "FD_FILESTAT_GET",
    "FD_FILESTAT_SET_SIZE", "FD_FILESTAT_SET_TIMES", "PATH_SYMLINK", "PATH_REMOVE_DIRECTORY",
    "PATH_UNLINK_FILE", "POLL_FD_READWRITE", "SOCK_SHUTDOWN", "SOCK_ACCEPT",
)
RIGHT = {name: 1 << n for n, name in enumerate(RIGHT_NAMES)}
R_FD_DATASYNC = RIGHT["FD_DATASYNC"]
R_FD_READ = RIGHT["FD_READ"]
R_FD_SEEK = RIGHT["FD_SEEK"]
R_FD_FDSTAT_SET_FLAGS = RIGHT["FD_FDSTAT_SET_FLAGS"]
R_FD_SYNC = RIGHT["FD_SYNC"]
R_FD_TELL = RIGHT["FD_TELL"]
R_FD_WRITE = RIGHT["FD_WRITE"]
R_FD_ADVISE = RIGHT["FD_ADVISE"]
R_FD_ALLOCATE = RIGHT["FD_ALLOCATE"]
R_PATH_CREATE_DIRECTORY = RIGHT["PATH_CREATE_DIRECTORY"]
R_PATH_CREATE_FILE = RIGHT["PATH_CREATE_FILE"]
R_PATH_LINK_SOURCE = RIGHT["PATH_LINK_SOURCE"]
R_PATH_LINK_TARGET = RIGHT["PATH_LINK_TARGET"]
R_PATH_OPEN = RIGHT["PATH_OPEN"]
R_FD_READDIR = RIGHT["FD_READDIR"]
R_PATH_READLINK = RIGHT["PATH_READLINK"]
R_PATH_RENAME_SOURCE = RIGHT["PATH_RENAME_SOURCE"]
R_PATH_RENAME_TARGET = RIGHT["PATH_RENAME_TARGET"]
R_PATH_FILESTAT_GET = RIGHT["PATH_FILESTAT_GET"]
R_PATH_FILESTAT_SET_SIZE = RIGHT["PATH_FILESTAT_SET_SIZE"]
R_PATH_FILESTAT_SET_TIMES = RIGHT["PATH_FILESTAT_SET_TIMES"]
R_FD_FILESTAT_GET = RIGHT["FD_FILESTAT_GET"]
R_FD_FILESTAT_SET_SIZE = RIGHT["FD_FILESTAT_SET_SIZE"]
R_FD_FILESTAT_SET_TIMES = RIGHT["FD_FILESTAT_SET_TIMES"]
R_PATH_SYMLINK = RIGHT["PATH_SYMLINK"]
R_PATH_REMOVE_DIRECTORY = RIGHT["PATH_REMOVE_DIRECTORY"]
R_PATH_UNLINK_FILE = RIGHT["PATH_UNLINK_FILE"]
R_POLL_FD_READWRITE = RIGHT["POLL_FD_READWRITE"]
R_SOCK_SHUTDOWN = RIGHT["SOCK_SHUTDOWN"]
R_SOCK_ACCEPT = RIGHT["SOCK_ACCEPT"]
ALL_RIGHTS = (1 << len(RIGHT_NAMES)) - 1

# What a regular file, a directory and a stdio stream can meaningfully hold.
FILE_RIGHTS = (R_FD_DATASYNC | R_FD_READ | R_FD_SEEK | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC
               | R_FD_TELL | R_FD_WRITE | R_FD_ADVISE | R_FD_ALLOCATE | R_FD_FILESTAT_GET
               | R_FD_FILESTAT_SET_SIZE | R_FD_FILESTAT_SET_TIMES | R_POLL_FD_READWRITE)
DIR_RIGHTS = (R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_DATASYNC | R_FD_ADVISE
              | R_PATH_CREATE_DIRECTORY | R_PATH_CREATE_FILE | R_PATH_LINK_SOURCE
              | R_PATH_LINK_TARGET | R_PATH_OPEN
              | R_FD_READDIR | R_PATH_READLINK | R_PATH_RENAME_SOURCE | R_PATH_RENAME_TARGET
              | R_PATH_FILESTAT_GET | R_PATH_FILESTAT_SET_SIZE | R_PATH_FILESTAT_SET_TIMES
              | R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_TIMES | R_PATH_SYMLINK
              | R_PATH_REMOVE_DIRECTORY | R_PATH_UNLINK_FILE)
# (No FD_SYNC, FD_DATASYNC or FD_FDSTAT_SET_FLAGS: those calls answer EBADF for a stream.)
STREAM_RIGHTS = R_FD_READ | R_FD_WRITE | R_FD_FILESTAT_GET | R_POLL_FD_READWRITE
# The rights that make path_open open the host file for reading; FD_WRITE alone makes it
# open it for writing (as wasmtime: FD_ALLOCATE or FD_FILESTAT_SET_SIZE without FD_WRITE
# gives a descriptor whose allocate or truncate fails).
READ_RIGHTS = R_FD_READ | R_FD_READDIR

# -- file types (u8) ---------------------------------------------------------------------
FILETYPE_UNKNOWN = 0
FILETYPE_BLOCK_DEVICE = 1
FILETYPE_CHARACTER_DEVICE = 2
FILETYPE_DIRECTORY = 3
FILETYPE_REGULAR_FILE = 4
FILETYPE_SOCKET_DGRAM = 5
FILETYPE_SOCKET_STREAM = 6
FILETYPE_SYMBOLIC_LINK = 7

# -- flags -------------------------------------------------------------------------------
FDFLAG_APPEND, FDFLAG_DSYNC, FDFLAG_NONBLOCK, FDFLAG_RSYNC, FDFLAG_SYNC = 1, 2, 4, 8, 16
FDFLAGS_ALL = 31
OFLAG_CREAT, OFLAG_DIRECTORY, OFLAG_EXCL, OFLAG_TRUNC = 1, 2, 4, 8
OFLAGS_ALL = 15
LOOKUP_SYMLINK_FOLLOW = 1
FSTFLAG_ATIM, FSTFLAG_ATIM_NOW, FSTFLAG_MTIM, FSTFLAG_MTIM_NOW = 1, 2, 4, 8
FSTFLAGS_ALL = 15
WHENCE_SET, WHENCE_CUR, WHENCE_END = 0, 1, 2
ADVICE_MAX = 5          # normal, sequential, random, willneed, dontneed, noreuse
CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME, CLOCK_THREAD_CPUTIME = 0, 1, 2, 3
EVENTTYPE_CLOCK, EVENTTYPE_FD_READ, EVENTTYPE_FD_WRITE = 0, 1, 2
SUBCLOCK_ABSTIME = 1
EVENT_FD_READWRITE_HANGUP = 1
PREOPENTYPE_DIR = 0
SIGNAL_MAX = 30         # signal is an enum of 31 values (none, hup, ..., sys)
SDFLAGS_ALL = 3         # sock_shutdown: rd | wr

# -- struct layouts ----------------------------------------------------------------------
FDSTAT = struct.Struct("<BxHxxxxQQ")            # filetype, flags, rights base, inheriting
FILESTAT = struct.Struct("<QQBxxxxxxxQQQQQ")    # dev, ino, type, nlink, size, atim, mtim, ctim
DIRENT = struct.Struct("<QQIBxxx")              # d_next, d_ino, d_namlen, d_type
IOVEC = struct.Struct("<II")                    # buf, buf_len
PRESTAT = struct.Struct("<BxxxI")               # tag, pr_name_len
SUBSCRIPTION = struct.Struct("<QB7x32s")        # userdata, tag, contents (a union)
SUB_CLOCK = struct.Struct("<IxxxxQQH")          # id, timeout, precision, flags
SUB_FD = struct.Struct("<I")                    # file_descriptor
EVENT = struct.Struct("<QHBxxxxxQH6x")          # userdata, error, type, nbytes, flags
U8, U16, U32, U64 = (struct.Struct(f) for f in ("<B", "<H", "<I", "<Q"))

assert FDSTAT.size == 24 and FILESTAT.size == 64 and DIRENT.size == 24
assert PRESTAT.size == 8 and SUBSCRIPTION.size == 48 and EVENT.size == 32
