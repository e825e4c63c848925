"""Lowering IR statements: assignments, effects, calls, and structured control flow.

A wasm block or if continues at an LLVM block after it; a loop's label is its header.
A branch first evaluates the values it carries, then stores them in the target label's
slots, then (metered code, branching back to a loop) spends a unit of fuel, then jumps.
Conditional branches and br_table go through a small edge block when the edge has
copies or fuel to do. A branch to the function's label returns.
"""
from __future__ import annotations

from fayasm.ir import (
    Block,
    Br,
    BrIf,
    BrTable,
    Call,
    CallIndirect,
    Drop,
    Effect,
    GlobalSet,
    If,
    Loop,
    Return,
    Set,
    Slot,
    TailCall,
    Unreachable,
)

from . import gc, memops
from . import types as T
from .types import LL, TB, Layout, S


def lower_stmt(fe, s):
    """Lower statement ``s``: None for a simple statement; for a block, loop or if, a
    generator that yields the bodies to lower in turn (FunctionEmitter.body_list lowers
    each, then resumes it), so nesting costs no Python recursion. (Throw, ThrowRef and
    TryTable are exceptions.py's.)"""
    return _STMTS[type(s)](fe, s)


# -- leaving try_tables (exceptions.py) ---------------------------------------------------------
def handler_word(fe) -> str:
    tb = fe.op(f"load ptr, ptr {fe.state_word_ptr(S.CUR)}, align 8, !tbaa !2")
    return fe.op(f"getelementptr inbounds i64, ptr {tb}, i64 {TB.HANDLER}")


def leave_trys(fe, depth: int) -> None:
    """Before control leaves the try_tables open beyond ``depth`` (a branch out, a
    return): the handler that was current outside them is current again."""
    if len(fe.trys) > depth:
        prev = fe.op(f"load volatile i64, ptr {fe.trys[depth]}")
        fe.emit(f"store i64 {prev}, ptr {handler_word(fe)}, align 8, !tbaa !2")



# -- simple statements --------------------------------------------------------------------------
def _set(fe, s: Set) -> None:
    value = fe.expr(s.expr)
    fe.store_var(s.var, value)


def _drop(fe, s: Drop) -> None:
    fe.expr(s.expr)  # evaluated for its trap or effect


def _effect(fe, s: Effect) -> None:
    args = [fe.expr(a) for a in s.args]
    fe.mod.lower_effect(fe, s, args)


def _global_set(fe, s: GlobalSet) -> None:
    value = fe.expr(s.expr)
    gt = fe.mod.info.globals[s.index]
    if gt.valtype.is_ref:
        # Reference globals are written through the runtime so the Python side holds the
        # object (a native cell alone would not keep it alive).
        v = fe.op(f"ptrtoint ptr {value} to i64")
        fe.runtime_call(T.RT_GLOBAL_SET_REF, [("i64", str(s.index)), ("i64", v)])
        return
    cell = fe.ctx_word(fe.layout.globals + s.index)
    fe.emit(f"store {LL[gt.valtype]} {value}, ptr {cell}, align 8, !tbaa !2")


def _unreachable(fe, s) -> None:
    fe.trap(T.UNREACHABLE)


def _return(fe, s: Return) -> None:
    values = [fe.expr(v) for v in s.values]
    _ret(fe, values)


def _ret(fe, values: list) -> None:
    leave_trys(fe, 0)
    results = fe.func.type.results
    if not results:
        fe.terminate("ret void")
    elif len(results) == 1:
        fe.terminate(f"ret {LL[results[0]]} {values[0]}")
    else:
        rt = T.ret_type(results)
        agg = "undef"
        for k, (t, v) in enumerate(zip(results, values)):
            v = T.to_slot(fe.op, t, v)
            agg = fe.op(f"insertvalue {rt} {agg}, {T.multi_slot(t)} {v}, {k}")
        fe.terminate(f"ret {rt} {agg}")


# -- calls --------------------------------------------------------------------------------------
def _call_args(fe, types, values) -> str:
    return "".join(f", {LL[t]} {v}" for t, v in zip(types, values))


def _store_results(fe, results, value: str, rtypes) -> None:
    if not results:
        return
    if len(results) == 1:
        fe.store_var(results[0], value)
        return
    rt = T.ret_type(rtypes)
    for k, (slot, t) in enumerate(zip(results, rtypes)):
        fe.store_var(slot, T.from_slot(fe.op, t, fe.op(f"extractvalue {rt} {value}, {k}")))


