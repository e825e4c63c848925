"""The native glue of a compiled module: the trap helper, one entry wrapper and one host
trampoline per signature.

``fy_trap(state, code, arg, func)`` records a trap in the running thread's block
(types.TB, at state.CUR), walks the frame-pointer chain up to the innermost entry wrapper
(return addresses into the block's trace, for the backtrace) and ``_longjmp``s to that
wrapper. It is noinline so its own frame starts the walk.

``fy_entry_<sig>(fn, ctx, raw params..., out)`` is how Python (ctypes) calls a wasm
function: it finds the calling thread's block (the value of the state's pthread key; the
runtime makes it on a thread's first entry) and makes it the state's CUR, installs a
jmp_buf with ``_setjmp`` (no signal-mask syscall), calls ``fn(ctx, depth, params)`` and
returns the result (one scalar) or writes the results to ``out`` (words; v128 takes two).
While it runs wasm code the block's HOST word is 0 (saved and put back around the
call): a guard-page fault counts as a trap only then (guard.py).
A trap lands back in it; it then restores the block and raises process.Signal with
``PyErr_SetNone`` (the ctypes prototype keeps the GIL and turns a set error
into a Python exception), so the normal path checks nothing.
f32 values cross as doubles holding the raw representation (runtime/values.py): the
conversions here keep NaN payloads, which a hardware float/double conversion would quiet.

``fy_host_<sig>(hctx, depth, params...)`` is the code of a host function's record: it
stores the arguments in a buffer and calls the host-call callback (callbacks.py) with
(handle, buffer); a status other than OK means the Python side holds an exception and
the trampoline unwinds, naming the function that called it (state.CALLER) as the trap's
function. The block's HOST word is 1 while the callback runs.

Threads: while Python runs (a host call, a lazy compile), other threads may run native
code and set state.CUR and state.FUEL to their own, so every call out to Python parks
the fuel countdown in the thread block and puts CUR (from a register) and the fuel back
when Python returns; the Python side only ever touches the calling thread's block.
"""
from __future__ import annotations

from . import types as T
from .process import ENTRY_RESERVE
from .types import F32, LL, TB, V128, S

_FP_ATTRS = '"frame-pointer"="all"'


def trap_helper() -> str:
    return f"""define internal void @fy_trap(ptr %st, i64 %code, i64 %arg, i64 %func) #1 {{
entry:
  %tbp = getelementptr inbounds i64, ptr %st, i64 {S.CUR}
  %tb = load ptr, ptr %tbp
  %cp = getelementptr inbounds i64, ptr %tb, i64 {TB.TRAP_CODE}
  store i64 %code, ptr %cp
  %ap = getelementptr inbounds i64, ptr %tb, i64 {TB.TRAP_ARG}
  store i64 %arg, ptr %ap
  %fnp = getelementptr inbounds i64, ptr %tb, i64 {TB.TRAP_FUNC}
  store i64 %func, ptr %fnp
  %efpp = getelementptr inbounds i64, ptr %tb, i64 {TB.ENTRY_FP}
  %efp = load i64, ptr %efpp
  %fp0 = call ptr @llvm.frameaddress.p0(i32 0)
  %fpi0 = ptrtoint ptr %fp0 to i64
  br label %loop
loop:
  %fp = phi i64 [%fpi0, %entry], [%next, %body]
  %n = phi i64 [0, %entry], [%n1, %body]
  %full = icmp uge i64 %n, {TB.TRACE_MAX}
  %past = icmp uge i64 %fp, %efp
  %stop = or i1 %full, %past
  br i1 %stop, label %done, label %body
body:
  %fpp = inttoptr i64 %fp to ptr
  %rap = getelementptr inbounds i64, ptr %fpp, i64 1
  %ra = load i64, ptr %rap
  %ti = add i64 %n, {TB.TRACE}
  %slot = getelementptr inbounds i64, ptr %tb, i64 %ti
  store i64 %ra, ptr %slot
  %n1 = add i64 %n, 1
  %next = load i64, ptr %fpp
  %up = icmp ugt i64 %next, %fp
  br i1 %up, label %loop, label %done
done:
  %nf = phi i64 [%n, %loop], [%n1, %body]
  %lp = getelementptr inbounds i64, ptr %tb, i64 {TB.TRACE_LEN}
  store i64 %nf, ptr %lp
  %jbp = getelementptr inbounds i64, ptr %tb, i64 {TB.JMPBUF}
  %jb = load ptr, ptr %jbp
  call void @_longjmp(ptr %jb, i32 1)
  unreachable
}}"""


