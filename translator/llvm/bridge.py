"""The Python side of the JIT's native protocol: the process state and the thread blocks,
the callbacks native code makes (host calls, the runtime operations), trap decoding with
backtraces, and the registries that give funcref and externref values their native form.

Threads: one process state (types.S) serves every instance and thread, and every thread
that enters native code gets a thread block of its own (types.TB: its jmp_buf, stack
limit, depth, fuel countdown and trap record), which the value of the state's pthread key
names on that thread. Native code holds the GIL (entries are called through ctypes
PYFUNCTYPE prototypes), so only one thread runs native code at a time, and a thread can
lose the GIL only inside a callback. While it runs, the state's CUR word is its block
and the state's FUEL word its fuel countdown: entries set them, and every native call out
to Python parks the countdown in the block and sets both back when the callback returns
(other threads may have run native code meanwhile). That is why nothing here saves or
restores native state: Python code can lose the GIL at any point, even before its first
line runs. The Python side reads and writes only the calling thread's own block
(``thread_block()``), which also holds its pending exceptions and metering. Any number of
threads may call the same instance.

Reference values: a funcref is the address of a function record (types.REC_*): for a
function of a JIT instance the record lives in its instance context; any other Func gets
a host record on first use, whose code is its signature's trampoline. An externref is the
object's id(); registries map both back. Funcs and instances are held weakly: whatever
native code can reach is held by a Python object too (tables by their element lists,
globals by their cells' shadows, imports by the importing instance, the function being
called by its caller), and an instance that dies while native code runs has its native
memory kept until no native call is in progress (``retire``). Externref objects are
held for the life of the process (an id says nothing about lifetime).
"""
from __future__ import annotations

import bisect
import ctypes
import struct
import sys
import threading
import weakref

from fayasm.runtime.errors import Error, Exhaustion, Trap
from fayasm.runtime.func import HostError
from fayasm.runtime.func import Func
from fayasm.runtime.types import FuncType, ValType

from . import types as T
from .types import F32, F64, I32, I64, TB, V128, S

# Stack kept free below the limit native code checks: for host callbacks (Python frames)
# and the frames a function uses before its check.
STACK_MARGIN = 512 * 1024

TRAP_MESSAGES = {
    T.UNREACHABLE: "unreachable", T.DIV_ZERO: "integer divide by zero",
    T.OVERFLOW: "integer overflow", T.CONVERSION: "invalid conversion to integer",
    T.MEM_OOB: "out of bounds memory access", T.TABLE_OOB: "out of bounds table access",
    T.UNDEFINED: "undefined element", T.UNINITIALIZED: "uninitialized element",
    T.MISMATCH: "indirect call type mismatch",
}


class Signal(Exception):
    """What an entry wrapper raises (through PyErr_SetNone) when a trap or a Python
    exception unwound native code to it; ``take_error()`` gives the real exception."""


# -- the process state ------------------------------------------------------------------------
state = (ctypes.c_int64 * S.WORDS)()
STATE = ctypes.addressof(state)


def is_recursion(e: BaseException) -> bool:
    """Whether ``e`` comes from Python's recursion limit (ctypes wraps a RecursionError
    raised while converting arguments in an ArgumentError)."""
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, RecursionError):
            return True
        if isinstance(e, ctypes.ArgumentError) and "RecursionError" in str(e):
            return True
        e = e.__cause__ or e.__context__
        seen += 1
    return False


def set_pending(e: BaseException) -> None:
    # A fayasm Error says what it is (a compile failure is never the guest's Exhaustion,
    # even when a RecursionError caused it).
    if not isinstance(e, Error) and is_recursion(e):
        e = Exhaustion()
    tb = getattr(_local, "tb", None)
    if tb is not None:  # else take_error has nothing to read: Exhaustion
        tb.pending.append(e)
        tb.words[TB.TRAP_CODE] = T.PENDING  # RT_THREAD fails with no fy_trap to say so


