"""Getting a module's native code: from the disk cache, or compiled at the right tier.

Small modules (at most TIER_UP_SIZE wasm instructions) are compiled whole at O2 straight
away (ModuleCode). A bigger module, unless its O2 object is already cached, starts on the
lazy tier (LazyCode): instantiating it compiles only the glue (entries, trampolines, lazy
stubs); each function is compiled on its first call, alone and quickly (instruction
selection at O0 after a light mem2reg/SROA pipeline), and reaches other functions
through their records, so compiling one never needs another. Meanwhile a worker process
(worker.py) builds at O2 first the functions called so far that have a loop (HOT_LIMIT of
them, each alone, calls through records as on the lazy tier), then the whole module; this
process retargets every instance to each function as it comes, then to the whole module,
which it caches: records and Funcs point at the optimised code (both tiers share the
instance layout and calling convention, so that is a few word stores). Each function
compiled alone (lazily, or by the worker) is cached too, so a run too short for the whole
build leaves the next one its code. A process,
not a thread, so that an LLVM crash there cannot take this process down and LLVM's time
does not hold this process's GIL.

A worker never outlives the process that started it, and leaves nothing behind: it gets
the module on its stdin and gives the object back on its stdout (no temporary files), this
process kills it when it exits (atexit), and it dies by itself when this process dies any
other way (killed, os._exit): PR_SET_PDEATHSIG on Linux, and everywhere a thread that
polls its parent's pid. So a run shorter than the O2 build keeps the lazy code and caches
no O2 object; ``wait_for_workers`` waits for the build where that matters.

Functions nested too deep for LLVM's optimiser (module.OPT_NESTING) are compiled without
it on every tier: the lazy tier skips even SROA for them (its cost grows with the values
live across the nesting), and a whole-module build puts them in an object of their own
beside the optimised one (bundle.py), which ModuleCode loads into the same engine.
"""
from __future__ import annotations

import atexit
import os
import struct
import subprocess
import sys
import threading
import weakref

from fayasm import isa
from fayasm.errors import TranslationError, describe
from fayasm.module import gc_paused
from fayasm.runtime import compiletime, progress
from fayasm.runtime.errors import DEADLINE_EXCEEDED, Error, Exhaustion, Trap
from fayasm.runtime.types import ExternKind

from . import cache, glue, jit, worker
from . import types as T
from .bundle import build_code, split_code
from .codemap import codemap
from .module import ModuleEmitter, is_deep, signatures
from .threads import python_depth, thread_block

# Wasm instructions (all function bodies) above which a module starts on the lazy tier
# (FAYASM_JIT_LAZY_ABOVE overrides it; tests use it to run small modules lazily).
TIER_UP_SIZE = int(os.environ.get("FAYASM_JIT_LAZY_ABOVE", "10000"))
# Python frames (counted twice, as callbacks.py does) a lazy compile may need: one that runs
# out of stack with fewer left than this was started too deep, by the guest's recursion.
COMPILE_HEADROOM = 400
# FAYASM_JIT_WORKER=0: no O2 worker (lazy code stays lazy; for tests).
_WORKER = os.environ.get("FAYASM_JIT_WORKER", "1") != "0"
OPT_LEVEL = 2
# CPU seconds the background O2 build of a module may take before it is killed (the lazy
# code then stays in use); FAYASM_JIT_WORKER_TIMEOUT overrides it. CPU time, not wall
# time: a loaded machine slows a build down. A worker still running after WORKER_WALL
# seconds of wall time is killed all the same.
WORKER_CPU = float(os.environ.get("FAYASM_JIT_WORKER_TIMEOUT", "600"))
WORKER_WALL = 4 * WORKER_CPU
LAZY_OPT = 0
# Functions the worker compiles at O2 one by one, before the whole module: the first ones
# called that have a loop (where a program spends its time). Each costs about 90 ms of
# CPU (Lua's, measured; O0: 10 ms) and delays the whole module's build as much.
HOT_LIMIT = int(os.environ.get("FAYASM_JIT_HOT", "64"))
_LOOP = isa.OPS["loop"]


def _has_loop(body) -> bool:
    return any(ins.op is _LOOP for ins in body)


def num_imported_funcs(module) -> int:
    # From the syntax, not module.info: a module known valid reaches its cached code
    # without being validated again (fayasm.validcache).
    return len(module.syntax.imported(ExternKind.FUNC))


