"""The rest of WASI preview 1: arguments and environment, clocks, randomness, process
exit, poll_oneoff, and the socket calls (which no descriptor here supports)."""
from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from ..errors import WasiExit
from .constants import (
    CLOCK_MONOTONIC,
    CLOCK_PROCESS_CPUTIME,
    CLOCK_REALTIME,
    CLOCK_THREAD_CPUTIME,
    EBADF,
    EINVAL,
    ENOTCAPABLE,
    ENOTSOCK,
    ENOTSUP,
    EVENT,
    EVENTTYPE_CLOCK,
    EVENTTYPE_FD_READ,
    EVENTTYPE_FD_WRITE,
    R_POLL_FD_READWRITE,
    SUB_CLOCK,
    SUB_FD,
    SUBCLOCK_ABSTIME,
    SUBSCRIPTION,
    SUCCESS,
)
from .guest import (
    check,
    check_structs,
    check_u32,
    string_table,
    write_bytes,
    write_string_table,
    write_u32,
    write_u64,
)
from .handles import DirHandle, FileHandle, StreamHandle

# -- arguments and environment -----------------------------------------------------------

if TYPE_CHECKING:
    from .core import Wasi


def args_sizes_get(w: Wasi, argc_ptr: int, size_ptr: int) -> int:
    view = w.view()
    check_u32(view, argc_ptr)
    check_u32(view, size_ptr)
    count, size = string_table(w.args)
    write_u32(view, argc_ptr, count)
    write_u32(view, size_ptr, size)
    return SUCCESS


def args_get(w: Wasi, argv: int, argv_buf: int) -> int:
    write_string_table(w.view(), argv, argv_buf, w.args)
    return SUCCESS


def environ_sizes_get(w: Wasi, count_ptr: int, size_ptr: int) -> int:
    view = w.view()
    check_u32(view, count_ptr)
    check_u32(view, size_ptr)
    count, size = string_table(w.environ)
    write_u32(view, count_ptr, count)
    write_u32(view, size_ptr, size)
    return SUCCESS


def environ_get(w: Wasi, environ: int, environ_buf: int) -> int:
    write_string_table(w.view(), environ, environ_buf, w.environ)
    return SUCCESS


# -- clocks and randomness ---------------------------------------------------------------

_ClockName = Literal["time", "monotonic", "process_time", "thread_time"]
_CLOCKS: dict[int, tuple[Callable[[], int], _ClockName]] = {
    CLOCK_REALTIME: (time.time_ns, "time"),
    CLOCK_MONOTONIC: (time.monotonic_ns, "monotonic"),
    CLOCK_PROCESS_CPUTIME: (time.process_time_ns, "process_time"),
    CLOCK_THREAD_CPUTIME: (time.thread_time_ns, "thread_time"),
}


def _resolution(clock_id: int) -> int:
    res = time.get_clock_info(_CLOCKS[clock_id][1]).resolution
    return max(1, round(res * 1e9))


# Every clock id reaches here (abi.py traps on others); wasmtime answers EBADF for the
# cputime clocks, fayasm reads them (docs/wasi.md).

def clock_res_get(w: Wasi, clock_id: int, ptr: int) -> int:
    write_u64(w.view(), ptr, _resolution(clock_id))
    return SUCCESS


def clock_time_get(w: Wasi, clock_id: int, precision: int, ptr: int) -> int:
    write_u64(w.view(), ptr, _CLOCKS[clock_id][0]())
    return SUCCESS


def random_get(w: Wasi, buf: int, buf_len: int) -> int:
    view = w.view()
    check(view, buf, buf_len)
    at, end = buf, buf + buf_len
    while at < end:
        n = min(end - at, 1 << 20)
        view[at:at + n] = os.urandom(n)
        at += n
    return SUCCESS


# -- process -----------------------------------------------------------------------------

def proc_exit(w: Wasi, code: int) -> NoReturn:
    raise WasiExit(code)


def proc_raise(w: Wasi, sig: int) -> int:
    return ENOTSUP  # a sandboxed guest has no signals to raise (wasmtime's errno)


def sched_yield(w: Wasi) -> int:
    if hasattr(os, "sched_yield"):
        os.sched_yield()
    return SUCCESS


# -- sockets: no descriptor is ever a socket here ----------------------------------------

def _not_a_socket(w: Wasi, fd: int) -> int:
    return EBADF if fd not in w.fds.handles else ENOTSOCK


def sock_accept(w: Wasi, fd: int, flags: int, fd_ptr: int) -> int:
    return _not_a_socket(w, fd)


def sock_recv(w: Wasi, fd: int, ri_data: int, ri_data_len: int, ri_flags: int,
              ro_datalen_ptr: int, ro_flags_ptr: int) -> int:
    return _not_a_socket(w, fd)


def sock_send(w: Wasi, fd: int, si_data: int, si_data_len: int, si_flags: int,
              so_datalen_ptr: int) -> int:
    return _not_a_socket(w, fd)


def sock_shutdown(w: Wasi, fd: int, how: int) -> int:
    return _not_a_socket(w, fd)


# -- poll_oneoff -------------------------------------------------------------------------

class _Sub:
    __slots__ = ("userdata", "type", "deadline", "handle", "error")

    def __init__(self, userdata: int, type_: int, deadline: float | None = None,
                 handle: Any = None, error: int = 0) -> None:
        self.userdata, self.type, self.deadline = userdata, type_, deadline
        self.handle, self.error = handle, error


