"""Lowering one IR function to a Python function.

Control flow (Python has no goto and no labelled break):
- a wasm ``loop`` becomes ``while True:``; a branch to it is ``continue``, and falling off
  its body is ``break``;
- an ``if`` becomes ``if``/``else``;
- a ``block`` becomes nothing at all: a branch out of it sets the function's ``_br`` to the
  block's label id, statements that may be skipped that way are guarded by ``if not _br:``
  (flat, one level), and the block's end clears ``_br``. A branch that must also leave
  Python loops breaks out of them, and after each loop a short dispatch on ``_br``
  continues or breaks the enclosing loop. Where falling through after a loop reaches the
  target anyway, a plain ``break`` does it with no flag.
CPython allows 20 statically nested loops and 100 levels of indentation; a loop or if
that would go deeper is lowered as a state machine over its basic blocks
(``flat.py``), which needs one loop and a few levels whatever the nesting inside. So is
any construct nested more than MAX_NEST deep: the structured lowering recurses once per
level, and the analysis and the state machine use explicit stacks, so no Python
recursion grows with the module's nesting. A br_table with many targets dispatches
through nested if chains a few levels deep (``case_tree``), never one long elif chain
(CPython's compiler recurses once per ``elif``).
"""
from __future__ import annotations

import builtins  # the set type, which the method FunctionEmitter.set hides in its class

from fayasm.errors import TranslationError, describe
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
from fayasm.ir.nodes import Local
from fayasm.runtime.errors import UNREACHABLE
from fayasm.runtime.limits import frame_units

from .branching import CHAIN, TABLE_LOOKUP_MIN, LoopFrame, case_number, table_cases
from .exprs import ExprLowering, int_store, is_int_access
from .flat import FlatEmitter

MAX_LOOPS = 16  # Python loops we nest (CPython's limit is 20 blocks, the try is one)
MAX_INDENT = 60  # levels of indentation we use (CPython's limit is 100)
MAX_NEST = 60  # constructs the structured lowering nests (Python frames: 3 or 4 each)
NEVER = 1 << 62  # a reach no label depth attains: falling through reaches no label's end


class Lines:
    """Indented source lines."""

    def __init__(self):
        self.lines: list[str] = []
        self.depth = 0

    def add(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)


