"""Differential execution: run one module on several engines in lockstep and report the
first place where they disagree.

    from fayasm.testing.diff import diff
    result = diff(module, engines=["interpreter", "python"], wasmtime=True)
    if result.difference:
        print(result.difference.report())

Every engine instantiates the module, then makes the calls of the plan (the module's own
``fayasm-plan`` section, or every export with seeded random arguments). After each step
the outcome (results bit for bit, or the trap's kind) and the state (memories, globals,
tables, host-call log, WASI output) of each engine are compared with the first engine's
(the reference, normally the interpreter). The first difference is reported with the
call and its arguments, what differs, and which engines agree with which.

A module that imports more than the test hosts (``hosts``) gets ``imports=`` (a mapping,
or a function returning a fresh one per engine) and ``wasi=`` (a WasiConfig); see
``hostenv``. Each call runs on a fresh budget of ``fuel`` units (None: unmetered).
A run that compared nothing (the module did not instantiate, or one runner was left)
has ``compared == 0`` and a ``why_not`` saying so; ``ok`` is only "no difference".

Relaxed SIMD: fayasm's engines must agree exactly (they share the deterministic profile);
wasmtime may return any result the spec allows, judged by ``relaxed.Oracle``.

NaN rule: generated modules canonicalize every nondeterministic NaN, so they are compared
exactly (``nan="exact"``). For other modules the default is ``nan="lenient"``: two
quiet NaNs agree wherever they appear, as the spec allows for arithmetic results.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from fayasm.runtime.types import ValType

from .hostenv import Extras
from .nan import is_arithmetic_nan, nan_compatible, quieted
from .relaxed import Oracle
from .run import (
    FUEL,
    WASMTIME_FUEL,
    Digest,
    FayasmRunner,
    Outcome,
    State,
    WasmtimeRunner,
    wasmtime_available,
)
from .values import default_plan, format_call, format_val, read_plan


@dataclass
class Difference:
    """The first disagreement: at ``step`` (0 is instantiation), in ``what``."""

    step: int
    call: tuple | None  # (export name, [Val]) or None for instantiation
    what: str  # "outcome", "crash", "result", "memory", "global", "table", "hostlog"
    where: str
    views: dict  # engine -> what it did or holds there
    groups: list  # engines grouped by agreement; the reference's group first
    detail: str = ""
    signature: tuple = ()

    def headline(self) -> str:
        call = "instantiation" if self.call is None else format_call(*self.call)
        odd = ", ".join(self.signature[1]) if len(self.signature) > 1 else "?"
        verb = "differs" if "," not in odd else "differ"
        return f"{odd} {verb} at step {self.step} ({call}): {self.where}"

    def report(self) -> str:
        call = "instantiation" if self.call is None else f"call {format_call(*self.call)}"
        lines = [f"difference at step {self.step}, {call}", f"  {self.where}:"]
        width = max(len(", ".join(g)) for g in self.groups)
        for g in self.groups:
            lines.append(f"    {', '.join(g):<{width}}  {self.views[g[0]]}")
        if self.detail:
            lines.extend("  " + line for line in self.detail.splitlines())
        return "\n".join(lines)


@dataclass
class DiffResult:
    engines: list
    steps: int = 0  # steps every engine took (instantiation and calls)
    executions: int = 0  # calls made, summed over engines
    difference: Difference | None = None
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    outcomes: list = field(default_factory=list)  # the reference's outcome per step
    plan: list = field(default_factory=list)  # the calls made (after instantiation)
    compared: int = 0  # steps compared between two runners or more
    why_not: str = ""  # when nothing was compared, why

    @property
    def ok(self) -> bool:
        """No difference was found (see ``compared`` for whether anything was tested)."""
        return self.difference is None


# -- comparing values --------------------------------------------------------------------

def same_val(a, b, nan: str, lossy: bool) -> bool:
    if a.type is not b.type:
        return False
    t = a.type
    if t.is_ref:
        return ref_agrees(t, a.ref, b.ref)
    x, y = a.bits, b.bits
    if lossy and t is ValType.F32:
        x, y = quieted(x, 32), quieted(y, 32)
    if x == y:
        return True
    return nan == "lenient" and nan_compatible(str(t), x, y)


def ref_agrees(t, x, y) -> bool:
    if x is None or y is None:
        return x is None and y is None
    if t.rep is ValType.FUNCREF:
        nx, ny = getattr(x, "name", None), getattr(y, "name", None)
        if nx is not None and ny is not None and nx != ny:
            return False
        tx, ty = getattr(x, "type", None), getattr(y, "type", None)
        return tx is None or ty is None or str(tx) == str(ty)
    return x == y


def key_agrees(x, y) -> bool:
    """Table element keys (see run.ref_key)."""
    if x is None or y is None or x[0] != "func" or y[0] != "func":
        return x == y
    if x[1] is not None and y[1] is not None and x[1] != y[1]:
        return False
    return x[2] is None or y[2] is None or x[2] == y[2]


def _outcome_agrees(a: Outcome, b: Outcome, nan: str, lossy: bool) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind == "trap":
        return bool(a.codes & b.codes)
    if a.kind == "ok":
        return len(a.values) == len(b.values) and all(
            same_val(x, y, nan, lossy) for x, y in zip(a.values, b.values))
    if a.kind == "exit":
        return a.code == b.code
    if a.kind == "exception":  # the tag and payload, where both runners can tell
        if a.code is None or b.code is None:
            return True
        return a.code == b.code and len(a.values) == len(b.values) and all(
            same_val(x, y, nan, lossy) for x, y in zip(a.values, b.values))
    if a.kind == "host_error":
        return a.message == b.message
    return True  # "error": both failed to compile or link


def _memory_agrees(x: bytes, y: bytes, nan: str) -> int | None:
    """None if equal (or, leniently, equal up to quiet NaNs); else the first differing offset."""
    if x == y:
        return None
    n = min(len(x), len(y))
    first = next((i for i in range(n) if x[i] != y[i]), n)
    if nan != "lenient" or len(x) != len(y):
        return first
    checked = 0
    for i in range(first, n):
        if x[i] == y[i]:
            continue
        checked += 1
        if checked > 4096 or not _nan_word(x, y, i):
            return i
    return None


def _nan_word(x: bytes, y: bytes, i: int) -> bool:
    for size, width in ((4, 32), (8, 64)):
        at = i - i % size
        if at + size <= len(x):
            a = int.from_bytes(x[at:at + size], "little")
            b = int.from_bytes(y[at:at + size], "little")
            if is_arithmetic_nan(a, width) and is_arithmetic_nan(b, width):
                return True
    return False


def hexdump(data: bytes, at: int, around: int = 8) -> str:
    start = max(0, at - around)
    chunk = data[start:at + around]
    return f"{start:#07x}: " + " ".join(f"{b:02x}" for b in chunk)


# -- comparing states --------------------------------------------------------------------

def compare_state(a: State, b: State, nan: str, lossy: bool):
    """The first difference between two states: (what, where, view_a, view_b, detail), or None."""
    for name in a.memories:
        if name not in b.memories:
            continue
        (pa, da), (pb, db) = a.memories[name], b.memories[name]
        if pa != pb:
            return ("memory", f"size of memory {name!r}", f"{pa} pages", f"{pb} pages", "")
        if isinstance(da, Digest) or isinstance(db, Digest):
            if da != db:
                return ("memory", f"contents of memory {name!r} ({pa} pages, compared by digest)",
                        "sha256 " + bytes(da).hex()[:16], "sha256 " + bytes(db).hex()[:16], "")
            continue
        at = _memory_agrees(da, db, nan)
        if at is not None:
            ndiff = sum(1 for i in range(len(da)) if da[i] != db[i]) if len(da) < 1 << 20 else 0
            where = f"memory {name!r} at {at:#x}" + (f" ({ndiff} bytes differ)" if ndiff else "")
            return ("memory", where, hexdump(da, at), hexdump(db, at), "")
    for name, va in a.globals.items():
        vb = b.globals.get(name)
        if vb is not None and not same_val(va, vb, nan, lossy):
            return ("global", f"global {name!r}", format_val(va), format_val(vb), "")
    for name, ta in a.tables.items():
        tb = b.tables.get(name)
        if tb is None:
            continue
        if len(ta) != len(tb):
            return ("table", f"size of table {name!r}", str(len(ta)), str(len(tb)), "")
        for k, (x, y) in enumerate(zip(ta, tb)):
            if not key_agrees(x, y):
                return ("table", f"table {name!r} element {k}", _key_text(x), _key_text(y), "")
    for stream, xa in a.output.items():
        xb = b.output.get(stream)
        if xb is not None and xa != xb:
            at = next((i for i, (p, q) in enumerate(zip(xa, xb)) if p != q), min(len(xa), len(xb)))
            return ("output", f"WASI {stream} at byte {at}", _text_at(xa, at), _text_at(xb, at),
                    "")
    if a.hostlog != b.hostlog:
        k = next((i for i, (x, y) in enumerate(zip(a.hostlog, b.hostlog)) if x != y),
                 min(len(a.hostlog), len(b.hostlog)))
        show = lambda log: (f"call {k}: {log[k][0]}{log[k][1]}" if k < len(log)  # noqa: E731
                            else f"{len(log)} calls")
        return ("hostlog", "host function calls", show(a.hostlog), show(b.hostlog), "")
    return None


def _text_at(data: bytes, at: int) -> str:
    start = max(0, at - 20)
    return f"{len(data)} bytes, ...{data[start:at + 20]!r}..."


def _key_text(key) -> str:
    if key is None:
        return "null"
    if key[0] == "func":
        return f"func {key[1] or '?'} {key[2]}"
    return f"extern {key[1]!r}"


# -- the lockstep run --------------------------------------------------------------------

def make_runners(module, engines, wasmtime: bool, metered: bool = True, fuel: int = FUEL,
                 extras: Extras | None = None, program: str = "main.wasm", wt_module=None):
    """The runners of a diff; wasmtime runs ``wt_module`` when given (the module
    pre-initialized with a snapshot's state, as fayasm's engines restore it)."""
    runners: list[FayasmRunner | WasmtimeRunner] = [
        FayasmRunner(e, module, metered, fuel, extras) for e in engines]
    if wasmtime and wasmtime_available():
        wt_fuel = max(WASMTIME_FUEL, 200 * fuel) if metered else None
        runners.append(WasmtimeRunner(wt_module or module, wt_fuel, extras, program))
    return runners


def preinitialized_for_wasmtime(module, snapshot):
    """(module with ``snapshot``'s state in its sections, None), or (None, why wasmtime
    cannot start from the snapshot)."""
    from fayasm.module import Module
    from fayasm.preinit import initialized_module
    from fayasm.runtime.errors import SnapshotError
    from fayasm.runtime.snapshot import check_module

    snap = check_module(snapshot, module.hash)
    if snap.wasi is not None:
        return None, "wasmtime sat out: it cannot take a snapshot's WASI descriptors"
    try:
        return Module(initialized_module(module, snap)), None
    except SnapshotError as e:
        return None, f"wasmtime sat out: the snapshot's state has no module form ({e})"


def diff(module, plan=None, engines=None, wasmtime: bool = False, nan: str | None = None,
         random_args: int = 3, seed: int = 0, metered: bool | None = None, imports=None,
         wasi=None, fuel: int | None = FUEL, program: str | None = None,
         snapshot=None) -> DiffResult:
    """Run ``module`` (a fayasm.Module) on ``engines`` (default: every available one; the
    first is the reference) and, if asked and installed, on wasmtime; compare after every
    step. ``plan`` defaults to the module's own, else every export with seeded arguments.
    ``imports`` (a mapping, or a function returning a fresh one for each engine) and
    ``wasi`` (a WasiConfig; argv[0] defaults to ``program``) are given to every runner.
    ``metered`` runs the engines with ``fuel`` units per call (their metered
    compilation); by default generated modules say whether (they terminate by
    themselves), and other modules run metered, so that one that runs away stops;
    ``fuel=None`` runs unmetered. ``snapshot`` (from ``Instance.snapshot()`` on any
    engine, or its bytes) starts every engine from that state rather than afresh (the
    hand-over of a failing case from the jit to the interpreter); wasmtime runs the
    module pre-initialized with it, or sits out (a note says why) where the state has
    no module form."""
    from fayasm import engines as registry
    from fayasm.runtime.budget import check_fuel

    t0 = time.perf_counter()
    check_fuel(fuel)
    engines = list(engines or registry.available())
    extras = Extras(imports, wasi, snapshot)
    wt_module, why_not_wasmtime = None, None
    if snapshot is not None and wasmtime:
        # fayasm's engines restore the snapshot; wasmtime runs the module pre-initialized
        # with it (preinit.py), which starts in the same state.
        wt_module, why_not_wasmtime = preinitialized_for_wasmtime(module, snapshot)
        wasmtime = wt_module is not None
    stored, options = read_plan(module.syntax)
    generated = stored is not None
    if plan is None:
        plan = stored
    if plan is None:
        plan = default_plan(module, random_args, seed)
        if extras.wants_wasi(module):  # instantiation ran a reactor's _initialize already
            plan = [c for c in plan if c[0] != "_initialize"]
    nan = nan or ("exact" if generated else "lenient")
    if metered is None:
        metered = options.get("metered", False) if generated else True
    if fuel is None:
        metered = False
    runners = make_runners(module, engines, wasmtime, metered, fuel or FUEL, extras,
                           program or f"{module.name}.wasm", wt_module)
    result = DiffResult([r.name for r in runners], plan=list(plan))
    if why_not_wasmtime:
        result.notes.append(why_not_wasmtime)
    oracle = None
    if any(r.name == "wasmtime" for r in runners):
        oracle = Oracle(module, lambda e: FayasmRunner(e, module, metered, fuel or FUEL, extras),
                        lambda o, s, wo, ws: agrees_with_wasmtime(o, s, wo, ws, nan))
    try:
        _lockstep(runners, plan, nan, result, oracle)
    finally:
        for r in runners:
            r.close()
        if oracle is not None:
            oracle.close()
            if oracle.explanation():
                result.notes.append(oracle.explanation())
    if not result.compared and not result.why_not:
        result.why_not = "nothing was compared"
    result.seconds = time.perf_counter() - t0
    return result


def agrees_with_wasmtime(outcome, state, wt_outcome, wt_state, nan) -> bool:
    """One step of a fayasm runner against wasmtime's (lossy f32, as wasmtime is)."""
    if not _outcome_agrees(outcome, wt_outcome, nan, True):
        return False
    if outcome.kind == "error":
        return True
    return compare_state(state, wt_state, nan, True) is None


