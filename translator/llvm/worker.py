"""The O2 worker of the lazy tier, run as a separate process by tiering.py:

    python -m fayasm.translator.llvm.worker PARENT_PID METERED OPT CPU_SECONDS GUARD

It touches no file (the process that started it caches what it sends). Protocol, little
endian, on its stdin and stdout (``read_frame`` reads the frames):

- in: the module (u64 length, then its bytes), then a stream of u32 defined-function
  indices, the functions the parent has started to run (their first calls), until EOF;
- out: frames of one tag byte, a u32 length and the payload: ``F`` (u32 index, then an
  object): one of those functions compiled alone at OPT, calls going through records as
  on the lazy tier, sent as soon as it is built, in the order asked; ``P`` (u32 phase,
  done, total): progress (PHASE_HOT, PHASE_EMIT, PHASE_LLVM); ``M``: the whole module
  built at OPT (bundle.build_code), the last frame.

The functions asked for come first: a guest running O0 code gets its hot code at O2 in
seconds, where the whole module of a big program takes minutes (SQLite: about 2,000
functions). The whole-module build starts once no request has come for IDLE_SECONDS,
in a thread of lower priority, and requests still come first while it runs.

It does not outlive its parent, PARENT_PID: on Linux the kernel kills it when the parent
dies (PR_SET_PDEATHSIG), and on every system a thread checks the parent's pid twice a
second and ends the worker once it has changed. GUARD (1 or 0): guard-mode code
(guard.py). It may use CPU_SECONDS of CPU time
(RLIMIT_CPU, where there is one), not wall time: a loaded machine slows a build down
without making it endless.
"""
from __future__ import annotations

import os
import queue
import signal
import struct
import sys
import threading

POLL_SECONDS = 0.5
IDLE_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1
PHASE_HOT, PHASE_EMIT, PHASE_LLVM = 0, 1, 2


def _parent_death_signal() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (best effort)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _watch(parent: int) -> None:
    import time

    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent:
            os._exit(3)


def die_with(parent: int) -> bool:
    """Make this process end when process ``parent`` does; False if it already has."""
    _parent_death_signal()
    # After the prctl: a parent that died before it is seen here, not missed.
    if os.getppid() != parent:
        return False
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()
    return True


def _cpu_budget(seconds: float) -> None:
    try:
        import resource

        limit = max(1, int(seconds))
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 5))
    except (ImportError, ValueError, OSError):
        pass


def _lower_priority() -> None:
    """Make the calling thread yield to the others (Linux: a thread's own nice value)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


def _read_exactly(f, n: int) -> bytes | None:
    data = f.read(n)
    return data if data is not None and len(data) == n else None


class _Out:
    """Frames to stdout, from several threads."""

    def __init__(self, f):
        self.f, self.lock = f, threading.Lock()

    def frame(self, tag: bytes, payload: bytes) -> None:
        with self.lock:
            self.f.write(tag + struct.pack("<I", len(payload)))
            self.f.write(payload)
            self.f.flush()

    def progress(self, phase: int, done: int, total: int) -> None:
        self.frame(b"P", struct.pack("<III", phase, done, total))


_IDLE, _DONE, _EOF = -1, -2, -3  # what the request queue gives besides function indices


def _requests(f, q: queue.Queue) -> None:
    while True:
        word = _read_exactly(f, 4)
        if word is None:
            q.put(_EOF)
            return
        q.put(struct.unpack("<I", word)[0])


def read_frame(f) -> tuple[bytes, bytes] | None:
    """The next (tag, payload) a worker wrote to ``f``; None at its end."""
    head = _read_exactly(f, 5)
    if head is None:
        return None
    payload = _read_exactly(f, struct.unpack_from("<I", head, 1)[0])
    if payload is None:
        return None
    return head[:1], payload


def main(argv: list[str]) -> int:
    parent, metered, opt, cpu, guard = argv
    if not die_with(int(parent)):
        return 3
    _cpu_budget(float(cpu))
    stdin = sys.stdin.buffer
    head = _read_exactly(stdin, 8)
    if head is None:
        return 2
    data = _read_exactly(stdin, struct.unpack("<Q", head)[0])
    if data is None:
        return 2
    try:
        os.nice(5)  # the interactive process comes first
    except OSError:
        pass
    import llvmlite.binding as llvm

    from fayasm.module import Module

    from .bundle import build_code
    from .jit import build_object
    from .module import ModuleEmitter, is_deep

    module = Module(data)
    out = _Out(sys.stdout.buffer)
    funcs = module.syntax.funcs
    nimp = module.info.num_imported_funcs
    requests: queue.Queue = queue.Queue()
    threading.Thread(target=_requests, args=(stdin, requests), daemon=True).start()
    whole: list = []

    def build_whole() -> None:
        _lower_priority()

        def emitted(done: int) -> None:
            if done % 50 == 0 or done == len(funcs):
                out.progress(PHASE_EMIT, done, len(funcs))
            if done == len(funcs):
                out.progress(PHASE_LLVM, 0, 1)

        try:
            whole.append(build_code(module, metered == "1", int(opt), emitted, guard == "1"))
        finally:
            requests.put(_DONE)

    emitter = ModuleEmitter(module, metered == "1", indirect_calls=True, guard=guard == "1")
    done: set[int] = set()
    builder: threading.Thread | None = None
    while True:
        try:
            k = requests.get(timeout=IDLE_SECONDS if builder is None else None)
        except queue.Empty:
            k = _IDLE
        if k < 0:
            if k == _DONE:
                break
            if builder is None:
                builder = threading.Thread(target=build_whole, name="whole", daemon=True)
                builder.start()
            if k == _EOF:
                builder.join()
                break
            continue
        if k in done or k >= len(funcs) or is_deep(funcs[k].body):
            continue
        done.add(k)
        text = emitter.function_text(nimp + k, f"fy_meta_o{k}")
        # An LLVM context of its own: the whole build holds the global one.
        obj = build_object(text, int(opt), llvm.create_context())
        out.frame(b"F", struct.pack("<I", k) + obj)
        out.progress(PHASE_HOT, len(done), len(funcs))
    if not whole:
        return 1
    out.frame(b"M", whole[0])
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stdout.flush()
    # Not sys.exit: the request reader is blocked reading stdin, and a daemon thread
    # holding stdin's lock makes Python's shutdown abort.
    os._exit(status)
