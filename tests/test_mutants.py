"""The mutant catalogue (fayasm.testing.mutants) that scripts/fuzz_power.py runs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fayasm.testing.mutants import MUTANTS

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fuzz_power.py"
ENGINES = ["interpreter", "python", "jit"]


def _witness(name: str | None) -> str:
    """The witness headline of mutant ``name`` (applied in a fresh process), or of
    rem_s_sign's witness with nothing applied (``None``)."""
    code = ("import sys\nfrom fayasm.testing.mutants import MUTANTS, witness\n"
            f"m = MUTANTS[{name or 'rem_s_sign'!r}]\n"
            + ("m.apply()\n" if name else "")
            + f"print(witness(m, {ENGINES!r}))\n")
    # No cache: a translation made with the bug in would be reused by later runs.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=dict(os.environ, FAYASM_CACHE="0")).stdout.strip()


def test_the_script_lists_the_catalogue():
    out = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True,
                         text=True, check=True).stdout
    assert [line.split()[0] for line in out.splitlines()] == list(MUTANTS)
    assert len(MUTANTS) == 35


@pytest.mark.parametrize("name", ["rem_s_sign", "fill_bounds_off_by_one",
                                  "load_bounds_off_by_one"])
def test_a_mutant_of_each_engine_shows_on_its_witness(name):
    assert MUTANTS[name].engine in ENGINES
    headline = _witness(name)
    assert headline and headline != "no difference", headline


def test_a_witness_shows_nothing_without_its_mutant():
    assert _witness(None) == "no difference"