def take_error() -> BaseException:
    """The exception that unwound native code to the entry (on this thread) that just
    raised Signal."""
    tb = getattr(_local, "tb", None)
    if tb is None:
        # The thread's first entry could not even make its block: in practice Python's
        # recursion limit (the callback could not start).
        return Exhaustion()
    w, pending = tb.words, tb.pending
    code = w[TB.TRAP_CODE]
    if code == T.PENDING:
        # Nothing pending: a callback failed before it could run, which in practice is
        # Python's recursion limit (ctypes reports it and returns 0).
        exc = pending.pop() if pending else Exhaustion()
        # A HostError carries a host function's own exception (its RecursionError too):
        # it goes back to the caller unchanged.
        if not isinstance(exc, (Error, HostError)) and is_recursion(exc):
            exc = Exhaustion()
    elif code == T.EXHAUSTED:
        exc = Exhaustion()
    else:
        msg = TRAP_MESSAGES.get(code, "unknown trap")
        if code in (T.UNDEFINED, T.UNINITIALIZED):
            msg = f"{msg} {w[TB.TRAP_ARG]}"
        exc = Trap(msg)
    pending.clear()
    if isinstance(exc, Trap):
        n = min(w[TB.TRACE_LEN], TB.TRACE_MAX)
        trace = w[TB.TRACE:TB.TRACE + n]
        exc.frames.extend(codemap.backtrace(w[TB.TRAP_FUNC], trace))
    return exc


# -- code addresses -> function names (backtraces) ------------------------------------------------
class CodeMap:
    """Start addresses of all loaded native code, each with (names, index) for a wasm
    function or None for glue. A return address belongs to the last start before it.
    Changes replace both lists at once, so a lookup on another thread never sees them
    out of step."""

    def __init__(self):
        self._map: tuple[list[int], list] = ([], [])
        self.lock = threading.Lock()

    def add(self, entries) -> None:
        with self.lock:
            starts, owners = list(self._map[0]), list(self._map[1])
            for addr, owner in entries:
                i = bisect.bisect_left(starts, addr)
                starts.insert(i, addr)
                owners.insert(i, owner)
            self._map = (starts, owners)

    def remove(self, addrs, more=()) -> None:
        """Forget code that was freed (its addresses may be reused)."""
        with self.lock:
            starts, owners = list(self._map[0]), list(self._map[1])
            for addr in list(addrs) + list(more):
                i = bisect.bisect_left(starts, addr)
                if i < len(starts) and starts[i] == addr:
                    del starts[i]
                    del owners[i]
            self._map = (starts, owners)

    def lookup(self, addr: int):
        starts, owners = self._map
        i = bisect.bisect_right(starts, addr - 1) - 1
        return owners[i] if i >= 0 else None

    def backtrace(self, func: int, trace) -> list[str]:
        """Function names, innermost first, of the return addresses ``trace`` (from
        fy_trap's walk). ``func`` (-1: unknown) raised the trap, or called the host
        function that failed; the innermost wasm code on the trace is that function, or
        one it was inlined into (glue, such as a host trampoline, may come first)."""
        out = []
        for ra in trace:
            owner = self.lookup(ra & 0xFFFFFFFFFFFFFFFF)
            if owner is None:
                continue
            names, index = owner
            if func >= 0:
                out.append(names(func))
                innermost, func = func, -1
                if index == innermost:
                    continue
            out.append(names(index))
        return out


codemap = CodeMap()


# -- type ids -------------------------------------------------------------------------------------
_TYPE_IDS: dict[FuncType, int] = {}
# Guards the registries below where threads could race to fill them (ids, handles, glue).
_REG_LOCK = threading.RLock()


def typeid(ft: FuncType) -> int:
    """The canonical type id call_indirect compares (types.encoded_typeid, else an
    interned number)."""
    tid = _TYPE_IDS.get(ft)
    if tid is None:
        with _REG_LOCK:
            tid = _TYPE_IDS.get(ft)
            if tid is None:
                tid = T.encoded_typeid(ft)
                if tid is None:
                    tid = T.INTERNED | len(_TYPE_IDS)
                _TYPE_IDS[ft] = tid
    return tid


# -- references ---------------------------------------------------------------------------------
_RECORDS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # record -> Func
_EXTERNS: dict[int, object] = {}  # id -> object
_HOSTS: dict[int, tuple] = {}  # handle -> (weakref to func, unpack, pack)
_next_handle = [1]
_CODECS: dict[FuncType, tuple] = {}
_TRAMPOLINES: dict[FuncType, int] = {}  # signature -> address of its host trampoline
_KEEP: list = []  # native memory and code that must live as long as the process


class NativeRef:
    """What a Func's ``_native`` holds: its record's address (and what keeps it alive)."""

    __slots__ = ("addr", "keep")

    def __init__(self, addr: int, keep):
        self.addr, self.keep = addr, keep


_ENTRIES: dict[FuncType, tuple] = {}  # signature -> (raw entry, signed entry) ctypes functions


