"""Smoke test of the benchmark programs: each runs at a tiny size on every fayasm engine
and returns the checksum that native code computes (scripts/bench/expected.json, written
by scripts/bench/build.sh). No timing is asserted; scripts/bench.py does the measuring."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import fayasm

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench"
EXPECTED = json.loads((BENCH / "expected.json").read_text())
_results: dict[str, dict[str, int]] = {}  # program -> engine -> checksum, across tests


def checksum(value: int, module: fayasm.Module) -> int:
    """The checksum as an unsigned number of run's result width."""
    (result,) = next(e for e in module.exports if e.name == "run").type.results
    return value & ((1 << (64 if str(result) == "i64" else 32)) - 1)


def test_every_program_has_an_expected_checksum():
    built = {p.stem for p in BENCH.glob("*.wasm")} - {"add"}
    assert built and built <= set(EXPECTED), f"no expected checksum for {built - set(EXPECTED)}"


@pytest.mark.parametrize("program", sorted(EXPECTED))
def test_program(engine, program):
    module = fayasm.Module((BENCH / f"{program}.wasm").read_bytes())
    assert not module.imports, "benchmark modules must be freestanding"
    inst = fayasm.instantiate(module, engine=engine)
    n = EXPECTED[program]["n"]
    got = checksum(inst.exports.run(n), module)
    _results.setdefault(program, {})[engine] = got
    # Every engine that ran this program so far agrees (and agrees with native code).
    assert set(_results[program].values()) == {got}, _results[program]
    assert got == EXPECTED[program]["checksum"], f"run({n}) = {got:#x}"


def test_add(engine):
    inst = fayasm.instantiate(fayasm.Module((BENCH / "add.wasm").read_bytes()), engine=engine)
    assert inst.exports.add(2, 3) == 5
    assert inst.exports.add(0x7FFFFFFF, 1) == -0x80000000
