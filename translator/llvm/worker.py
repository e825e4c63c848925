"""The O2 worker of the lazy tier, run as a separate process by tiering.py:

    python -m fayasm.translator.llvm.worker PARENT_PID METERED OPT GUARD < MODULE.wasm > OUT.o

Reads the module from stdin, compiles it whole at OPT and writes the object to stdout;
it touches no file (the process that started it caches the object). It does not outlive
that process, PARENT_PID: on Linux the kernel kills it when the parent dies
(PR_SET_PDEATHSIG), and on every system a thread checks the parent's pid twice a second
and ends the worker once it has changed (the parent died, the worker was re-parented).
"""
from __future__ import annotations

import os
import signal
import sys
import threading

POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


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


def main(argv: list[str]) -> int:
    parent, metered, opt, guard = argv
    if not die_with(int(parent)):
        return 3
    data = sys.stdin.buffer.read()
    try:
        os.nice(5)  # the interactive process comes first
    except OSError:
        pass
    from fayasm.module import Module

    from .bundle import build_code

    obj = build_code(Module(data), metered == "1", int(opt), guard == "1")
    sys.stdout.buffer.write(obj)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
