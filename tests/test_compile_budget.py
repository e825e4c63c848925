"""The compile budget (issue 13): a module built to make LLVM slow must not stall the
host. A slow LLVM build is simulated by a build that sleeps."""
from __future__ import annotations

import time

import pytest

import fayasm
from fayasm import engines

pytestmark = pytest.mark.skipif("jit" not in engines.available(), reason="llvmlite missing")

WAT = ('(module (func (export "f") (param i32) (result i32)'
       ' (i32.add (local.get 0) (i32.const {k}))))')


@pytest.fixture
def slow_llvm(monkeypatch, tmp_path):
    """Every LLVM build takes 5 s (and the cache is off, so every module compiles)."""
    from fayasm.translator.llvm import jit

    real = jit._build_object

    def slow(*args, **kw):
        time.sleep(5)
        return real(*args, **kw)

    monkeypatch.setattr(jit, "_build_object", slow)
    monkeypatch.setenv("FAYASM_CACHE", "0")


def test_compile_timeout_stops_a_slow_compile(slow_llvm):
    t = time.perf_counter()
    with pytest.raises(fayasm.CompileTimeout):
        fayasm.instantiate(fayasm.Module(WAT.format(k=1)), engine="jit", compile_timeout=0.3)
    assert time.perf_counter() - t < 2.5
    assert issubclass(fayasm.CompileTimeout, fayasm.Error)


def test_a_lazy_compile_counts_against_the_calls_deadline(slow_llvm, monkeypatch):
    """Issue 23: the jit's lazy compile inside the first call took 3.4 s and 21 s against
    a 1 s deadline."""
    from fayasm.translator.llvm import tiering

    monkeypatch.setattr(tiering, "TIER_UP_SIZE", 0)  # every module on the lazy tier
    monkeypatch.setattr(tiering, "_WORKER", False)
    # The glue compiles at instantiation (under compile_timeout); the function compiles
    # on its first call, under that call's deadline.
    inst = fayasm.instantiate(fayasm.Module(WAT.format(k=2)), engine="jit", deadline=0.5,
                              compile_timeout=30)
    t = time.perf_counter()
    with pytest.raises(fayasm.Trap) as e:
        inst.exports.f(1)
    assert e.value.code == "deadline_exceeded"
    assert time.perf_counter() - t < 2.5


def test_compile_timeout_must_be_a_number_of_seconds():
    with pytest.raises(fayasm.Error):
        fayasm.instantiate(fayasm.Module(WAT.format(k=3)), compile_timeout=-1)
    with pytest.raises(fayasm.Error):
        fayasm.instantiate(fayasm.Module(WAT.format(k=3)), compile_timeout="soon")


def test_an_ordinary_compile_is_unaffected():
    inst = fayasm.instantiate(fayasm.Module(WAT.format(k=4)), engine="jit", compile_timeout=30)
    assert inst.exports.f(1) == 5
