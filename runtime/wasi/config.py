"""WasiConfig: what a WASI program is given (arguments, environment, preopened
directories, standard streams). A config is plain data and can be reused; each run makes
its own Wasi state from it."""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Union

from ..errors import ArgumentError, ArgumentTypeError

# A host directory's path.
HostPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

SYMLINK_POLICIES = ("allow", "inside", "none")


def _bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        # surrogateescape keeps host arguments that are not UTF-8 byte-exact (os.fsencode).
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, os.PathLike):
        return os.fsencode(value)
    raise ArgumentTypeError(f"{what} must be str or bytes, got {type(value).__name__}")


class Preopen:
    """A host directory the guest sees at ``guest`` (a path such as "/data" or ".");
    ``readonly`` refuses every change with EPERM, as wasmtime does."""

    __slots__ = ("guest", "host", "readonly")

    def __init__(self, guest: str, host: HostPath, readonly: bool = False) -> None:
        if not isinstance(guest, str) or not guest:
            raise ArgumentError(f"a preopen's guest path must be a non-empty str, got {guest!r}")
        self.guest = guest
        self.host: str | bytes = os.fspath(host)
        self.readonly = bool(readonly)

    def __repr__(self) -> str:
        ro = ", readonly" if self.readonly else ""
        return f"Preopen({self.guest!r} -> {self.host!r}{ro})"


def _preopen(guest: str, value: object) -> Preopen:
    if isinstance(value, Preopen):
        return Preopen(guest, value.host, value.readonly)
    if isinstance(value, tuple) and len(value) == 2:
        host, mode = value
        if mode not in ("ro", "rw"):
            raise ArgumentError(f"preopen mode must be 'ro' or 'rw', got {mode!r}")
        return Preopen(guest, host, mode == "ro")
    if isinstance(value, (str, bytes, os.PathLike)):
        return Preopen(guest, value)
    raise ArgumentError(f"preopen {guest!r}: expected a host path or (host path, 'ro'|'rw'), "
                f"got {value!r}")


class WasiConfig:
    """Arguments, environment, preopened directories and standard streams for a WASI run.

    ``argv``: list of str/bytes (argv[0] included; default: just the program's name).
    ``env``: mapping or (name, value) pairs; nothing is inherited unless given.
    ``preopens``: {guest path: host path | (host path, "ro"|"rw")}.
    ``stdin``/``stdout``/``stderr``: None inherits the process's stream; a path names a
    file (stdout/stderr are created or truncated); a file-like object (io.BytesIO,
    io.StringIO, an open file) is read or written directly; stdin may also be bytes.
    ``max_output``: bytes the guest may write to stdout and to stderr, each (None: no cap);
    ``fayasm.run(..., limits=ResourceLimits(wasi_output=N))`` sets it too.
    ``symlinks``: what path_symlink may create. "allow" (the default, as wasmtime): any
    relative target, even one that points outside the preopen (the guest itself can never
    follow it out, but a host program that later follows it can; see docs/wasi.md);
    "inside": only targets that can never lead out, relative ones without a ".." component;
    "none": no symlink at all. A refused symlink fails with EPERM.
    """

    def __init__(self, argv: Iterable[str | bytes] | None = None,
                 env: Mapping[Any, Any] | Iterable[Any] | None = None,
                 preopens: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
                 stdin: Any = None, stdout: Any = None, stderr: Any = None,
                 max_output: int | None = None, symlinks: str = "allow") -> None:
        if isinstance(argv, (str, bytes)):
            raise ArgumentTypeError("argv must be a list of arguments, not one string")
        self.argv = None if argv is None else [_bytes(a, "an argument") for a in argv]
        self.env: list[tuple[bytes, bytes]] = []
        items = env.items() if isinstance(env, Mapping) else (env or ())
        for pair in items:
            try:
                name, value = pair
            except (TypeError, ValueError):
                raise ArgumentTypeError(f"env items must be (name, value) pairs, "
                                        f"got {pair!r}") from None
            name, value = _bytes(name, "an environment name"), _bytes(value, "a value")
            if not name or b"=" in name or b"\0" in name or b"\0" in value:
                raise ArgumentError(f"invalid environment variable name {name!r}")
            self.env.append((name, value))
        self.preopens: list[Preopen] = []
        if isinstance(preopens, Mapping):
            preopens = preopens.items()
        for guest, value in preopens or ():
            self.preopens.append(_preopen(guest, value))
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        if max_output is not None and (isinstance(max_output, bool) or
                                       not isinstance(max_output, int) or max_output < 0):
            raise ArgumentError(f"max_output must be a non-negative int or None, "
                                f"got {max_output!r}")
        self.max_output = max_output
        if symlinks not in SYMLINK_POLICIES:
            raise ArgumentError(f"symlinks must be one of {', '.join(SYMLINK_POLICIES)}, "
                                f"got {symlinks!r}")
        self.symlinks = symlinks

    def preopen(self, guest: str, host: HostPath, readonly: bool = False) -> "WasiConfig":
        """Add a preopened directory; returns the config, so calls chain."""
        self.preopens.append(Preopen(guest, host, readonly))
        return self

    def __repr__(self) -> str:
        links = "" if self.symlinks == "allow" else f", symlinks={self.symlinks!r}"
        return (f"WasiConfig(argv={self.argv!r}, env={len(self.env)} vars, "
                f"preopens={self.preopens!r}{links})")
