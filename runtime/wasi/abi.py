"""The witx types of the calls' scalar arguments, checked before a call does anything.

A flags argument with a bit its type does not define, an enum argument with no such case,
or a value wider than its type (a whence of 256) is not a value of the parameter's type:
the guest broke the ABI, as with a misaligned pointer, so the call traps, as wasmtime's
does (fayasm used to answer EINVAL, and ignored unknown lookupflags bits). Errors of
well-typed arguments (a clock the host lacks, a sync flag it cannot set) stay errnos.
"""
from __future__ import annotations

from .constants import (
    ADVICE_MAX,
    ALL_RIGHTS,
    FDFLAGS_ALL,
    FSTFLAGS_ALL,
    LOOKUP_SYMLINK_FOLLOW,
    OFLAGS_ALL,
    SDFLAGS_ALL,
    SIGNAL_MAX,
    WHENCE_END,
)
from .guest import GuestTrap


class Flags:
    """A witx flags type; ``mask`` holds the bits it defines (a value wider than the type
    has bits outside it too)."""

    def __init__(self, name: str, mask: int):
        self.name, self.mask = name, mask

    def invalid(self, value: int) -> bool:
        return bool(value & ~self.mask)


class Enum:
    """A witx enum type: cases 0 .. ``count`` - 1 (whatever its width)."""

    def __init__(self, name: str, count: int):
        self.name, self.count = name, count

    def invalid(self, value: int) -> bool:
        return value >= self.count


LOOKUPFLAGS = Flags("lookupflags", LOOKUP_SYMLINK_FOLLOW)
OFLAGS = Flags("oflags", OFLAGS_ALL)
FDFLAGS = Flags("fdflags", FDFLAGS_ALL)
FSTFLAGS = Flags("fstflags", FSTFLAGS_ALL)
RIGHTS = Flags("rights", ALL_RIGHTS)
RIFLAGS = Flags("riflags", 3)          # recv_peek | recv_waitall
SIFLAGS = Flags("siflags", 0)          # defines no flag
SDFLAGS = Flags("sdflags", SDFLAGS_ALL)
CLOCKID = Enum("clockid", 4)          # realtime, monotonic, process and thread cputime
WHENCE = Enum("whence", WHENCE_END + 1)
ADVICE = Enum("advice", ADVICE_MAX + 1)
SIGNAL = Enum("signal", SIGNAL_MAX + 1)

# call -> {position among the raw wasm arguments (a pointer and its length are two): type}.
ARGUMENTS: dict[str, dict[int, Flags | Enum]] = {
    "clock_res_get": {0: CLOCKID},
    "clock_time_get": {0: CLOCKID},
    "fd_advise": {3: ADVICE},
    "fd_fdstat_set_flags": {1: FDFLAGS},
    "fd_fdstat_set_rights": {1: RIGHTS, 2: RIGHTS},
    "fd_filestat_set_times": {3: FSTFLAGS},
    "fd_seek": {2: WHENCE},
    "path_filestat_get": {1: LOOKUPFLAGS},
    "path_filestat_set_times": {1: LOOKUPFLAGS, 6: FSTFLAGS},
    "path_link": {1: LOOKUPFLAGS},
    "path_open": {1: LOOKUPFLAGS, 4: OFLAGS, 5: RIGHTS, 6: RIGHTS, 7: FDFLAGS},
    "proc_raise": {0: SIGNAL},
    "sock_accept": {1: FDFLAGS},
    "sock_recv": {3: RIFLAGS},
    "sock_send": {3: SIFLAGS},
    "sock_shutdown": {1: SDFLAGS},
}


def check_arguments(name: str, args: tuple) -> None:
    """Trap unless every typed argument of ``name`` is a value of its type."""
    types = ARGUMENTS.get(name)
    if not types:
        return
    for pos, t in types.items():
        value = args[pos]
        if t.invalid(value):
            raise GuestTrap(f"invalid argument: {t.name} value {value:#x} is not defined",
                            "wasi_invalid_argument")


__all__ = ["ARGUMENTS", "check_arguments"]
