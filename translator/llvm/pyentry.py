"""Python entries: native functions CPython calls directly (METH_FASTCALL), one per plain
numeric signature, so ``inst.exports.f(2, 3)`` reaches wasm without ctypes converting
arguments or a Python frame around the call.

``fy_py_<sig>(self, args, nargs)`` is the ``__call__`` of the signature's JitFunc class
(a method descriptor made with PyDescr_NewMethod, so ``self`` is the Func). It reads the
function's record address from the Func's ``_target`` slot (a bytes object holding it),
takes the record's code and context (both current: a tier-up rewrites the record under
the GIL, which this code holds), checks and converts every argument exactly as
calls._CALL_CHECKS reads (an exact int in the type's range, an exact float, not a NaN
for f32) and calls the signature's entry wrapper (stubs.entry: setjmp frame, thread
block, depth). Anything else (a wrong count, another type, an int past i64, a NaN f32)
goes to ``Func.__call__`` on a bound method, which converts or rejects it as on every
engine. A trap or host exception leaves process.Signal set: the entry clears it and
calls the raiser, which raises the real exception (calls._user_error). The entry of a
metered or stack-limited instance's Funcs calls metering.enter and leave around the call.

The code holds no addresses of this process: the C API functions, type objects and
layout offsets it needs are words of its own table (``fy_pyapi_<sig>``, ``P``), filled
after the object loads, so the object is cached like any other.
"""
from __future__ import annotations

import ctypes
import sys
import threading
from typing import Any

from fayasm.runtime.types import FuncType

from . import cache, glue, jit
from . import types as T
from .types import F32, F64, I32, I64


class P:
    """Word offsets in a Python entry's table."""

    ENTRY = 0  # the signature's entry wrapper (stubs.entry)
    AS_LLO = 1  # PyLong_AsLongLongAndOverflow
    FROM_LL = 2  # PyLong_FromLongLong
    AS_DOUBLE = 3  # PyFloat_AsDouble
    FROM_DOUBLE = 4  # PyFloat_FromDouble
    ERR_OCCURRED = 5  # PyErr_Occurred
    ERR_CLEAR = 6  # PyErr_Clear
    VCALL = 7  # PyObject_VectorcallDict
    METHOD_NEW = 8  # PyMethod_New
    INCREF = 9  # Py_IncRef
    DECREF = 10  # Py_DecRef
    INT = 11  # the int type object
    FLOAT = 12  # the float type object
    NONE = 13  # None
    SLOW = 14  # Func.__call__ (for anything the fast checks refuse)
    RAISE = 15  # a callable raising the exception a Signal stands for
    TYPE_OFF = 16  # offset of ob_type in an object
    SLOT_OFF = 17  # offset of the Func's _target slot
    DATA_OFF = 18  # offset of a bytes object's data
    BYTES = 19  # the bytes type object
    TUPLE_NEW = 20  # PyTuple_New
    TUPLE_SET = 21  # PyTuple_SetItem
    ENTER = 22  # metered: metering.enter(func), before the entry (None: not metered)
    LEAVE = 23  # metered: metering.leave(func), after it, trap or not
    WORDS = 24


METH_FASTCALL = 0x80
_KEYS = {I32: "i", I64: "l", F32: "f", F64: "d"}


def supported(ft: FuncType) -> bool:
    """Whether ``ft`` gets a Python entry: numeric parameters and results (not v128)."""
    return all(t in _KEYS for t in ft.params + ft.results)


def _api(k: int, lines: list, tag: str) -> str:
    """Load word ``k`` of the table as a pointer named ``tag``; return the name."""
    lines.append(f"  %{tag}p = getelementptr inbounds i64, ptr @fy_pyapi, i64 {k}")
    lines.append(f"  %{tag} = load ptr, ptr %{tag}p")
    return f"%{tag}"


_RET = {I32: "i32", I64: "i64", F32: "double", F64: "double"}


def _box(lines: list, t, v: str, tag: str) -> str:
    """Emit the Python object for raw value ``v`` of type ``t`` (signed ints, an f32 as
    its double); return its name (NULL: an exception is set)."""
    fn = _api(P.FROM_DOUBLE if t is F32 or t is F64 else P.FROM_LL, lines, f"{tag}fn")
    if t is I32:
        lines.append(f"  %{tag}w = sext i32 {v} to i64")
        v = f"%{tag}w"
    ty = "double" if t is F32 or t is F64 else "i64"
    lines.append(f"  %{tag} = call ptr {fn}({ty} {v})")
    return f"%{tag}"


