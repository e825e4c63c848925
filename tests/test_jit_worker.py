"""The jit's background O2 worker (issue 14): it does not outlive the process that started
it, however that process ends (normal exit mid-build, os._exit, SIGKILL), and it leaves
nothing behind, in the temporary directory or the cache. Each case runs in subprocesses."""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time

import pytest

pytest.importorskip("llvmlite")

# Enough functions that the O2 build takes seconds (about 7 s of CPU here), so the parent
# ends while it runs; the module is over the lazy tier's threshold.
N_FUNCS = 1000

PARENT = r"""
import os, sys, time
import fayasm
from fayasm.translator.llvm import tiering
module = fayasm.Module(open(sys.argv[1], "rb").read())
inst = fayasm.instantiate(module, engine="jit")
assert inst.exports.f1(3) == (4 * 3 + 4 * 2 + 4 * 1) ^ 1
end = time.monotonic() + 120
while not tiering._workers and time.monotonic() < end:
    time.sleep(0.01)
worker = tiering._workers[0]
print((worker[0] if isinstance(worker, tuple) else worker).pid, flush=True)
how = sys.argv[2]
if how == "exit":
    sys.exit(0)
if how == "os_exit":
    os._exit(0)
time.sleep(600)  # "sleep": the test kills this process
"""


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _gone(pid: int, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _files(folder) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), folder)
            for d, _, names in os.walk(folder) for f in names}


@pytest.fixture(scope="module")
def big_module(tmp_path_factory) -> str:
    import fayasm

    funcs = [f"""(func (export "f{i}") (param i32) (result i32) (local i32)
      (loop $l (local.set 1 (i32.add (local.get 1) (i32.mul (local.get 0) (i32.const {i + 3}))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br_if $l (i32.gt_s (local.get 0) (i32.const 0))))
      (i32.xor (local.get 1) (i32.const {i})))""" for i in range(N_FUNCS)]
    path = tmp_path_factory.mktemp("worker") / "big.wasm"
    binary = fayasm.Module("(module " + "\n".join(funcs) + ")").binary
    path.write_bytes(binary)
    # What a worker reads on its stdin: the module's length, then the module.
    path.with_suffix(".in").write_bytes(struct.pack("<Q", len(binary)) + binary)
    return str(path)


def _framed(big_module: str) -> str:
    return big_module[:-len(".wasm")] + ".in"


@pytest.fixture
def dirs(tmp_path) -> dict:
    tmp, cache = tmp_path / "tmp", tmp_path / "cache"
    tmp.mkdir()
    cache.mkdir()
    # FAYASM_JIT_HOT=0: no function is built alone at O2 first, so the cache changes only
    # when the whole module's object comes (test_hot_functions_come_first covers those).
    env = {**os.environ, "TMPDIR": str(tmp), "FAYASM_CACHE_DIR": str(cache), "FAYASM_CACHE": "1",
           "FAYASM_JIT_HOT": "0"}
    env.pop("FAYASM_JIT_WORKER", None)
    env.pop("FAYASM_JIT_LAZY_ABOVE", None)
    return {"tmp": tmp, "cache": cache, "env": env}


@pytest.mark.parametrize("how", ["exit", "os_exit", "sigkill"])
def test_regression_worker_ends_with_its_parent_and_leaves_nothing(big_module, dirs, how):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, big_module,
                               "sleep" if how == "sigkill" else how],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dirs["env"])
    try:
        line = parent.stdout.readline()
        assert line.strip().isdigit(), parent.stderr.read()
        worker = int(line)
        before = _files(dirs["cache"])  # the lazy glue and the validation memo
        if how == "sigkill":
            assert _alive(worker)  # mid-build
            parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=60)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    assert _gone(worker), f"the O2 worker {worker} outlived its parent ({how})"
    assert _files(dirs["tmp"]) == set()
    assert _files(dirs["cache"]) == before  # no O2 object, no half-written .tmp


def _worker_cmd(parent_pid: int) -> list[str]:
    return [sys.executable, "-m", "fayasm.translator.llvm.worker", str(parent_pid), "0", "2",
            "600", "0"]


def test_worker_whose_parent_is_already_gone_exits_at_once(big_module):
    """The pid it is given is not its parent (the parent died before the worker could
    ask to die with it): it ends without reading or building anything."""
    with open(_framed(big_module), "rb") as f:
        r = subprocess.run(_worker_cmd(0), stdin=f, capture_output=True, timeout=60)
    assert r.returncode == 3 and r.stdout == b""


