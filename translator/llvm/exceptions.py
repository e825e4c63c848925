"""Exception handling in native code: throw, throw_ref and try_table (the legacy forms
come as these from the IR builder), and the runtime operations they call.

The unwinding scheme is setjmp/longjmp with handler records, chosen because it costs
nothing where no exception is handled: a function without try_table is compiled as
before (no landing pads, no tables, no check after calls), and calls stay plain calls.

- A try_table body runs with a handler installed: a ``_setjmp`` buffer in the function's
  frame whose address is the thread block's HANDLER word while the body runs (the
  previous value kept in the frame, put back on every way out: falling off the end, a
  branch, a return or a tail call from inside; an entry wrapper saves the word, clears
  it for the code it calls and restores it, so a handler never outlives its frame or is
  reached across a Python frame).
- ``throw`` hands the tag and payload to the runtime (RT_THROW), which makes the
  WasmException and leaves it pending on the thread, as a failed host call leaves its
  exception; then the code jumps to the innermost handler (stubs.deliver), or, with none,
  unwinds to the entry like a trap (the entry raises the pending WasmException). A host call that
  fails goes the same way, so exceptions from host functions and other engines'
  instances are caught like native ones; any other pending exception (a trap, a
  KeyboardInterrupt) passes every handler, which declines it.
- A handler that gets control restores the previous HANDLER word and asks the runtime
  (RT_CATCH, with the function and the try_table's ordinal in it) which clause takes
  the pending exception: the payload comes back in a buffer, the exnref as an externref
  handle; with no clause it throws on.
Locals and operand slots of a function with try_table are volatile (no register
promotion across ``_setjmp``): only such functions pay for it.
"""
from __future__ import annotations

from fayasm.ir import Throw, ThrowRef, TryTable

from . import types as T
from .control import handler_word, jump, leave_trys
from .types import LL


# -- lowering ----------------------------------------------------------------------------
def uses_handlers(body) -> bool:
    """Whether an IR body has a TryTable (its function then keeps locals in memory)."""
    work = [body]
    while work:
        for s in work.pop():
            t = type(s)
            if t is TryTable:
                return True
            for attr in ("body", "then", "else_"):
                inner = getattr(s, attr, None)
                if type(inner) is list:
                    work.append(inner)
    return False


def try_tables(body) -> list:
    """The TryTables of an IR body in the order the lowering meets them (pre-order)."""
    out: list = []
    work = [iter(body)]
    while work:
        for s in work[-1]:
            if type(s) is TryTable:
                out.append(s)
            inner = [getattr(s, a) for a in ("body", "then", "else_")
                     if type(getattr(s, a, None)) is list]
            if inner:
                work.extend(iter(b) for b in reversed(inner))
                break
        else:
            work.pop()
    return out


def _payload_buffer(fe, types) -> str:
    buf = fe.tmp()
    words = max(sum(T.WORDS[t] for t in types), 1)
    fe.allocas.append(f"  {buf} = alloca [{words} x i64], align 16")
    return buf


def throw(fe, s) -> None:
    """throw: the payload in a buffer (as a host call's arguments), RT_THROW makes the
    exception, then it is delivered (stubs.deliver)."""
    from .stubs import f32_to_raw

    params = fe.mod.info.tags[s.tag].params
    values = [fe.expr(a) for a in s.args]
    buf = _payload_buffer(fe, params)
    word = 0
    for t, v in zip(params, values):
        p = fe.op(f"getelementptr inbounds i64, ptr {buf}, i64 {word}")
        if t is T.F32:
            lines: list = []
            raw = f32_to_raw(lines, v, fe.newlabel("tf"))
            for line in lines:
                fe.emit(line.strip())
            fe.emit(f"store double {raw}, ptr {p}, align 8")
        else:
            fe.emit(f"store {LL[t]} {v}, ptr {p}, align 8")
        word += T.WORDS[t]
    addr = fe.op(f"ptrtoint ptr {buf} to i64")
    fe.runtime_call(T.RT_THROW, [("i64", str(s.tag)), ("i64", addr)], check=False)
    _deliver(fe)


