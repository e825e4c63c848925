"""The exceptions fayasm raises. Everything a guest or a module can cause is a ``fayasm.Error``."""
from __future__ import annotations


class Error(Exception):
    """Base of every exception fayasm raises."""


class LinkError(Error):
    """Imports missing or not matching what the module declares; lists every problem at once."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [message])


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
        trace = "\n".join(f"  at {f}" for f in self.frames)
        return f"{self.message}\nwasm backtrace:\n{trace}"

    def add_frame(self, name: str) -> None:
        self.frames.append(name)


class Exhaustion(Trap):
    """The guest exhausted the call stack (deep or infinite recursion)."""

    def __init__(self, message: str = "call stack exhausted"):
        super().__init__(message, "call_stack_exhausted")


class WasiExit(Error):
    """A WASI program called proc_exit; ``.code`` is its exit code."""

    def __init__(self, code: int):
        super().__init__(f"exit code {code}")
        self.code = code


# The spec's trap messages, and the codes Trap.code gives them.
TRAP_CODES = {
    "unreachable": "unreachable",
    "integer divide by zero": "integer_divide_by_zero",
    "integer overflow": "integer_overflow",
    "invalid conversion to integer": "invalid_conversion_to_integer",
    "out of bounds memory access": "memory_out_of_bounds",
    "out of bounds table access": "table_out_of_bounds",
    "undefined element": "undefined_element",
    "uninitialized element": "uninitialized_element",
    "indirect call type mismatch": "indirect_call_type_mismatch",
    "call stack exhausted": "call_stack_exhausted",
    "out of fuel": "out_of_fuel",
    "deadline exceeded": "deadline_exceeded",
    "resource limit exceeded": "resource_limit_exceeded",
}


def _code_of(message: str) -> str:
    """The code of a spec message, which may carry a detail ("uninitialized element 2")."""
    for text, code in TRAP_CODES.items():
        if message.startswith(text):
            return code
    return "trap"
