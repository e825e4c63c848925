"""Guard pages: memory accesses without bounds checks, and the fault handler behind them.

A guarded 32-bit memory (runtime/memory.py ``Memory.guarded``) reserves the whole reach
of ``zext(address) + offset + access``, PROT_NONE past its current size, so an access
past the end always faults inside the reservation. Code compiled in guard mode (the
``guard`` option of the module's code) accesses such memories without a check, and
this module's native SIGSEGV/SIGBUS handler turns the fault into the trap:

- the fault is the kernel's (si_code > 0), at an address inside a registered guarded
  reservation, on a thread whose block (threads.py) has an entry running (JMPBUF),
  runs native code (it is the state's CUR) and is not in a host call (TB.HOST: host
  trampolines and runtime calls set it; entries clear it for the wasm they run);
- then the handler makes the interrupted code "call" ``fy_guard_trap``: it pushes the
  faulting PC as a return address and resumes there, which records "out of bounds memory
  access" and ``_longjmp``s to the entry exactly as an explicit trap does (the frame walk
  sees the faulting function first). Returning from the handler lets the kernel restore
  the signal mask, so nothing stays blocked after the jump;
- any other fault goes to the handler installed before this one (Python's faulthandler
  included), or, if that was the default action, puts the default back and returns, so
  the fault happens again and ends the process as it would have without fayasm. When
  this handler is put back over one installed after it (``install``), the two chain to
  each other: a signal that comes back while the previous handler is being called
  (faulthandler re-raises the fault after its report) gets the default action.

Only the thread holding the GIL runs native code (process.py), and the registry of
reservations changes only under the GIL, so the handler reads it without a lock.

The mode is chosen per instance at instantiation (``choose``): guard mode needs x86-64
Linux, FAYASM_GUARD_PAGES not 0, the handler installed, and every 32-bit memory of the
instance guarded; otherwise the code checks every access. memory64 accesses are always
checked. FAYASM_DEBUG_GUARD=1 prints each choice to stderr; ``fayasm inspect FILE
--engine jit`` reports the mode an instance of the module would get.
"""
from __future__ import annotations

import ctypes
import os
import platform
import signal
import sys
import threading
import weakref

from fayasm.runtime.memory import guard_pages_wanted

from . import jit, stubs
from . import types as T
from .codemap import codemap
from .module import METADATA
from .process import STATE
from .types import TB, S

_SA_SIGINFO, _SA_ONSTACK = 4, 0x08000000
_SIGACTION_SIZE = 152  # glibc x86-64: handler, sigset_t (128 bytes), flags, restorer
_FLAGS_OFF = 136
# x86-64 Linux ucontext_t: uc_flags, uc_link, uc_stack (24 bytes), then gregs.
_GREGS = 40
_REG_RSP, _REG_RIP = 15, 16
_SI_CODE, _SI_ADDR = 8, 16

_LOCK = threading.Lock()
_state: dict = {"installed": False, "failed": None}
_prev = {sig: ctypes.create_string_buffer(_SIGACTION_SIZE) for sig in
         (signal.SIGSEGV, signal.SIGBUS)}
_default = ctypes.create_string_buffer(_SIGACTION_SIZE)  # SIG_DFL, no flags
# Nonzero while a fault is being passed to the previous handler (see the handler's
# ``after``): a fault or signal reaching this handler again then gets the default action,
# so two handlers that chain to each other cannot pass a crash back and forth for ever.
_chained = ctypes.c_int64(0)
_pending_set = ctypes.create_string_buffer(128)  # sigpending's sigset_t
# The registry the handler scans: {ranges pointer, count}; ranges are (low, high) pairs.
_header = (ctypes.c_uint64 * 2)()
_arrays: list = []  # every ranges array made: the handler may still read an older one
_ranges: dict[int, int] = {}  # base address -> end of each registered reservation
_pending: list[int] = []  # bases of memories that died, to remove from _ranges
_keep: list = []  # the handler's loaded object, for the life of the process

_libc = ctypes.CDLL(None, use_errno=True)
_sigaction = _libc.sigaction
_sigaction.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
_sigaction.restype = ctypes.c_int


def supported() -> bool:
    """Whether this platform has the handler (its ucontext offsets are x86-64 Linux's)."""
    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")


