"""Shrinking a difference: simplify the choices that made a generated module while the
same difference (its signature) still shows.

Campaigns explore with seeded random choices (``generate.recorded_module``), which are
several times faster and far more varied than hypothesis's draws, and shrink here, the
way hypothesis would: every choice is an offset from the lower bound of its range, and
the generator puts the simplest option first, so zeroing a run of choices removes
statements, probes and plan calls, and picks first options. Passes, repeated while one
of them helps and time is left: cut the tail, zero ever smaller runs, lower single
values. A sequence is better when it is shorter, or as long and smaller element by
element (shortlex, as in hypothesis).
"""
from __future__ import annotations

import time


class _OutOfTime(Exception):
    pass


def _key(seq):
    return (len(seq), seq)


def shrink_choices(choices: list, test, deadline: float) -> list:
    """The simplest sequence found before ``deadline`` (``time.monotonic()``) for which
    ``test(seq)`` returns the choices it took (still failing), not None."""
    best = list(choices)
    seen: set = set()

    def attempt(trial: list) -> bool:
        nonlocal best
        t = tuple(trial)
        if t in seen or _key(trial) >= _key(best):
            return False
        seen.add(t)
        if time.monotonic() > deadline:
            raise _OutOfTime
        used = test(trial)
        if used is not None and _key(list(used)) < _key(best):
            best = list(used)
            return True
        return False

    try:
        improved = True
        while improved:
            improved = False
            # the tail: whatever is not there is chosen simplest
            lo, hi = 0, len(best)
            while lo < hi:
                mid = (lo + hi) // 2
                if attempt(best[:mid]):
                    improved = True
                    hi = min(mid, len(best))
                else:
                    lo = mid + 1
            size = max(len(best) // 2, 1)
            while size >= 1:
                start = 0
                while start < len(best):
                    chunk = best[start:start + size]
                    if any(chunk) and attempt(best[:start] + [0] * len(chunk)
                                              + best[start + size:]):
                        improved = True
                    start += size
                size //= 2
            for i in range(len(best)):
                if i < len(best) and best[i] > 0:
                    v = best[i]
                    for smaller in (0, v // 2, v - 1):
                        if smaller < v and attempt(best[:i] + [smaller] + best[i + 1:]):
                            improved = True
                            break
    except _OutOfTime:
        pass
    return best


__all__ = ["shrink_choices"]
