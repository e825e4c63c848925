"""The command line of a WASI run, one parser for ``fayasm run`` (and ``fayasm diff``) and
for a translated file run as a script (``python out.py``), so the two give a program the
same arguments, the same environment and the same errors for a bad ``--dir``.

The runner's options (``--dir``, ``--ro-dir``, ``--env``, and those a caller adds) are
recognised by name anywhere before a ``--``; every other argument, and everything after
``--``, is the program's. ``--env NAME`` passes this process's value of NAME on (nothing if
it is unset); ``--env NAME=VALUE`` sets it.
"""
from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Collection, Iterable, Mapping

from ..errors import Error
from .config import WasiConfig

OPTIONS = ("--dir", "--ro-dir", "--env", "--symlinks")  # each takes a value


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add --dir, --ro-dir and --env (repeatable) and --symlinks to ``parser``."""
    parser.add_argument("--dir", action="append", metavar="HOST[::GUEST]",
                        help="let the program use directory HOST, seen as GUEST (default: "
                        "HOST as written); repeatable")
    parser.add_argument("--ro-dir", action="append", metavar="HOST[::GUEST]",
                        help="like --dir, but the program cannot change anything in it")
    parser.add_argument("--env", action="append", metavar="NAME[=VALUE]",
                        help="set an environment variable for the program (NAME alone passes "
                        "on this process's value); repeatable")
    parser.add_argument("--symlinks", choices=("allow", "inside", "none"), default="allow",
                        help="which symlinks the program may create in its directories: any "
                        "relative one (allow, the default), only ones whose target has no "
                        "'..' and so stays inside (inside), or none; see docs/wasi.md")


def split(tokens: list[str], value_options: Collection[str] = OPTIONS,
          flag_options: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """``tokens`` split into (the runner's options, the program's arguments): options
    named in ``value_options`` (with their values, as ``--opt V`` or ``--opt=V``),
    ``flag_options``, ``-h`` and ``--help`` are the runner's wherever they appear before
    ``--``; everything else is the program's. ValueError for an option missing its value."""
    tail = list(tokens)
    options: list[str] = []
    program: list[str] = []
    while tail:
        tok = tail.pop(0)
        if tok == "--":
            program += tail
            break
        if tok.split("=", 1)[0] in value_options:
            options.append(tok)
            if "=" not in tok:
                if not tail:
                    raise ValueError(f"{tok} needs a value")
                options.append(tail.pop(0))
        elif tok in ("-h", "--help") or tok in flag_options:
            options.append(tok)
        else:
            program.append(tok)
    return options, program


def _environment(items: Iterable[str] | None,
                 environ: Mapping[str, str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items or ():
        name, eq, value = item.partition("=")
        if not name:
            raise ValueError(f"--env {item!r}: expected NAME=VALUE or NAME")
        if not eq:
            if name not in environ:
                continue  # NAME alone, unset here: the program does not get it either
            value = environ[name]
        pairs.append((name, value))
    return pairs


def _directory(option: str, spec: str) -> tuple[str, str]:
    """(guest, host) of a --dir/--ro-dir value; ValueError unless HOST is a directory."""
    host, sep, guest = spec.partition("::")
    if not host or (sep and not guest):
        raise ValueError(f"{option} {spec!r}: expected HOST or HOST::GUEST")
    try:
        mode = os.stat(host).st_mode
    except OSError as e:
        raise ValueError(f"{option} {spec!r}: cannot use {host!r}: {e.strerror}") from None
    except ValueError:  # a NUL in the path
        raise ValueError(f"{option} {spec!r}: not a valid path") from None
    if not stat.S_ISDIR(mode):
        raise ValueError(f"{option} {spec!r}: {host!r} is not a directory")
    return (guest if sep else host), host


def config(dirs: Iterable[str] | None, ro_dirs: Iterable[str] | None,
           env: Iterable[str] | None, argv: list[str],
           environ: Mapping[str, str] | None = None, symlinks: str = "allow") -> WasiConfig:
    """The WasiConfig of a run: ``dirs``/``ro_dirs`` as HOST[::GUEST] (GUEST defaults to
    HOST as written, as in wasmtime), ``env`` as NAME=VALUE or NAME (``environ``, default
    os.environ, gives its value), ``argv`` the program's argv (argv[0] included),
    ``symlinks`` as WasiConfig takes it.
    ValueError, with a one-line message, for anything malformed."""
    environ = os.environ if environ is None else environ
    preopens = [(*_directory("--dir", d), False) for d in dirs or ()]
    preopens += [(*_directory("--ro-dir", d), True) for d in ro_dirs or ()]
    try:
        cfg = WasiConfig(argv=argv, env=_environment(env, environ), symlinks=symlinks)
        for guest, host, readonly in preopens:
            cfg.preopen(guest, host, readonly)
    except Error as e:  # a name WasiConfig refuses (NUL, "=")
        raise ValueError(f"--env: {e}") from None
    return cfg


def script_parser(prog: str) -> argparse.ArgumentParser:
    """The parser of a translated file's own options (the program's arguments follow)."""
    p = argparse.ArgumentParser(
        prog=prog, usage=f"{prog} [--dir HOST[::GUEST]] [--ro-dir HOST[::GUEST]] "
        "[--env NAME[=VALUE]] [--symlinks allow|inside|none] [--] [ARGS ...]",
        description="Run this translated WebAssembly module's _start as a WASI command. "
        "Options may come anywhere before --; other arguments, and all after --, are the "
        "program's.")
    add_options(p)
    return p


def script_config(argv: list[str]) -> WasiConfig | int:
    """The WasiConfig for ``python out.py ARGS`` (``argv`` is sys.argv), or the exit status
    (2) after printing a usage error; ``--help`` prints the usage and exits."""
    prog = os.path.basename(argv[0]) if argv else "module.py"
    try:
        options, program = split(argv[1:])
        args = script_parser(prog).parse_args(options)
        return config(args.dir, args.ro_dir, args.env, [prog] + program,
                      symlinks=args.symlinks)
    except ValueError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2


__all__ = ["OPTIONS", "add_options", "config", "script_config", "script_parser", "split"]