def _ptr(addr: int) -> str:
    return f"inttoptr (i64 {addr} to ptr)"


def handler_text() -> str:
    """The LLVM module of the handler, ``fy_guard_trap`` and their trap helper; the
    process's addresses (state, registry, saved actions) are constants in it."""
    st = _ptr(STATE)
    segv = ctypes.addressof(_prev[signal.SIGSEGV])
    bus = ctypes.addressof(_prev[signal.SIGBUS])
    helper = stubs.trap_helper().replace("define internal void @fy_trap",
                                         "define void @fy_guard_trap_helper")
    return f"""{stubs.DECLARATIONS}
declare i32 @sigaction(i32, ptr, ptr) nounwind
declare i32 @sigpending(ptr) nounwind

{helper}

define void @fy_guard_trap() #1 {{
entry:
  call void @fy_guard_trap_helper(ptr {st}, i64 {T.MEM_OOB}, i64 0, i64 -1)
  unreachable
}}

define void @fy_guard_handler(i32 %sig, ptr %info, ptr %uc) #2 {{
entry:
  %cp = getelementptr inbounds i8, ptr %info, i64 {_SI_CODE}
  %code = load volatile i32, ptr %cp
  %kernel = icmp sgt i32 %code, 0
  br i1 %kernel, label %thread, label %chain
thread:
  %keyp = getelementptr inbounds i64, ptr {st}, i64 {S.TLS_KEY}
  %key64 = load volatile i64, ptr %keyp
  %key = trunc i64 %key64 to i32
  %tb = call ptr @pthread_getspecific(i32 %key)
  %hastb = icmp ne ptr %tb, null
  br i1 %hastb, label %block, label %chain
block:
  %jbp = getelementptr inbounds i64, ptr %tb, i64 {TB.JMPBUF}
  %jb = load volatile i64, ptr %jbp
  %hp = getelementptr inbounds i64, ptr %tb, i64 {TB.HOST}
  %host = load volatile i64, ptr %hp
  %curp = getelementptr inbounds i64, ptr {st}, i64 {S.CUR}
  %cur = load volatile ptr, ptr %curp
  %inentry = icmp ne i64 %jb, 0
  %nohost = icmp eq i64 %host, 0
  %iscur = icmp eq ptr %cur, %tb
  %a1 = and i1 %inentry, %nohost
  %wasm = and i1 %a1, %iscur
  br i1 %wasm, label %scan, label %chain
scan:
  %ap = getelementptr inbounds i8, ptr %info, i64 {_SI_ADDR}
  %addr = load volatile i64, ptr %ap
  %arr = load volatile ptr, ptr {_ptr(ctypes.addressof(_header))}
  %np = getelementptr inbounds i64, ptr {_ptr(ctypes.addressof(_header))}, i64 1
  %n = load volatile i64, ptr %np
  br label %loop
loop:
  %i = phi i64 [0, %scan], [%i1, %next]
  %more = icmp ult i64 %i, %n
  br i1 %more, label %test, label %chain
test:
  %lo_i = shl i64 %i, 1
  %lop = getelementptr inbounds i64, ptr %arr, i64 %lo_i
  %lo = load volatile i64, ptr %lop
  %hip = getelementptr inbounds i64, ptr %lop, i64 1
  %hi = load volatile i64, ptr %hip
  %ge = icmp uge i64 %addr, %lo
  %lt = icmp ult i64 %addr, %hi
  %in = and i1 %ge, %lt
  br i1 %in, label %redirect, label %next
next:
  %i1 = add i64 %i, 1
  br label %loop
redirect:
  %ripp = getelementptr inbounds i64, ptr %uc, i64 {_GREGS // 8 + _REG_RIP}
  %rspp = getelementptr inbounds i64, ptr %uc, i64 {_GREGS // 8 + _REG_RSP}
  %pc = load volatile i64, ptr %ripp
  %sp = load volatile i64, ptr %rspp
  %below = sub i64 %sp, 256
  %aligned = and i64 %below, -16
  %nsp = sub i64 %aligned, 8
  %slot = inttoptr i64 %nsp to ptr
  store volatile i64 %pc, ptr %slot
  store volatile i64 %nsp, ptr %rspp
  %target = ptrtoint ptr @fy_guard_trap to i64
  store volatile i64 %target, ptr %ripp
  ret void
chain:
  %chained = load volatile i64, ptr {_ptr(ctypes.addressof(_chained))}
  %again = icmp ne i64 %chained, 0
  br i1 %again, label %default, label %first
first:
  %issegv = icmp eq i32 %sig, {int(signal.SIGSEGV)}
  %prev = select i1 %issegv, ptr {_ptr(segv)}, ptr {_ptr(bus)}
  %fn = load volatile ptr, ptr %prev
  %fp = getelementptr inbounds i8, ptr %prev, i64 {_FLAGS_OFF}
  %flags = load volatile i32, ptr %fp
  %fni = ptrtoint ptr %fn to i64
  %special = icmp ult i64 %fni, 2
  br i1 %special, label %default, label %call
default:
  %r = call i32 @sigaction(i32 %sig, ptr {_ptr(ctypes.addressof(_default))}, ptr null)
  ret void
call:
  store volatile i64 1, ptr {_ptr(ctypes.addressof(_chained))}
  %si = and i32 %flags, {_SA_SIGINFO}
  %hassi = icmp ne i32 %si, 0
  br i1 %hassi, label %three, label %one
three:
  call void %fn(i32 %sig, ptr %info, ptr %uc)
  br label %after
one:
  call void %fn(i32 %sig)
  br label %after
after:
  ; The handler before this one returned. If it raised the signal to end the process
  ; (faulthandler does, after putting back the one it replaced, which may be this one),
  ; the signal is pending (blocked while this handler runs) and comes back here: then
  ; the default action. If it dealt with the fault, the next one chains to it again.
  %pr = call i32 @sigpending(ptr {_ptr(ctypes.addressof(_pending_set))})
  %set = load volatile i64, ptr {_ptr(ctypes.addressof(_pending_set))}
  %bitn = sub i32 %sig, 1
  %bitn64 = zext i32 %bitn to i64
  %sh = lshr i64 %set, %bitn64
  %bit = and i64 %sh, 1
  %raised = icmp ne i64 %bit, 0
  br i1 %raised, label %done, label %clear
clear:
  store volatile i64 0, ptr {_ptr(ctypes.addressof(_chained))}
  br label %done
done:
  ret void
}}

@fy_meta = constant [3 x ptr] [ptr @fy_guard_handler, ptr @fy_guard_trap,
                               ptr @fy_guard_trap_helper]

{stubs.ATTRIBUTES}

{METADATA}
"""


