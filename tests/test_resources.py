"""ResourceLimits: caps on memory, tables, instances and WASI output, on every engine
(issue 13: any module could grow to 4 GiB and nothing let a host cap it)."""
from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import textwrap

import pytest

import fayasm
from fayasm.runtime.resources import parse_size

MiB = 1 << 20
PAGE = 65536

GRAB = """(module (memory (export "memory") 1)
 (func (export "grab") (param i32) (result i32) (local i32)
   (loop $l (if (i32.ne (memory.grow (i32.const 16)) (i32.const -1))
     (then (local.set 1 (i32.add (local.get 1) (i32.const 16)))
           ;; touch every page just grown
           (memory.fill (i32.mul (i32.sub (memory.size) (i32.const 16)) (i32.const 65536))
                        (i32.const 1) (i32.const 1048576))
           (br_if $l (i32.lt_u (local.get 1) (local.get 0))))))
   (local.get 1)))"""


def test_memory_grow_past_the_cap_returns_minus_one(engine):
    lim = fayasm.ResourceLimits(memory="64MiB")
    inst = fayasm.instantiate(fayasm.Module(GRAB), engine=engine, limits=lim)
    grown = inst.exports.grab(16384)  # asks for 1 GiB, 16 pages at a time
    assert grown == 64 * MiB // PAGE - 16  # one page to start, then whole steps of 16
    assert inst.usage().memory_bytes == (1 + grown) * PAGE <= 64 * MiB
    assert lim.usage().memory_bytes == inst.usage().memory_bytes
    assert inst.exports.memory.grow(16) == -1  # a host grow is charged too
    assert inst.exports.memory.grow(15) == 1 + grown


def test_grow_past_the_cap_traps_when_asked(engine):
    lim = fayasm.ResourceLimits(memory=4 * MiB, trap_on_grow_failure=True)
    inst = fayasm.instantiate(fayasm.Module(GRAB), engine=engine, limits=lim)
    with pytest.raises(fayasm.Trap) as e:
        inst.exports.grab(1000)
    assert e.value.code == "resource_limit_exceeded"
    assert "4194304 bytes per instance" in e.value.message


def test_initial_memory_over_the_cap_fails_to_instantiate(engine):
    with pytest.raises(fayasm.ResourceLimitError, match="exceeds the memory limit"):
        fayasm.instantiate(fayasm.Module("(module (memory 100))"), engine=engine,
                           limits=fayasm.ResourceLimits(memory=MiB))


def test_reservations_do_not_count():
    # A memory without a maximum reserves its whole 4 GiB index space: only pages count.
    lim = fayasm.ResourceLimits(memory=2 * PAGE)
    inst = fayasm.instantiate(fayasm.Module("(module (memory (export \"m\") 2))"), limits=lim)
    assert inst.usage().memory_bytes == 2 * PAGE


def test_totals_are_shared_by_linked_instances_and_given_back(engine):
    lim = fayasm.ResourceLimits(total_memory=10 * PAGE, instances=3)
    mod = fayasm.Module('(module (memory (export "m") 4))')
    a = fayasm.instantiate(mod, engine=engine, limits=lim)
    b = fayasm.instantiate(mod, engine=engine, limits=lim)
    assert lim.usage().memory_bytes == 8 * PAGE and lim.usage().instances == 2
    with pytest.raises(fayasm.ResourceLimitError, match="total memory limit"):
        fayasm.instantiate(mod, engine=engine, limits=lim)
    assert b.exports.m.grow(2) == 4 and b.exports.m.grow(1) == -1
    del a
    gc.collect()
    assert lim.usage().memory_bytes == 6 * PAGE and lim.usage().instances == 1
    fayasm.instantiate(mod, engine=engine, limits=lim)  # room again


def test_instance_count_cap(engine):
    lim = fayasm.ResourceLimits(instances=2)
    mod = fayasm.Module("(module)")
    keep = [fayasm.instantiate(mod, engine=engine, limits=lim) for _ in range(2)]
    with pytest.raises(fayasm.ResourceLimitError, match="instance limit"):
        fayasm.instantiate(mod, engine=engine, limits=lim)
    assert len(keep) == 2


def test_table_elements_cap(engine):
    wat = """(module (table $t (export "t") 10 funcref)
      (func (export "grow") (param i32) (result i32)
        (table.grow $t (ref.null func) (local.get 0))))"""
    lim = fayasm.ResourceLimits(table_elements=100)
    inst = fayasm.instantiate(fayasm.Module(wat), engine=engine, limits=lim)
    assert inst.exports.grow(90) == 10
    assert inst.exports.grow(1) == -1
    assert inst.usage().table_elements == 100 and inst.usage().tables == 1
    with pytest.raises(fayasm.ResourceLimitError, match="table count limit"):
        fayasm.instantiate(fayasm.Module(wat), engine=engine,
                           limits=fayasm.ResourceLimits(tables=0))