def deliver(prefix: str, st: str, func: str) -> list[str]:
    """Lines that hand the pending exception to the thread's innermost try_table handler
    (exceptions.py), or unwind to the entry as a trap with it (PENDING) when there is
    none. Inline, not a helper: a frame of its own would start the backtrace walk."""
    p = prefix
    return [f"  %{p}cp = getelementptr inbounds i64, ptr {st}, i64 {S.CUR}",
            f"  %{p}tb = load ptr, ptr %{p}cp",
            f"  %{p}hp = getelementptr inbounds i64, ptr %{p}tb, i64 {TB.HANDLER}",
            f"  %{p}h = load ptr, ptr %{p}hp",
            f"  %{p}none = icmp eq ptr %{p}h, null",
            f"  br i1 %{p}none, label %{p}out, label %{p}jump",
            f"{p}jump:",
            f"  call void @_longjmp(ptr %{p}h, i32 1)",
            "  unreachable",
            f"{p}out:",
            f"  call void @fy_trap(ptr {st}, i64 {T.PENDING}, i64 0, i64 {func})",
            "  unreachable"]


# -- raw f32 conversions (payload-preserving) --------------------------------------------------
def _raw_to_f32(lines: list, v: str, tag: str) -> str:
    """Emit the conversion of a raw f32 (a double) to float; return the float."""
    lines += [
        f"  %{tag}d = bitcast double {v} to i64",
        f"  %{tag}e = and i64 %{tag}d, 9218868437227405312",  # 0x7FF0000000000000
        f"  %{tag}m = and i64 %{tag}d, 4503599627370495",  # 0x000FFFFFFFFFFFFF
        f"  %{tag}ie = icmp eq i64 %{tag}e, 9218868437227405312",
        f"  %{tag}nz = icmp ne i64 %{tag}m, 0",
        f"  %{tag}nan = and i1 %{tag}ie, %{tag}nz",
        f"  %{tag}s = lshr i64 %{tag}d, 63",
        f"  %{tag}s2 = shl i64 %{tag}s, 31",
        f"  %{tag}p = lshr i64 %{tag}d, 29",
        f"  %{tag}p2 = and i64 %{tag}p, 8388607",
        f"  %{tag}nb = or i64 %{tag}s2, %{tag}p2",
        f"  %{tag}nb2 = or i64 %{tag}nb, 2139095040",  # 0x7F800000
        f"  %{tag}nb3 = trunc i64 %{tag}nb2 to i32",
        f"  %{tag}f = fptrunc double {v} to float",
        f"  %{tag}fb = bitcast float %{tag}f to i32",
        f"  %{tag}b = select i1 %{tag}nan, i32 %{tag}nb3, i32 %{tag}fb",
        f"  %{tag}r = bitcast i32 %{tag}b to float",
    ]
    return f"%{tag}r"


def _f32_to_raw(lines: list, v: str, tag: str) -> str:
    """Emit the conversion of a float to its raw double; return the double."""
    lines += [
        f"  %{tag}b = bitcast float {v} to i32",
        f"  %{tag}x = zext i32 %{tag}b to i64",
        f"  %{tag}e = and i64 %{tag}x, 2139095040",
        f"  %{tag}m = and i64 %{tag}x, 8388607",
        f"  %{tag}ie = icmp eq i64 %{tag}e, 2139095040",
        f"  %{tag}nz = icmp ne i64 %{tag}m, 0",
        f"  %{tag}nan = and i1 %{tag}ie, %{tag}nz",
        f"  %{tag}s = lshr i64 %{tag}x, 31",
        f"  %{tag}s2 = shl i64 %{tag}s, 63",
        f"  %{tag}p = shl i64 %{tag}m, 29",
        f"  %{tag}nb = or i64 %{tag}s2, %{tag}p",
        f"  %{tag}nb2 = or i64 %{tag}nb, 9218868437227405312",
        f"  %{tag}d = fpext float {v} to double",
        f"  %{tag}db = bitcast double %{tag}d to i64",
        f"  %{tag}rb = select i1 %{tag}nan, i64 %{tag}nb2, i64 %{tag}db",
        f"  %{tag}r = bitcast i64 %{tag}rb to double",
    ]
    return f"%{tag}r"


def _named(out: list, name: str):
    """An ``op`` for types.to_slot/from_slot that appends its one instruction to ``out``
    under ``name``."""
    def op(text: str) -> str:
        out.append(f"  {name} = {text}")
        return name
    return op


