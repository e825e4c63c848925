"""The compile budget: how long compiling a module may take, per thread.

A module built to make a compiler slow must not stall the host. ``fayasm.instantiate``
sets a budget (``compile_timeout``, default DEFAULT_COMPILE_TIMEOUT seconds) around
compiling and instantiating; a lazy compile inside a call gets what is left of the
call's deadline (and at most the default). The jit runs each LLVM build it starts within
the budget in a thread of its own (LLVM releases the GIL) and gives up waiting when the
budget is spent: CompileTimeout, or the call's "deadline exceeded" trap. The abandoned
build finishes in the background, on an LLVM context of its own.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import Error

# Seconds a module's compile may take by default (FAYASM_COMPILE_TIMEOUT overrides it).
DEFAULT_COMPILE_TIMEOUT = float(os.environ.get("FAYASM_COMPILE_TIMEOUT", "60"))

_local = threading.local()


class CompileTimeout(Error):
    """Compiling took longer than the compile budget (``compile_timeout`` or the
    deadline) allowed."""


def deadline() -> float | None:
    """The absolute (time.monotonic) end of this thread's compile budget, or None."""
    return getattr(_local, "deadline", None)


@contextmanager
def budget(seconds: float | None = None, at: float | None = None) -> Iterator[None]:
    """Compiles this thread starts in the block end by ``seconds`` from now (or by the
    absolute time ``at``); a budget already in force that ends sooner still holds."""
    old = deadline()
    end = None if seconds is None else time.monotonic() + seconds
    if at is not None and (end is None or at < end):
        end = at
    if old is not None and (end is None or old < end):
        end = old
    _local.deadline = end
    try:
        yield
    finally:
        _local.deadline = old


__all__ = ["CompileTimeout", "DEFAULT_COMPILE_TIMEOUT", "budget", "deadline"]
