"""Shared test configuration: where the spec suite is, and which engines to test.

FAYASM_SPEC_DIR points at the spec test suite (default: ../shared/spec beside the repo;
scripts/fetch_spec.py fetches it). FAYASM_ENGINES limits the engines (comma-separated).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SPEC_DIR = Path(os.environ.get("FAYASM_SPEC_DIR", REPO.parent / "shared" / "spec"))
SPEC_2_0 = SPEC_DIR / "2.0"


def spec_files(version: str = "2.0") -> list[Path]:
    folder = SPEC_DIR / version
    return sorted(folder.glob("*.wast")) if folder.is_dir() else []


def require_spec() -> None:
    if not spec_files():
        pytest.skip(f"spec suite not found in {SPEC_DIR} (set FAYASM_SPEC_DIR or run "
                    "scripts/fetch_spec.py)")


def test_engines() -> list[str]:
    from fayasm import engines

    wanted = os.environ.get("FAYASM_ENGINES")
    names = wanted.split(",") if wanted else engines.names()
    return [n for n in names if n in engines.available()]


test_engines.__test__ = False  # a helper, not a test


@pytest.fixture(params=test_engines())
def engine(request) -> str:
    return request.param