def _hook(lines: list, k: int, tag: str, fail: str) -> None:
    """Emit a call of hook ``k`` of the table on ``self`` (its result dropped); a NULL
    result (an exception) goes to label ``fail``."""
    vcall = _api(P.VCALL, lines, f"{tag}vc")
    hook = _api(k, lines, f"{tag}fn")
    decref = _api(P.DECREF, lines, f"{tag}dr")
    lines += [f"  %{tag}a = alloca ptr, align 8",
              f"  store ptr %self, ptr %{tag}a",
              f"  %{tag}r = call ptr {vcall}(ptr {hook}, ptr %{tag}a, i64 1, ptr null)",
              f"  %{tag}n = icmp eq ptr %{tag}r, null",
              f"  br i1 %{tag}n, label %{fail}, label %{tag}ok, !prof !1",
              f"{tag}ok:",
              f"  call void {decref}(ptr %{tag}r)"]


def text(ft: FuncType, metered: bool = False) -> str:
    """The LLVM module of ``ft``'s Python entry and its table, listed in ``fy_meta``;
    ``metered``: one that calls the ENTER and LEAVE hooks around the entry."""
    n = len(ft.params)
    out = [f"@fy_pyapi = internal global [{P.WORDS} x i64] zeroinitializer, align 8",
           "define ptr @fy_py(ptr %self, ptr %args, i64 %nargs) #0 {",
           "entry:",
           "  %ovf = alloca i32, align 4",
           "  %argn = icmp eq i64 %nargs, " + str(n),
           "  br i1 %argn, label %setup, label %slow, !prof !0",
           "setup:"]
    for name in ("TYPE_OFF", "SLOT_OFF", "DATA_OFF", "INT", "FLOAT", "BYTES"):
        k = getattr(P, name)
        out.append(f"  %{name}p = getelementptr inbounds i64, ptr @fy_pyapi, i64 {k}")
        out.append(f"  %{name} = load i64, ptr %{name}p")
    asllo = _api(P.AS_LLO, out, "asllo")
    asdbl = _api(P.AS_DOUBLE, out, "asdbl")
    out.append("  br label %a0")
    vals = []
    for k, t in enumerate(ft.params):
        out += [f"a{k}:",
                f"  %o{k}p = getelementptr inbounds ptr, ptr %args, i64 {k}",
                f"  %o{k} = load ptr, ptr %o{k}p",
                f"  %t{k}p = getelementptr inbounds i8, ptr %o{k}, i64 %TYPE_OFF",
                f"  %t{k}a = load ptr, ptr %t{k}p",
                f"  %t{k} = ptrtoint ptr %t{k}a to i64"]
        if t is I32 or t is I64:
            out += [f"  %is{k} = icmp eq i64 %t{k}, %INT",
                    f"  br i1 %is{k}, label %a{k}v, label %slow, !prof !0",
                    f"a{k}v:",
                    f"  %v{k} = call i64 {asllo}(ptr %o{k}, ptr %ovf)",
                    "  %ovf" + str(k) + " = load i32, ptr %ovf",
                    f"  %in{k} = icmp eq i32 %ovf{k}, 0"]
            if t is I32:
                out += [f"  %lo{k} = icmp sge i64 %v{k}, -2147483648",
                        f"  %hi{k} = icmp sle i64 %v{k}, 4294967295",
                        f"  %r{k}a = and i1 %lo{k}, %hi{k}",
                        f"  %r{k} = and i1 %r{k}a, %in{k}",
                        f"  %x{k} = trunc i64 %v{k} to i32"]
                vals.append(f"i32 %x{k}")
            else:
                out.append(f"  %r{k} = or i1 %in{k}, false")
                vals.append(f"i64 %v{k}")
        else:
            out += [f"  %is{k} = icmp eq i64 %t{k}, %FLOAT",
                    f"  br i1 %is{k}, label %a{k}v, label %slow, !prof !0",
                    f"a{k}v:",
                    f"  %v{k} = call double {asdbl}(ptr %o{k})"]
            if t is F32:
                out.append(f"  %r{k} = fcmp ord double %v{k}, %v{k}")  # a NaN: the exact path
            else:
                out.append(f"  %r{k} = or i1 true, true")
            vals.append(f"double %v{k}")
        out.append(f"  br i1 %r{k}, label %a{k + 1}, label %slow, !prof !0")
    out += [f"a{n}:",
            "  %slotp = getelementptr inbounds i8, ptr %self, i64 %SLOT_OFF",
            "  %slot = load ptr, ptr %slotp",
            # _target unset or not bytes (only calls.target_word sets it): Func.__call__.
            "  %noslot = icmp eq ptr %slot, null",
            "  br i1 %noslot, label %slow, label %slotty, !prof !1",
            "slotty:",
            "  %stp = getelementptr inbounds i8, ptr %slot, i64 %TYPE_OFF",
            "  %sta = load ptr, ptr %stp",
            "  %st = ptrtoint ptr %sta to i64",
            "  %isb = icmp eq i64 %st, %BYTES",
            "  br i1 %isb, label %call, label %slow, !prof !0",
            "call:",
            "  %recp = getelementptr inbounds i8, ptr %slot, i64 %DATA_OFF",
            "  %rec = load ptr, ptr %recp",
            "  %code = load ptr, ptr %rec",
            f"  %cctxp = getelementptr inbounds i64, ptr %rec, i64 {T.REC_CTX}",
            "  %cctx = load ptr, ptr %cctxp"]
    entry = _api(P.ENTRY, out, "wrapper")
    rs = ft.results
    direct = len(rs) == 1
    rt = _RET[rs[0]] if direct else "void"
    buf = "null"
    if len(rs) > 1:  # the entry writes them to words (stubs.entry), an f32 as its double
        out.insert(3, f"  %outbuf = alloca [{len(rs)} x i64], align 8")
        buf = "%outbuf"
    args = "".join(", " + v for v in vals)
    call = f"call {rt} {entry}(ptr %code, ptr %cctx{args}, ptr {buf})"
    if metered:  # the record is read before the hook: it runs no wasm (metering.enter)
        _hook(out, P.ENTER, "en", "nomem")
    out.append(f"  %res = {call}" if direct else f"  {call}")
    erro = _api(P.ERR_OCCURRED, out, "erro")
    out += [f"  %err = call ptr {erro}()",
            "  %bad = icmp ne ptr %err, null",
            "  br i1 %bad, label %trap, label %done, !prof !1",
            "trap:"]
    errc = _api(P.ERR_CLEAR, out, "errc")
    vcall = _api(P.VCALL, out, "vcall")
    raiser = _api(P.RAISE, out, "raiser")
    out.append(f"  call void {errc}()")
    if metered:
        _hook(out, P.LEAVE, "lt", "nomem")
    out += [f"  %raised = call ptr {vcall}(ptr {raiser}, ptr null, i64 0, ptr null)",
            "  ret ptr %raised",
            "done:"]
    if metered:
        _hook(out, P.LEAVE, "ld", "nomem")
    if not rs:
        incref = _api(P.INCREF, out, "incref")
        none = _api(P.NONE, out, "none")
        out += [f"  call void {incref}(ptr {none})", f"  ret ptr {none}"]
    elif direct:
        out.append(f"  ret ptr {_box(out, rs[0], '%res', 'b')}")
    else:
        tnew = _api(P.TUPLE_NEW, out, "tnew")
        tset = _api(P.TUPLE_SET, out, "tset")
        decref = _api(P.DECREF, out, "tdecref")
        out += [f"  %tup = call ptr {tnew}(i64 {len(rs)})",
                "  %notup = icmp eq ptr %tup, null",
                "  br i1 %notup, label %nomem, label %res0"]
        for k, t in enumerate(rs):
            out += [f"res{k}:",
                    f"  %w{k}p = getelementptr inbounds i64, ptr %outbuf, i64 {k}",
                    f"  %w{k} = load {_RET[t]}, ptr %w{k}p"]
            o = _box(out, t, f"%w{k}", f"b{k}")
            # PyTuple_SetItem takes the reference (and drops a NULL one's tuple slot)
            out += [f"  %s{k} = call i32 {tset}(ptr %tup, i64 {k}, ptr {o})",
                    f"  %ok{k} = icmp ne ptr {o}, null",
                    f"  br i1 %ok{k}, label %res{k + 1}, label %tfail"]
        out += [f"res{len(rs)}:",
                "  ret ptr %tup",
                "tfail:",
                f"  call void {decref}(ptr %tup)",
                "  ret ptr null"]
    # Anything the checks refused: Func.__call__(self, *args), on a bound method.
    out.append("slow:")
    mnew = _api(P.METHOD_NEW, out, "mnew")
    slowf = _api(P.SLOW, out, "slowf")
    vcall2 = _api(P.VCALL, out, "vcall2")
    decref = _api(P.DECREF, out, "decref")
    out += [f"  %bound = call ptr {mnew}(ptr {slowf}, ptr %self)",
            "  %nob = icmp eq ptr %bound, null",
            "  br i1 %nob, label %nomem, label %callslow",
            "callslow:",
            f"  %sr = call ptr {vcall2}(ptr %bound, ptr %args, i64 %nargs, ptr null)",
            f"  call void {decref}(ptr %bound)",
            "  ret ptr %sr",
            "nomem:",
            "  ret ptr null",
            "}",
            "@fy_meta = constant [2 x ptr] [ptr @fy_py, ptr @fy_pyapi]",
            'attributes #0 = { nounwind "frame-pointer"="all" }',
            '!0 = !{!"branch_weights", i32 1000, i32 1}',
            '!1 = !{!"branch_weights", i32 1, i32 1000}']
    return "\n".join(out) + "\n"


