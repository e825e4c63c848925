"""Fuel and deadlines, counted the same way by every engine.

A unit of fuel is spent on every call instruction executed (to any function), on every
entry into the instance from outside it (from Python, a host function or another
engine), and on every branch back to a loop. Engines count down a chunk of units and ask
the Budget for the next chunk when it runs out; a deadline is checked at each chunk, and
chunks are small (DEADLINE_INTERVAL) when one is set.

The countdown of the current chunk lives in the Budget (``tick``), shared by every
activation of the instance: a call that re-enters it (through a host function, or an
engine's entry wrapper) continues the same chunk instead of taking a new one.
"""
from __future__ import annotations

import time

from .checks import seconds, whole
from .errors import DEADLINE_EXCEEDED, OUT_OF_FUEL, Trap
from .limits import BULK_SHIFT, DEADLINE_INTERVAL

UNLIMITED = 1 << 62


class Budget:
    __slots__ = ("fuel", "timeout", "deadline", "tick", "depth")

    def __init__(self, fuel: int | None = None, timeout: float | None = None):
        self.fuel = check_fuel(fuel)
        self.timeout = check_deadline(timeout)
        self.deadline: float | None = None  # absolute time while a call with a timeout runs
        self.tick = 0  # units left in the current chunk, while the instance runs
        self.depth = 0  # activations of the instance in progress

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
        return self.fuel is not None or self.timeout is not None

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