# A process that starts a worker with the parent-death signal turned off, so only the
# worker's poll of its parent's pid can notice, then dies without cleaning up.
POLL_ONLY = r"""
import os, subprocess, sys
code = ("import sys; from fayasm.translator.llvm import worker; "
        "worker._parent_death_signal = lambda: None; sys.exit(worker.main(sys.argv[1:]))")
proc = subprocess.Popen([sys.executable, "-c", code, str(os.getpid()), "0", "2", "600"],
                        stdin=open(sys.argv[1], "rb"), stdout=subprocess.DEVNULL)
print(proc.pid, flush=True)
import time
time.sleep(1.5)  # the worker is building by now
os._exit(0)
"""


def test_worker_notices_its_parent_is_gone_without_the_signal(big_module, dirs):
    r = subprocess.run([sys.executable, "-c", POLL_ONLY, _framed(big_module)], capture_output=True,
                       text=True, timeout=120, env=dirs["env"])
    worker = int(r.stdout.split()[0])
    assert _gone(worker, 10), "the worker kept running after its parent died"
    assert _files(dirs["tmp"]) == set()


def test_finished_build_is_cached_and_swapped_in(big_module, dirs, monkeypatch):
    """What the worker is for still happens when the parent waits for it."""
    code = ("import sys, fayasm; from fayasm.translator.llvm import tiering; "
            "m = fayasm.Module(open(sys.argv[1], 'rb').read()); "
            "inst = fayasm.instantiate(m, engine='jit'); f = inst.exports.f5; f(2); "
            "assert tiering.wait_for_workers(600); "
            "print(tiering.load_code(m, False).lazy, f(2))")
    r = subprocess.run([sys.executable, "-c", code, big_module], capture_output=True,
                       text=True, timeout=900, env=dirs["env"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", str((8 * 2 + 8 * 1) ^ 5)]
    assert _files(dirs["tmp"]) == set()
    assert any(name.startswith("jit" + os.sep) and name.endswith(".o") and ".tmp" not in name
               for name in _files(dirs["cache"]))


def test_hot_functions_come_first(big_module):
    """The functions the guest runs are built alone and sent first, in the order asked;
    the whole module comes last. An index out of range is ignored."""
    from fayasm.translator.llvm import worker as w

    proc = subprocess.Popen(_worker_cmd(os.getpid()), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        with open(_framed(big_module), "rb") as f:
            proc.stdin.write(f.read())
        proc.stdin.write(struct.pack("<3I", 7, 10 ** 6, 3))
        proc.stdin.close()
        frames = []
        while True:
            frame = w.read_frame(proc.stdout)
            if frame is None:
                break
            frames.append(frame)
        assert proc.wait(timeout=600) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    tags = [tag for tag, _ in frames]
    hot = [struct.unpack_from("<I", p)[0] for tag, p in frames if tag == b"F"]
    assert hot == [7, 3]
    assert tags[-1] == b"M" and tags.index(b"M") > tags.index(b"F")
    phases = {struct.unpack("<III", p)[0] for tag, p in frames if tag == b"P"}
    assert phases == {w.PHASE_HOT, w.PHASE_EMIT, w.PHASE_LLVM}


HOT = r"""
import sys, time, fayasm
from fayasm.translator.llvm import tiering
m = fayasm.Module(open(sys.argv[1], "rb").read())
inst = fayasm.instantiate(m, engine="jit")
code = inst.engine_state.code
print(inst.exports.f5(4), 5 in code.optimised, flush=True)
end = time.monotonic() + 300
while 5 not in code.optimised and time.monotonic() < end:
    time.sleep(0.05)
print(inst.exports.f5(4), 5 in code.optimised, code.upgrade is None)
"""


def test_regression_a_hot_function_gets_its_o2_code_before_the_whole_module(big_module, dirs):
    """Lua and SQLite ran O0 code until their whole-module O2 build came, minutes later
    (or never, in a short run). A function called gets its O2 code alone, and an earlier
    run's is taken from the cache at the first call."""
    env = dict(dirs["env"], FAYASM_JIT_HOT="64")
    want = str((8 * 4 + 8 * 3 + 8 * 2 + 8 * 1) ^ 5)
    r = subprocess.run([sys.executable, "-c", HOT, big_module], capture_output=True,
                       text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [want, "False", want, "True", "True"]
    r = subprocess.run([sys.executable, "-c", HOT, big_module], capture_output=True,
                       text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == [want, "True"]  # from the cache, at once