def _relaxed_check(oracle, live, outcomes, step, call, nan, diff_):
    """The step's difference once relaxed SIMD is allowed for: wasmtime may differ from
    the deterministic profile fayasm's engines share where the spec lets it (see
    relaxed.py); fayasm's engines may not differ among themselves."""
    wt = next((r for r in live if r.name == "wasmtime"), None)
    if oracle is None or not oracle.active or wt is None:
        return diff_
    fayasm_only = [r for r in live if r is not wt]
    if diff_ is not None and _compare_step(fayasm_only, outcomes, step, call, nan) is not None:
        return diff_  # fayasm's engines disagree among themselves: a bug either way
    if oracle.allows(call, outcomes[wt.name], wt.state(), reference_agrees=diff_ is None):
        return None
    if diff_ is not None:
        diff_.detail = (diff_.detail + "\n" if diff_.detail else "") + oracle.explanation()
        return diff_
    views = {r.name: outcomes[r.name].describe() for r in live}
    return Difference(step, call, "result", "relaxed SIMD: wasmtime's results so far fit no "
                      "one choice per relaxed instruction", views,
                      [[r.name for r in fayasm_only], [wt.name]], oracle.explanation(),
                      signature=("relaxed", ("wasmtime",), "no consistent choice"))


def _lockstep(runners, plan, nan, result, oracle=None) -> None:
    live = list(runners)
    steps = [None] + list(plan)
    for step, call in enumerate(steps):
        outcomes = {}
        for r in live:
            outcomes[r.name] = r.instantiate() if call is None else r.call(*call)
            if call is not None:
                result.executions += 1
        ref = live[0]
        result.outcomes.append(outcomes[ref.name])
        for r in live:
            result.notes.extend(getattr(r, "notes", ()))
            r.notes = []
        live = _drop_inexact(live, outcomes, step, call, result)
        diff_ = _compare_step(live, outcomes, step, call, nan)
        diff_ = _relaxed_check(oracle, live, outcomes, step, call, nan, diff_)
        if diff_ is not None:
            result.difference = diff_
            return
        result.steps += 1
        first = outcomes[ref.name]
        if call is None and first.kind == "error":
            # The module did not compile or link: agreeing on that tests nothing.
            result.why_not = (f"the module did not instantiate on {ref.name}: "
                              f"{first.message.splitlines()[0] if first.message else ''}")
            return
        if len(live) < 2:
            result.why_not = result.why_not or f"only {ref.name} was left to run"
        else:
            result.compared += 1
        if call is None and first.kind != "ok":
            return  # nothing was instantiated (a start function trapped): nothing to call