# -- entry wrappers ------------------------------------------------------------------------------
def entry_returns_directly(ft) -> bool:
    return len(ft.results) == 1 and ft.results[0] is not V128


def entry_ret_type(ft) -> str:
    """The C return type of the entry of ``ft`` (ctypes restype)."""
    if not entry_returns_directly(ft):
        return "void"
    t = ft.results[0]
    return "double" if t is F32 else LL[t]


def _zero_of(ty: str) -> str:
    return {"void": "", "double": "0.0", "ptr": "null"}.get(ty, "0")


def entry(ft, key: str) -> str:
    params = []
    lines = []
    args = []
    for k, t in enumerate(ft.params):
        if t is V128:
            params += [f"i64 %a{k}lo", f"i64 %a{k}hi"]
            lines += [f"  %a{k}v0 = insertelement <2 x i64> undef, i64 %a{k}lo, i32 0",
                      f"  %a{k} = insertelement <2 x i64> %a{k}v0, i64 %a{k}hi, i32 1"]
            args.append(f"<2 x i64> %a{k}")
        elif t is F32:
            params.append(f"double %a{k}raw")
            args.append(f"float {_raw_to_f32(lines, f'%a{k}raw', f'c{k}')}")
        else:
            params.append(f"{LL[t]} %a{k}")
            args.append(f"{LL[t]} %a{k}")
    rt = entry_ret_type(ft)
    inner = T.ret_type(ft.results)
    out = [(f"define {rt} @fy_entry_{key}(ptr %fn, ptr %ctx{''.join(', ' + p for p in params)}, "
            f"ptr %out) #2 {{"),
           "entry:",
           "  %st = load ptr, ptr %ctx",
           "  %jb = alloca [40 x i64], align 16",
           # This thread's block: the value of the state's pthread key (pthread_key_t is
           # an unsigned int); a thread's first entry has the runtime make it.
           f"  %keyp = getelementptr inbounds i64, ptr %st, i64 {S.TLS_KEY}",
           "  %key64 = load i64, ptr %keyp",
           "  %key = trunc i64 %key64 to i32",
           "  %tb0 = call ptr @pthread_getspecific(i32 %key)",
           "  %none = icmp eq ptr %tb0, null",
           "  br i1 %none, label %setup, label %go, !prof !5",
           "setup:",
           f"  %rtp = getelementptr inbounds i64, ptr %st, i64 {S.RT_CALL}",
           "  %rt = load ptr, ptr %rtp",
           f"  %rc = call i32 %rt(i32 {T.RT_THREAD}, ptr %ctx, ptr null)",
           "  %tb1 = call ptr @pthread_getspecific(i32 %key)",
           f"  %rcok = icmp eq i32 %rc, {T.OK}",
           "  %has1 = icmp ne ptr %tb1, null",
           "  %ok1 = and i1 %rcok, %has1",
           "  br i1 %ok1, label %go, label %raise",
           "go:",
           "  %tb = phi ptr [%tb0, %entry], [%tb1, %setup]",
           f"  %curp = getelementptr inbounds i64, ptr %st, i64 {S.CUR}",
           "  store ptr %tb, ptr %curp",
           f"  %sfp = getelementptr inbounds i64, ptr %st, i64 {S.FUEL}",
           f"  %tfp = getelementptr inbounds i64, ptr %tb, i64 {TB.FUEL}",
           "  %fuel = load i64, ptr %tfp",
           "  store i64 %fuel, ptr %sfp",
           f"  %actp = getelementptr inbounds i64, ptr %st, i64 {S.ACTIVE}",
           "  %act = load i64, ptr %actp",
           "  %act1 = add i64 %act, 1",
           "  store i64 %act1, ptr %actp",
           f"  %jbp = getelementptr inbounds i64, ptr %tb, i64 {TB.JMPBUF}",
           "  %prevjb = load i64, ptr %jbp",
           f"  %fpp = getelementptr inbounds i64, ptr %tb, i64 {TB.ENTRY_FP}",
           "  %prevfp = load i64, ptr %fpp",
           f"  %dp = getelementptr inbounds i64, ptr %tb, i64 {TB.DEPTH}",
           "  %d64 = load i64, ptr %dp",
           "  %d = trunc i64 %d64 to i32",
           f"  %hostp = getelementptr inbounds i64, ptr %tb, i64 {TB.HOST}",
           "  %prevhost = load i64, ptr %hostp",
           # The handlers of the code running (exceptions.py) are not this entry's.
           f"  %hdp = getelementptr inbounds i64, ptr %tb, i64 {TB.HANDLER}",
           "  %prevh = load i64, ptr %hdp",
           # A re-entry (wasm called the host, which calls wasm) needs ENTRY_RESERVE
           # bytes of stack above the limit, or it is Exhaustion at the host call, as the
           # other engines bound their entries (runtime/stack.py).
           "  %nested = icmp ne i64 %prevjb, 0",  # an entry of this thread is running
           "  br i1 %nested, label %room, label %enter, !prof !5",
           "room:",
           f"  %rlp = getelementptr inbounds i64, ptr %tb, i64 {TB.STACK_LIMIT}",
           "  %rlim = load i64, ptr %rlp",
           "  %rfa = call ptr @llvm.frameaddress.p0(i32 0)",
           "  %rfai = ptrtoint ptr %rfa to i64",
           f"  %rneed = add i64 %rlim, {ENTRY_RESERVE}",
           "  %rlow = icmp ult i64 %rfai, %rneed",
           "  br i1 %rlow, label %full, label %enter, !prof !5",
           "full:",
           f"  %fcp = getelementptr inbounds i64, ptr %tb, i64 {TB.TRAP_CODE}",
           f"  store i64 {T.EXHAUSTED}, ptr %fcp",
           f"  %fap = getelementptr inbounds i64, ptr %tb, i64 {TB.TRAP_ARG}",
           "  store i64 0, ptr %fap",
           f"  %ffp = getelementptr inbounds i64, ptr %tb, i64 {TB.TRAP_FUNC}",
           "  store i64 -1, ptr %ffp",
           f"  %flp = getelementptr inbounds i64, ptr %tb, i64 {TB.TRACE_LEN}",
           "  store i64 0, ptr %flp",
           "  %fcact = load i64, ptr %actp",
           "  %fcact1 = sub i64 %fcact, 1",
           "  store i64 %fcact1, ptr %actp",
           "  br label %raise",
           "enter:",
           "  %r = call i32 @_setjmp(ptr %jb) #3",
           "  %z = icmp eq i32 %r, 0",
           "  br i1 %z, label %run, label %caught",
           "caught:",
           # A trap: the host trampolines it unwound through did not restore DEPTH.
           "  store i64 %prevjb, ptr %jbp",
           "  store i64 %prevfp, ptr %fpp",
           "  store i64 %d64, ptr %dp",
           "  store i64 %prevhost, ptr %hostp",
           "  store i64 %prevh, ptr %hdp",
           "  %cfuel = load i64, ptr %sfp",
           "  store i64 %cfuel, ptr %tfp",
           "  %cact = load i64, ptr %actp",
           "  %cact1 = sub i64 %cact, 1",
           "  store i64 %cact1, ptr %actp",
           "  br label %raise",
           "raise:",
           f"  %sigp = getelementptr inbounds i64, ptr %st, i64 {S.SIGNAL}",
           "  %sig = load ptr, ptr %sigp",
           f"  %sep = getelementptr inbounds i64, ptr %st, i64 {S.SET_ERR}",
           "  %se = load ptr, ptr %sep",
           "  call void %se(ptr %sig)",
           f"  ret {rt} {_zero_of(rt)}".rstrip(),
           "run:",
           "  store i64 0, ptr %hostp",  # wasm code runs (guard.py)
           "  %jbi = ptrtoint ptr %jb to i64",
           "  store i64 %jbi, ptr %jbp",
           "  %fa = call ptr @llvm.frameaddress.p0(i32 0)",
           "  %fai = ptrtoint ptr %fa to i64",
           "  store i64 %fai, ptr %fpp",
           "  store i64 0, ptr %hdp"]
    out += lines
    call = f"call {inner} %fn(ptr %ctx, i32 %d{''.join(', ' + a for a in args)})"
    if inner == "void":
        out.append(f"  {call}")
    else:
        out.append(f"  %res = {call}")
    out += ["  store i64 %prevjb, ptr %jbp", "  store i64 %prevfp, ptr %fpp",
            "  store i64 %prevhost, ptr %hostp",
            "  store i64 %prevh, ptr %hdp",
            "  %rfuel = load i64, ptr %sfp", "  store i64 %rfuel, ptr %tfp",
            "  %ract = load i64, ptr %actp", "  %ract1 = sub i64 %ract, 1",
            "  store i64 %ract1, ptr %actp"]
    if rt != "void":
        t = ft.results[0]
        if t is F32:
            out.append(f"  ret double {_f32_to_raw(out, '%res', 'r')}")
        else:
            out.append(f"  ret {rt} %res")
    else:
        word = 0
        for k, t in enumerate(ft.results):
            v = "%res"
            if len(ft.results) > 1:
                out.append(f"  %res{k}s = extractvalue {inner} %res, {k}")
                v = T.from_slot(_named(out, f"%res{k}"), t, f"%res{k}s")
            out.append(f"  %o{k} = getelementptr inbounds i64, ptr %out, i64 {word}")
            if t is F32:
                out.append(f"  store double {_f32_to_raw(out, v, f'o{k}c')}, ptr %o{k}")
            else:
                out.append(f"  store {LL[t]} {v}, ptr %o{k}, align 8")
            word += T.WORDS[t]
        out.append("  ret void")
    out.append("}")
    return "\n".join(out)


