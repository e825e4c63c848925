"""The official spec test suite (WebAssembly 2.0), every command, on every engine, with
the front end accepting 2.0 exactly (features.WASM2: 3.0 gave some of 2.0's malformed
encodings a meaning)."""
from __future__ import annotations

import collections

import pytest
from conftest import require_spec, spec_files, test_engines

from fayasm import features
from fayasm.wast.parse import parse_script
from fayasm.wast.runner import NOT_RUN, PASSED, Runner, command_kind

# Command counts of spec/2.0, from the suite's README (counted from the .wast text).
EXPECTED_COUNTS = {
    "module": 1599, "assert_return": 45734, "assert_trap": 2442, "assert_exhaustion": 15,
    "assert_invalid": 2146, "assert_malformed": 1810, "assert_unlinkable": 83, "register": 22,
    "action": 155,
}

_SCRIPTS: dict = {}


def script(path):
    if path not in _SCRIPTS:
        with features.using(features.WASM2):
            _SCRIPTS[path] = parse_script(path.read_text(encoding="utf-8"), source=str(path))
    return _SCRIPTS[path]


@pytest.fixture(autouse=True)
def _wasm2():
    with features.using(features.WASM2):
        yield


def _ids(paths):
    return [p.stem for p in paths]


FILES = spec_files()


def test_suite_is_complete():
    """Every command of the suite is parsed: none is silently dropped."""
    require_spec()
    counts = collections.Counter()
    for path in FILES:
        for cmd in script(path):
            counts[command_kind(cmd)] += 1
    assert dict(counts) == EXPECTED_COUNTS
    assert sum(counts.values()) == 54006


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_spec_front_end(path):
    """Decoding, parsing and validation alone: malformed and invalid modules rejected with
    the spec's message, every other module accepted."""
    report = Runner(None, source=str(path)).run(script(path))
    failures = [f"line {o.line}: {o.kind}: {o.detail}" for o in report.failures]
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("engine", test_engines())
@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_spec(path, engine):
    """Every command passes: 0 failures, 0 not run."""
    report = Runner(engine, source=str(path)).run(script(path))
    failures = [f"line {o.line}: {o.kind}: {o.detail}" for o in report.failures]
    assert not failures, "\n".join(failures[:20])
    assert report.count(NOT_RUN) == 0
    assert report.count(PASSED) == len(report.outcomes)


if not FILES:  # keep the skip visible rather than collecting nothing
    def test_spec_suite_present():
        require_spec()