def _deliver(fe) -> None:
    """Jump to the innermost handler with the pending exception (the HANDLER word names
    it: a try_table of this function, or one further out)."""
    from .stubs import deliver

    st = fe.state()
    lines = deliver(fe.newlabel("dl"), st, str(fe.func.index))
    for line in lines:
        if line.startswith("  "):
            fe.emit(line.strip())
            if line.strip() == "unreachable" or line.strip().startswith("br "):
                fe.terminated = True
        else:
            fe.start(line[:-1])


def throw_ref(fe, s: ThrowRef) -> None:
    ref = fe.expr(s.ref)
    fe.trap_if(fe.op(f"icmp eq ptr {ref}, null"), T.NULL_EXN)
    h = fe.op(f"ptrtoint ptr {ref} to i64")
    fe.runtime_call(T.RT_THROW_REF, [("i64", h), ("i64", str(s.skip))], check=False)
    _deliver(fe)


def try_table(fe, s: TryTable):
    """The body with a handler installed; the landing code after it asks RT_CATCH for a
    clause and branches to its label with the payload (see the module docstring)."""
    from .stubs import raw_to_f32

    ordinal = fe.try_count
    fe.try_count += 1
    end = fe.newlabel(f"end{s.label.id}_")
    fe.labels[s.label.id] = end
    fe.label_depth[s.label.id] = len(fe.trys)
    jb, prev = f"%hjb{ordinal}", f"%hprev{ordinal}"
    fe.allocas.append(f"  {jb} = alloca [40 x i64], align 16")
    fe.allocas.append(f"  {prev} = alloca i64, align 8")
    hp = handler_word(fe)
    old = fe.op(f"load i64, ptr {hp}, align 8, !tbaa !2")
    fe.emit(f"store volatile i64 {old}, ptr {prev}")
    r = fe.op(f"call i32 @_setjmp(ptr {jb}) #3")
    body, land = fe.newlabel("try"), fe.newlabel("land")
    fe.cbr(fe.op(f"icmp eq i32 {r}, 0"), body, land)
    fe.start(body)
    jbi = fe.op(f"ptrtoint ptr {jb} to i64")
    fe.emit(f"store i64 {jbi}, ptr {handler_word(fe)}, align 8, !tbaa !2")
    fe.trys.append(prev)
    yield s.body
    if not fe.terminated:
        leave_trys(fe, len(fe.trys) - 1)
        fe.trys.pop()
        fe.br(end)
    else:
        fe.trys.pop()
    fe.start(land)
    back = fe.op(f"load volatile i64, ptr {prev}")
    fe.emit(f"store i64 {back}, ptr {handler_word(fe)}, align 8, !tbaa !2")
    fe.reload_memsize()
    buf = fe.runtime_call(T.RT_CATCH, [("i64", str(fe.func.index)), ("i64", str(ordinal))])
    k = fe.op(f"load i64, ptr {buf}, align 8")
    on = fe.newlabel("rethrow")
    cases = [fe.newlabel("catch") for _ in s.catches]
    fe.terminate(f"switch i64 {k}, label %{on} ["
                 + " ".join(f"i64 {j}, label %{c}" for j, c in enumerate(cases)) + "]")
    fe.start(on)
    _deliver(fe)
    for (kind, _, label), case in zip(s.catches, cases):
        fe.start(case)
        values = []
        types = [slot.type for slot in label.slots]
        n = len(types) - (kind & 1)
        if n:
            pp = fe.op(f"getelementptr inbounds i64, ptr {buf}, i64 1")
            payload = fe.op(f"load ptr, ptr {pp}, align 8")
            word = 0
            for t in types[:n]:
                p = fe.op(f"getelementptr inbounds i64, ptr {payload}, i64 {word}")
                if t is T.F32:
                    raw = fe.op(f"load double, ptr {p}, align 8")
                    lines: list = []
                    v = raw_to_f32(lines, raw, fe.newlabel("cf"))
                    for line in lines:
                        fe.emit(line.strip())
                    values.append(v)
                else:
                    values.append(fe.op(f"load {LL[t]}, ptr {p}, align 8"))
                word += T.WORDS[t]
        if kind & 1:
            ep = fe.op(f"getelementptr inbounds i64, ptr {buf}, i64 2")
            values.append(fe.op(f"load ptr, ptr {ep}, align 8"))
        jump(fe, label, values)
    fe.start(end)


STMTS = {Throw: throw, ThrowRef: throw_ref, TryTable: try_table}

__all__ = ["STMTS", "throw", "throw_ref", "try_table", "uses_handlers",
           "try_tables"]