def module_size(module) -> int:
    return sum(len(f.body) for f in module.syntax.funcs)


def _register_glue(loaded, meta: list, sigs: list, opt: int) -> None:
    """Record the glue of a loaded object compiled at ``opt``: entries, then trampolines
    (then lazy stubs), one block of len(sigs) addresses each."""
    n = len(sigs)
    codemap.add([(a, None) for a in meta])
    glue.register_glue(loaded, sigs, meta[:n], meta[n:2 * n], opt)


def _function_entries(names, nimp: int, funcs, tails) -> list:
    """Code map entries of defined functions: a function with a uniform entry is that
    entry (its ordinary entry is a wrapper, which backtraces skip like glue)."""
    out = []
    for k, (a, t) in enumerate(zip(funcs, tails)):
        if t:
            out += [(a, None), (t, (names, nimp + k))]
        else:
            out.append((a, (names, nimp + k)))
    return out


class ModuleCode:
    """A whole module loaded (build_code's result): addresses of its functions."""

    lazy = False

    def __init__(self, module, metered: bool, obj: bytes, opt: int, guard: bool = False):
        self.module = module
        self.metered = metered
        self.guard = guard
        self.opt = opt
        sigs = signatures(module)
        nd = len(module.syntax.funcs)
        nimp = num_imported_funcs(module)
        main, deep, deep_obj = split_code(obj)
        ns = len(sigs)
        self.loaded = jit.LoadedObject(main, 2 * nd + 2 * ns)
        meta = self.loaded.meta
        self.funcs = meta[:nd]
        self.tails = meta[nd + 2 * ns:]  # uniform entries (0: none)
        if deep:
            if not all(0 <= index - nimp < nd for index in deep):
                raise Error("jit: malformed code bundle")
            addrs = self.loaded.add_table(deep_obj, "fy_meta_deep", 2 * len(deep))
            for j, index in enumerate(deep):
                self.funcs[index - nimp] = addrs[j]
                self.tails[index - nimp] = addrs[len(deep) + j]
        if not all(self.funcs):
            raise Error("jit: compiled code lacks a function")
        names = module.func_name
        codemap.add(_function_entries(names, nimp, self.funcs, self.tails))
        _register_glue(self.loaded, meta[nd:nd + 2 * ns], sigs, opt)
        weakref.finalize(self.loaded, codemap.remove,
                         self.funcs + meta[nd:nd + 2 * ns] + [a for a in self.tails if a])

    def target(self, k: int, ist) -> tuple[int, int, int]:
        """(code, context, uniform entry or 0) of defined function ``k`` for ``ist``."""
        return self.funcs[k], ist.base, self.tails[k]

    def attach(self, ist) -> None:
        """Point every function of a new instance ``ist`` at this code."""
        for k in range(len(self.funcs)):
            ist.set_target(k, *self.target(k, ist))