def _install_locked() -> bool:
    if _state["installed"]:
        return True
    if _state["failed"] is not None:
        return False
    try:
        with jit.LOCK:
            obj = jit.build_object(handler_text(), 1)
        loaded = jit.LoadedObject(obj, 3)
    except Exception as e:  # noqa: BLE001 - explicit checks remain
        _state["failed"] = f"the handler did not compile: {e}"
        return False
    _keep.append(loaded)
    handler, trap, helper = loaded.meta
    codemap.add([(handler, None), (trap, None), (helper, None)])
    _state["handler"] = handler
    if not _set_handlers():
        _state["failed"] = f"sigaction failed: errno {ctypes.get_errno()}"
        return False
    _state["installed"] = True
    return True


def _set_handlers() -> bool:
    """Install the handler for SIGSEGV and SIGBUS over whatever handles them now (which
    it chains to), unless it is already the one installed."""
    handler = _state["handler"]
    for sig, prev in _prev.items():
        cur = ctypes.create_string_buffer(_SIGACTION_SIZE)
        if _sigaction(int(sig), None, cur) != 0:
            return False
        if ctypes.c_uint64.from_buffer(cur).value == handler:
            continue
        act = ctypes.create_string_buffer(_SIGACTION_SIZE)
        ctypes.c_uint64.from_buffer(act).value = handler
        ctypes.c_int32.from_buffer(act, _FLAGS_OFF).value = _SA_SIGINFO | _SA_ONSTACK
        # The previous action first: a fault in between chains to it already.
        ctypes.memmove(prev, cur, _SIGACTION_SIZE)
        if _sigaction(int(sig), act, None) != 0:
            return False
    return True


