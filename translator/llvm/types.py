"""LLVM types of wasm values, constants as LLVM text, and the native layouts the generated
code and the Python side of the JIT share (instance context, process state, records).

Everything native is made of 8-byte words so the Python side can fill it with ctypes
arrays of c_uint64 and the generated code can address it with constant offsets.
"""
from __future__ import annotations

from fayasm.runtime.limits import MAX_CALL_DEPTH
from fayasm.runtime.types import ExternKind, FuncType, ValType
from fayasm.runtime.values import f32_to_bits, f64_to_bits

I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128
FUNCREF, EXTERNREF, ANYREF = ValType.FUNCREF, ValType.EXTERNREF, ValType.ANYREF



class ByRep(dict):
    """A table keyed by the 2.0 value types that answers for any value type by its
    representation (``ValType.rep``: every function reference is a record pointer,
    whatever its static type)."""

    def __missing__(self, t):
        rep = t.rep
        if rep is t:
            raise KeyError(t)
        return self[rep]


# v128 lives as <2 x i64> between instructions; SIMD ops bitcast to their lane shape.
LL = ByRep({I32: "i32", I64: "i64", F32: "float", F64: "double", V128: "<2 x i64>",
      FUNCREF: "ptr", EXTERNREF: "ptr", ANYREF: "ptr"})

ZERO = ByRep({I32: "0", I64: "0", F32: "0.0", F64: "0.0", V128: "zeroinitializer",
        FUNCREF: "null", EXTERNREF: "null", ANYREF: "null"})

# Size in 8-byte words of a value in argument/result buffers (host calls, entries).
_BITS = {F32: "i32", F64: "i64"}  # see multi_slot
WORDS = ByRep({I32: 1, I64: 1, F32: 1, F64: 1, V128: 2, FUNCREF: 1, EXTERNREF: 1,
               ANYREF: 1})

# Trap codes passed from native code to the Python side (traps.TRAP_MESSAGES).
PENDING, UNREACHABLE, DIV_ZERO, OVERFLOW, CONVERSION, MEM_OOB, TABLE_OOB, UNDEFINED, \
    UNINITIALIZED, MISMATCH, EXHAUSTED, NULL_FUNC, NULL_REF, NULL_EXN, NULL_I31, NULL_STRUCT, \
    NULL_ARRAY, ARRAY_OOB = range(18)

# What a callback returns when it succeeded. Anything else (ctypes returns 0 when the
# callback could not even run, e.g. at Python's recursion limit) means it failed.
OK = 1

# Operations of the runtime callback (callbacks._runtime_call): op, instance ctx, args buffer.
RT_THREAD, RT_REFUEL, RT_MEMORY_GROW, RT_TABLE_GROW, RT_TABLE_SET, RT_TABLE_FILL, \
    RT_TABLE_COPY, RT_TABLE_INIT, RT_ELEM_DROP, RT_GLOBAL_SET_REF, RT_COMPILE, \
    RT_DATA_DROP, RT_THROW, RT_THROW_REF, RT_CATCH = range(15)
# A GC operation (gc.py) is any op above 0xFF: its number << 8 | its buffer's words << 16.


_TYPE_CODES = {I32: 1, I64: 2, F32: 3, F64: 4, V128: 5, FUNCREF: 6, EXTERNREF: 7}
INTERNED = 1 << 62


def encoded_typeid(ft: FuncType) -> int | None:
    """A signature's type id as an exact code, the same in every process, so generated
    code can compare with a constant: a 1 bit (no id is 0, the null record's), 4 bits of
    parameter count, then 3 bits per type. None for signatures too long to encode (those
    get interned ids, with INTERNED set)."""
    n = len(ft.params)
    if n > 15 or n + len(ft.results) > 19:
        return None
    code = 16 | n
    for t in ft.params + ft.results:
        c = _TYPE_CODES.get(t)
        if c is None:  # a typed reference: interned (its identity is its closed type)
            return None
        code = (code << 3) | c
    return code


def ll(t: ValType) -> str:
    return LL[t]


def native(ft: FuncType) -> FuncType:
    """The signature as native code sees it: every reference type by its representation
    (funcref or externref), so typed references share the glue of 2.0 signatures."""
    if all(t.rep is t for t in ft.params) and all(t.rep is t for t in ft.results):
        return ft
    return FuncType(tuple(t.rep for t in ft.params), tuple(t.rep for t in ft.results))


def sig_key(ft: FuncType) -> str:
    """A short stable name of a signature, usable in LLVM symbol names."""
    code = ByRep({I32: "i", I64: "l", F32: "f", F64: "d", V128: "v", FUNCREF: "r",
                  EXTERNREF: "x", ANYREF: "a"})
    return "".join(code[t] for t in ft.params) + "_" + "".join(code[t] for t in ft.results)


