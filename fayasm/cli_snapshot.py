"""``fayasm snapshot``: pre-initialize a module (preinit.py), and the snapshot files of
``fayasm run --snapshot-out/--from``."""
from __future__ import annotations

import argparse
import os

import fayasm
from fayasm.cli_args import FileProblem, load


def read_snapshot(path: str) -> fayasm.Snapshot:
    """The snapshot in the file ``path`` (FileProblem if it cannot be read)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise FileProblem(f"cannot read {path}: {e.strerror}") from None
    return fayasm.Snapshot.from_bytes(data)


def write_file(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (a temporary file, then a rename)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise FileProblem(f"cannot write {path}: {e.strerror}") from None


def cmd_snapshot(args) -> int:
    from fayasm.preinit import preinitialize

    module = load(args.file)
    wasi = None
    if any(i.module == "wasi_snapshot_preview1" for i in module.imports):
        wasi = fayasm.WasiConfig(argv=[args.file])
    binary = preinitialize(module, args.init, engine=args.engine, wasi=wasi)
    write_file(args.output, binary)
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    snap = sub.add_parser(
        "snapshot", help="pre-initialize a module: run its init function once, keep the state",
        description="Instantiate FILE, call its export FUNC (no arguments) and write a new "
        "module whose data segments, globals and tables hold the state FUNC left, without "
        "FUNC's export or the start function: any engine (wasmtime too) starts from there.",
        epilog="example: fayasm snapshot app.wasm --init init -o app.init.wasm")
    snap.add_argument("file", metavar="FILE")
    snap.add_argument("--init", required=True, metavar="FUNC",
                      help="the exported function that initializes")
    snap.add_argument("-o", "--output", required=True, metavar="OUT.wasm")
    snap.add_argument("--engine", default=None, help="the engine to run the init on")
    snap.set_defaults(func=cmd_snapshot)


__all__ = ["add_command", "cmd_snapshot", "read_snapshot", "write_file"]
