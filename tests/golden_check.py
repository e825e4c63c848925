"""Comparing generated text with a golden file under tests/golden/.

A missing or different golden fails with a unified diff; FAYASM_UPDATE_GOLDEN=1 writes
the golden instead (review the diff with git before committing it)."""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


def updating() -> bool:
    return os.environ.get("FAYASM_UPDATE_GOLDEN") == "1"


def diff(expected: str, actual: str, name: str) -> str:
    """A unified diff of two texts, expected first, as a test failure shows it."""
    lines = difflib.unified_diff(expected.splitlines(keepends=True),
                                 actual.splitlines(keepends=True),
                                 fromfile=f"golden/{name}", tofile="generated", n=2)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def check_golden(name: str, actual: str) -> None:
    """Assert ``actual`` equals the golden file ``tests/golden/NAME``."""
    path = GOLDEN / name
    if updating():
        path.write_text(actual)
        return
    if not path.exists():
        pytest.fail(f"no golden file {name}: write it with FAYASM_UPDATE_GOLDEN=1 and "
                    "review it", pytrace=False)
    expected = path.read_text()
    if actual != expected:
        pytest.fail(f"output differs from golden/{name} (if the change is intended, "
                    f"rerun with FAYASM_UPDATE_GOLDEN=1 and review the diff):\n"
                    + diff(expected, actual, name), pytrace=False)