def _call(fe, s: Call) -> None:
    mod = fe.mod
    ftype = mod.info.funcs[s.func]
    args = [fe.expr(a) for a in s.args]
    fe.fuel()
    fe.call_check()
    rt = T.ret_type(ftype.results)
    arglist = _call_args(fe, ftype.params, args)
    if mod.direct(s.func):
        target = "@" + mod.func_symbol(s.func)
        callee_ctx = "%ctx"
    else:
        rec = fe.ctx_word(fe.layout.funcs + s.func)
        target = fe.op(f"load ptr, ptr {rec}, align 8, !tbaa !2")
        cp = fe.op(f"getelementptr inbounds i64, ptr {rec}, i64 {T.REC_CTX}")
        callee_ctx = fe.op(f"load ptr, ptr {cp}, align 8, !tbaa !2")
        if s.func < mod.nimp:
            fe.note_caller(rec, callee_ctx)
    text = f"call {rt} {target}(ptr {callee_ctx}, i32 %d1{arglist})"
    if rt == "void":
        fe.emit(text)
    else:
        _store_results(fe, s.results, fe.op(text), ftype.results)
    fe.reload_memsize()


def _call_ref(fe, s: CallIndirect) -> None:
    """call_ref: the reference is a function record (null traps); validation has checked
    its type, so there is no type check."""
    ftype = fe.mod.syntax.types[s.type_index]
    args = [fe.expr(a) for a in s.args]
    rec = fe.expr(s.index)
    fe.trap_if(fe.op(f"icmp eq ptr {rec}, null"), T.NULL_FUNC)
    fe.fuel()
    fe.call_check()
    code = fe.op(f"load ptr, ptr {rec}, align 8, !tbaa !2")
    cp = fe.op(f"getelementptr inbounds i64, ptr {rec}, i64 {T.REC_CTX}")
    callee_ctx = fe.op(f"load ptr, ptr {cp}, align 8, !tbaa !2")
    rt = T.ret_type(ftype.results)
    fe.note_caller(rec, callee_ctx)
    text = f"call {rt} {code}(ptr {callee_ctx}, i32 %d1{_call_args(fe, ftype.params, args)})"
    if rt == "void":
        fe.emit(text)
    else:
        _store_results(fe, s.results, fe.op(text), ftype.results)
    fe.reload_memsize()


def _call_indirect(fe, s: CallIndirect) -> None:
    if s.table is None:
        _call_ref(fe, s)
        return
    mod = fe.mod
    ftype = mod.syntax.types[s.type_index]
    args = [fe.expr(a) for a in s.args]
    rec = _indirect_record(fe, ftype, s.type_index, s.table, fe.expr(s.index))
    fe.fuel()
    fe.call_check()
    code = fe.op(f"load ptr, ptr {rec}, align 8, !tbaa !2")
    cp = fe.op(f"getelementptr inbounds i64, ptr {rec}, i64 {T.REC_CTX}")
    callee_ctx = fe.op(f"load ptr, ptr {cp}, align 8, !tbaa !2")
    rt = T.ret_type(ftype.results)
    fe.note_caller(rec, callee_ctx)
    text = f"call {rt} {code}(ptr {callee_ctx}, i32 %d1{_call_args(fe, ftype.params, args)})"
    if rt == "void":
        fe.emit(text)
    else:
        _store_results(fe, s.results, fe.op(text), ftype.results)
    fe.reload_memsize()


def _indirect_record(fe, ftype, type_index: int, table: int, index) -> str:
    """The record of table element ``index`` (an evaluated i32, or i64 for a 64-bit
    table), checked for a call of
    ``ftype`` as call_indirect checks it (traps otherwise)."""
    elems, size = memops.table_words(fe, table)
    idx = index if memops.table64(fe, table) else fe.op(f"zext i32 {index} to i64")
    out = fe.op(f"icmp uge i64 {idx}, {size}")
    fe.trap_with_arg(out, T.UNDEFINED, idx)
    ep = fe.op(f"getelementptr inbounds ptr, ptr {elems}, i64 {idx}")
    rec = fe.op(f"load ptr, ptr {ep}, align 8, !tbaa !2")
    # One check: an empty slot holds the null record, whose type id (0) matches nothing;
    # the cold path tells "uninitialized" from "mismatch".
    tp = fe.op(f"getelementptr inbounds i64, ptr {rec}, i64 {T.REC_TYPE}")
    tid = fe.op(f"load i64, ptr {tp}, align 8, !tbaa !2")
    want = None if fe.mod.gc_types else T.encoded_typeid(ftype)
    if want is None:
        want = fe.ctx_word(fe.layout.types + type_index, "i64")
    bad = fe.op(f"icmp ne i64 {tid}, {want}")
    if fe.mod.gc_types:
        gc.indirect_check(fe, bad, rec, idx, type_index)
    else:
        fe.trap_indirect(bad, rec, idx)
    return rec