def ret_type(results) -> str:
    """The LLVM return type of a wasm function with these results."""
    if not results:
        return "void"
    if len(results) == 1:
        return LL[results[0]]
    return "{" + ", ".join(multi_slot(t) for t in results) + "}"


def musttail_ok(caller: FuncType, callee: FuncType, x86: bool) -> bool:
    """Whether a tail call from a function of type ``caller`` to one of ``callee`` can be
    an LLVM ``musttail`` call. The prototypes must be the same (with mismatched ones,
    LLVM 22's tailcc/swifttailcc drop the stack arguments: measured, it crashes), and the
    results must come back in registers: x86-64 returns a struct in up to three integer
    and four vector registers (multi-value floats travel as integers, multi_slot);
    beyond that LLVM demotes the return to memory and then cannot do the call ("failed
    to perform tail call elimination", a fatal error). Other targets: at most one."""
    if [LL[t] for t in caller.params] != [LL[t] for t in callee.params]:
        return False
    return results_in_registers(callee.results, x86)


def results_in_registers(results, x86: bool) -> bool:
    """Whether a function with these results returns them in registers (musttail_ok)."""
    if len(results) <= 1:
        return True
    if not x86:
        return False
    vectors = sum(1 for t in results if t is V128)
    return len(results) - vectors <= 3 and vectors <= 4


def uniform_ok(ft: FuncType, x86: bool) -> bool:
    """Whether a function of type ``ft`` can have a uniform entry ``R f_u(ctx, depth)``
    (its arguments in the thread block's TAIL words): every uniform entry of one result
    type has the same prototype, so tail calls between them are musttail calls whatever
    the parameters."""
    return (sum(WORDS[t] for t in ft.params) <= TB.TAIL_MAX
            and results_in_registers(ft.results, x86))


def multi_slot(t: ValType) -> str:
    """The type a result of type ``t`` has in a multi-value return struct: floats travel
    as their integer bits. LLVM's x86-64 return convention puts the third and fourth
    floats of a struct in x87 registers, and loading a signalling NaN there quiets it."""
    return _BITS.get(t, LL[t])


def to_slot(op, t: ValType, v: str) -> str:
    """``v`` (of type ``t``) as it goes into a multi-value struct; ``op`` emits an
    instruction and returns its value."""
    return op(f"bitcast {LL[t]} {v} to {_BITS[t]}") if t in _BITS else v


def from_slot(op, t: ValType, v: str) -> str:
    """The value of type ``t`` carried as ``v`` in a multi-value struct."""
    return op(f"bitcast {_BITS[t]} {v} to {LL[t]}") if t in _BITS else v


def const(t: ValType, raw) -> str:
    """An LLVM constant operand for a raw value of a numeric type. Floats are given by
    their bits (see FunctionEmitter.const for how they are materialized exactly)."""
    if t is I32:
        v = raw & 0xFFFFFFFF
        return str(v - (1 << 32) if v >> 31 else v)
    if t is I64:
        v = raw & 0xFFFFFFFFFFFFFFFF
        return str(v - (1 << 64) if v >> 63 else v)
    if t is V128:
        lo, hi = raw & 0xFFFFFFFFFFFFFFFF, raw >> 64
        return f"<i64 {const(I64, lo)}, i64 {const(I64, hi)}>"
    raise ValueError(f"no integer constant form for {t}")


def float_bits(t: ValType, raw) -> int:
    return f32_to_bits(raw) if t is F32 else f64_to_bits(raw)


def double_literal(x: float) -> str:
    """A double as LLVM's exact hexadecimal form."""
    return f"0x{f64_to_bits(x):016X}"


# -- the process state and the thread blocks (see process.py, threads.py) --------------------
class S:
    """Word offsets in the process state, one for every instance and thread. Only native
    code of the thread holding the GIL runs at a time, so the words that change (CUR,
    FUEL, CALLER, ACTIVE) are that thread's while it runs; code that calls out to Python
    puts CUR and FUEL back when Python returns, since other threads may have run native
    code in between."""

    CUR = 0  # the thread block (TB) of the thread running native code
    FUEL = 1  # countdown of metered code (signed); parked in TB.FUEL while Python runs
    CALLER = 2  # function that last called a host function (backtraces of host errors)
    ACTIVE = 3  # entries in progress, on all threads (callbacks.retire)
    TLS_KEY = 4  # pthread key whose value on each thread is that thread's block (or NULL)
    SIGNAL = 5  # PyObject* of the exception class an entry raises to report a trap
    SET_ERR = 6  # PyErr_SetNone
    HOST_CALL = 7  # int host_call(i64 handle, u64 *buf)
    RT_CALL = 8  # int runtime_call(i32 op, ctx *, u64 *args)
    NULL_REC = 9  # the record empty funcref table slots point to (type id 0)
    # C API functions GC code calls to read and write numeric fields natively (gc.py;
    # native code holds the GIL): PyLong_AsUnsignedLongLongMask, PyLong_FromUnsignedLongLong,
    # Py_DecRef, PyFloat_AsDouble, PyFloat_FromDouble.
    PY_AS_U64, PY_FROM_U64, PY_DECREF, PY_AS_DOUBLE, PY_FROM_DOUBLE = 10, 11, 12, 13, 14
    # ... and ``any`` fields: Py_IncRef, None, the I31 class, PyDict_SetItem,
    # gcheap.HEAP, PyLong_FromVoidPtr, PyErr_Clear.
    PY_INCREF, PY_NONE, I31_TYPE, PY_DICT_SET, HEAP, PY_FROM_PTR, PY_ERR_CLEAR = range(15, 22)
    WORDS = 24


