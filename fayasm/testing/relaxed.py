"""Relaxed SIMD in differential testing: which results another runtime may return.

Every fayasm engine computes the spec's deterministic profile (runtime/numerics/relaxed.py),
so among fayasm engines a difference is always a bug, and the diff demands identical
results of them. wasmtime computes what its hardware lowering gives: measured on x86-64
(scripts/relaxed_wasmtime.py), it is one fixed choice per instruction, but not one per
spec parameter (its i16x8.relaxed_laneselect is a bitselect, while the other shapes
look at each mask lane's top bit only). So wasmtime's outcome is accepted when one
assignment of a choice to each relaxed instruction the module uses makes the interpreter
agree with wasmtime at every step so far, results and state alike.

``Oracle`` does that lazily: while wasmtime agrees with the deterministic reference
nothing else runs; at the first disagreement it replays the steps so far on
interpreters with other assignments (``profiles``, wasmtime's measured x86 choices
first, at most ``LIMIT`` of them) until one agrees, which then runs along; when a later
step refutes it, the search goes on from the next assignment. No assignment left means
a real difference.
"""
from __future__ import annotations

import itertools

from fayasm import engines
from fayasm.runtime.numerics import relaxed as numerics

LIMIT = 256  # assignments tried in all (beyond that: reported as a difference)

# wasmtime's choices on x86-64 with FMA, as scripts/relaxed_wasmtime.py measures them
# (instruction name -> choice); tried before any other assignment.
WASMTIME_X86 = {
    "i8x16.relaxed_swizzle": 1,
    "i32x4.relaxed_trunc_f32x4_s": 1, "i32x4.relaxed_trunc_f32x4_u": 0,
    "i32x4.relaxed_trunc_f64x2_s_zero": 1, "i32x4.relaxed_trunc_f64x2_u_zero": 0,
    "f32x4.relaxed_madd": 1, "f32x4.relaxed_nmadd": 1,
    "f64x2.relaxed_madd": 1, "f64x2.relaxed_nmadd": 1,
    "i8x16.relaxed_laneselect": 1, "i16x8.relaxed_laneselect": 0,
    "i32x4.relaxed_laneselect": 1, "i64x2.relaxed_laneselect": 1,
    "f32x4.relaxed_min": 1, "f32x4.relaxed_max": 1,
    "f64x2.relaxed_min": 1, "f64x2.relaxed_max": 1,
    "i16x8.relaxed_q15mulr_s": 1,
    "i16x8.relaxed_dot_i8x16_i7x16_s": 1, "i32x4.relaxed_dot_i8x16_i7x16_add_s": 1,
}


def used(module) -> list[str]:
    """The relaxed instructions (row names) in ``module``'s function bodies, sorted."""
    names = {ins.op.name for f in module.syntax.funcs for ins in f.body if ins.op.relaxed}
    return sorted(names)


def choices(name: str) -> int:
    """How many results the spec allows relaxed instruction ``name`` to choose among."""
    return numerics.PARAMS[numerics.PARAM[name]]


def profiles(names: list[str], limit: int = LIMIT):
    """Assignments {instruction: choice} for ``names`` other than all-deterministic:
    wasmtime's measured one first, then every other in order, ``limit`` in all."""
    seen = set()
    first = tuple(WASMTIME_X86.get(n, 0) for n in names)
    candidates = itertools.chain([first], itertools.product(*(range(choices(n))
                                                               for n in names)))
    for combo in candidates:
        if not any(combo) or combo in seen:
            continue
        seen.add(combo)
        yield dict(zip(names, combo))
        if len(seen) >= limit:
            return


def count(names: list[str]) -> int:
    """How many assignments other than the deterministic one ``names`` have."""
    n = 1
    for name in names:
        n *= choices(name)
    return n - 1


def engine_for(profile: dict) -> str:
    """The name of an interpreter running relaxed SIMD with ``profile`` (registered once)."""
    name = "interpreter[" + ",".join(f"{k}={v}" for k, v in sorted(profile.items()) if v) + "]"
    if name not in engines.VARIANTS:
        engines.register_variant(name, "interpreter", relaxed=dict(profile))
    return name


class Oracle:
    """Whether wasmtime's steps fit some choice per relaxed instruction (see the module
    docstring). ``make_runner(engine)`` makes a fresh runner on a fayasm engine;
    ``agree(outcome, state, wt_outcome, wt_state)`` compares a step with wasmtime's.

    The search is depth first: one assignment that fits every step so far runs along;
    when a step refutes it, the next assignments are replayed from the start until one
    fits again. An assignment refuted by some prefix cannot fit the whole, so this finds
    a fitting assignment whenever the set-narrowing would, at the cost of one extra
    interpreter while wasmtime is explained."""

    def __init__(self, module, make_runner, agree):
        self.names = used(module)
        self.make_runner, self.agree = make_runner, agree
        self.history: list = []  # (call, outcome, state) of wasmtime, per step
        self.diverged = False  # wasmtime left the deterministic profile
        self.current = None  # (profile, runner) that fits every step so far
        self.tried = 0
        self._next = profiles(self.names)

    @property
    def active(self) -> bool:
        return bool(self.names)

    def allows(self, call, outcome, state, reference_agrees: bool) -> bool:
        """Record wasmtime's step; whether some assignment explains every step so far."""
        self.history.append((call, outcome, state))
        if not self.diverged:
            if reference_agrees:
                return True
            self.diverged = True
            return self._search()
        if self.current is None:
            return False
        if self._agrees(self.current[1], call, outcome, state):
            return True
        self.current[1].close()
        self.current = None
        return self._search()

    def _search(self) -> bool:
        for profile in self._next:
            self.tried += 1
            runner = self.make_runner(engine_for(profile))
            if all(self._agrees(runner, *h) for h in self.history):
                self.current = (profile, runner)
                return True
            runner.close()
        return False

    def _agrees(self, runner, call, outcome, state) -> bool:
        mine = runner.instantiate() if call is None else runner.call(*call)
        return self.agree(mine, runner.state(), outcome, state)

    def explanation(self) -> str:
        """What the oracle concluded, for the diff's notes."""
        if not self.diverged:
            return ""
        if self.current is not None:
            profile = self.current[0]
            picked = ", ".join(f"{k} choice {v}" for k, v in sorted(profile.items()) if v)
            return (f"wasmtime: relaxed SIMD results differ from the deterministic profile; "
                    f"allowed by the spec ({picked})")
        more = count(self.names) > self.tried
        return ("wasmtime: relaxed SIMD results fit no choice per relaxed instruction "
                f"({self.tried} assignments tried{', not all' if more else ''})")

    def close(self) -> None:
        if self.current is not None:
            self.current[1].close()


__all__ = ["Oracle", "used", "profiles", "engine_for", "WASMTIME_X86", "LIMIT", "count"]
