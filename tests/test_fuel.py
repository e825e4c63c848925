"""Fuel and deadlines as a host controls them (issue 19): reading, setting and adding fuel
between calls and from a host function, on every engine, and bad values refused with a
documented error."""
from __future__ import annotations

import math

import pytest
from conftest import REPO

import fayasm

FIB = REPO / "examples" / "fib.wasm"
LOOP = """(module (import "env" "h" (func $h))
  (func (export "f") (param i32)
    (loop $l (call $h) (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))"""


def test_fuel_can_be_read_refilled_and_added_between_calls(engine):
    inst = fayasm.instantiate(fayasm.Module.from_file(FIB), engine=engine, fuel=1000)
    assert inst.get_fuel() == 1000
    assert inst.exports.fib(5) == 5
    used = 1000 - inst.get_fuel()
    assert used > 0
    with pytest.raises(fayasm.Trap) as info:
        inst.exports.fib(30)
    assert info.value.code == "out_of_fuel" and inst.get_fuel() == 0
    with pytest.raises(fayasm.Trap):
        inst.exports.fib(3)  # still empty: fuel is the instance's
    inst.set_fuel(100)
    assert inst.exports.fib(3) == 2 and inst.get_fuel() < 100
    left = inst.get_fuel()
    assert inst.add_fuel(7) == left + 7 == inst.get_fuel()
    inst.set_fuel(None)  # no limit
    assert inst.get_fuel() is None and inst.exports.fib(20) == 6765


def test_every_engine_spends_the_same_fuel(engine):
    inst = fayasm.instantiate(fayasm.Module.from_file(FIB), engine=engine, fuel=10**9)
    inst.exports.fib(15)
    assert 10**9 - inst.get_fuel() == 1363  # calls and loop iterations, engine-neutral


def test_fuel_from_a_host_function_during_a_call(engine):
    seen = []
    holder = {}

    def h():
        inst = holder["inst"]
        seen.append(inst.get_fuel())
        if len(seen) == 3:
            inst.set_fuel(50)  # takes effect when h returns

    inst = fayasm.instantiate(fayasm.Module(LOOP), {"env": {"h": h}}, engine=engine,
                              fuel=1_000_000)
    holder["inst"] = inst
    inst.exports.f(5)
    # Each iteration costs a call to h and a branch back; the entry costs one.
    assert seen == [999_998, 999_996, 999_994, 48, 46] and inst.get_fuel() == 46


def test_deadline_can_be_set_later(engine):
    inst = fayasm.instantiate(fayasm.Module(LOOP), {"env": {"h": lambda: None}},
                              engine=engine, deadline=100.0)
    assert inst.get_fuel() is None  # a deadline alone: no fuel limit
    inst.set_deadline(0)
    with pytest.raises(fayasm.Trap) as info:
        inst.exports.f(0)  # 2**32 iterations: only the deadline stops it
    assert info.value.code == "deadline_exceeded"
    inst.set_deadline(None)
    inst.exports.f(3)


def test_an_unmetered_instance_says_how_to_get_fuel(engine):
    inst = fayasm.instantiate(fayasm.Module.from_file(FIB), engine=engine)
    with pytest.raises(fayasm.Error, match="fuel="):
        inst.get_fuel()
    with pytest.raises(fayasm.Error, match="fuel="):
        inst.set_fuel(10)


@pytest.mark.parametrize("kwargs, kind", [
    (dict(fuel=-5), ValueError), (dict(fuel=1.5), TypeError), (dict(fuel=True), TypeError),
    (dict(deadline=-1), ValueError), (dict(deadline=math.nan), ValueError),
    (dict(deadline="1"), TypeError),
])
def test_bad_fuel_and_deadlines_are_fayasm_errors(kwargs, kind):
    with pytest.raises(fayasm.ArgumentError) as info:
        fayasm.instantiate("(module)", engine="interpreter", **kwargs)
    assert isinstance(info.value, kind) and isinstance(info.value, fayasm.Error)
    inst = fayasm.instantiate("(module)", engine="interpreter", fuel=10)
    with pytest.raises(fayasm.ArgumentError):
        inst.set_fuel(-1)
    with pytest.raises(fayasm.ArgumentTypeError):
        inst.add_fuel("3")
    with pytest.raises(fayasm.ArgumentError):
        inst.set_deadline(math.nan)