class LazyCode:
    """The lazy tier of a big module (see the module docstring)."""

    lazy = True
    opt = LAZY_OPT

    def __init__(self, module, metered: bool, hash_: str, guard: bool = False):
        self.module = module
        self.metered = metered
        self.guard = guard
        self.hash = hash_
        sigs = signatures(module)
        self.emitter = ModuleEmitter(module, metered, indirect_calls=True, guard=guard)
        k = cache.key(["lazy-glue", jit.version(), *jit.host(), f"metered={metered}",
                       *(T.sig_key(ft) for ft in sigs)])
        obj = cache.load(k)
        if obj is None:
            # At O0: LLVM's O1 took 0.86 s on SQLite's 79 signatures, O0 0.07 s. The
            # glue of a whole-module build (O2) replaces these entries when it loads.
            with jit.LOCK:
                obj = jit.build_object(glue.glue_text(sigs, lazy=True), 0)
            cache.store(k, obj)
        self.loaded = jit.LoadedObject(obj, 3 * len(sigs))
        meta = self.loaded.meta
        n = len(sigs)
        _register_glue(self.loaded, meta, sigs, 0)
        self.compiled_addrs: list[int] = []
        weakref.finalize(self.loaded, codemap.remove, list(meta), self.compiled_addrs)
        self.stubs = dict(zip(sigs, meta[2 * n:]))
        self.types = [module.syntax.types[f.type_idx] for f in module.syntax.funcs]
        self.funcs: dict[int, tuple] = {}  # defined function -> (code, uniform entry or 0)
        self.optimised: set[int] = set()  # functions whose code is the O2 one
        self.called: list[int] = []  # functions compiled lazily, in the order of first calls
        self.worker_in = None  # the O2 worker's stdin, while one builds this module
        self.instances: list = []
        self.upgrade: ModuleCode | None = None
        self.lock = threading.RLock()

    def target(self, k: int, ist) -> tuple[int, int, int]:
        if self.upgrade is not None:
            return self.upgrade.target(k, ist)
        addrs = self.funcs.get(k)
        if addrs is not None:
            return addrs[0], ist.base, addrs[1]
        return self.stubs[self.types[k]], ist.lazy_block(k), 0

    def attach(self, ist) -> None:
        """Point every function of a new instance ``ist`` at the best code there is, and
        keep it up to date. Under the lock, so a compile or tier-up finishing on another
        thread either sees the instance or is seen by it."""
        with self.lock:
            for k in range(len(self.types)):
                ist.set_target(k, *self.target(k, ist))
            self.instances.append(weakref.ref(ist))

    def compile(self, k: int) -> None:
        """Compile defined function ``k`` (on its first call) and point every instance
        at it. Threads calling it at once wait for the first one's compile. This runs
        inside the guest's call: a failure of the compiler is a TranslationError naming
        the function, never the guest's Exhaustion."""
        with self.lock:
            if k in self.funcs or self.upgrade is not None:
                return
            index = num_imported_funcs(self.module) + k
            call_end = None
            try:
                found = self._from_cache(k)
                if found is not None:
                    addr, tail, optimised = found
                else:
                    optimised = False
                    with gc_paused():
                        text = self.emitter.function_text(index, f"fy_meta_{k}")
                    light = not is_deep(self.module.syntax.funcs[k].body)
                    # Inside a call: the compile budget ends with the call's deadline.
                    budget = thread_block().budget
                    call_end = budget.deadline if budget is not None else None
                    with jit.LOCK, compiletime.budget(compiletime.DEFAULT_COMPILE_TIMEOUT,
                                                      at=call_end), \
                            progress.task(f"jit: compiling {self.module.func_name(index)}"):
                        obj = jit.build_object(text, LAZY_OPT, light=light)
                    cache.store(self._fkey(k, LAZY_OPT), obj)
                    addr, tail = self.loaded.add_table(obj, f"fy_meta_{k}", 2)
            except compiletime.CompileTimeout:
                if call_end is not None:
                    raise Trap(DEADLINE_EXCEEDED) from None
                raise
            except (TranslationError, RecursionError) as e:
                recursion = isinstance(e, RecursionError) or e.cause.startswith("Recursion")
                if recursion and (2 * python_depth()
                                  > sys.getrecursionlimit() - COMPILE_HEADROOM):
                    # The guest's calls through the host had used up Python's stack
                    # before this compile began: that is the guest's exhaustion.
                    raise Exhaustion() from None
                if isinstance(e, TranslationError):
                    raise
                raise TranslationError("jit", describe(e), index,
                                       self.module.func_name(index)) from None
            except (Error, RuntimeError, OSError, MemoryError) as e:
                raise TranslationError("jit", describe(e), index,
                                       self.module.func_name(index)) from None
            self._install(k, addr, tail)
            if optimised:
                self.optimised.add(k)
            elif len(self.called) < HOT_LIMIT and _has_loop(self.module.syntax.funcs[k].body):
                self.called.append(k)
                self._tell_worker([k])

    def _from_cache(self, k: int) -> tuple[int, int, bool] | None:
        """(code, uniform entry, whether O2) of defined function ``k`` compiled by an
        earlier run: its O2 code (the worker's), else its lazy code; None if neither."""
        for opt, meta in ((OPT_LEVEL, f"fy_meta_o{k}"), (LAZY_OPT, f"fy_meta_{k}")):
            key = self._fkey(k, opt)
            obj = cache.load(key)
            if obj is not None:
                try:
                    addr, tail = self.loaded.add_table(obj, meta, 2)
                except (RuntimeError, Error):
                    cache.remove(key)
                    continue
                return addr, tail, opt == OPT_LEVEL
        return None

    def _fkey(self, k: int, opt: int) -> str:
        """The cache key of defined function ``k`` compiled alone at ``opt``."""
        cpu, features = jit.host()
        # guard: guard-mode code has no bounds checks, so it must never be loaded for an
        # instance with explicit checks (nor the reverse).
        return cache.key([self.hash, jit.version(), cpu, features, f"metered={self.metered}",
                          f"guard={self.guard}", f"function={k}", f"opt={opt}"])

    def _install(self, k: int, addr: int, tail: int) -> None:
        index = num_imported_funcs(self.module) + k
        codemap.add(_function_entries(self.module.func_name, index, [addr], [tail]))
        self.compiled_addrs += [addr] + ([tail] if tail else [])
        self.funcs[k] = (addr, tail)
        self._retarget(lambda ist: ist.set_target(k, addr, ist.base, tail))

    # -- the O2 worker's side ---------------------------------------------------------------------
    def _tell_worker(self, ks: list[int]) -> None:
        """Ask the worker building this module for these functions first (see worker.py)."""
        f = self.worker_in
        if f is None or not ks:
            return
        try:
            f.write(struct.pack(f"<{len(ks)}I", *ks))
            f.flush()
        except (OSError, ValueError):  # the worker is gone
            self.worker_in = None

    def worker_started(self, f) -> None:
        """A worker builds this module now and reads requests from ``f``."""
        with self.lock:
            self.worker_in = f
            self._tell_worker(self.called)

    def worker_ended(self) -> None:
        with self.lock:
            self.worker_in = None

    def optimised_function(self, k: int, obj: bytes) -> None:
        """The worker's O2 code of defined function ``k`` (compiled alone) has come: cache
        it and point every instance at it."""
        with self.lock:
            if self.upgrade is not None or k in self.optimised or not 0 <= k < len(self.types):
                return
            try:
                addr, tail = self.loaded.add_table(obj, f"fy_meta_o{k}", 2)
            except (RuntimeError, Error):
                return
            cache.store(self._fkey(k, OPT_LEVEL), obj)
            self._install(k, addr, tail)
            self.optimised.add(k)

    def _retarget(self, action) -> None:
        for ref in list(self.instances):
            ist = ref()
            if ist is not None:
                action(ist)

    def upgraded(self, code: ModuleCode) -> None:
        with self.lock:
            self.upgrade = code
            self._retarget(lambda ist: ist.retarget(code))


