"""The exceptions fayasm raises. Everything a guest or a module can cause is a ``fayasm.Error``."""
from __future__ import annotations


class Error(Exception):
    """Base of every exception fayasm raises."""


class ArgumentError(Error, ValueError):
    """A bad argument to a fayasm function: a value out of range (negative fuel, a NaN
    deadline, ...). Also a ValueError, so ``except ValueError`` code keeps working."""


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument of the wrong type (a str where an int is needed, ...). Also a TypeError
    (and, through ArgumentError, a ValueError)."""


class FileError(Error, OSError):
    """A file fayasm was asked to read could not be read (missing, unreadable); also an
    OSError, with ``.errno``, ``.strerror`` and ``.filename``."""

    def __init__(self, errno: int | None, strerror: str, filename: str):
        OSError.__init__(self, errno, strerror, filename)

    def __str__(self) -> str:
        return f"cannot read {self.filename}: {self.strerror}"


class InterfaceError(Error, ImportError):
    """A translated file needs a runtime interface the installed fayasm does not serve (it
    was written by another fayasm version); also an ImportError, since importing it fails."""


class LinkError(Error):
    """Imports missing or not matching what the module declares; lists every problem at once."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [message])


class ResourceLimitError(Error):
    """Instantiation would exceed a ResourceLimits cap (an initial size, or a count):
    runtime/resources.py raises it."""