# -- this process's words -----------------------------------------------------------------------
def _addr(fn) -> int:
    return ctypes.cast(fn, ctypes.c_void_p).value or 0


def _offset_of(obj: object, target: int, limit: int) -> int:
    """The offset in ``obj``'s memory of the word ``target`` (searched in [0, limit))."""
    base = id(obj)
    found = [off for off in range(0, limit, 8)
             if ctypes.c_uint64.from_address(base + off).value == target]
    if len(found) != 1:
        raise RuntimeError("jit: cannot find an object layout offset")
    return found[0]


def _layout(cls: type) -> tuple[int, int, int]:
    """(ob_type offset, offset of ``cls``'s ``_target`` slot, bytes data offset)."""
    big = 1 << 200
    type_off = _offset_of(big, id(int), 32)
    if _offset_of(1.5, id(float), 32) != type_off:
        raise RuntimeError("jit: int and float disagree on ob_type")
    probe: Any = object.__new__(cls)
    marker = object()
    probe._target = marker
    slot_off = _offset_of(probe, id(marker), cls.__basicsize__)
    pattern = bytes(range(1, 17))
    data_off = sys.getsizeof(b"") - 1
    if ctypes.string_at(id(pattern) + data_off, 16) != pattern:
        raise RuntimeError("jit: cannot find the data of a bytes object")
    return type_off, slot_off, data_off


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p),
                ("ml_flags", ctypes.c_int), ("ml_doc", ctypes.c_char_p)]


