"""Fuel and deadlines, counted the same way by every engine.

A unit of fuel is spent on every function call (wasm or host, and the entry from Python)
and on every branch back to a loop. Engines count down a chunk of units and ask the
Budget for the next chunk when it runs out; a deadline is checked at each chunk, and
chunks are small (DEADLINE_INTERVAL) when one is set.
"""
from __future__ import annotations

import time

from .errors import Trap
from .limits import DEADLINE_INTERVAL

UNLIMITED = 1 << 62


class Budget:
    __slots__ = ("fuel", "timeout", "deadline")

    def __init__(self, fuel: int | None = None, timeout: float | None = None):
        if fuel is not None and fuel < 0:
            raise ValueError("fuel must be non-negative")
        if timeout is not None and timeout < 0:
            raise ValueError("a deadline must be non-negative")
        self.fuel = fuel
        self.timeout = timeout
        self.deadline = None  # absolute time while a call with a timeout runs

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

    def take(self) -> int:
        """The next chunk of units; raises the trap that says why if none is left."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise Trap("deadline exceeded")
        chunk = DEADLINE_INTERVAL if self.deadline is not None else UNLIMITED
        if self.fuel is not None:
            if self.fuel <= 0:
                raise Trap("out of fuel")
            chunk = min(chunk, self.fuel)
            self.fuel -= chunk
        return chunk