class Trap(Error):
    """A WebAssembly trap: ``.code`` is a short identifier, ``.message`` the spec's wording,
    ``.frames`` the wasm backtrace (innermost first) as ``(instance name, function name)``."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or _code_of(message)
        self.frames: list[str] = []

    def __str__(self) -> str:
        if not self.frames:
            return self.message
        trace = "\n".join(format_frames(self.frames))
        return f"{self.message}\nwasm backtrace:\n{trace}"

    def add_frame(self, name: str) -> None:
        self.frames.append(name)


# -- trap messages --------------------------------------------------------------------------
# The one place they are written: every engine and runtime module takes them from here
# (tests/test_layers.py checks that none spells one out).
# The spec's wording (the spec suite matches on it; a detail may follow, as in
# "undefined element 5").
UNREACHABLE = "unreachable"
DIV_ZERO = "integer divide by zero"
INT_OVERFLOW = "integer overflow"
BAD_CONVERSION = "invalid conversion to integer"
MEM_OOB = "out of bounds memory access"
TABLE_OOB = "out of bounds table access"
UNDEFINED_ELEMENT = "undefined element"
UNINITIALIZED_ELEMENT = "uninitialized element"
TYPE_MISMATCH = "indirect call type mismatch"
STACK_EXHAUSTED = "call stack exhausted"
NULL_FUNC_REF = "null function reference"  # call_ref, return_call_ref
NULL_REF = "null reference"  # ref.as_non_null
CAST_FAILURE = "cast failure"  # ref.cast (GC)
NULL_STRUCT = "null structure reference"
NULL_ARRAY = "null array reference"
NULL_I31 = "null i31 reference"
ARRAY_OOB = "out of bounds array access"
SPEC_TRAP_MESSAGES = (UNREACHABLE, DIV_ZERO, INT_OVERFLOW, BAD_CONVERSION, MEM_OOB, TABLE_OOB,
                      UNDEFINED_ELEMENT, UNINITIALIZED_ELEMENT, TYPE_MISMATCH, STACK_EXHAUSTED,
                      NULL_FUNC_REF, NULL_REF, CAST_FAILURE, NULL_STRUCT, NULL_ARRAY, NULL_I31,
                      ARRAY_OOB)
# fayasm's own traps: the limits a host sets on a guest.
OUT_OF_FUEL = "out of fuel"
DEADLINE_EXCEEDED = "deadline exceeded"
RESOURCE_LIMIT = "resource limit exceeded"
INTERRUPTED = "interrupted"
TRAP_MESSAGES = SPEC_TRAP_MESSAGES + (OUT_OF_FUEL, DEADLINE_EXCEEDED, RESOURCE_LIMIT, INTERRUPTED)


class Exhaustion(Trap):
    """The guest exhausted the call stack (deep or infinite recursion)."""

    def __init__(self, message: str = STACK_EXHAUSTED):
        super().__init__(message, "call_stack_exhausted")


class Interrupted(Trap):
    """The guest was interrupted (``Interrupt.interrupt()`` or ``Instance.interrupt()``)."""

    def __init__(self, message: str = INTERRUPTED):
        super().__init__(message, "interrupted")


class SnapshotError(Error):
    """A snapshot that cannot be taken (inside a call, a reference it cannot name) or
    restored (another module, corrupted, a future format, state the new instance cannot
    take); nothing is restored when it is raised."""


class WasiExit(Error):
    """A WASI program called proc_exit; ``.code`` is its exit code."""

    def __init__(self, code: int):
        super().__init__(f"exit code {code}")
        self.code = code


REPEAT_SHOWN = 3  # as Python's tracebacks show a recursion (traceback._RECURSIVE_CUTOFF)
FRAMES_SHOWN = 100  # distinct lines shown at most; the rest is summarised


def format_frames(frames: list[str]) -> list[str]:
    """Backtrace lines for display: a run of one frame repeated is cut after REPEAT_SHOWN
    lines, the way Python shows a RecursionError ("[previous frame repeated N more
    times]"); past FRAMES_SHOWN lines, the middle is summarised. ``Trap.frames`` keeps
    every frame."""
    lines: list[str] = []
    k, n = 0, len(frames)
    while k < n:
        run = k + 1
        while run < n and frames[run] == frames[k]:
            run += 1
        count = run - k
        lines.extend([f"  at {frames[k]}"] * min(count, REPEAT_SHOWN))
        if count > REPEAT_SHOWN:
            more = count - REPEAT_SHOWN
            times = "times" if more > 1 else "time"
            lines.append(f"  [previous frame repeated {more:,} more {times}]")
        k = run
    if len(lines) > FRAMES_SHOWN:
        head, tail = FRAMES_SHOWN * 2 // 3, FRAMES_SHOWN // 3
        cut = len(lines) - head - tail
        lines[head:len(lines) - tail] = [f"  [{cut:,} more lines]"]
    return lines


# The code Trap.code gives each trap message.
TRAP_CODES = {
    UNREACHABLE: "unreachable",
    DIV_ZERO: "integer_divide_by_zero",
    INT_OVERFLOW: "integer_overflow",
    BAD_CONVERSION: "invalid_conversion_to_integer",
    MEM_OOB: "memory_out_of_bounds",
    TABLE_OOB: "table_out_of_bounds",
    UNDEFINED_ELEMENT: "undefined_element",
    UNINITIALIZED_ELEMENT: "uninitialized_element",
    TYPE_MISMATCH: "indirect_call_type_mismatch",
    STACK_EXHAUSTED: "call_stack_exhausted",
    NULL_FUNC_REF: "null_function_reference",
    NULL_REF: "null_reference",
    CAST_FAILURE: "cast_failure",
    NULL_STRUCT: "null_structure_reference",
    NULL_ARRAY: "null_array_reference",
    NULL_I31: "null_i31_reference",
    ARRAY_OOB: "array_out_of_bounds",
    OUT_OF_FUEL: "out_of_fuel",
    DEADLINE_EXCEEDED: "deadline_exceeded",
    RESOURCE_LIMIT: "resource_limit_exceeded",
    INTERRUPTED: "interrupted",
}


def _code_of(message: str) -> str:
    """The code of a spec message, which may carry a detail ("uninitialized element 2")."""
    for text, code in TRAP_CODES.items():
        if message.startswith(text):
            return code
    return "trap"