def _drop_inexact(live, outcomes, step, call, result):
    """Stop comparing a runner that could not take this step exactly (wasmtime with an
    f32 sNaN argument) or whose limits differ by design (fuel counted differently)."""
    keep = [live[0]]
    for r in live[1:]:
        o, ref = outcomes[r.name], outcomes[live[0].name]
        fuel = "out_of_fuel" in (o.code, ref.code) and (r.lossy_f32 or live[0].lossy_f32)
        if o.kind == "inexact" or fuel:
            why = o.message if o.kind == "inexact" else (
                "fuel is counted differently: give more fuel, or none")
            result.notes.append(f"{r.name}: not compared from step {step} on ({why})")
            continue
        keep.append(r)
    return keep


def _compare_step(live, outcomes, step, call, nan):
    ref = live[0]
    crashed = [r for r in live if outcomes[r.name].kind == "crash"]
    if crashed:
        r = crashed[0]
        views = {x.name: outcomes[x.name].describe() for x in live}
        groups = _groups(live, lambda x, y: outcomes[x.name].kind != "crash"
                         and outcomes[y.name].kind != "crash")
        msg = outcomes[r.name].message
        return Difference(step, call, "crash", "a Python exception escaped", views, groups,
                          signature=("crash", (r.name,), msg.split(":")[0],
                                     msg.rsplit(" at ", 1)[-1]))
    for r in live[1:]:
        a, b = outcomes[ref.name], outcomes[r.name]
        lossy = ref.lossy_f32 or r.lossy_f32
        if not _outcome_agrees(a, b, nan, lossy):
            views = {x.name: outcomes[x.name].describe() for x in live}
            groups = _groups(live, lambda x, y: _outcome_agrees(
                outcomes[x.name], outcomes[y.name], nan, x.lossy_f32 or y.lossy_f32))
            what = "result" if a.kind == b.kind == "ok" else "outcome"
            if what == "result":
                detail = ("result types " + " ".join(str(v.type) for v in a.values))
            else:
                detail = f"{a.kind}:{a.code}->{b.kind}:{b.code}"
            return Difference(step, call, what, "result" if what == "result" else "outcome",
                              views, groups, signature=(what, _odd(groups), detail))
    if outcomes[ref.name].kind == "error" and step == 0:
        return None
    states = {r.name: r.state() for r in live}
    for r in live[1:]:
        found = compare_state(states[ref.name], states[r.name], nan, ref.lossy_f32 or r.lossy_f32)
        if found is None:
            continue
        what, where, _, _, detail = found
        views, groups = _state_views(live, states, nan, what, where)
        kind = what
        if what == "global":
            name = where.split("'")[1]
            v = states[ref.name].globals.get(name)
            kind = f"global {v.type}" if v is not None else what
        return Difference(step, call, what, where, views, groups, detail,
                          signature=(what, _odd(groups), kind))
    return None