# -- host trampolines -----------------------------------------------------------------------------
def host_trampoline(ft, key: str) -> str:
    nwords = max(sum(T.WORDS[t] for t in ft.params), sum(T.WORDS[t] for t in ft.results), 1)
    inner = T.ret_type(ft.results)
    params = "".join(f", {LL[t]} %p{k}" for k, t in enumerate(ft.params))
    out = [f"define internal {inner} @fy_host_{key}(ptr %hctx, i32 %depth{params}) #0 {{",
           "entry:",
           "  %st = load ptr, ptr %hctx",
           "  %hp = getelementptr inbounds i64, ptr %hctx, i64 1",
           "  %h = load i64, ptr %hp",
           f"  %buf = alloca [{nwords} x i64], align 16"]
    word = 0
    for k, t in enumerate(ft.params):
        out.append(f"  %b{k} = getelementptr inbounds i64, ptr %buf, i64 {word}")
        if t is F32:
            out.append(f"  store double {_f32_to_raw(out, f'%p{k}', f'c{k}')}, ptr %b{k}")
        else:
            out.append(f"  store {LL[t]} %p{k}, ptr %b{k}, align 8")
        word += T.WORDS[t]
    # CALLER is read before Python runs (which may run other wasm code); the fuel is
    # parked in the thread block while it runs (metering reads and sets it there); CUR
    # and the fuel are put back after it, since other threads may have run native code
    # meanwhile.
    out += [f"  %callerp = getelementptr inbounds i64, ptr %st, i64 {S.CALLER}",
            "  %caller = load i64, ptr %callerp",
            f"  %curp = getelementptr inbounds i64, ptr %st, i64 {S.CUR}",
            "  %tb = load ptr, ptr %curp",
            f"  %dp = getelementptr inbounds i64, ptr %tb, i64 {TB.DEPTH}",
            "  %prev = load i64, ptr %dp",
            "  %d64 = zext i32 %depth to i64",
            "  store i64 %d64, ptr %dp",
            f"  %sfp = getelementptr inbounds i64, ptr %st, i64 {S.FUEL}",
            f"  %tfp = getelementptr inbounds i64, ptr %tb, i64 {TB.FUEL}",
            "  %fuel = load i64, ptr %sfp",
            "  store i64 %fuel, ptr %tfp",
            f"  %cbp = getelementptr inbounds i64, ptr %st, i64 {S.HOST_CALL}",
            "  %cb = load ptr, ptr %cbp",
            f"  %hostp = getelementptr inbounds i64, ptr %tb, i64 {TB.HOST}",
            "  %prevhost = load i64, ptr %hostp",
            "  store i64 1, ptr %hostp",
            "  %rc = call i32 %cb(i64 %h, ptr %buf)",
            "  store i64 %prevhost, ptr %hostp",
            "  store ptr %tb, ptr %curp",
            "  %fuel1 = load i64, ptr %tfp",
            "  store i64 %fuel1, ptr %sfp",
            "  store i64 %prev, ptr %dp",
            f"  %bad = icmp ne i32 %rc, {T.OK}",
            "  br i1 %bad, label %fail, label %ok",
            "fail:",  # a wasm exception goes to a handler (exceptions.py), the rest unwinds
            *deliver("x", "%st", "%caller"),
            "ok:"]
    word = 0
    vals = []
    for k, t in enumerate(ft.results):
        out.append(f"  %r{k}p = getelementptr inbounds i64, ptr %buf, i64 {word}")
        if t is F32:
            out.append(f"  %r{k}raw = load double, ptr %r{k}p")
            vals.append(_raw_to_f32(out, f"%r{k}raw", f"r{k}c"))
        else:
            out.append(f"  %r{k} = load {LL[t]}, ptr %r{k}p, align 8")
            vals.append(f"%r{k}")
        word += T.WORDS[t]
    if not ft.results:
        out.append("  ret void")
    elif len(ft.results) == 1:
        out.append(f"  ret {inner} {vals[0]}")
    else:
        agg = "undef"
        for k, (t, v) in enumerate(zip(ft.results, vals)):
            v = T.to_slot(_named(out, f"%agg{k}b"), t, v)
            out.append(f"  %agg{k} = insertvalue {inner} {agg}, {T.multi_slot(t)} {v}, {k}")
            agg = f"%agg{k}"
        out.append(f"  ret {inner} {agg}")
    out.append("}")
    return "\n".join(out)