def install() -> bool:
    """Install the handler (once; again over a handler installed after it, such as a
    later ``faulthandler.enable()``); whether it is in place."""
    with _LOCK:
        if not _install_locked():
            return False
        return _set_handlers()


def _publish() -> None:
    """Give the handler the ranges as they are now (under _LOCK)."""
    while _pending:
        _ranges.pop(_pending.pop(), None)
    items = list(_ranges.items())
    arr = (ctypes.c_uint64 * max(2, 2 * len(items)))()
    for i, (lo, hi) in enumerate(items):
        arr[2 * i], arr[2 * i + 1] = lo, hi
    _arrays.append(arr)
    # The count goes down first and up last: the handler never reads past the array
    # it finds.
    _header[1] = min(_header[1], len(items))
    _header[0] = ctypes.addressof(arr)
    _header[1] = len(items)
    if len(_arrays) > 64:  # an old array is no longer read once a newer one is published
        del _arrays[:-2]


def _update() -> None:
    """Apply pending removals and publish, until none is left (a finalizer that ran
    while the lock was held left its removal here)."""
    while True:
        with _LOCK:
            _publish()
        if not _pending:
            return


def register(mem) -> None:
    """Make the reservation of guarded memory ``mem`` one the handler recognizes, for as
    long as the memory lives."""
    base = mem.address
    with _LOCK:
        if base in _ranges and base not in _pending:
            return
        _ranges[base] = base + mem.reservation
        if base in _pending:
            _pending.remove(base)
    weakref.finalize(mem, _unregister, base)
    _update()


def _unregister(base: int) -> None:
    # A finalizer: it may run inside a critical section of this module (a collection
    # while an array is made), so it only queues the removal if the lock is taken.
    _pending.append(base)
    if _LOCK.acquire(blocking=False):
        try:
            _publish()
        finally:
            _LOCK.release()


def registered() -> list[tuple[int, int]]:
    """The (low, high) reservations the handler recognizes now, as it reads them."""
    n = _header[1]
    if not n:
        return []
    arr = (ctypes.c_uint64 * (2 * n)).from_address(_header[0])
    return [(arr[2 * i], arr[2 * i + 1]) for i in range(n)]


def enabled() -> str | None:
    """None when this process can run guard-mode code; else why not."""
    if not supported():
        return f"no fault handler for {sys.platform}/{platform.machine()}"
    if not guard_pages_wanted():
        return "FAYASM_GUARD_PAGES=0"
    if not install():
        return _state["failed"] or "the fault handler could not be installed"
    return None


def reason(mems) -> str | None:
    """None when an instance with memories ``mems`` runs guard-mode code; else why it
    checks its accesses explicitly."""
    small = [m for m in mems if m.type.address is T.I32]
    if not small:
        return "no 32-bit memory"
    why = enabled()
    if why is not None:
        return why
    for i, m in enumerate(mems):
        if m.type.address is T.I32 and not m.guarded:
            return (f"memory {i} has no guard reservation (reserving it failed, or it "
                    "was made with guard pages off)")
    return None


def choose(mems, name: str = "") -> bool:
    """Whether an instance with memories ``mems`` runs guard-mode code (registering its
    memories with the handler if so)."""
    why = reason(mems)
    if why is None:
        for m in mems:
            if m.type.address is T.I32:
                register(m)
    if os.environ.get("FAYASM_DEBUG_GUARD") == "1":
        mode = "guard pages" if why is None else f"explicit bounds checks ({why})"
        print(f"fayasm jit: {name or 'instance'}: {mode}", file=sys.stderr)
    return why is None


def has_memory32(module) -> bool:
    """Whether ``module`` has a 32-bit memory (from its syntax, imports included)."""
    return any(t.address is T.I32 for t in module.syntax.memory_types())


def predicted(module) -> bool:
    """The mode instances of ``module`` will most likely get (what compiling eagerly
    builds): guard mode if it has a 32-bit memory and this process can run it."""
    return has_memory32(module) and enabled() is None


__all__ = ["supported", "install", "register", "registered", "enabled", "reason", "choose",
           "predicted", "has_memory32", "handler_text"]