def _ret_call(fe, rt: str, text: str) -> None:
    """Emit ``text`` (a call returning ``rt``) and return its result."""
    if rt == "void":
        fe.emit(text)
        fe.terminate("ret void")
    else:
        r = fe.op(text)
        fe.terminate(f"ret {rt} {r}")


def _uniform_tail_call(fe, s: TailCall, ftype, args: list, rec, target) -> None:
    """A tail call from a uniform entry (a function that makes tail calls): the
    arguments go to the TAIL words and the call is a musttail call of the callee's
    uniform entry, whose prototype is this one's whatever the parameters. A callee
    without one (a function that makes no tail calls, a host, code not compiled yet)
    is called the ordinary way and its results returned: it cannot continue the chain,
    so that costs one C frame, not one per hop. It is called at this frame's own depth,
    as the other engines count it: its units replace this frame's."""
    mod = fe.mod
    rt = T.ret_type(ftype.results)
    arglist = _call_args(fe, ftype.params, args)
    if rec is None:  # a function of this module, by its symbol
        if mod.is_uniform(s.func):
            fe.store_tail_args(ftype.params, args)
            _ret_call(fe, rt, f"musttail call {rt} @{mod.tail_symbol(s.func)}(ptr %ctx, "
                      "i32 %depth)")
        else:
            fe.call_check("%depth")
            _ret_call(fe, rt, f"call {rt} {target}(ptr %ctx, i32 %depth{arglist})")
        return
    code = fe.op(f"load ptr, ptr {rec}, align 8, !tbaa !2")
    cp = fe.op(f"getelementptr inbounds i64, ptr {rec}, i64 {T.REC_CTX}")
    callee_ctx = fe.op(f"load ptr, ptr {cp}, align 8, !tbaa !2")
    tp = fe.op(f"getelementptr inbounds i64, ptr {rec}, i64 {T.REC_TAIL}")
    uniform = fe.op(f"load ptr, ptr {tp}, align 8, !tbaa !2")
    if s.index is not None or s.func < mod.nimp:
        fe.note_caller(rec, callee_ctx)
    has = fe.op(f"icmp ne ptr {uniform}, null")
    yes, no = fe.newlabel("utail"), fe.newlabel("ptail")
    fe.cbr(has, yes, no)
    fe.start(yes)
    fe.store_tail_args(ftype.params, args)
    _ret_call(fe, rt, f"musttail call {rt} {uniform}(ptr {callee_ctx}, i32 %depth)")
    fe.start(no)
    fe.call_check("%depth")
    _ret_call(fe, rt, f"call {rt} {code}(ptr {callee_ctx}, i32 %depth{arglist})")


def _tail_call(fe, s: TailCall) -> None:
    """return_call(_indirect). Where LLVM can guarantee it (the callee's prototype is the
    caller's, and the results come back in registers: T.musttail_ok), a ``musttail``
    call at the caller's own depth: the callee's frame replaces this one, so a chain of
    such calls (self recursion, mutual recursion between functions of one type, table
    calls of the function's own type, imports of it) does not grow the stack. Elsewhere
    a call at the next depth and a return of its results: correct, but each hop takes a
    frame (LLVM 22 miscompiles musttail with mismatched prototypes, see
    T.musttail_ok)."""
    mod = fe.mod
    if s.index is None:
        ftype = mod.info.funcs[s.func]
    else:
        ftype = mod.syntax.types[s.type_index]
    args = [fe.expr(a) for a in s.args]
    leave_trys(fe, 0)  # the callee's frame replaces this one, handlers too
    if s.index is None:
        if mod.direct(s.func):
            target, callee_ctx, rec = "@" + mod.func_symbol(s.func), "%ctx", None
        else:
            rec = fe.ctx_word(fe.layout.funcs + s.func)
            target = callee_ctx = None
    elif s.table is None:  # return_call_ref: a function record, its type validated
        rec = fe.expr(s.index)
        fe.trap_if(fe.op(f"icmp eq ptr {rec}, null"), T.NULL_FUNC)
        target = callee_ctx = None
    else:
        rec = _indirect_record(fe, ftype, s.type_index, s.table, fe.expr(s.index))
        target = callee_ctx = None
    fe.fuel()
    if fe.uniform and T.uniform_ok(ftype, mod.x86):
        _uniform_tail_call(fe, s, ftype, args, rec, target)
        return
    tail = T.musttail_ok(fe.func.type, ftype, mod.x86)
    if not tail:
        fe.call_check()  # this call deepens the stack
    if rec is not None:
        target = fe.op(f"load ptr, ptr {rec}, align 8, !tbaa !2")
        cp = fe.op(f"getelementptr inbounds i64, ptr {rec}, i64 {T.REC_CTX}")
        callee_ctx = fe.op(f"load ptr, ptr {cp}, align 8, !tbaa !2")
        if s.index is not None or s.func < mod.nimp:
            fe.note_caller(rec, callee_ctx)
    rt = T.ret_type(ftype.results)
    depth = "%depth" if tail else "%d1"
    text = (f"{'musttail ' if tail else ''}call {rt} {target}(ptr {callee_ctx}, i32 {depth}"
            f"{_call_args(fe, ftype.params, args)})")
    if rt == "void":
        fe.emit(text)
        fe.terminate("ret void")
    else:
        r = fe.op(text)
        fe.terminate(f"ret {rt} {r}")


