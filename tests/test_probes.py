"""Probes (fayasm.testing.probes): one-instruction exported functions that the plan calls
with many telling arguments. Every row of the table gets probed, v128 values cross the
export boundary as i64 halves, sweeps reach the operand pairs bugs hide behind, and a
bug that only one pair of operands shows is found at once."""
from __future__ import annotations

import collections

import pytest

import fayasm
from fayasm.testing.diff import diff
from fayasm.testing.generate import GenConfig, random_module
from fayasm.testing.shape import ORDINARY

pytestmark = pytest.mark.filterwarnings("ignore:The recursion limit")


@pytest.fixture(autouse=True)
def _no_translation_cache(monkeypatch):
    monkeypatch.setenv("FAYASM_CACHE", "0")


def probe_calls(g, op: str):
    """The plan's calls of the probes of ``op`` (names say which instruction a probe runs)."""
    exports = {e.name: e.index for e in g.syntax.exports}
    names = g.syntax.names.funcs
    return [(name, args) for name, args in g.plan
            if name in exports and names.get(exports[name], "").split("_", 1)[-1] == op]


def test_every_ordinary_row_is_probed():
    """Over 300 seeded modules (all valid), every ordinary row of the instruction table
    (nop aside) has a probe somewhere, and each module probes dozens of them."""
    seen = collections.Counter()
    per_module = []
    for seed in range(300):
        g = random_module(seed)
        g.module()  # valid
        names = {v.split("_", 1)[1] for v in g.syntax.names.funcs.values()
                 if v.startswith("probe")}
        seen.update(names)
        per_module.append(len(names))
    missing = [op.name for op in ORDINARY if op.name != "nop" and not seen[op.name]]
    assert not missing, missing
    assert sorted(per_module)[len(per_module) // 2] >= 20, per_module


def test_v128_probe_takes_and_returns_i64_halves():
    """i8x16.add_sat_u through a probe: two v128 arguments as four i64s, the result as two."""
    g = random_module(1, GenConfig(theme=("i8x16.add_sat_u",)))
    calls = probe_calls(g, "i8x16.add_sat_u")
    assert calls
    inst = fayasm.instantiate(g.module(), _imports(g), engine="interpreter")
    name = calls[0][0]
    a = bytes([200, 1, 255, 0] * 4)
    b = bytes([100, 2, 1, 0] * 4)

    def halves(v: bytes):
        return [fayasm.Val.from_bits("i64", int.from_bytes(v[k:k + 8], "little"))
                for k in (0, 8)]
    lo, hi = inst.exports[name].invoke(halves(a) + halves(b))
    got = (lo.bits | hi.bits << 64).to_bytes(16, "little")
    assert got == bytes(min(x + y, 255) for x, y in zip(a, b))


def _imports(g):
    from fayasm.testing.hosts import HostLog, fayasm_imports

    return fayasm_imports(g.module(), HostLog())


def test_sweeps_call_min_with_zeros_of_both_signs():
    """A themed f64.min is swept over core values, zeros of both signs first, so the pair
    (0, -0) is always among its calls."""
    g = random_module(2, GenConfig(theme=("f64.min",)))
    pairs = {tuple(a.bits for a in args) for _, args in probe_calls(g, "f64.min")}
    assert (0, 1 << 63) in pairs and (1 << 63, 0) in pairs


@pytest.fixture
def min_keeps_first_zero(monkeypatch):
    """The interpreter with f64.min returning its first operand when both are zeros."""
    from fayasm.interpreter import code

    ops = dict(code.NUMERIC)
    good = ops["f64.min"]
    ops["f64.min"] = lambda a, b: a if a == b == 0 else good(a, b)
    monkeypatch.setattr(code, "NUMERIC", ops)


def test_probes_find_a_bug_only_signed_zeros_show(min_keeps_first_zero):
    """The wrong min(0, -0) that programs alone took minutes to hit: the first module that
    favours f64.min shows it, through a probe call named with its arguments."""
    g = random_module(3, GenConfig(theme=("f64.min",)))
    result = diff(g.module(), g.plan, engines=["interpreter", "python"], wasmtime=False,
                  metered=g.metered)
    assert result.difference is not None
    assert "probe" in result.difference.headline()
    assert "-0.0" in result.difference.headline()


def test_conversions_are_probed_at_the_ends_of_their_range():
    """Regression (a held-out mutant went unfound for 150 s): i32.trunc_f64_u trapping one
    below its true limit needs operands in [2**32 - 1, 2**32). Conversion probes draw
    half their operands, and their sweeps all, from the edges of the range."""
    import struct

    def f64(x):
        return struct.unpack("<Q", struct.pack("<d", x))[0]
    g = random_module(4, GenConfig(theme=("i32.trunc_f64_u",)))
    # (A probe with its operand inlined is called without arguments.)
    operands = {args[0].bits for _, args in probe_calls(g, "i32.trunc_f64_u") if args}
    assert {f64(4294967295.0), f64(4294967296.0), f64(-1.0), f64(-0.9999999999999999)} <= operands