def register_glue(owner, sigs, entries, trampolines) -> None:
    """Record the entry wrappers and host trampolines of a loaded object ``owner`` (the
    first one loaded for a signature serves every function of it, from any module, so
    that object is kept for the life of the process)."""
    from .calls import signature

    used = False
    with _REG_LOCK:
        for ft, e, t in zip(sigs, entries, trampolines):
            if ft not in _TRAMPOLINES:
                _TRAMPOLINES[ft] = t
                used = True
            if ft not in _ENTRIES:
                sig = signature(ft)
                _ENTRIES[ft] = (sig.proto(e), sig.signed(e) if sig.signed else None)
                used = True
        if used:
            _KEEP.append(owner)


def entries(ft: FuncType) -> tuple:
    return _ENTRIES[ft]


def func_record(f) -> int:
    """The record address of Func ``f`` (0 for None), made on first use."""
    if f is None:
        return 0
    nat = f._native
    if nat is not None:
        return nat.addr
    if not isinstance(f, Func):
        raise Error(f"expected a Func, got {type(f).__name__}")
    with _REG_LOCK:
        if f._native is not None:  # another thread made it meanwhile
            return f._native.addr
        code = _TRAMPOLINES.get(f.type)
        if code is None:
            from .jit import compile_glue

            compile_glue(f.type)
            code = _TRAMPOLINES[f.type]
        handle = _next_handle[0]
        _next_handle[0] += 1
        codec = _CODECS.get(f.type)
        if codec is None:
            codec = _CODECS[f.type] = _host_codec(f.type)
        _HOSTS[handle] = (weakref.ref(f, lambda _, h=handle: _HOSTS.pop(h, None)), *codec)
        block = (ctypes.c_uint64 * 6)()
        addr = ctypes.addressof(block)
        block[T.REC_CODE] = code
        block[T.REC_CTX] = addr + 8 * T.REC_WORDS  # the host block: how code tells hosts
        block[T.REC_TYPE] = typeid(f.type)
        block[4] = STATE
        block[5] = handle
        _RECORDS[addr] = f
        f._native = NativeRef(addr, block)
        return addr


def record_func(addr):
    if not addr:
        return None
    f = _RECORDS.get(addr)
    if f is None:
        raise Error(f"jit: function reference {addr:#x} to a function that no longer exists")
    return f


def extern_handle(obj) -> int:
    if obj is None:
        return 0
    h = id(obj)
    _EXTERNS[h] = obj
    return h


def extern_object(h):
    if not h:
        return None
    return _EXTERNS[h]


# Empty funcref table slots point here rather than hold 0: call_indirect then needs one
# type check (id 0 matches no signature), and tells "uninitialized" apart only on failure.
_null_rec = (ctypes.c_uint64 * 4)()
NULL_REC = ctypes.addressof(_null_rec)


def to_word(t: ValType, raw) -> int:
    """A raw reference as its native word."""
    if t is ValType.FUNCREF:
        return func_record(raw)
    return extern_handle(raw)


def table_word(t: ValType, raw) -> int:
    """A table element as its word in the native mirror."""
    if t is ValType.FUNCREF:
        return func_record(raw) if raw is not None else NULL_REC
    return extern_handle(raw)


def from_word(t: ValType, w: int):
    w &= 0xFFFFFFFFFFFFFFFF
    if t is ValType.FUNCREF:
        return record_func(w)
    return extern_object(w)


# -- argument buffers -----------------------------------------------------------------------------
_FMT = {I32: "I4x", I64: "Q", F32: "d", F64: "d", V128: "QQ", ValType.FUNCREF: "Q",
        ValType.EXTERNREF: "Q"}
_M64 = 0xFFFFFFFFFFFFFFFF


def _decoder(types_):
    """A function turning a tuple of struct-unpacked words into raw values."""
    steps = []
    k = 0
    for t in types_:
        if t is V128:
            steps.append((k, 2, None))
            k += 2
        elif t.is_ref:
            steps.append((k, 1, t))
            k += 1
        else:
            steps.append((k, 1, False))
            k += 1
    plain = all(kind is False for _, _, kind in steps)

    def decode(words):
        if plain:
            return words
        out = []
        for i, n, kind in steps:
            if n == 2:
                out.append(words[i] | (words[i + 1] << 64))
            elif kind:
                out.append(from_word(kind, words[i]))
            else:
                out.append(words[i])
        return out
    return decode


def _encoder(types_):
    """A function turning raw values into the word values struct.pack takes."""
    def encode(values):
        out = []
        for t, v in zip(types_, values):
            if t is V128:
                out += (v & _M64, v >> 64)
            elif t.is_ref:
                out.append(to_word(t, v))
            else:
                out.append(v)
        return out
    return encode