# -- choosing -------------------------------------------------------------------------------------
def _key(hash_: str, metered: bool, opt: int, guard: bool = False) -> str:
    cpu, features = jit.host()
    return cache.key([hash_, jit.version(), cpu, features, f"metered={metered}", f"opt={opt}",
                      f"guard={guard}"])


def _from_cache(module, metered: bool, opt: int, hash_: str,
                guard: bool = False) -> ModuleCode | None:
    k = _key(hash_, metered, opt, guard)
    obj = cache.load(k)
    if obj is None:
        return None
    try:
        return ModuleCode(module, metered, obj, opt, guard)
    except (RuntimeError, Error):
        cache.remove(k)  # unusable: rebuilt below
        return None


def load_code(module, metered: bool, guard: bool = False):
    """The best native code of ``module`` available now (see the module docstring);
    ``guard``: guard-mode code (guard.py)."""
    jit.init()
    hash_ = module.hash
    code = _from_cache(module, metered, OPT_LEVEL, hash_, guard)
    if code is not None:
        return code
    if module_size(module) <= TIER_UP_SIZE:
        n = len(module.syntax.funcs)
        with progress.task(f"jit: compiling {module.name} at O2", n) as task:
            obj = build_code(module, metered, OPT_LEVEL,
                             lambda done: task.update(done, None, "lowering" if done < n
                                                      else "optimising"), guard)
        cache.store(_key(hash_, metered, OPT_LEVEL, guard), obj)
        return ModuleCode(module, metered, obj, OPT_LEVEL, guard)
    lazy = LazyCode(module, metered, hash_, guard)
    _start_worker(module, metered, hash_, lazy)
    return lazy


# -- the O2 worker --------------------------------------------------------------------------------
_workers: list = []  # (Popen, pid of the process that started it)
_exiting = [False]
_queue: list = []
_queue_lock = threading.Lock()
_queue_thread: list = []