class FunctionEmitter:
    """Emits one function; ``module`` (a ModuleEmitter) names what lies outside it."""

    def __init__(self, module, func, metered: bool = False, flat: bool = False):
        self.module = module
        self.func = func
        self.metered = metered
        self.force_flat = flat
        self.x = ExprLowering(self)
        self.out = Lines()
        self.uses_br = False
        self.written_cells: set[int] = set()
        self.flagged: set[int] = set()  # block/if labels some branch sets _br to
        self.frames: list = []  # enclosing Python loops (LoopFrame), innermost last
        self.ctx: dict[int, object] = {}  # label id -> innermost Python loop label, or None
        # Falling through after statement s reaches the ends of the enclosing block and if
        # labels nested at least reach[id(s)] deep (a contiguous run: see analyse).
        self.reach: dict[int, int] = {}
        self.depth: dict[int, int] = {}  # label id -> its nesting depth (the function's: 0)
        self.height: dict[int, int] = {}  # id(construct) -> constructs nested in it, plus 1
        self.nest = 0  # structured constructs being emitted, one inside the other
        self.flat_count = 0
        self.mems_needed: set[int] = set()  # memories whose view (M, M1, ...) loads and stores use

    # -- names ------------------------------------------------------------------------
    def local(self, index: int) -> str:
        return self.module.local_name(self.func.index, index)

    def slot(self, height: int) -> str:
        return f"s{height}"

    def mem_view(self, index: int = 0) -> str:
        return "M" if index == 0 else f"M{index}"

    def memory(self, index: int) -> str:
        return self.module.memory_name(index)

    def table(self, index: int) -> str:
        return self.module.table_name(index)

    def global_get(self, index: int) -> str:
        return self.module.global_ref(index)

    # -- analysis -------------------------------------------------------------------------
    def analyse(self, body: list) -> None:
        """Record, for each statement, which label ends falling through after it reaches,
        and for each label its innermost enclosing Python loop (an explicit stack).

        A statement that is not the last of its list reaches none; the last reaches what
        its list's owner gives it: a block or if gives its own label plus what falling
        through after the construct reaches, a loop what its own end reaches (falling off
        a loop's body leaves the loop through the `break` emitted after it), or nothing
        if its body ends in an unconditional branch (it gets no such `break`). So the
        labels reached are always the enclosing ones from some depth inward.
        Also the height of every construct (``self.height``)."""
        work = [(body, 0, None, 1, -1)]  # (statements, reach of the last, loop, depth, owner)
        constructs: list = []  # in pre-order: (construct, index of its owner or -1)
        while work:
            stmts, owner, loop, depth, up = work.pop()
            last = len(stmts) - 1
            for k, s in enumerate(stmts):
                _touches_memory(s, self.mems_needed)
                reach = owner if k == last else NEVER
                self.reach[id(s)] = reach
                t = type(s)
                if t is Block or t is If or t is Loop:
                    self.depth[s.label.id] = depth
                    me = len(constructs)
                    constructs.append((s, up))
                if t is Block or t is If:
                    self.ctx[s.label.id] = loop
                    inner = depth if reach == NEVER else reach
                    if t is Block:
                        work.append((s.body, inner, loop, depth + 1, me))
                    else:
                        work.append((s.then, inner, loop, depth + 1, me))
                        work.append((s.else_, inner, loop, depth + 1, me))
                elif t is Loop:
                    self.ctx[s.label.id] = s.label
                    ends = s.body and isinstance(s.body[-1], (Br, BrTable, Return, TailCall,
                                                              Unreachable))
                    work.append((s.body, NEVER if ends else reach, s.label, depth + 1, me))
        heights = [1] * len(constructs)
        for k in range(len(constructs) - 1, -1, -1):  # inner constructs come later
            s, up = constructs[k]
            self.height[id(s)] = heights[k]
            if up >= 0 and heights[k] >= heights[up]:
                heights[up] = heights[k] + 1

    def falls_to(self, s, label) -> bool:
        """Whether falling through after ``s`` reaches the end of ``label`` (enclosing it)."""
        return self.depth[label.id] >= self.reach[id(s)]

    # -- emission ----------------------------------------------------------------------------
    def emit(self) -> list[str]:
        """The function's source lines; a failure of the lowering names the function."""
        try:
            return self._emit()
        except TranslationError:
            raise
        except (RecursionError, MemoryError) as e:
            raise TranslationError("python", describe(e), self.func.index,
                                   self.func.name) from None

    def _emit(self) -> list[str]:
        f = self.func
        body_out = self.out
        body_out.depth = 2
        self.ctx[f.label.id] = None
        self.depth[f.label.id] = 0
        self.analyse(f.body)
        if self.force_flat:
            FlatEmitter(self, f.body).emit()
        else:
            self.body_list(f.body)
        head = Lines()
        params = "".join(self.local(i) + ", " for i in range(len(f.type.params)))
        # _d: the depth below this frame (runtime/stack.py); the frame takes its units
        # and passes the sum on to its callees.
        head.add(f"def {self.module.func_name(f.index)}({params}_d):")
        head.depth = 1
        head.add(f"_d += {self.units()}")
        head.add("if _d > _top:")
        head.add("    raise _rt.exhausted()")
        if self.written_cells:
            head.add("nonlocal " + ", ".join(self.module.cell_name(g)
                                              for g in sorted(self.written_cells)))
        for i in range(len(f.type.params), len(f.locals)):
            head.add(f"{self.local(i)} = {_zero(f.locals[i])}")
        for k in sorted(self.mems_needed):
            head.add(f"{self.mem_view(k)} = {self.memory(k)}.view")
        if self.uses_br:
            head.add("_br = 0")
        head.add("try:")
        tail = Lines()
        tail.depth = 1
        tail.add("except _OOB:")
        tail.add("    raise _rt.oob() from None")
        tail.add("except _Trap as e:")
        tail.add("    raise _rt.annotate(e)")
        return head.lines + (body_out.lines or ["        pass"]) + tail.lines

    def units(self) -> int:
        """The stack units of this function's frame, as every engine counts them."""
        info = self.module.info.code[self.func.index - self.module.nimp_funcs]
        return frame_units(len(info.locals) + info.max_height)

    def fuel(self, out: Lines) -> None:
        out.add("_budget.tick -= 1")
        out.add("if _budget.tick < 0:")
        out.add("    _budget.tick = _rt.refuel(_budget)")

    def stmt(self, s) -> builtins.set:
        """Emit one statement; return the labels ``_br`` may hold when it completes."""
        out, x = self.out, self.x
        t = type(s)
        if t is Set:
            self.set(s)
        elif t is Effect:
            self.effect(s)
        elif t is Drop:
            out.add(x.expr(s.expr))
        elif t is GlobalSet:
            self.global_set(s)
        elif t is Call:
            self.call(s)
        elif t is CallIndirect:
            self.call_indirect(s)
        elif t is Return:
            out.add(self.return_text(s.values))
        elif t is TailCall:
            self.tail_call(s)
        elif t is Unreachable:
            out.add(f'raise _rt.trap("{UNREACHABLE}")')
        elif t is Block or t is Loop or t is If:
            if self.too_deep() or self.nest + self.height[id(s)] > MAX_NEST:
                # Flattened where it starts, not MAX_NEST levels in (shorter lines).
                return self.flat(s)
            self.nest += 1
            try:
                if t is Block:
                    return self.block_stmt(s)
                return self.loop_stmt(s) if t is Loop else self.if_stmt(s)
            finally:
                self.nest -= 1
        elif t is Br:
            return self.branch(s, s.label, s.values)
        elif t is BrIf:
            return self.br_if(s)
        elif t is BrTable:
            return self.br_table(s)
        else:  # pragma: no cover
            raise AssertionError(f"unknown statement {s!r}")
        return set()

    # -- simple statements --------------------------------------------------------------
    def set(self, s: Set) -> None:
        target = self.local(s.var.index) if type(s.var) is Local else self.slot(s.var.height)
        value = self.x.expr(s.expr)
        self.out.add(f"{target} = {value}")
        if s.expr.__class__.__name__ == "Op" and s.expr.op.name == "memory.grow":
            self.refresh_memory()

    def refresh_memory(self) -> None:
        """Memory may have grown (a call, memory.grow): take a fresh view of it."""
        for k in sorted(self.mems_needed):
            self.out.add(f"{self.mem_view(k)} = {self.memory(k)}.view")

    def effect(self, s: Effect) -> None:
        x, out = self.x, self.out
        name = s.op.name
        if s.op.feature == "gc":
            out.add(self.module.gc.effect(s, x.expr))
            return
        a = [x.expr(e) for e in s.args]
        if is_int_access(s.op):
            fmt, mask = int_store(s.op)
            off = s.imm[0].offset
            ea = f"{a[0]} + {off}" if off else a[0]
            val = f"{a[1]} & {mask}" if mask else a[1]
            view = self.mem_view(s.imm[0].mem)
            if fmt == "B":
                out.add(f"{view}[{ea}] = {val}")
            else:
                out.add(f"_st{fmt}({view}, {ea}, {val})")
            return
        if s.op.align is not None:  # float, v128 and lane stores
            off = s.imm[0].offset
            ea = f"{a[0]} + {off}" if off else a[0]
            mem = self.mem_view(s.imm[0].mem)
            if name == "f32.store":
                out.add(f"_stI({mem}, {ea}, _f32bits({a[1]}))")
            elif name == "f64.store":
                out.add(f"_std({mem}, {ea}, {a[1]})")
            elif name == "v128.store":
                out.add(f"_rt.v128_store({mem}, {ea}, {a[1]})")
            else:  # v128.storeN_lane
                out.add(f"{x.mem_helper(name)}({mem}, {ea}, {a[1]}, {s.imm[1]})")
            return
        imm = s.imm
        bud = ", _budget" if self.metered else ""  # bulk operations cost fuel by size
        if name == "memory.fill":
            out.add(f"_rt.memory_fill({self.memory(imm[0])}, {a[0]}, {a[1]}, {a[2]}{bud})")
        elif name == "memory.copy":
            out.add(f"_rt.memory_copy({self.memory(imm[0])}, {self.memory(imm[1])}, "
                    f"{a[0]}, {a[1]}, {a[2]}{bud})")
        elif name == "memory.init":
            out.add(f"_rt.memory_init({self.memory(imm[1])}, _datas, {imm[0]}, "
                    f"{a[0]}, {a[1]}, {a[2]}{bud})")
        elif name == "data.drop":
            out.add(f"_datas[{imm[0]}] = b''")
        elif name == "elem.drop":
            out.add(f"_elems[{imm[0]}] = []")
        elif name == "table.set":
            out.add(f"_rt.table_set({self.table(imm[0])}, {a[0]}, {a[1]})")
        elif name == "table.fill":
            out.add(f"_rt.table_fill({self.table(imm[0])}, {a[0]}, {a[1]}, {a[2]}{bud})")
        elif name == "table.copy":
            out.add(f"_rt.table_copy({self.table(imm[0])}, {self.table(imm[1])}, "
                    f"{a[0]}, {a[1]}, {a[2]}{bud})")
        elif name == "table.init":
            out.add(f"_rt.table_init({self.table(imm[1])}, _elems, {imm[0]}, "
                    f"{a[0]}, {a[1]}, {a[2]}{bud})")
        else:  # pragma: no cover
            raise AssertionError(f"unknown effect {name}")

    def global_set(self, s: GlobalSet) -> None:
        value = self.x.expr(s.expr)
        if self.module.is_cell_global(s.index):
            self.written_cells.add(s.index)
            self.out.add(f"{self.module.cell_name(s.index)} = {value}")
        else:
            self.out.add(f"{self.module.global_object(s.index)}.raw = {value}")

    def _results(self, results) -> str:
        return ", ".join(self.slot(r.height) for r in results)

    def call(self, s: Call) -> None:
        if self.metered:
            self.fuel(self.out)  # a unit per call, as the interpreter counts
        args = "".join(self.x.expr(a) + ", " for a in s.args)
        callee = self.module.callee(s.func)
        if self.module.is_tailer(s.func):
            # Its body, not its trampoline (a Python frame per wasm call, as elsewhere):
            # a TailCall coming back is run here, each callee below this frame's end (in
            # this frame, not run_tail's: recursion through it takes no extra frames).
            self.out.add(f"_t = {callee}({args}_d)")
            self.out.add("while _t.__class__ is _TC:")
            self.out.add("    _t = _t.fn(*_t.args, _d)")
            self._call_result(s.results, "_t")
            return
        self._call_result(s.results, f"{callee}({args}_d)")

    def call_indirect(self, s: CallIndirect) -> None:
        x, out = self.x, self.out
        if self.metered:
            self.fuel(out)
        args = [x.expr(a) for a in s.args]
        if not all(a.pure for a in s.args):
            # The arguments are evaluated before the index and the table checks.
            for k, a in enumerate(args):
                out.add(f"_a{k} = {a}")
            args = [f"_a{k}" for k in range(len(args))]
        if s.table is None:  # call_ref: validation checked the reference's type
            callee = f"_rt.ref_callee({x.expr(s.index)})"
        else:
            ftype = self.module.type_name(s.type_index)
            callee = f"_rt.indirect_d({self.table(s.table)}, {x.expr(s.index)}, {ftype})"
        if self.metered:
            # A function of this instance is called directly, not through the wrapper
            # for entries from outside: the call instruction has paid its unit.
            callee = f"_direct({callee})"
        self._call_result(s.results, f"{callee}({''.join(a + ', ' for a in args)}_d)")

    def tail_call(self, s: TailCall) -> None:
        """return_call(_indirect, _ref): the body hands the callee and its arguments to the
        function's trampoline (ModuleEmitter.trampoline) as a TailCall, so the stack does
        not grow (and a trap in the callee has this frame gone from its backtrace)."""
        x, out, mod = self.x, self.out, self.module
        if self.metered:
            self.fuel(out)  # a unit per call, as the interpreter counts
        args = [x.expr(a) for a in s.args]
        pack = f"({args[0]},)" if len(args) == 1 else f"({', '.join(args)})"
        if s.index is None:
            j = s.func
            if j < mod.nimp_funcs:
                out.add(f"return _TC({mod.tail_import(j)}, {pack})")
            else:  # its body (a trampoline's tail_body); this frame goes either way
                out.add(f"return _TC({mod.func_name(j)}, {pack})")
            return
        if not all(a.pure for a in s.args):
            # The arguments are evaluated before the index and the table checks.
            for k, a in enumerate(args):
                out.add(f"_a{k} = {a}")
            args = [f"_a{k}" for k in range(len(args))]
            pack = f"({args[0]},)" if len(args) == 1 else f"({', '.join(args)})"
        if s.table is None:  # return_call_ref: validation checked the reference's type
            callee = f"_rt.ref_callee({x.expr(s.index)})"
        else:
            ftype = mod.type_name(s.type_index)
            callee = f"_rt.indirect_d({self.table(s.table)}, {x.expr(s.index)}, {ftype})"
        if self.metered:
            callee = f"_direct({callee})"
        out.add(f"return _TC(_rt.tail_entry({callee}), {pack})")

    def _call_result(self, results, call: str) -> None:
        if not results:
            self.out.add(call)
        else:
            self.out.add(f"{self._results(results)} = {call}")
        self.refresh_memory()

    def return_text(self, values) -> str:
        if not values:
            return "return"
        return "return " + ", ".join(self.x.expr(v) for v in values)

    # -- branches ------------------------------------------------------------------------
    def copy_values(self, label, values) -> None:
        """Assign branch values to the target label's slots (all evaluated first)."""
        targets, sources = [], []
        for slot, v in zip(label.slots, values):
            if type(v) is Slot and v.height == slot.height:
                continue
            targets.append(self.slot(slot.height))
            sources.append(self.x.expr(v))
        if targets:
            self.out.add(f"{', '.join(targets)} = {', '.join(sources)}")

    @property
    def inner(self):
        """The innermost Python loop's frame, or None at the function's top level."""
        return self.frames[-1] if self.frames else None

    def branch(self, s, label, values, allow_fall: bool = True) -> builtins.set:
        """Transfer control to ``label`` from statement ``s``; return the labels left
        pending in ``_br`` (to be skipped to by guards at this level). ``allow_fall``:
        whether falling through after ``s`` may stand for the branch (not in flat code)."""
        out = self.out
        if label.kind == "function":
            out.add(self.return_text(values))
            return set()
        self.copy_values(label, values)
        inner = self.inner
        if label.kind == "loop":
            if inner is not None and label is inner.label:
                if self.metered:
                    self.fuel(out)
                out.add("continue")
            else:
                self.uses_br = True
                out.add(f"_br = {label.id}")
                out.add("break")
                inner.escapes.add(label)
            return set()
        # A block or an if: control continues after its end.
        if allow_fall and self.falls_to(s, label):
            return set()  # falling through gets there
        inner_label = inner.label if inner is not None else None
        if self.ctx[label.id] is inner_label:
            self.uses_br = True
            self.flagged.add(label.id)
            out.add(f"_br = {label.id}")
            return {label.id}
        # The target is outside the innermost Python loop.
        if inner.stmt is not None and self.falls_to(inner.stmt, label):
            out.add("break")  # falling through after the loop gets there
            return set()
        self.uses_br = True
        self.flagged.add(label.id)
        out.add(f"_br = {label.id}")
        out.add("break")
        inner.escapes.add(label)
        return set()

    def br_if(self, s: BrIf) -> builtins.set:
        out = self.out
        label = s.label
        cond = self.x.cond(s.cond)
        copies = any(not (type(v) is Slot and v.height == slot.height)
                     for slot, v in zip(label.slots, s.values))
        if label.kind == "block" or label.kind == "if":
            if self.falls_to(s, label) and not copies:
                if not s.cond.pure:
                    out.add(cond)  # evaluated for its trap only
                return set()
        out.add(f"if {cond}:")
        out.depth += 1
        pending = self.branch(s, label, s.values)
        out.depth -= 1
        return pending

    def br_table(self, s: BrTable) -> builtins.set:
        out = self.out
        distinct, cases = table_cases(s)
        index = self.x.expr(s.index)
        if len(distinct) == 1:
            if not s.index.pure:
                out.add(index)  # evaluated for its trap only
            return self.branch(s, s.default, s.values)
        out.add(f"_i = {index}")
        if len(distinct) >= TABLE_LOOKUP_MIN and not s.values:
            return self.br_table_lookup(s, distinct)
        pending: set = set()
        if len(distinct) > CHAIN:
            out.add(case_number(s, distinct, cases))

            def leaf(k: int) -> None:
                pending.update(self.indented_branch(s, distinct[k], indent=False))

            self.case_tree("_k", len(distinct), leaf)
            return pending
        first = True
        for lab in distinct:
            if lab is s.default:
                continue
            idx = cases[id(lab)]
            test = f"_i == {idx[0]}" if len(idx) == 1 else f"_i in {tuple(idx)!r}"
            out.add(f"{'if' if first else 'elif'} {test}:")
            first = False
            pending |= self.indented_branch(s, lab)
        out.add("else:")
        pending |= self.indented_branch(s, s.default)
        return pending

    def case_tree(self, var: str, n: int, leaf, lo: int = 0, chain: int = CHAIN) -> None:
        """Run ``leaf(k)`` for the value k (lo <= k < lo + n) of ``var``: an if/elif chain
        of at most ``chain`` tests, whose branches are such chains in turn, so the source
        is nested only log(n) deep (recursion too). Leaves are emitted one level in,
        unless n is 1."""
        out = self.out
        if n == 1:
            leaf(lo)
            return
        step = -(-n // chain)  # cases per branch
        starts = list(range(lo, lo + n, step))
        for j, start in enumerate(starts):
            size = min(step, lo + n - start)
            if j == len(starts) - 1:
                out.add("else:")
            elif size == 1:
                out.add(f"{'if' if j == 0 else 'elif'} {var} == {start}:")
            else:
                out.add(f"{'if' if j == 0 else 'elif'} {var} < {start + size}:")
            if size == 1:
                out.depth += 1
                leaf(start)
                out.depth -= 1
            else:
                out.depth += 1
                self.case_tree(var, size, leaf, start, chain)
                out.depth -= 1

    def indented_branch(self, s, label, indent: bool = True) -> builtins.set:
        out = self.out
        out.depth += indent
        n = len(out.lines)
        pending = self.branch(s, label, s.values)
        if len(out.lines) == n:
            out.add("pass")
        out.depth -= indent
        return pending

    def br_table_lookup(self, s: BrTable, distinct: list) -> builtins.set:
        """A large br_table without values: look the label id up, then act on it."""
        out = self.out
        inner = self.inner
        inner_label = inner.label if inner is not None else None
        ids = [-1 if lab.kind == "function" else lab.id for lab in s.labels]
        default = -1 if s.default.kind == "function" else s.default.id
        self.uses_br = True
        out.add(f"_br = {tuple(ids)!r}[_i] if _i < {len(ids)} else {default}")
        pending, exits = set(), []
        returns = continues = False
        for lab in distinct:
            if lab.kind == "function":
                returns = True
            elif lab.kind == "loop":
                if lab is inner_label:
                    continues = True
                else:
                    exits.append(lab)
            elif self.ctx[lab.id] is inner_label:
                self.flagged.add(lab.id)
                pending.add(lab.id)
            else:
                self.flagged.add(lab.id)
                exits.append(lab)
        if returns:
            out.add("if _br == -1:")
            out.add("    return")
        if continues:
            out.add(f"if _br == {inner_label.id}:")
            out.depth += 1
            out.add("_br = 0")
            if self.metered:
                self.fuel(out)
            out.add("continue")
            out.depth -= 1
        if exits:
            test = _membership([lab.id for lab in exits])
            out.add(f"if {test}:")
            out.add("    break")
            inner.escapes.update(exits)
        return pending

    # -- structured statements ---------------------------------------------------------
    def body_list(self, body: list) -> builtins.set:
        """A statement list. After a statement that may leave ``_br`` set at this level,
        the rest is guarded by ``if not _br:`` (reopened flat, never nested)."""
        out = self.out
        base = out.depth
        pending_all: set = set()
        guard_start = None
        for k, s in enumerate(body):
            pending = self.stmt(s)
            pending_all |= pending
            if pending and k < len(body) - 1:
                if guard_start is not None and len(out.lines) == guard_start:
                    out.add("pass")
                out.depth = base
                out.add("if not _br:")
                out.depth = base + 1
                guard_start = len(out.lines)
                self.uses_br = True
        if guard_start is not None and len(out.lines) == guard_start:
            out.add("pass")
        out.depth = base
        return pending_all

    def end_check(self, label) -> None:
        if label.id in self.flagged:
            self.out.add(f"if _br == {label.id}:")
            self.out.add("    _br = 0")

    def block_stmt(self, s: Block) -> builtins.set:
        pending = self.body_list(s.body)
        self.end_check(s.label)
        return pending - {s.label.id}

    def too_deep(self) -> bool:
        return (len(self.frames) >= MAX_LOOPS or self.out.depth >= MAX_INDENT
                or self.nest >= MAX_NEST)

    def if_stmt(self, s: If) -> builtins.set:
        out = self.out
        out.add(f"if {self.x.cond(s.cond)}:")
        pending = self.indented_body(s.then)
        if s.else_:
            out.add("else:")
            pending |= self.indented_body(s.else_)
        self.end_check(s.label)
        return pending - {s.label.id}

    def indented_body(self, body: list) -> builtins.set:
        out = self.out
        out.depth += 1
        n = len(out.lines)
        pending = self.body_list(body)
        if len(out.lines) == n:
            out.add("pass")
        out.depth -= 1
        return pending

    def loop_stmt(self, s: Loop) -> builtins.set:
        out = self.out
        label = s.label
        outer = self.inner
        frame = LoopFrame(label, s)
        body = list(s.body)
        # A loop whose body ends by branching back iterates naturally (no continue, no
        # break); one that ends with a conditional branch back ends with `if not c: break`.
        tail = None
        if body and not self.metered and type(body[-1]) in (Br, BrIf) and \
                body[-1].label is label and not _copies(body[-1]):
            tail = body.pop()
        out.add("while True:")
        out.depth += 1
        self.frames.append(frame)
        n = len(out.lines)
        self.body_list(body)
        if type(tail) is BrIf:
            out.add(f"if not {self.x.cond(tail.cond)}:")
            out.add("    break")
        elif tail is None and _falls_through(body):
            out.add("break")
        if len(out.lines) == n:
            out.add("pass")
        self.frames.pop()
        out.depth -= 1
        return self.after_loop(frame, outer)

    def after_loop(self, frame, outer) -> builtins.set:
        """After a Python loop left by a flagged break: continue or break the enclosing
        loop, or leave the flag for the guards of this level."""
        out = self.out
        outer_label = outer.label if outer is not None else None
        cont = False
        exits, pending = [], set()
        for t in frame.escapes:
            if t is outer_label:
                cont = True
            elif t.kind != "loop" and self.ctx[t.id] is outer_label:
                pending.add(t.id)
            else:
                exits.append(t)
        if cont or exits:
            out.add("if _br:")
            out.depth += 1
            if cont:
                out.add(f"if _br == {outer_label.id}:")
                out.depth += 1
                out.add("_br = 0")
                if self.metered:
                    self.fuel(out)
                out.add("continue")
                out.depth -= 1
            if exits:
                if not pending and not cont:
                    out.add("break")
                else:
                    out.add(f"if {_membership([t.id for t in exits])}:")
                    out.add("    break")
                outer.escapes.update(exits)
            out.depth -= 1
        return pending

    def flat(self, s) -> builtins.set:
        self.flat_count += 1
        return FlatEmitter(self, [s]).emit()


def _membership(ids: list) -> str:
    ids = sorted(ids)
    return f"_br == {ids[0]}" if len(ids) == 1 else f"_br in {tuple(ids)!r}"


def _copies(s) -> bool:
    return any(not (type(v) is Slot and v.height == slot.height)
               for slot, v in zip(s.label.slots, s.values))


_MEMORY_OPS = ("memory.size", "memory.grow", "memory.fill", "memory.copy", "memory.init")


def _touches_memory(s, out: set) -> None:
    """Add to ``out`` the memories whose views statement ``s`` (not counting nested
    bodies) uses."""
    exprs = []
    t = type(s)
    if t is Set:
        exprs = [s.expr]
    elif t is Effect:
        if s.op.align is not None:
            out.add(s.imm[0].mem)
        exprs = list(s.args)
    elif t in (Drop, GlobalSet):
        exprs = [s.expr]
    elif t in (Call, CallIndirect, TailCall):
        exprs = list(s.args) + ([s.index] if t is not Call and s.index is not None else [])
    elif t is If:
        exprs = [s.cond]
    elif t in (BrIf,):
        exprs = [s.cond, *s.values]
    elif t is BrTable:
        exprs = [s.index, *s.values]
    elif t in (Br, Return):
        exprs = list(s.values)
    stack = exprs
    while stack:
        e = stack.pop()
        if e.__class__.__name__ == "Op":
            if e.op.align is not None:
                out.add(e.imm[0].mem)
            stack.extend(e.args)


def _falls_through(body: list) -> bool:
    """Whether control can fall off the end of ``body`` (conservative: True if unsure)."""
    if not body:
        return True
    last = body[-1]
    return not isinstance(last, (Br, Return, TailCall, Unreachable, BrTable))


def _zero(t) -> str:
    name = str(t)
    if name in ("f32", "f64"):
        return "0.0"
    if t.is_ref:
        return "None"
    return "0"
