"""The guest's stdin, stdout and stderr: inherited from the process, a file path, bytes
(stdin only) or any Python file-like object (binary or text), behind one small interface.
"""
from __future__ import annotations

import codecs
import errno
import io
import os
import select
import stat
import sys
from collections.abc import Callable
from typing import Any

from .. import progress
from ..errors import Error
from .constants import (
    FILETYPE_BLOCK_DEVICE,
    FILETYPE_CHARACTER_DEVICE,
    FILETYPE_DIRECTORY,
    FILETYPE_REGULAR_FILE,
    FILETYPE_SOCKET_STREAM,
    FILETYPE_SYMBOLIC_LINK,
    FILETYPE_UNKNOWN,
)


def filetype_of(mode: int) -> int:
    """The WASI file type of a host st_mode (a FIFO has no WASI type: unknown)."""
    if stat.S_ISREG(mode):
        return FILETYPE_REGULAR_FILE
    if stat.S_ISDIR(mode):
        return FILETYPE_DIRECTORY
    if stat.S_ISLNK(mode):
        return FILETYPE_SYMBOLIC_LINK
    if stat.S_ISCHR(mode):
        return FILETYPE_CHARACTER_DEVICE
    if stat.S_ISBLK(mode):
        return FILETYPE_BLOCK_DEVICE
    if stat.S_ISSOCK(mode):
        return FILETYPE_SOCKET_STREAM
    return FILETYPE_UNKNOWN


def _fileno(obj: Any) -> int | None:
    try:
        fd = obj.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


class Stream:
    """A byte stream for fd 0, 1 or 2. ``fd`` is a host descriptor when there is one (for
    fstat and poll), else None."""

    fd: int | None = None
    owned = False

    def read(self, n: int) -> bytes:
        raise OSError(9, "not readable")  # EBADF

    def write(self, data: bytes) -> int:
        raise OSError(9, "not writable")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def filetype(self) -> int:
        if self.fd is None:
            return FILETYPE_UNKNOWN
        try:
            return filetype_of(os.fstat(self.fd).st_mode)
        except OSError:
            return FILETYPE_UNKNOWN

    def readable_now(self, timeout: float | None) -> bool:
        """Whether a read would not block, waiting up to ``timeout`` seconds (None: forever)."""
        if self.fd is None:
            return True
        try:
            r, _, _ = select.select([self.fd], [], [], timeout)
        except (OSError, ValueError):
            return True  # let the read report the problem
        return bool(r)


class CappedStream(Stream):
    """``inner`` with at most ``limit`` bytes written through it (ResourceLimits'
    wasi_output): a write past the cap writes what fits, then fails with ENOSPC."""

    def __init__(self, inner: Stream, limit: int):
        self.inner, self.limit, self.written = inner, limit, 0
        self.fd, self.owned = inner.fd, inner.owned

    def read(self, n: int) -> bytes:
        return self.inner.read(n)

    def write(self, data: bytes) -> int:
        room = self.limit - self.written
        if room <= 0 and data:
            raise OSError(28, "output limit reached")  # ENOSPC
        n = self.inner.write(data[:room])
        self.written += n
        return n

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        self.inner.close()

    def filetype(self) -> int:
        return self.inner.filetype()

    def readable_now(self, timeout: float | None) -> bool:
        return self.inner.readable_now(timeout)


class FdStream(Stream):
    """A host file descriptor, read and written with os.read / os.write."""

    fd: int

    def __init__(self, fd: int, owned: bool) -> None:
        self.fd = fd
        self.owned = owned

    def read(self, n: int) -> bytes:
        return os.read(self.fd, n)

    def write(self, data: bytes) -> int:
        return os.write(self.fd, data)

    def close(self) -> None:
        if self.owned:
            os.close(self.fd)
            self.owned = False


def _io_error(e: Exception) -> OSError:
    # A file-like object fails with ValueError once closed, or anything else it likes;
    # for the guest that is an I/O error.
    return OSError(errno.EIO, str(e))