# -- lazy stubs -----------------------------------------------------------------------------------
def lazy_stub(ft, key: str) -> str:
    """``fy_lazy_<sig>(lb, depth, params...)``: the code of a record whose function is not
    compiled yet. ``lb`` is the function's lazy block {state, record}: the stub has the
    runtime compile it (which points the record at the new code), then calls it."""
    inner = T.ret_type(ft.results)
    params = "".join(f", {LL[t]} %p{k}" for k, t in enumerate(ft.params))
    args = "".join(f", {LL[t]} %p{k}" for k, t in enumerate(ft.params))
    call = f"call {inner} %code(ptr %cctx, i32 %depth{args})"
    out = [f"define internal {inner} @fy_lazy_{key}(ptr %lb, i32 %depth{params}) #0 {{",
           "entry:",
           "  %st = load ptr, ptr %lb",
           "  %rp = getelementptr inbounds i64, ptr %lb, i64 1",
           "  %rec = load ptr, ptr %rp",
           f"  %rtp = getelementptr inbounds i64, ptr %st, i64 {S.RT_CALL}",
           "  %rt = load ptr, ptr %rtp",
           f"  %curp = getelementptr inbounds i64, ptr %st, i64 {S.CUR}",
           "  %tb = load ptr, ptr %curp",
           f"  %sfp = getelementptr inbounds i64, ptr %st, i64 {S.FUEL}",
           f"  %tfp = getelementptr inbounds i64, ptr %tb, i64 {TB.FUEL}",
           "  %fuel = load i64, ptr %sfp",
           "  store i64 %fuel, ptr %tfp",
           f"  %rc = call i32 %rt(i32 {T.RT_COMPILE}, ptr %lb, ptr null)",
           "  store ptr %tb, ptr %curp",
           "  %fuel1 = load i64, ptr %tfp",
           "  store i64 %fuel1, ptr %sfp",
           f"  %bad = icmp ne i32 %rc, {T.OK}",
           "  br i1 %bad, label %fail, label %ok",
           "fail:",
           f"  call void @fy_trap(ptr %st, i64 {T.PENDING}, i64 0, i64 -1)",
           "  unreachable",
           "ok:",
           "  %code = load ptr, ptr %rec",
           f"  %cp = getelementptr inbounds i64, ptr %rec, i64 {T.REC_CTX}",
           "  %cctx = load ptr, ptr %cp"]
    if inner == "void":
        out += [f"  {call}", "  ret void", "}"]
    else:
        out += [f"  %r = {call}", f"  ret {inner} %r", "}"]
    return "\n".join(out)


# Tail calls are off: a sibling call would drop its caller's frame from backtraces.
ATTRIBUTES = f"""attributes #0 = {{ nounwind {_FP_ATTRS} "disable-tail-calls"="true" }}
attributes #1 = {{ noinline noreturn cold nounwind {_FP_ATTRS} }}
attributes #2 = {{ noinline nounwind {_FP_ATTRS} }}
attributes #3 = {{ returns_twice }}
attributes #4 = {{ noinline nounwind {_FP_ATTRS} "disable-tail-calls"="true" }}"""

DECLARATIONS = """declare i32 @_setjmp(ptr) returns_twice
declare void @_longjmp(ptr, i32) noreturn nounwind
declare ptr @pthread_getspecific(i32) nounwind
declare ptr @llvm.frameaddress.p0(i32)"""

raw_to_f32 = _raw_to_f32
f32_to_raw = _f32_to_raw

__all__ = ["raw_to_f32", "f32_to_raw", "trap_helper", "deliver", "entry",
           "host_trampoline", "lazy_stub", "entry_ret_type",
           "entry_returns_directly", "ATTRIBUTES", "DECLARATIONS"]