_new_descr = ctypes.pythonapi.PyDescr_NewMethod
_new_descr.restype = ctypes.py_object
_new_descr.argtypes = [ctypes.py_object, ctypes.c_void_p]
_KEEP: list = []  # loaded objects, tables and method defs: they live as long as the process
_LOCK = threading.Lock()


def _code(ft: FuncType, metered: bool):
    k = cache.key(["pyentry", T.sig_key(ft), str(metered), jit.version(), *jit.host()])
    obj = cache.load(k)
    if obj is None:
        with jit.LOCK:
            obj = jit.build_object(text(ft, metered), 2)
        cache.store(k, obj)
    return jit.LoadedObject(obj, 2)


def call_descriptor(ft: FuncType, cls: type, slow, raiser, hooks=None):
    """A ``__call__`` for ``cls`` (a JitFunc class of signature ``ft``): the method
    descriptor of ``ft``'s Python entry, with ``slow`` and ``raiser`` as its fallbacks;
    ``hooks``: (enter, leave) to call around the entry (a metered entry)."""
    with _LOCK:
        loaded = _code(ft, hooks is not None)
        code, table_addr = loaded.meta
        table = (ctypes.c_uint64 * P.WORDS).from_address(table_addr)
        api = ctypes.pythonapi
        type_off, slot_off, data_off = _layout(cls)
        words = {
            P.ENTRY: glue.entry_address(ft),
            P.AS_LLO: _addr(api.PyLong_AsLongLongAndOverflow),
            P.FROM_LL: _addr(api.PyLong_FromLongLong),
            P.AS_DOUBLE: _addr(api.PyFloat_AsDouble),
            P.FROM_DOUBLE: _addr(api.PyFloat_FromDouble),
            P.ERR_OCCURRED: _addr(api.PyErr_Occurred),
            P.ERR_CLEAR: _addr(api.PyErr_Clear),
            P.VCALL: _addr(api.PyObject_VectorcallDict),
            P.METHOD_NEW: _addr(api.PyMethod_New),
            P.INCREF: _addr(api.Py_IncRef),
            P.DECREF: _addr(api.Py_DecRef),
            P.INT: id(int), P.FLOAT: id(float), P.NONE: id(None), P.BYTES: id(bytes),
            P.TUPLE_NEW: _addr(api.PyTuple_New), P.TUPLE_SET: _addr(api.PyTuple_SetItem),
            P.SLOW: id(slow), P.RAISE: id(raiser),
            P.ENTER: id(hooks[0]) if hooks else 0, P.LEAVE: id(hooks[1]) if hooks else 0,
            P.TYPE_OFF: type_off, P.SLOT_OFF: slot_off, P.DATA_OFF: data_off,
        }
        for k, v in words.items():
            table[k] = v
        name = b"__call__"  # what TypeErrors name it by (keyword arguments)
        mdef = _MethodDef(name, code, METH_FASTCALL, None)
        _KEEP.append((loaded, table, mdef, name, slow, raiser, hooks))
        return _new_descr(cls, ctypes.addressof(mdef))


__all__ = ["P", "supported", "text", "call_descriptor"]