def test_many_maximal_tables_are_refused_without_limits(engine):
    """Issue 23: every table was capped at 10M entries but their number was not, so a
    192-byte module of maximal tables took 2.3 GB; an instance's tables now share the cap."""
    tables = " ".join("(table 10000000 funcref)" for _ in range(8))
    with pytest.raises(fayasm.ResourceLimitError, match="implementation limit"):
        fayasm.instantiate(fayasm.Module(f"(module {tables})"), engine=engine)


def test_wasi_output_cap(engine):
    wat = """(module (import "wasi_snapshot_preview1" "fd_write"
                 (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "0123456789")
      (func (export "_start") (local i32)
        (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 10))
        (loop $l
          (local.set 0 (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
          (br_if $l (i32.eqz (local.get 0))))
        ;; the errno that stopped the loop, and what the last write wrote
        (i32.store (i32.const 100) (local.get 0))))"""
    out = io.BytesIO()
    lim = fayasm.ResourceLimits(wasi_output=25)
    code = fayasm.run(fayasm.Module(wat), fayasm.WasiConfig(stdout=out), engine=engine,
                      limits=lim)
    assert code == 0
    assert out.getvalue() == b"0123456789" * 2 + b"01234"


def test_limits_reject_bad_values():
    for bad in (-1, 1.5, "lots", True):
        with pytest.raises(fayasm.Error):
            fayasm.ResourceLimits(memory=bad)
    assert parse_size("64MiB") == 64 * MiB and parse_size("1k") == 1024
    assert parse_size("2GB") == 2 * 10 ** 9 and parse_size("4096") == 4096


def test_cli_max_memory(tmp_path):
    path = tmp_path / "grab.wat"
    path.write_text(GRAB)
    run = [sys.executable, "-m", "fayasm", "run", str(path), "--invoke", "grab", "16384"]
    r = subprocess.run(run + ["--max-memory", "2MiB"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "16", r.stderr
    r = subprocess.run(run + ["--max-memory", "2MiB", "--trap-on-grow-failure"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "resource limit exceeded" in r.stderr
    r = subprocess.run(run + ["--max-memory", "lots"], capture_output=True, text=True)
    assert r.returncode == 2 and "not a size" in r.stderr and "Traceback" not in r.stderr


_RSS_CHILD = textwrap.dedent("""
    import json, sys
    import fayasm
    wat = sys.stdin.read()
    inst = fayasm.instantiate(fayasm.Module(wat), engine=sys.argv[1],
                              limits=fayasm.ResourceLimits(memory="64MiB"))
    pages = inst.exports.grab(16384)  # 1 GiB asked for, every page touched
    # VmHWM, not ru_maxrss: the latter keeps the high-water mark of the process that
    # forked this one (a big pytest process) across exec.
    with open("/proc/self/status") as f:
        hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    print(json.dumps({"pages": pages, "rss_mb": hwm / 1024}))
""")


def test_a_guest_asking_for_1gib_under_a_64mib_cap_stays_small(engine, tmp_path):
    env = dict(os.environ, FAYASM_CACHE_DIR=str(tmp_path))
    r = subprocess.run([sys.executable, "-c", _RSS_CHILD, engine], input=GRAB,
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["pages"] == 1008
    assert got["rss_mb"] < 200, got


BULK = """(module (memory 1024) (table 70000 funcref)
 (func (export "fills") (param i32) (local i32)
   (loop $l (memory.fill (i32.const 0) (i32.const 7) (i32.const 0x4000000))
     (local.set 1 (i32.add (local.get 1) (i32.const 1)))
     (br_if $l (i32.lt_u (local.get 1) (local.get 0)))))
 (func (export "fill") (param i32) (result i32)
   (memory.fill (i32.const 0) (i32.const 7) (local.get 0)) (i32.const 1))
 (func (export "tfill") (param i32) (result i32)
   (table.fill (i32.const 0) (ref.null func) (local.get 0)) (i32.const 1)))"""


def test_bulk_operations_cost_fuel_by_size(engine):
    """Issue 23: 20 fills of 1 GiB ran 45 s under deadline=0.5, fuel=10 (a bulk operation
    cost nothing). A unit per 64 Ki bytes or elements, charged before the operation."""
    m = fayasm.Module(BULK)
    for export, n in (("fill", 5 * 65536), ("tfill", 65536)):
        units = n >> 16
        ok = fayasm.instantiate(m, engine=engine, fuel=1 + units)
        assert ok.exports[export](n) == 1
        short = fayasm.instantiate(m, engine=engine, fuel=units)
        with pytest.raises(fayasm.Trap) as e:
            short.exports[export](n)
        assert e.value.code == "out_of_fuel"
    with pytest.raises(fayasm.Trap) as e:
        fayasm.instantiate(m, engine=engine, fuel=10).exports.fills(20)
    assert e.value.code == "out_of_fuel"
    import time

    t = time.perf_counter()
    with pytest.raises(fayasm.Trap) as e:
        fayasm.instantiate(m, engine=engine, deadline=0.2).exports.fills(100_000)
    assert e.value.code == "deadline_exceeded"
    assert time.perf_counter() - t < 2.0
