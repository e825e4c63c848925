"""Decisions drawn through hypothesis, so that every choice a generator makes can shrink.

Hypothesis shrinks each integer draw toward its lower bound, so generators put the
simplest option first: ``chance`` is False when shrunk, ``weighted`` picks its first
option, ``bits`` gives 0. The strategies are built once and cached.
"""
from __future__ import annotations

import builtins  # int: the method Chooser.int hides it in the class
from functools import lru_cache

from hypothesis import strategies as st

from fayasm.runtime.types import ValType

from .values import EDGES, WIDTH


@lru_cache(maxsize=None)
def _integers(lo: int, hi: int):
    return st.integers(lo, hi)


class Chooser:
    """Wraps hypothesis's ``draw``: small helpers for the decisions generators make."""

    def __init__(self, draw):
        self._draw = draw

    def int(self, lo: int, hi: int) -> int:
        if lo >= hi:
            return lo
        return self._draw(_integers(lo, hi))

    def chance(self, percent: builtins.int) -> bool:
        """True with about ``percent``% probability; False when shrunk."""
        return self.int(0, 99) >= 100 - percent

    def pick(self, items):
        return items[self.int(0, len(items) - 1)]

    def weighted(self, options):
        """One value of ``[(weight, value), ...]`` (zero weights are skipped); the first
        option is the one hypothesis shrinks toward."""
        options = [(w, v) for w, v in options if w > 0]
        total = sum(w for w, _ in options)
        x = self.int(0, total - 1)
        for w, v in options:
            if x < w:
                return v
            x -= w
        raise AssertionError("unreachable")

    def bits(self, t: ValType) -> builtins.int:
        """A constant of numeric type ``t`` as unsigned bits: mostly boundary values."""
        if t is ValType.V128:
            shape = self.int(0, 5)
            if shape == 0:
                return 0
            if shape == 1:
                return self.int(0, (1 << 128) - 1)
            width, source = [(32, ValType.I32), (64, ValType.I64), (32, ValType.F32),
                             (64, ValType.F64), (8, None)][shape - 1]
            lanes = []
            for _ in range(128 // width):
                if source is None:
                    lanes.append(self.int(0, 255))
                else:
                    edges = EDGES[source]
                    lanes.append(edges[self.int(0, len(edges) - 1)])
            out = 0
            for k, lane in enumerate(lanes):
                out |= (lane & ((1 << width) - 1)) << (k * width)
            return out
        edges = EDGES[t]
        k = self.int(0, len(edges) + 5)
        if k < len(edges):
            return edges[k]
        if k == len(edges):  # a small number
            return self.int(0, 64)
        if k == len(edges) + 1 and t in (ValType.F32, ValType.F64):
            return self.nan(WIDTH[t])
        return self.int(0, (1 << WIDTH[t]) - 1)

    def nan(self, width: builtins.int) -> builtins.int:
        """A NaN of any sign and payload, signalling half the time: the exact float
        operations (neg, abs, copysign, loads, stores, reinterprets) must keep its bits."""
        frac = 23 if width == 32 else 52
        exp = ((1 << (width - frac - 1)) - 1) << frac
        quiet = 1 << (frac - 1)
        payload = self.int(1, quiet - 1) | (quiet if self.chance(50) else 0)
        return (1 << (width - 1) if self.chance(50) else 0) | exp | payload


class RandomChooser(Chooser):
    """The same decisions from a ``random.Random``: no shrinking, but several times
    faster than drawing through hypothesis (for sampling, e.g. coverage measurements)."""

    def __init__(self, rng):
        self._rng = rng

    def int(self, lo: int, hi: int) -> int:
        return lo if lo >= hi else self._rng.randint(lo, hi)


class RecordingChooser(RandomChooser):
    """A RandomChooser that keeps its choices (as offsets from each range's lower bound),
    so that a module it made can be made again, and shrunk (see ``shrink``)."""

    def __init__(self, rng):
        super().__init__(rng)
        self.choices: list[int] = []

    def int(self, lo: int, hi: int) -> int:
        if lo >= hi:
            return lo
        v = self._rng.randint(lo, hi)
        self.choices.append(v - lo)
        return v


class ReplayChooser(Chooser):
    """Makes the choices it is given again: each offset is clamped into the range asked
    for, and once they run out every choice is the simplest (the lower bound). ``used``
    is the sequence as actually taken."""

    def __init__(self, choices):
        self._choices = choices
        self._k = 0
        self.used: list[int] = []

    def int(self, lo: int, hi: int) -> int:
        if lo >= hi:
            return lo
        k = self._k
        offset = min(self._choices[k], hi - lo) if k < len(self._choices) else 0
        self._k = k + 1
        self.used.append(offset)
        return lo + offset


__all__ = ["Chooser", "RandomChooser", "RecordingChooser", "ReplayChooser"]