# -- structured control -------------------------------------------------------------------------
def _target(fe, label) -> str:
    return fe.labels[label.id]


def _copy(fe, label, values: list) -> None:
    """Store already evaluated branch values into the label's slots."""
    for slot, v in zip(label.slots, values):
        fe.store_var(slot, v)


def jump(fe, label, values: list) -> None:
    """Branch to ``label`` carrying evaluated ``values`` (emits a terminator)."""
    if label.kind == "function":
        _ret(fe, values)
        return
    leave_trys(fe, fe.label_depth.get(label.id, 0))
    _copy(fe, label, values)
    if label.kind == "loop":
        fe.fuel()
    fe.br(_target(fe, label))


def _needs_edge(fe, label, values) -> bool:
    if label.kind == "function":
        return True
    if label.kind == "loop" and fe.metered:
        return True
    if fe.label_depth.get(label.id, 0) < len(fe.trys):
        return True  # it leaves a try_table: the handler before it comes back
    return any(not (type(v) is Slot and v.height == slot.height and v.type.rep is slot.type.rep)
               for slot, v in zip(label.slots, values))


def _edge(fe, label, values) -> str:
    """An LLVM block that completes a conditional branch to ``label`` with ``values``
    (Slots, read there), or the target itself when there is nothing to do."""
    if not _needs_edge(fe, label, values):
        return _target(fe, label)
    name = fe.newlabel("edge")
    saved_lines, saved_term = fe.lines, fe.terminated
    fe.lines = []
    fe.start(name)
    evaluated = [fe.expr(v) for v in values]
    jump(fe, label, evaluated)
    fe.extra_blocks.append(fe.lines)
    fe.lines, fe.terminated = saved_lines, saved_term
    return name


def _block(fe, s: Block):
    end = fe.newlabel(f"end{s.label.id}_")
    fe.labels[s.label.id] = end
    fe.label_depth[s.label.id] = len(fe.trys)
    yield s.body
    if not fe.terminated:
        fe.br(end)
    fe.start(end)


def _loop(fe, s: Loop):
    head = fe.newlabel(f"loop{s.label.id}_")
    fe.labels[s.label.id] = head
    fe.label_depth[s.label.id] = len(fe.trys)
    if not fe.terminated:
        fe.br(head)
    fe.start(head)
    yield s.body
    # Falling off the body leaves the loop: just continue after it.


def _if(fe, s: If):
    end = fe.newlabel(f"end{s.label.id}_")
    fe.labels[s.label.id] = end
    fe.label_depth[s.label.id] = len(fe.trys)
    c = fe.cond(s.cond)
    then = fe.newlabel("then")
    other = fe.newlabel("else") if s.else_ else end
    fe.cbr(c, then, other)
    fe.start(then)
    yield s.then
    if not fe.terminated:
        fe.br(end)
    if s.else_:
        fe.start(other)
        yield s.else_
        if not fe.terminated:
            fe.br(end)
    fe.start(end)


def _br(fe, s: Br) -> None:
    values = [fe.expr(v) for v in s.values]
    jump(fe, s.label, values)


def _br_if(fe, s: BrIf) -> None:
    c = fe.cond(s.cond)
    taken = _edge(fe, s.label, s.values)
    cont = fe.newlabel("fall")
    fe.cbr(c, taken, cont)
    fe.start(cont)


def _br_table(fe, s: BrTable) -> None:
    index = fe.expr(s.index)
    edges: dict[int, str] = {}

    def edge(label) -> str:
        key = id(label)
        if key not in edges:
            edges[key] = _edge(fe, label, s.values)
        return edges[key]

    default = edge(s.default)
    cases = " ".join(f"i32 {k}, label %{edge(lab)}" for k, lab in enumerate(s.labels)
                     if lab is not s.default)
    fe.terminate(f"switch i32 {index}, label %{default} [{cases}]")


_STMTS = {Set: _set, Drop: _drop, Effect: _effect, GlobalSet: _global_set, Call: _call,
          CallIndirect: _call_indirect, Block: _block, Loop: _loop, If: _if, Br: _br,
          BrIf: _br_if, BrTable: _br_table, Return: _return, TailCall: _tail_call,
          Unreachable: _unreachable}

__all__ = ["lower_stmt", "Layout"]