class FileStream(Stream):
    """A Python file-like object. Text streams are bridged with UTF-8 (undecodable output
    bytes become U+FFFD); binary ones get the bytes unchanged."""

    def __init__(self, obj: Any, owned: bool = False,
                 before_write: Callable[[], object] | None = None) -> None:
        self.obj = obj
        self.owned = owned
        self.fd = _fileno(obj)
        self.text = isinstance(obj, io.TextIOBase)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace") if self.text else None
        self._pending = b""       # encoded text read but not yet handed to the guest
        self._before_write = before_write

    def read(self, n: int) -> bytes:
        try:
            if self.text:
                if not self._pending:
                    text = self.obj.read(n) or ""
                    self._pending = text.encode("utf-8", "surrogateescape")
                data, self._pending = self._pending[:n], self._pending[n:]
                return data
            reader = getattr(self.obj, "read1", None) or self.obj.read
            return bytes(reader(n) or b"")
        except OSError:
            raise
        except Exception as e:  # noqa: BLE001 - whatever the object raises
            raise _io_error(e) from None

    def write(self, data: bytes) -> int:
        try:
            if self._before_write is not None:
                self._before_write()
            if self._decoder is not None:  # a text stream
                self.obj.write(self._decoder.decode(data))
                n = len(data)
            else:
                n = self.obj.write(data)
                n = len(data) if not isinstance(n, int) else n
            self.flush()
            return n
        except OSError:
            raise
        except Exception as e:  # noqa: BLE001
            raise _io_error(e) from None

    def flush(self) -> None:
        flush = getattr(self.obj, "flush", None)
        if flush is not None:
            flush()

    def close(self) -> None:
        if self.text and self._decoder is not None:
            tail = self._decoder.decode(b"", final=True)
            if tail:
                self.obj.write(tail)
        if self.owned:
            self.obj.close()
            self.owned = False


class NullStream(Stream):
    """What an inherited stream becomes when the process has none (sys.stdin is None)."""

    def read(self, n: int) -> bytes:
        return b""

    def write(self, data: bytes) -> int:
        return len(data)


def _inherit(which: int) -> Stream:
    if which == 0:
        obj = sys.stdin
        if obj is None:
            return NullStream()
        fd = _fileno(obj)
        # Read the descriptor itself: poll_oneoff can then wait on it, and no bytes hide
        # in Python's buffer where select() cannot see them.
        return FdStream(fd, owned=False) if fd is not None else FileStream(obj)
    obj = sys.stdout if which == 1 else sys.stderr
    if obj is None:
        return NullStream()
    buf = getattr(obj, "buffer", None)
    if buf is not None:
        # Flush the text layer first so the guest's bytes stay in order with print().
        return _ProcessStream(buf, before_write=getattr(obj, "flush", None))
    return _ProcessStream(obj)


class _ProcessStream(FileStream):
    """The process's own stdout or stderr: a progress line drawn there (runtime.progress)
    gets out of the way before the guest writes."""

    def write(self, data: bytes) -> int:
        progress.guest_output(data)
        return super().write(data)


def open_stream(spec: Any, which: int) -> Stream:
    """The stream for fd ``which`` (0, 1, 2) from a WasiConfig value."""
    if spec is None:
        return _inherit(which)
    if isinstance(spec, Stream):
        return spec
    if isinstance(spec, (bytes, bytearray, memoryview)):
        if which != 0:
            raise Error("bytes can only be given as stdin")
        return FileStream(io.BytesIO(bytes(spec)))
    if isinstance(spec, (str, os.PathLike)):
        flags = os.O_RDONLY if which == 0 else os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        try:
            fd = os.open(spec, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as e:
            name = ("stdin", "stdout", "stderr")[which]
            raise Error(f"cannot open {name} file {os.fspath(spec)!r}: {e.strerror}") from None
        return FdStream(fd, owned=True)
    if which == 0 and callable(getattr(spec, "read", None)):
        return FileStream(spec)
    if which != 0 and callable(getattr(spec, "write", None)):
        return FileStream(spec)
    name = ("stdin", "stdout", "stderr")[which]
    raise Error(f"{name} must be None (inherit), a path, or a file-like object; "
                f"got {type(spec).__name__}")
