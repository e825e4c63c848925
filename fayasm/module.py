"""The public Module: a decoded (or parsed) and validated WebAssembly module."""
from __future__ import annotations

import contextlib
import gc
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fayasm.errors import DecodeError, ParseError
from fayasm.runtime.errors import ArgumentError, ArgumentTypeError, FileError
from fayasm.runtime.types import ExternKind, FuncType, GlobalType, MemoryType, TableType
from fayasm.syntax import Module as Syntax

if TYPE_CHECKING:
    from fayasm.validate import ModuleInfo


def _describe(kind: ExternKind, t: object) -> str:
    # Table and memory types print with their kind already ("memory 1 2").
    return (f"{kind} {t}" if kind in (ExternKind.FUNC, ExternKind.GLOBAL, ExternKind.TAG)
            else str(t))


@dataclass(frozen=True)
class ImportType:
    module: str
    name: str
    kind: ExternKind
    type: FuncType | TableType | MemoryType | GlobalType

    def __str__(self) -> str:
        return f'"{self.module}"."{self.name}": {_describe(self.kind, self.type)}'

    def __repr__(self) -> str:
        return f"<import {self}>"


@dataclass(frozen=True)
class ExportType:
    name: str
    kind: ExternKind
    type: FuncType | TableType | MemoryType | GlobalType

    def __str__(self) -> str:
        return f'"{self.name}": {_describe(self.kind, self.type)}'

    def __repr__(self) -> str:
        return f"<export {self}>"


class Module:
    """``Module(source)``: bytes are the binary format, str is WAT text. Decodes (or parses)
    and validates; raises DecodeError, ParseError or ValidationError (all CompileError)."""

    def __init__(self, source: bytes | bytearray | memoryview | str, name: str | None = None,
                 _path: str | None = None) -> None:
        with gc_paused():
            self._load(source, name, _path)

    def _load(self, source: bytes | bytearray | memoryview | str, name: str | None,
              path: str | None = None) -> None:
        if isinstance(source, str):
            from fayasm.text import parse_module

            try:
                syntax = parse_module(source, source=path or name)
            except ParseError as e:
                if path is None and _looks_like_path(source):
                    raise ParseError(f"{e.message} ({source!r} looks like a file name: "
                                     "Module(str) parses WAT text; use "
                                     "fayasm.Module.from_file to read a file)",
                                     e.line, e.column, e.source) from None
                raise
            self._setup(syntax, None, name)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            from fayasm import validcache
            from fayasm.binary import decode

            binary = bytes(source)
            if len(binary) < validcache.MIN_SIZE:
                self._setup(decode(binary), binary, name)
                return
            self._hash = hashlib.sha256(binary).hexdigest()
            if validcache.known_valid(self._hash):
                # Validated before: bodies decode, and info is computed, on first use.
                self._setup(decode(binary, trusted=True), binary, name, validated=False)
            else:
                self._setup(decode(binary), binary, name)
                validcache.remember(self._hash)
        elif isinstance(source, os.PathLike):
            raise ArgumentTypeError("Module() takes bytes (binary) or str (WAT text); use "
                                    "fayasm.Module.from_file to read a file")
        else:
            raise ArgumentTypeError("Module() takes bytes (binary) or str (WAT text), "
                                    f"not {type(source).__name__}")

    _hash: str | None = None
    _info = None

    def _setup(self, syntax: Syntax, binary: bytes | None, name: str | None,
               validated: bool = True) -> None:
        self.syntax = syntax
        self._binary = binary
        if validated:
            from fayasm.validate import validate

            self._info = validate(syntax)
        self.name = name or syntax.names.module or "module"
        self._compiled: dict = {}  # engine name -> that engine's compiled form

    @property
    def info(self) -> ModuleInfo:
        """What validation recorded (validate.ModuleInfo); for a binary known valid
        (fayasm.validcache), computed on first use."""
        if self._info is None:
            from fayasm.validate import validate

            with gc_paused():
                self._info = validate(self.syntax)
        return self._info

    @classmethod
    def from_syntax(cls, syntax: Syntax, name: str | None = None) -> "Module":
        """Validate an already decoded or parsed module."""
        self = cls.__new__(cls)
        with gc_paused():
            self._setup(syntax, None, name)
        return self

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "Module":
        """Read a .wasm (binary) or .wat/.wast (text) file; a file that starts with the
        wasm magic is binary whatever its name. A file that cannot be read raises
        FileError (an OSError too); one that is not a valid module, a CompileError."""
        try:
            path = os.fspath(path)
        except TypeError:
            raise ArgumentTypeError(f"from_file needs a path, got {type(path).__name__}") from None
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise FileError(e.errno, e.strerror or str(e), path) from None
        except ValueError as e:  # a NUL in the path
            raise ArgumentError(f"cannot read {path!r}: {e}") from None
        name = os.path.splitext(os.path.basename(path))[0]
        if data[:4] == b"\0asm" or not path.endswith((".wat", ".wast")):
            if data[:4] != b"\0asm" and _looks_like_text(data):
                return cls(_text(data, path), name=name, _path=path)
            return cls(data, name=name)
        return cls(_text(data, path), name=name, _path=path)

    @property
    def binary(self) -> bytes:
        """The module in the binary format (encoded from the text if it came as text)."""
        if self._binary is None:
            from fayasm.binary import encode

            self._binary = encode(self.syntax)
        return self._binary

    @property
    def hash(self) -> str:
        """SHA-256 of the binary form: the key of every cache."""
        if self._hash is None:
            self._hash = hashlib.sha256(self.binary).hexdigest()
        return self._hash

    @property
    def imports(self) -> list[ImportType]:
        m = self.syntax
        return [ImportType(i.module, i.name, i.kind,
                           m.types[i.desc] if i.kind in (ExternKind.FUNC, ExternKind.TAG)
                           else i.desc)
                for i in m.imports]

    @property
    def exports(self) -> list[ExportType]:
        m = self.syntax
        spaces: dict[ExternKind, list[Any]] = {
            ExternKind.FUNC: m.func_types(), ExternKind.TABLE: m.table_types(),
            ExternKind.MEMORY: m.memory_types(), ExternKind.GLOBAL: m.global_types(),
            ExternKind.TAG: [m.types[x] for x in m.tag_type_indices()]}
        return [ExportType(e.name, e.kind, spaces[e.kind][e.index]) for e in m.exports]

    def func_name(self, index: int) -> str:
        return self.syntax.func_name(index)

    def __repr__(self) -> str:
        return (f"<Module {self.name}: {len(self.syntax.funcs)} functions, "
                f"{len(self.syntax.imports)} imports, {len(self.syntax.exports)} exports>")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing, decoding, validating and compiling allocate many objects and no cycles:
    the cyclic collector only slows them down."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _looks_like_path(text: str) -> bool:
    """A str that is one token naming a module file (or an existing file), not WAT."""
    text = text.strip()
    if not text or "(" in text or "\n" in text:
        return False
    return text.endswith((".wasm", ".wat", ".wast")) or os.path.isfile(text)


def _looks_like_text(data: bytes) -> bool:
    head = data.lstrip()[:1]
    return head in (b"(", b";")


def _text(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError(f"{path}: malformed UTF-8 encoding", e.start) from None