def _parse(w: Wasi, view: memoryview, ptr: int, n: int) -> list[_Sub] | int:
    """The subscriptions, or EINVAL for the whole call when one is malformed (an unknown
    event type, clock or subclockflags bit, as wasmtime). A well-formed subscription that
    cannot be served (an fd that is not open or not pollable) becomes an event carrying
    the error, which is what the event's error field is for (wasmtime fails the call)."""
    subs = []
    now = time.monotonic()
    for k in range(n):
        userdata, tag, body = SUBSCRIPTION.unpack_from(view, ptr + k * SUBSCRIPTION.size)
        if tag == EVENTTYPE_CLOCK:
            clock_id, timeout, _precision, flags = SUB_CLOCK.unpack_from(body)
            if clock_id not in _CLOCKS or flags & ~SUBCLOCK_ABSTIME:
                return EINVAL
            if flags & SUBCLOCK_ABSTIME:
                # An absolute time on the guest's clock becomes a wait on the monotonic one.
                timeout = timeout - _CLOCKS[clock_id][0]()
            subs.append(_Sub(userdata, tag, deadline=now + max(timeout, 0) / 1e9))
        elif tag in (EVENTTYPE_FD_READ, EVENTTYPE_FD_WRITE):
            (fd,) = SUB_FD.unpack_from(body)
            h = w.fds.handles.get(fd)
            if h is None or isinstance(h, DirHandle):
                subs.append(_Sub(userdata, tag, error=EBADF))
            elif not h.rights_base & R_POLL_FD_READWRITE:
                subs.append(_Sub(userdata, tag, error=ENOTCAPABLE))
            elif (tag == EVENTTYPE_FD_READ and not h.readable) or \
                    (tag == EVENTTYPE_FD_WRITE and not h.writable):
                subs.append(_Sub(userdata, tag, error=EBADF))
            else:
                subs.append(_Sub(userdata, tag, handle=h))
        else:
            return EINVAL
    return subs


def _waits(sub: _Sub) -> bool:
    """A stream read that may block: the only subscription we ever wait for besides time."""
    return (sub.type == EVENTTYPE_FD_READ and isinstance(sub.handle, StreamHandle)
            and sub.handle.stream.fd is not None)


def _file_nbytes(sub: _Sub) -> int:
    h = sub.handle
    if sub.type == EVENTTYPE_FD_READ and isinstance(h, FileHandle):
        try:
            size = os.fstat(h.fd).st_size
            return max(0, size - os.lseek(h.fd, 0, os.SEEK_CUR))
        except OSError:
            return 0
    return 0


def poll_oneoff(w: Wasi, in_ptr: int, out_ptr: int, nsubscriptions: int, nevents_ptr: int) -> int:
    if nsubscriptions == 0:
        return EINVAL  # nothing to wait for would block forever
    view = w.view()
    check_structs(view, in_ptr, SUBSCRIPTION, nsubscriptions)
    check_structs(view, out_ptr, EVENT, nsubscriptions)
    check_u32(view, nevents_ptr)
    subs = _parse(w, view, in_ptr, nsubscriptions)
    if isinstance(subs, int):
        return subs
    while True:
        now = time.monotonic()
        ready = {k for k, s in enumerate(subs)
                 if s.error or (s.handle is not None and not _waits(s))
                 or (s.deadline is not None and s.deadline <= now)}
        waiting = {s.handle.stream.fd for s in subs if _waits(s)}
        if waiting:
            try:
                readable, _, _ = select.select(list(waiting), [], [], 0)
            except (OSError, ValueError):
                readable = list(waiting)  # let the read itself report the problem
            ready |= {k for k, s in enumerate(subs)
                      if _waits(s) and s.handle.stream.fd in readable}
        if ready:
            break
        deadlines = [s.deadline for s in subs if s.deadline is not None]
        # Wait in slices of at most a day: time.sleep and select reject huge timeouts.
        timeout = min(max(0.0, min(deadlines) - now), 86400.0) if deadlines else None
        if waiting:
            try:
                select.select(list(waiting), [], [], timeout)
            except (OSError, ValueError):
                pass
        else:
            assert timeout is not None  # nothing waiting: every subscription is a clock
            time.sleep(timeout)
    order = sorted(ready)  # events in the order of their subscriptions
    for n, k in enumerate(order):
        s = subs[k]
        nbytes = 0 if s.error else _file_nbytes(s)
        write_bytes(view, out_ptr + n * EVENT.size,
                    EVENT.pack(s.userdata, s.error, s.type, nbytes, 0))
    write_u32(view, nevents_ptr, len(ready))
    return SUCCESS


CALLS: dict[str, tuple[str, Callable[..., int]]] = {
    "args_get": ("ii", args_get),
    "args_sizes_get": ("ii", args_sizes_get),
    "environ_get": ("ii", environ_get),
    "environ_sizes_get": ("ii", environ_sizes_get),
    "clock_res_get": ("ii", clock_res_get),
    "clock_time_get": ("iIi", clock_time_get),
    "random_get": ("ii", random_get),
    "proc_exit": ("i", proc_exit),
    "proc_raise": ("i", proc_raise),
    "sched_yield": ("", sched_yield),
    "poll_oneoff": ("iiii", poll_oneoff),
    "sock_accept": ("iii", sock_accept),
    "sock_recv": ("iiiiii", sock_recv),
    "sock_send": ("iiiii", sock_send),
    "sock_shutdown": ("ii", sock_shutdown),
}
NO_RESULT = {"proc_exit"}