class TB:
    """Word offsets in a thread block: what native code of one thread keeps (each thread
    has its own, found through S.TLS_KEY by the entry wrappers, then through S.CUR)."""

    JMPBUF = 0  # jmp_buf of the innermost entry wrapper
    ENTRY_FP = 1  # frame address of that wrapper (backtrace walks stop there)
    STACK_LIMIT = 2  # lowest frame address native code may use
    FUEL = 3  # S.FUEL of this thread while it runs Python (metering reads and sets it)
    DEPTH = 4  # call depth at the innermost host call (entries continue from it)
    TRAP_CODE = 5
    TRAP_ARG = 6
    TRAP_FUNC = 7  # function index whose code raised the trap (-1: none)
    TRACE_LEN = 8
    HOST = 9  # nonzero while a host trampoline's callback runs (guard.py: not jit code)
    HANDLER = 10  # jmp_buf of the innermost try_table handler of the running entry, or 0
    TRACE = 16  # return addresses of the backtrace walk
    TRACE_MAX = MAX_CALL_DEPTH + 64  # every frame of an exhausted stack, as on every engine
    TAIL = TRACE + TRACE_MAX  # the arguments of a tail call between uniform entries
    TAIL_MAX = 256  # words of them (a function with more parameters has no uniform entry)
    WORDS = TAIL + TAIL_MAX


# -- function records ---------------------------------------------------------------------------
# A funcref is a pointer to a record {code, ctx, type id, tail}: calling it is
# code(ctx, depth, args...). Host functions get a record whose ctx is a host block
# {state, handle} so the signature's trampoline can find the Python callable. ``tail`` is
# the function's uniform entry tail(ctx, depth), which takes its arguments from the
# thread block's TAIL words (a function that makes tail calls has one, see
# uniform_ok), or 0.
REC_CODE, REC_CTX, REC_TYPE, REC_TAIL = 0, 1, 2, 3
REC_WORDS = 4


# -- the instance context -----------------------------------------------------------------------
class Layout:
    """Word offsets of one module's instance context. Header: state, memory 0's base and
    its size-cell address; then function records (one word per function, imports and
    definitions); two words per table {elements, size}, kept up to date by the table's
    mirror; one word per global (its cell); canonical type ids; two words per data
    segment (address, length); then storage: records of the defined functions and
    16-byte cells of the defined globals."""

    STATE, MEM_BASE, MEM_SIZE = 0, 1, 2
    HEADER = 4

    def __init__(self, nfuncs: int, nimported_funcs: int, ntables: int, nglobals: int,
                 nimported_globals: int, ntypes: int, ndatas: int, nmems: int = 0):
        self.nfuncs, self.nimp = nfuncs, nimported_funcs
        self.ntables, self.nglobals, self.nimp_globals = ntables, nglobals, nimported_globals
        self.ntypes, self.ndatas = ntypes, ndatas
        off = self.HEADER
        self.funcs = off
        off += nfuncs
        self.tables = off
        off += 2 * ntables
        self.globals = off
        off += nglobals
        self.types = off
        off += ntypes
        self.datas = off
        off += 2 * ndatas
        self.mems = off  # two words per memory {base, size-cell address} (multi-memory)
        off += 2 * nmems
        self.records = off
        off += REC_WORDS * (nfuncs - nimported_funcs)
        self.gcells = off
        off += 2 * (nglobals - nimported_globals)
        self.words = off

    @classmethod
    def of(cls, module) -> "Layout":
        # From the syntax alone, not module.info: a module known valid loads from the
        # caches without being validated again (fayasm.validcache).
        m = module.syntax
        nimp_f, nimp_g = len(m.imported(ExternKind.FUNC)), len(m.imported(ExternKind.GLOBAL))
        ntables = len(m.imported(ExternKind.TABLE)) + len(m.tables)
        nmems = len(m.imported(ExternKind.MEMORY)) + len(m.mems)
        return cls(nimp_f + len(m.funcs), nimp_f, ntables, nimp_g + len(m.globals), nimp_g,
                   len(m.types), len(m.datas), nmems)

    def record(self, defined: int) -> int:
        """Word offset of the record of defined function ``defined`` (0-based)."""
        return self.records + REC_WORDS * defined

    def gcell(self, defined: int) -> int:
        return self.gcells + 2 * defined
