"""The WebAssembly 3.0 spec suite, file by file, on every engine.

Each feature lists the root files of spec/3.0 it makes pass completely in
tests/spec3/<feature>.txt (one file name per line, `#` comments). Every listed file must
pass every command on every engine: 0 failures, 0 not run. A listed file that is missing
from the suite fails rather than skips, so a list cannot go stale silently.
A 3.0 file byte-identical to its 2.0 namesake is run by tests/test_spec.py already; here
it is only checked to still be identical (running it twice would double CI's spec time).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SPEC_DIR, test_engines

from fayasm.wast.parse import parse_script
from fayasm.wast.runner import NOT_RUN, PASSED, Runner

LISTS = Path(__file__).resolve().parent / "spec3"
ROOT = SPEC_DIR / "3.0"
ROOT_2_0 = SPEC_DIR / "2.0"


def listed() -> list[tuple[str, str]]:
    """(feature, file name) for every line of every list."""
    out = []
    for path in sorted(LISTS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            name = line.split("#", 1)[0].strip()
            if name:
                out.append((path.stem, name))
    return out


FILES = listed()


def test_lists_are_unique():
    names = [name for _, name in FILES]
    assert len(names) == len(set(names)), "a file is listed twice"


@pytest.mark.parametrize("engine", test_engines())
@pytest.mark.parametrize("feature,name", FILES, ids=[f"{f}-{n}" for f, n in FILES])
def test_spec3(feature, name, engine):
    if not ROOT.is_dir():
        pytest.skip(f"spec suite not found in {SPEC_DIR} (set FAYASM_SPEC_DIR or run "
                    "scripts/fetch_spec.py)")
    path = ROOT / name
    assert path.is_file(), f"{name} is listed in tests/spec3/{feature}.txt but not in {ROOT}"
    same = ROOT_2_0 / name
    if same.is_file() and same.read_bytes() == path.read_bytes():
        return  # tests/test_spec.py runs it, on every engine
    script = parse_script(path.read_text(encoding="utf-8"), source=str(path))
    report = Runner(engine, source=str(path)).run(script)
    failures = [f"line {o.line}: {o.kind}: {o.detail}" for o in report.failures]
    assert not failures, "\n".join(failures[:20])
    assert report.count(NOT_RUN) == 0
    assert report.count(PASSED) == len(report.outcomes)