def _state_views(live, states, nan, what, where):
    """Every runner's view of the piece of state that differs, and who agrees with whom."""
    ref = live[0]
    views = {ref.name: None}
    for r in live[1:]:
        found = compare_state(states[ref.name], states[r.name], nan, ref.lossy_f32 or r.lossy_f32)
        same_place = found is not None and found[1].split(" (")[0] == where.split(" (")[0]
        if same_place and found[0] == what:
            views[ref.name] = found[2]
            views[r.name] = found[3]
        else:
            views[r.name] = None
    for name in views:
        if views[name] is None:
            views[name] = views[ref.name] if views[ref.name] is not None else "(agrees)"
    groups = _groups(live, lambda x, y: views[x.name] == views[y.name])
    return views, groups


def _groups(live, agree) -> list:
    groups: list = []
    for r in live:
        for g in groups:
            if agree(g[0], r):
                g.append(r)
                break
        else:
            groups.append([r])
    return [[r.name for r in g] for g in groups]


def _odd(groups) -> tuple:
    """The engines outside the majority. A tie goes to the group with wasmtime (an
    independent implementation: a bug fayasm's engines share leaves them on one side),
    else to the reference's group."""
    size = max(len(g) for g in groups)
    largest = [g for g in groups if len(g) == size]
    major = next((g for g in largest if "wasmtime" in g), largest[0])
    return tuple(sorted(e for g in groups if g is not major for e in g))


__all__ = ["Difference", "DiffResult", "diff", "compare_state", "same_val", "make_runners"]
