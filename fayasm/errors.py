"""Front-end errors: a module that cannot be decoded, parsed or validated."""
from __future__ import annotations

from fayasm.runtime.errors import Error


class CompileError(Error):
    """The module is not a valid WebAssembly module."""


class DecodeError(CompileError):
    """Malformed binary: ``.offset`` is the byte offset where decoding failed."""

    def __init__(self, message: str, offset: int | None = None):
        self.message = message
        self.offset = offset
        super().__init__(message if offset is None else f"{message} (at byte offset {offset:#x})")


class ParseError(DecodeError):
    """Malformed text: ``.line`` and ``.column`` are 1-based."""

    def __init__(self, message: str, line: int = 0, column: int = 0, source: str | None = None):
        self.line = line
        self.column = column
        self.source = source
        where = f"{source}:" if source else ""
        DecodeError.__init__(self, message)
        Exception.__init__(self, f"{where}{line}:{column}: {message}")


class ValidationError(CompileError):
    """Invalid module: ``.func`` is the function index (or None), ``.instr`` the instruction
    index within its body where validation failed."""

    def __init__(self, message: str, func: int | None = None, instr: int | None = None,
                 func_name: str | None = None, op: str | None = None):
        self.message = message
        self.func = func
        self.instr = instr
        self.func_name = func_name
        self.op = op
        where = ""
        if func is not None:
            where = f" in function {func_name or func}"
            if instr is not None:
                where += f" at instruction {instr}" + (f" ({op})" if op else "")
        super().__init__(message + where)
