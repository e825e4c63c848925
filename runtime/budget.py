"""Fuel and deadlines, counted the same way by every engine.

A unit of fuel is spent on every call instruction executed (to any function), on every
entry into the instance from outside it (from Python, a host function or another
engine), and on every branch back to a loop. Engines count down a chunk of units and ask
the Budget for the next chunk when it runs out; a deadline is checked at each chunk, and
chunks are small (DEADLINE_INTERVAL) when one is set.

The countdown of the current chunk lives in the Budget (``tick``), shared by every
activation of the instance: a call that re-enters it (through a host function, or an
engine's entry wrapper) continues the same chunk instead of taking a new one.

Interruption (like wasmtime's epochs) uses the same checks: an instance made with
``interrupt=`` an ``Interrupt`` runs metered code with small chunks, and each new chunk
(every DEADLINE_INTERVAL units, and every call from outside) looks whether the handle
was interrupted since the instance last looked, or ``Instance.interrupt()`` asked; if so
the guest traps with ``Interrupted``. Code made without it pays nothing.
"""
from __future__ import annotations

import threading
import time

from .checks import seconds, whole
from .errors import DEADLINE_EXCEEDED, OUT_OF_FUEL, ArgumentTypeError, Interrupted, Trap
from .limits import BULK_SHIFT, DEADLINE_INTERVAL

UNLIMITED = 1 << 62


class Interrupt:
    """A handle that interrupts guests from any thread: ``interrupt()`` makes every
    instance made with ``instantiate(..., interrupt=handle)`` trap with ``Interrupted``
    at its next check (within DEADLINE_INTERVAL loop iterations or calls, or at its next
    call from outside if it is not running). Each instance traps once per
    ``interrupt()``: the request is then spent, and the instance can be called again."""

    __slots__ = ("generation", "_lock")

    def __init__(self) -> None:
        self.generation = 0  # interrupt() calls so far
        self._lock = threading.Lock()

    def interrupt(self) -> None:
        with self._lock:
            self.generation += 1

    def __repr__(self) -> str:
        return f"<Interrupt {self.generation} interrupts>"


def check_interrupt(handle: object) -> Interrupt | None:
    if handle is not None and not isinstance(handle, Interrupt):
        raise ArgumentTypeError(f"interrupt= takes a fayasm.Interrupt, got "
                                f"{type(handle).__name__}")
    return handle


class Budget:
    __slots__ = ("fuel", "timeout", "deadline", "tick", "depth", "interrupt", "seen", "pending")

    def __init__(self, fuel: int | None = None, timeout: float | None = None,
                 interrupt: Interrupt | None = None):
        self.fuel = check_fuel(fuel)
        self.timeout = check_deadline(timeout)
        self.deadline: float | None = None  # absolute time while a call with a timeout runs
        self.tick = 0  # units left in the current chunk, while the instance runs
        self.depth = 0  # activations of the instance in progress
        self.interrupt = check_interrupt(interrupt)
        self.seen = interrupt.generation if interrupt is not None else 0  # interrupts spent
        self.pending = False  # Instance.interrupt() asked

    def begin(self) -> None:
        """An entry into the instance, which costs a unit. The outermost one starts the
        deadline and the first chunk; nested ones continue the current chunk."""
        if self.depth == 0:
            if self.timeout is not None:
                self.deadline = time.monotonic() + self.timeout
            self.tick = 0
        self.depth += 1
        self.tick -= 1
        if self.tick < 0:
            try:
                self.tick = self.take() - 1
            except Trap:
                self.end()
                raise

    def end(self) -> None:
        """The matching exit: the outermost gives back the unused part of the chunk."""
        self.depth -= 1
        if self.depth == 0:
            if self.fuel is not None and self.tick > 0:
                self.fuel += self.tick
            self.tick = 0
            self.deadline = None

    # -- what a host reads and sets (Instance.get_fuel and friends) ---------------------------
    def remaining(self) -> int | None:
        """Units left (None: no limit). During a call, from a host function, this counts
        the running chunk too: every engine keeps it in ``tick`` while Python runs."""
        if self.fuel is None:
            return None
        return self.fuel + max(self.tick, 0) if self.depth else self.fuel

    def set_fuel(self, fuel: int | None) -> None:
        """Exactly ``fuel`` units left from now on (None: no limit). During a call the
        running chunk is dropped, so the guest gets the next one from the new amount."""
        self.fuel = check_fuel(fuel)
        if self.depth:
            self.tick = 0

    @property
    def metered(self) -> bool:
        return self.fuel is not None or self.timeout is not None or self.interrupt is not None

    def enter(self) -> bool:
        """Start the deadline of a call from outside; True if this call owns it."""
        if self.timeout is not None and self.deadline is None:
            self.deadline = time.monotonic() + self.timeout
            return True
        return False

    def leave(self, owned: bool, unused: int) -> None:
        if owned:
            self.deadline = None
        if self.fuel is not None and unused > 0:
            self.fuel += unused

    def charge(self, tick: int, n: int) -> int:
        """The countdown ``tick`` after a bulk operation on ``n`` bytes or elements (a unit
        per 2**BULK_SHIFT); takes chunks, so checks the deadline, as needed."""
        tick -= n >> BULK_SHIFT
        while tick < 0:
            tick += self.take()
        return tick

    def take(self) -> int:
        """The next chunk of units; raises the trap that says why if none is left."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise Trap(DEADLINE_EXCEEDED)
        handle = self.interrupt
        if handle is not None:
            if self.pending or handle.generation != self.seen:
                self.pending = False
                self.seen = handle.generation
                raise Interrupted()
            chunk = DEADLINE_INTERVAL
        else:
            chunk = DEADLINE_INTERVAL if self.deadline is not None else UNLIMITED
        if self.fuel is not None:
            if self.fuel <= 0:
                raise Trap(OUT_OF_FUEL)
            chunk = min(chunk, self.fuel)
            self.fuel -= chunk
        return chunk


def check_fuel(fuel: object, what: str = "fuel") -> int | None:
    """``fuel`` if it is None or a whole number of units >= 0; else ArgumentError."""
    return None if fuel is None else whole(fuel, what, 0)


def check_deadline(timeout: object, what: str = "deadline") -> float | None:
    """``timeout`` if it is None or a number of seconds >= 0 (not NaN); else ArgumentError."""
    return None if timeout is None else seconds(timeout, what)
