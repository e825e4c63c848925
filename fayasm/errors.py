"""Compile errors: a module that cannot be decoded, parsed, validated or translated."""
from __future__ import annotations

from fayasm.runtime.errors import Error
from fayasm.runtime.limits import MAX_LOCALS, MAX_NESTING, MAX_TEXT_DEPTH

# Messages for modules past an implementation limit (fayasm.runtime.limits); the binary
# decoder and the text parser give the same ones.
TOO_MANY_LOCALS = "too many locals"
LOCALS_LIMIT = f"too many locals: more than {MAX_LOCALS} declared"
NESTING_TOO_DEEP = f"nesting too deep: more than {MAX_NESTING} blocks open at once"
TEXT_TOO_DEEP = f"nesting too deep: more than {MAX_TEXT_DEPTH} parentheses open at once"


class CompileError(Error):
    """The module cannot be compiled: it is not a valid WebAssembly module, it is past an
    implementation limit, or an engine could not translate it."""


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


class AnnotationError(ParseError):
    """Malformed text in a text annotation that has a meaning (``@custom``, ``@name``,
    ``@metadata.code.branch_hint``), or one placed where it has none: the spec scripts'
    ``assert_malformed_custom``."""


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


class TranslationError(CompileError):
    """An engine failed to translate or compile a valid module (an internal error, not
    the guest's doing): ``.stage`` (an engine's name, or "IR builder"), ``.func``
    (function index or None) and ``.func_name`` say where, ``.cause`` what failed
    (e.g. "RecursionError: ...")."""

    def __init__(self, stage: str, cause: str, func: int | None = None,
                 func_name: str | None = None):
        self.stage = stage
        self.cause = cause
        self.func = func
        self.func_name = func_name
        where = ""
        if func is not None:
            where = f" function {func}" + (f" ({func_name})" if func_name else "")
        super().__init__(f"{stage}: cannot compile{where}: {cause}")


def describe(e: BaseException) -> str:
    """``e`` as ``Type: message`` for TranslationError.cause."""
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


class AnnotationInvalid(ValidationError):
    """A well-formed annotation on the wrong target (a branch hint on an instruction that
    is no branch): the spec scripts' ``assert_invalid_custom``."""