def _host_codec(ft: FuncType):
    pfmt = struct.Struct("<" + "".join(_FMT[t] for t in ft.params))
    rfmt = struct.Struct("<" + "".join(_FMT[t] for t in ft.results))
    dec = _decoder(ft.params)
    enc = _encoder(ft.results)
    n = len(ft.results)
    psize, rsize = pfmt.size, rfmt.size

    def unpack(buf):
        return dec(pfmt.unpack(ctypes.string_at(buf, psize))) if psize else ()

    def pack(buf, out):
        if n == 0:
            return
        if n == 1:
            out = (out,)
        ctypes.memmove(buf, rfmt.pack(*enc(out)), rsize)
    return unpack, pack


# -- callbacks ----------------------------------------------------------------------------------------
HOST_CALL = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int64, ctypes.c_void_p)
RT_CALL = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


_HEADROOM = 150  # Python frames kept free below the recursion limit


def python_depth() -> int:
    """Python frames on this thread's stack."""
    n, f = 0, sys._getframe()
    while f is not None:
        n += 1
        f = f.f_back
    return n


def _host_call(handle, buf):
    tb = None
    try:
        tb = thread_block()
        n = tb.nest = tb.nest + 1
        try:
            # Recursion through the host: stop at a clean point, well before Python's
            # recursion limit would hit a callback as it starts (ctypes could only print
            # it). C-level calls count towards the limit too, hence twice the frames.
            if n & 3 == 0 and 2 * python_depth() > sys.getrecursionlimit() - _HEADROOM:
                raise Exhaustion()
            ref, unpack, pack = _HOSTS[handle]
            func = ref()
            budget = tb.budget
            if budget is None:
                out = func._raw(*unpack(buf))
            else:
                # The running chunk goes to the Budget while Python runs: a re-entry
                # into the instance continues it, and what it leaves comes back here.
                words = tb.words
                budget.tick = words[TB.FUEL]
                try:
                    out = func._raw(*unpack(buf))
                finally:
                    words[TB.FUEL] = budget.tick
            pack(buf, out)
        finally:
            tb.nest -= 1
        return T.OK
    except BaseException as e:  # noqa: BLE001 - handed to the entry that unwinds
        # No function call here: at the recursion limit it would fail in turn
        # (take_error turns a RecursionError into Exhaustion).
        if tb is not None:
            tb.pending.append(e)
        return 0


_INSTANCES = weakref.WeakValueDictionary()  # ctx address -> engine.InstanceState
_LAZY = weakref.WeakValueDictionary()  # lazy block address -> engine.InstanceState


def register_lazy(block: int, ist) -> None:
    _LAZY[block] = ist


def register_instance(ctx: int, ist, resources) -> None:
    """Track instance state ``ist`` (its context at ``ctx``); ``resources`` (its native
    memory and code) go to ``retire`` when it dies."""
    _INSTANCES[ctx] = ist
    weakref.finalize(ist, retire, resources)


_graveyard: list = []


def retire(resources) -> None:
    """An instance died: free its native memory and code, unless native code may still
    be running on some stack, on any thread (then keep it until a later retirement finds
    none)."""
    if state[S.ACTIVE]:
        _graveyard.append(resources)
    else:
        _graveyard.clear()


def _runtime_call(op, ctx, args):
    try:
        if op == T.RT_THREAD:
            thread_block().install()  # the key is unset on this thread: name its block
        elif op == T.RT_COMPILE:
            ist = _LAZY[ctx]
            ist.code.compile(ist.lazy_index(ctx))
        elif op == T.RT_REFUEL:
            # The countdown is below zero: by one after a call or a loop, by more after
            # a bulk operation (Budget.charge).
            tb = thread_block()
            budget = tb.budget
            fuel = tb.words[TB.FUEL]
            while fuel < 0:
                fuel += budget.take() if budget is not None else 1 << 62
            tb.words[TB.FUEL] = fuel
        else:
            words = (ctypes.c_int64 * 6).from_address(args)
            _INSTANCES[ctx].runtime_op(op, words)
        return T.OK
    except BaseException as e:  # noqa: BLE001
        set_pending(e)
        return 0


_host_call_cb = HOST_CALL(_host_call)
_runtime_call_cb = RT_CALL(_runtime_call)


# -- threads -------------------------------------------------------------------------------------------
class _Attr(ctypes.Structure):
    _fields_ = [("opaque", ctypes.c_char * 128)]