def _start_worker(module, metered: bool, hash_: str, lazy: LazyCode) -> None:
    """Queue the O2 build of ``module``; one worker process runs at a time."""
    if not _WORKER:
        return
    with _queue_lock:
        _queue.append((module, metered, hash_, lazy))
        if not _queue_thread or not _queue_thread[0].is_alive():
            t = threading.Thread(target=_run_queue, name="fayasm-jit-O2", daemon=True)
            _queue_thread[:] = [t]
            t.start()


def _run_queue() -> None:
    while not _exiting[0]:
        with _queue_lock:
            if not _queue:
                _queue_thread.clear()
                return
            job = _queue.pop(0)
        try:
            _run_worker(*job)
        except Exception:  # noqa: BLE001 - the lazy code keeps working
            pass
    with _queue_lock:
        _queue_thread.clear()


def _run_worker(module, metered: bool, hash_: str, lazy: LazyCode) -> None:
    """Build ``module`` at O2 in a worker process (from this thread, which stays until the
    worker ends: Linux's parent-death signal follows the thread that started a child):
    first the functions the guest runs, one by one, then the whole module (worker.py)."""
    if lazy.upgrade is not None or _exiting[0]:
        return
    guard = lazy.guard
    cmd = [sys.executable, "-m", "fayasm.translator.llvm.worker", str(os.getpid()),
           "1" if metered else "0", str(OPT_LEVEL), str(WORKER_CPU), "1" if guard else "0"]
    try:
        # A session of its own: a Ctrl-C meant for this process does not reach it.
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        return
    entry = (proc, os.getpid())
    _workers.append(entry)
    task = progress.task(f"jit: O2 build of {module.name}", len(module.syntax.funcs))
    try:
        obj = _talk(proc, module.binary, lazy, task)
    finally:
        _workers.remove(entry)
        task.finish()
    if obj is None or _exiting[0]:
        return
    cache.store(_key(hash_, metered, OPT_LEVEL, guard), obj)
    try:
        code = ModuleCode(module, metered, obj, OPT_LEVEL, guard)
    except (RuntimeError, Error):
        return
    lazy.upgraded(code)


_PHASES = {worker.PHASE_HOT: "functions in use", worker.PHASE_EMIT: "lowering",
           worker.PHASE_LLVM: "optimising"}


def _talk(proc, binary: bytes, lazy: LazyCode, task) -> bytes | None:
    """Give a worker the module, hand it the functions the guest calls, install the ones
    it sends back; the whole module's object it ends with, or None if it failed, was
    killed or ran past its CPU budget (a module built to make LLVM slow must not keep a
    core busy for ever; WORKER_WALL: the same for a worker that stopped getting CPU)."""
    timer = threading.Timer(WORKER_WALL, proc.kill)
    timer.daemon = True
    timer.start()
    obj = None
    try:
        proc.stdin.write(struct.pack("<Q", len(binary)) + binary)
        proc.stdin.flush()
        lazy.worker_started(proc.stdin)
        while True:
            frame = worker.read_frame(proc.stdout)
            if frame is None:
                break
            tag, payload = frame
            if tag == b"F" and len(payload) > 4:
                lazy.optimised_function(struct.unpack_from("<I", payload)[0], payload[4:])
            elif tag == b"P" and len(payload) == 12:
                phase, done, total = struct.unpack("<III", payload)
                task.update(done, total, _PHASES.get(phase, ""))
            elif tag == b"M":
                obj = payload
                break
    except (OSError, ValueError):  # the pipe closed under us (exiting)
        obj = None
    finally:
        lazy.worker_ended()
        timer.cancel()
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return obj if proc.returncode == 0 and obj else None


def wait_for_workers(timeout: float = 600.0) -> bool:
    """Wait until queued O2 builds are done and swapped in (tests, benchmarks); whether
    they all finished within ``timeout`` seconds."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with _queue_lock:
            idle = not _queue and not _queue_thread
        if idle:
            return True
        time.sleep(0.05)
    return False


@atexit.register
def _at_exit() -> None:
    """Stop the workers this process started: none outlives the command that ran it."""
    _exiting[0] = True
    mine = [proc for proc, owner in list(_workers) if owner == os.getpid()]
    for proc in mine:
        try:
            proc.kill()
        except OSError:
            pass
    for proc in mine:
        try:
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass


__all__ = ["load_code", "build_code", "ModuleCode", "LazyCode", "module_size",
           "TIER_UP_SIZE", "wait_for_workers"]
