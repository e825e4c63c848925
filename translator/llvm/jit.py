"""The LLVM driver: target machine, optimisation, object emission, loading objects.

Every LLVM module is verified before anything else runs on it (a fatal LLVM error would
end the process); parse and verification errors become fayasm Errors. An object is loaded
into an MCJIT execution engine of its own (the engine owns its target machine and its
code, and frees both when it is collected). Loading an object resolves a handful of libc
symbols (_setjmp, _longjmp, pthread_getspecific, memcpy and friends) from the process; everything
else native code needs comes through the process state and the instance context.

Code is compiled for the host CPU (name and features are part of the cache key) with the
small code model and position-independent code: calls between functions of one object
are direct, and external symbols go through the GOT the loader builds.

Threads: work on the global LLVM context happens under ``LOCK``; a background compile
(tiering.py) uses an LLVM context of its own.
"""
from __future__ import annotations

import ctypes
import queue
import threading
import time

import llvmlite
import llvmlite.binding as llvm

from fayasm.runtime import compiletime
from fayasm.runtime.errors import Error

LOCK = threading.RLock()
_init_done = False
_host: tuple[str, str] | None = None


def init() -> None:
    global _init_done, _host
    if _init_done:
        return
    with LOCK:
        if _init_done:
            return
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _host = (llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten())
        _init_done = True


def host() -> tuple[str, str]:
    init()
    return _host


def version() -> str:
    return f"llvmlite {llvmlite.__version__} llvm {'.'.join(map(str, llvm.llvm_version_info))}"


def target_machine(opt: int = 2):
    init()
    cpu, features = _host
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=cpu, features=features, opt=opt, reloc="pic",
                                        codemodel="small", jit=True)


def _triple_and_layout() -> tuple[str, str]:
    tm = target_machine()
    return tm.triple, str(tm.target_data)


def build_object(text: str, opt: int, context=None, light: bool = False) -> bytes:
    """Parse, verify, optimise (``opt`` 0-3: LLVM's pipeline at that level; ``light``:
    only SROA, which turns locals into registers, for quick code) and compile LLVM IR
    text to an object, with instruction selection at ``opt``. Under a compile budget
    (runtime.compiletime) the build runs on the builder thread, on an LLVM context of
    its own, and CompileTimeout is raised when the budget runs out first."""
    end = compiletime.deadline()
    if end is None:
        return _build_object(text, opt, context, light)
    init()
    job = _BUILDER.submit(text, opt, light)
    if not job.done.wait(max(0.0, end - time.monotonic())):
        _BUILDER.abandon(job)
        raise compiletime.CompileTimeout(
            "jit: compiling took longer than the compile budget allowed "
            "(instantiate's compile_timeout or deadline)")
    ok, value = job.result
    if ok:
        return value
    raise value


class _Job:
    __slots__ = ("text", "opt", "light", "done", "result")

    def __init__(self, text: str, opt: int, light: bool):
        self.text, self.opt, self.light = text, opt, light
        self.done = threading.Event()
        self.result: tuple = (False, None)


class _Builder:
    """The thread that runs budgeted builds (LLVM releases the GIL, so the waiting
    thread can give up on time). One long-lived thread, not one per build: the lazy
    tier makes a build per function. A build given up on finishes on its thread, which
    then ends; the next build gets a new thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.jobs: queue.SimpleQueue | None = None

    def submit(self, text: str, opt: int, light: bool) -> _Job:
        job = _Job(text, opt, light)
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.jobs = queue.SimpleQueue()
                self.thread = threading.Thread(target=self._run, args=(self.jobs,),
                                               name="fayasm-jit-build", daemon=True)
                self.thread.start()
            assert self.jobs is not None
            self.jobs.put(job)
        return job

    def abandon(self, job: _Job) -> None:
        """``job`` is given up on: its thread takes no other job (queued ones move to a
        new thread when one comes)."""
        with self.lock:
            if self.jobs is not None:
                self.jobs.put(None)  # ends the thread once its build is done
            self.thread = self.jobs = None

    @staticmethod
    def _run(jobs: queue.SimpleQueue) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            try:
                job.result = (True, _build_object(job.text, job.opt, llvm.create_context(),
                                                  job.light))
            except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
                job.result = (False, e)
            job.done.set()


_BUILDER = _Builder()


_machines = threading.local()


def _machine(opt: int):
    """This thread's target machine for ``opt`` (making one costs about 0.3 ms, a lazy
    compile of a small function a few ms; a machine is not shared between threads)."""
    cache = getattr(_machines, "by_opt", None)
    if cache is None:
        cache = _machines.by_opt = {}
    tm = cache.get(opt)
    if tm is None:
        tm = cache[opt] = target_machine(opt)
    return tm


def _build_object(text: str, opt: int, context=None, light: bool = False) -> bytes:
    init()
    tm = _machine(opt)
    try:
        mod = llvm.parse_assembly(text, context=context)
        mod.verify()
    except RuntimeError as e:
        raise Error(f"jit: the generated LLVM IR is invalid: {e}") from None
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    pto = llvm.create_pipeline_tuning_options(speed_level=max(opt, 1))
    pb = llvm.create_pass_builder(tm, pto)
    if light:
        mpm = llvm.create_new_module_pass_manager()
        mpm.add_sroa_pass()
        mpm.run(mod, pb)
    elif opt > 0:
        pb.getModulePassManager().run(mod, pb)
    return tm.emit_object(mod)


class LoadedObject:
    """An object loaded into its own execution engine; ``meta`` lists the addresses in
    its ``fy_meta`` table."""

    def __init__(self, obj: bytes, nmeta: int):
        init()
        with LOCK:
            tm = target_machine()
            empty = llvm.parse_assembly("")
            # llvmlite's memory manager keeps an object's sections together, so the
            # 32-bit PC-relative references of the small code model always reach
            # (LLVM's default one may map the constant pool gigabytes from the code).
            self.ee = llvm.create_mcjit_compiler(empty, tm, use_lmm=True)
            self.ee.add_object_file(llvm.ObjectFileRef.from_data(obj))
            self.ee.finalize_object()
            addr = self.ee.get_global_value_address("fy_meta")
        if not addr:
            raise Error("jit: compiled object has no fy_meta table")
        self.meta = list((ctypes.c_uint64 * nmeta).from_address(addr))

    def add(self, obj: bytes, meta_name: str) -> int:
        """Load another object into this engine; the first address of its table
        ``meta_name`` (objects added this way name their tables apart)."""
        return self.add_table(obj, meta_name, 1)[0]

    def add_table(self, obj: bytes, meta_name: str, n: int) -> list[int]:
        """Like ``add``, the first ``n`` addresses of the table."""
        with LOCK:
            self.ee.add_object_file(llvm.ObjectFileRef.from_data(obj))
            self.ee.finalize_object()
            addr = self.ee.get_global_value_address(meta_name)
        if not addr:
            raise Error(f"jit: compiled object has no {meta_name} table")
        return list((ctypes.c_uint64 * n).from_address(addr))


__all__ = ["init", "host", "version", "build_object", "LoadedObject", "LOCK"]