_libc = ctypes.CDLL(None)
_pthread_self = _libc.pthread_self
_pthread_self.restype = ctypes.c_ulong
_pthread_self.argtypes = []
_setspecific = _libc.pthread_setspecific
_setspecific.argtypes = [ctypes.c_uint, ctypes.c_void_p]
_setspecific.restype = ctypes.c_int
_getspecific = _libc.pthread_getspecific
_getspecific.argtypes = [ctypes.c_uint]
_getspecific.restype = ctypes.c_void_p


def _stack_low() -> int:
    """The lowest address of the calling thread's stack (0 if unknown)."""
    low = 0
    try:
        attr = _Attr()
        addr, size = ctypes.c_void_p(), ctypes.c_size_t()
        if _libc.pthread_getattr_np(ctypes.c_ulong(_pthread_self()), ctypes.byref(attr)) == 0:
            if _libc.pthread_attr_getstack(ctypes.byref(attr), ctypes.byref(addr),
                                           ctypes.byref(size)) == 0:
                low = addr.value or 0
            _libc.pthread_attr_destroy(ctypes.byref(attr))
    except (AttributeError, OSError):
        low = 0
    return low


class ThreadBlock:
    """One thread's block (types.TB, ``words``), and the Python side's own per-thread
    state: exceptions waiting for the entry that unwinds (``pending``), the Budget of
    the innermost metered entry, host calls in progress (``nest``)."""

    __slots__ = ("words", "addr", "pending", "budget", "nest")

    def __init__(self):
        self.words = (ctypes.c_int64 * TB.WORDS)()
        self.addr = ctypes.addressof(self.words)
        self.pending: list[BaseException] = []
        self.budget = None
        self.nest = 0
        low = _stack_low()
        self.words[TB.STACK_LIMIT] = low + STACK_MARGIN if low else 0
        self.install()

    def install(self) -> None:
        """Make the pthread key name this block on the calling thread."""
        if _setspecific(state[S.TLS_KEY], self.addr) != 0:
            raise Error("jit: pthread_setspecific failed")

    def __del__(self):
        # The thread's Python state is going away (its thread-local data with it): a
        # thread that is not ending (a foreign thread calling in through a callback gets
        # a fresh Python state each time) must not keep naming the freed block. Only if
        # the key names this very block here: a block kept alive past its thread (by a
        # traceback, say) may be collected on a later thread with the same pthread id.
        try:
            key = state[S.TLS_KEY]
            if _getspecific(key) == self.addr:
                _setspecific(key, None)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


_local = threading.local()


def thread_block() -> ThreadBlock:
    """The calling thread's block, made on first use (and named by the pthread key)."""
    try:
        return _local.tb
    except AttributeError:
        tb = _local.tb = ThreadBlock()
        return tb


def _init_state() -> None:
    key = ctypes.c_uint()
    if _libc.pthread_key_create(ctypes.byref(key), None) != 0:
        raise Error("jit: pthread_key_create failed")
    state[S.TLS_KEY] = key.value
    state[S.SIGNAL] = id(Signal)
    state[S.SET_ERR] = ctypes.cast(ctypes.pythonapi.PyErr_SetNone, ctypes.c_void_p).value
    state[S.HOST_CALL] = ctypes.cast(_host_call_cb, ctypes.c_void_p).value
    state[S.RT_CALL] = ctypes.cast(_runtime_call_cb, ctypes.c_void_p).value
    state[S.NULL_REC] = NULL_REC


_init_state()


# -- metering -----------------------------------------------------------------------------------------
def metered(call, budget):
    """Wrap a raw callable of a metered instance as the other engines do (Budget.begin:
    the entry costs a unit, nested entries continue the running chunk): native code
    counts the chunk down (in the state's FUEL word, parked in the thread block's while
    Python runs), and the Budget holds it while Python code (a host function, another
    instance) runs."""

    def raw(*args):
        budget.begin()
        tb = thread_block()
        words = tb.words
        saved, prev = words[TB.FUEL], tb.budget
        words[TB.FUEL] = budget.tick
        tb.budget = budget
        try:
            return call(*args)
        finally:
            budget.tick = words[TB.FUEL]
            words[TB.FUEL] = saved
            tb.budget = prev
            budget.end()
    return raw


__all__ = ["Signal", "state", "STATE", "take_error", "codemap", "typeid", "func_record",
           "record_func", "extern_handle", "extern_object", "to_word", "from_word", "table_word",
           "register_glue", "entries", "register_lazy", "register_instance", "metered", "NativeRef",
           "thread_block", "F64"]
