"""Threads calling one instance: the short version of scripts/stress_threads.py (each
engine in a subprocess, so a crash is an exit code), and targeted checks of what each
thread keeps apart on the jit: traps and backtraces, depth, lazy compiles, the tier-up
(these run in this process: a regression can crash it, as the stress test shows safely)."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import fayasm
from fayasm.translator.llvm import tiering

REPO = Path(__file__).resolve().parent.parent
STRESS = REPO / "scripts" / "stress_threads.py"
sys.path.insert(0, str(STRESS.parent))
import stress_threads  # noqa: E402


@pytest.fixture
def busy_switching():
    """Threads switch every 10 µs (Python's default is 5 ms)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def run_threads(n: int, work) -> None:
    """Run ``work(k)`` on ``n`` threads started together; re-raise the first error."""
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def body(k):
        try:
            start.wait()
            work(k)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=body, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("engine", stress_threads.ENGINES)
def test_stress_for_a_few_seconds(engine):
    """4 threads x 3 s (scripts/stress_threads.py runs 30 s): no crash, nothing wrong."""
    proc = subprocess.run([sys.executable, str(STRESS), "--threads", "4", "--seconds", "3",
                           "--engine", engine, "--json"], capture_output=True, timeout=600)
    (result,) = json.loads(proc.stdout.decode().splitlines()[-1])
    assert result["crashes"] == 0 and result["wrong"] == 0, result
    assert result["calls"] > 0 and proc.returncode == 0


WAT = """(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory 1)
  (func $trap_after_host (export "trap_after_host") (param i32) (result i32)
    (drop (call $host (local.get 0)))
    (i32.load (i32.const -1)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.store (local.get 0) (i32.add (i32.load (local.get 0)) (i32.const 1)))
    (i32.add (call $recurse (local.get 0)) (i32.const 1)))
  (func $down (export "down") (param i32 i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (call $host (local.get 1)))
      (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1)) (local.get 1))
                     (i32.const 1))))))"""


def test_each_thread_gets_its_own_traps_and_backtraces(busy_switching):
    def host(n):
        return n  # threads switch in here too (and as callbacks start): see busy_switching

    inst = fayasm.instantiate(WAT, imports={"env": {"host": host}}, engine="jit")
    ex = inst.exports
    stop = time.monotonic() + 2.0

    def work(k):
        i = 0
        while time.monotonic() < stop:
            i += 1
            if (i + k) % 3 == 0:
                with pytest.raises(fayasm.Trap) as info:
                    ex.trap_after_host(i)
                assert type(info.value) is fayasm.Trap
                assert info.value.message == "out of bounds memory access"
                assert info.value.frames == ["trap_after_host"]
            elif (i + k) % 3 == 1:
                with pytest.raises(fayasm.Exhaustion) as info:
                    ex.recurse(64 + 4 * k)
                assert set(info.value.frames) == {"recurse"}
            else:
                assert ex.down(i % 50, i) == i % 50 + i

    run_threads(4, work)


def test_depth_carries_on_through_host_calls_on_each_thread(busy_switching):
    """A call back into the instance from a host function continues its thread's call
    depth: the recursion it starts is exhausted at the same total depth whatever other
    threads do meanwhile."""
    inst = None

    def host(addr):
        time.sleep(0)
        return inst.exports.recurse(addr)

    inst = fayasm.instantiate(WAT, imports={"env": {"host": host}}, engine="jit")
    mem = inst.exports.memory if "memory" in inst.exports else inst.mems[0]

    def count(k) -> int:
        """Activations of recurse below 100 + k frames of down and a host call."""
        addr = 1024 + 4 * k
        mem.write(addr, bytes(4))
        with pytest.raises(fayasm.Exhaustion) as info:
            inst.exports.down(100 + k, addr)
        assert info.value.frames[-(101 + k):] == ["down"] * (101 + k)
        return int.from_bytes(mem.read(addr, 4), "little")

    alone = [count(k) for k in range(4)]
    assert alone[0] - alone[1] == 1  # one frame of down more, one recursion less

    def work(k):
        for _ in range(100):
            assert count(k) == alone[k]

    run_threads(4, work)


def test_a_thread_block_outliving_its_thread_leaves_later_threads_alone():
    """A thread's block kept alive after the thread ended (a traceback can hold it) and
    collected on a later thread with the same pthread id must not unset that thread's
    block: its traps would then be reported with the previous trap's record."""
    from fayasm.translator.llvm import threads

    inst = fayasm.instantiate("""(module
      (func (export "unreachable") unreachable)
      (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0))))""",
                              engine="jit")
    kept, first = [], []

    def old_thread():
        with pytest.raises(fayasm.Trap):
            inst.exports.unreachable()
        kept.append(threads.thread_block())
        first.append(threading.get_ident())

    t = threading.Thread(target=old_thread)
    t.start()
    t.join()
    outcome = []

    def new_thread():
        if threading.get_ident() != first[0]:
            return
        with pytest.raises(fayasm.Trap, match="unreachable"):
            inst.exports.unreachable()
        kept.clear()  # the old block goes, on this thread
        with pytest.raises(fayasm.Trap) as info:
            inst.exports.div(0)
        outcome.append(info.value.message)

    for _ in range(50):  # glibc hands a finished thread's descriptor to a new thread
        t = threading.Thread(target=new_thread)
        t.start()
        t.join()
        if outcome:
            break
    if not outcome:
        pytest.skip("no thread got the finished thread's id")
    assert outcome == ["integer divide by zero"]


LAZY = """(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (table funcref (elem $sq $inc))
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func $inc (type $t) (i32.add (call $host (local.get 0)) (i32.const 1)))
  (func (export "apply") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0))))"""


def test_lazy_compiles_and_the_tier_up_while_threads_call(monkeypatch, tmp_path, busy_switching):
    """Threads reach each function's first call (its compile) at once, and keep calling
    while the optimised code is swapped in; instances made meanwhile follow too."""
    monkeypatch.setattr(tiering, "TIER_UP_SIZE", 0)
    monkeypatch.setenv("FAYASM_CACHE_DIR", str(tmp_path / "cache"))
    imports = {"env": {"host": lambda n: n}}
    module = fayasm.Module(LAZY)
    inst = fayasm.instantiate(module, imports=imports, engine="jit")
    code = inst.engine_state.code
    assert code.lazy and not code.funcs
    done = threading.Event()

    def work(k):
        try:
            i = 0
            while not done.is_set() or i < 200:
                n = i % 1000
                assert inst.exports.apply(0, n) == n * n
                assert inst.exports.apply(1, n) == n + 1
                with pytest.raises(fayasm.Trap) as info:
                    inst.exports.apply(2 + k, n)
                assert str(info.value).split("\n")[0] == f"undefined element {2 + k}"
                assert info.value.frames == ["apply"]
                if k == 0 and i % 50 == 0:
                    other = fayasm.instantiate(module, imports=imports, engine="jit")
                    assert other.exports.apply(1, n) == n + 1
                i += 1
                if k == 0 and i == 200:
                    assert tiering.wait_for_workers(300)
                    done.set()
        finally:
            done.set()  # a failing thread stops the others

    run_threads(4, work)
    assert code.upgrade is not None and inst.engine_state.code is code.upgrade
