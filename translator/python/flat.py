"""The state-machine lowering: a subtree of statements as one ``while True:`` that
dispatches on ``_st`` over its basic blocks.

It needs one Python loop and a few levels of indentation however deep the wasm nesting,
so it is what a construct too deep for CPython's limits (or for the structured
lowering's recursion) becomes. It is slower than the structured lowering (a dispatch per
basic block), and it is also available for whole functions, which tests use to check it
against the spec suite. Building the graph uses an explicit stack, and the dispatch is a
tree of if chains (FunctionEmitter.case_tree) nested log(blocks) deep.
"""
from __future__ import annotations

from fayasm.ir import (
    Block,
    Br,
    BrIf,
    BrTable,
    If,
    Loop,
    Return,
    TailCall,
    Throw,
    ThrowRef,
    TryTable,
    Unreachable,
)
from fayasm.runtime.errors import UNREACHABLE

from .branching import CHAIN, TABLE_LOOKUP_MIN, LoopFrame, case_number, table_cases

_SIMPLE = ("Set", "Effect", "Drop", "GlobalSet", "Call", "CallIndirect")
DISPATCH_CHAIN = 4  # basic blocks one if chain of the dispatch tells apart


class _BB:
    __slots__ = ("id", "stmts", "term", "handlers")

    def __init__(self, id, handlers: tuple = ()):
        self.id = id
        self.handlers = handlers  # the TryTables around its code, innermost first
        self.stmts: list = []
        self.term = None  # ("goto", bb) | ("if", cond, bb, bb) | ("stmt", s, next_bb|None)


class _FlatLabel:
    """The frame label of a state machine: no wasm label is ever this one."""

    kind = "flat"
    id = None


class FlatEmitter:
    def __init__(self, fn, stmts: list):
        self.fn = fn
        self.stmts = stmts
        self.bbs: list[_BB] = []
        self.targets: dict[int, _BB] = {}  # label id -> the basic block a branch goes to
        self.loop_heads: set[int] = set()
        self.open_trys: list = []  # TryTables whose bodies are being walked, innermost last

    def new(self) -> _BB:
        bb = _BB(len(self.bbs), tuple(reversed(self.open_trys)))
        self.bbs.append(bb)
        return bb

    # -- the control-flow graph ---------------------------------------------------------
    def walk(self, stmts: list, cur: _BB | None) -> _BB | None:
        """Add ``stmts`` to the graph from ``cur`` on; the block control reaches after them
        (None if it cannot). Each statement list is a generator (``_seq``) that asks for
        its nested lists in turn: they go on an explicit stack, not Python's."""
        work = [self._seq(stmts, cur)]
        end = None
        while work:
            try:
                nested = work[-1].send(end)
            except StopIteration as done:
                work.pop()
                end = done.value
                continue
            end = None
            work.append(self._seq(*nested))
        return end

    def _seq(self, stmts: list, cur: _BB | None):
        """walk's step for one list: yields (nested list, its start block) and is sent back
        the block after that list; returns the block after ``stmts``."""
        for s in stmts:
            if cur is None:
                break
            t = type(s)
            if t.__name__ in _SIMPLE:
                cur.stmts.append(s)
            elif t is Block:
                after = self.new()
                self.targets[s.label.id] = after
                end = yield s.body, cur
                if end is not None:
                    end.term = ("goto", after)
                cur = after
            elif t is TryTable:
                after = self.new()
                self.targets[s.label.id] = after
                self.open_trys.append(s)
                start = self.new()
                cur.term = ("goto", start)
                end = yield s.body, start
                self.open_trys.pop()
                if end is not None:
                    end.term = ("goto", after)
                cur = after
            elif t is Loop:
                head = self.new()
                cur.term = ("goto", head)
                self.targets[s.label.id] = head
                self.loop_heads.add(s.label.id)
                cur = yield s.body, head
            elif t is If:
                then, else_, after = self.new(), self.new(), self.new()
                self.targets[s.label.id] = after
                cur.term = ("if", s.cond, then, else_)
                for body, start in ((s.then, then), (s.else_, else_)):
                    end = yield body, start
                    if end is not None:
                        end.term = ("goto", after)
                cur = after
            elif t is BrIf:
                nxt = self.new()
                cur.term = ("stmt", s, nxt)
                cur = nxt
            elif t in (Br, BrTable, Return, TailCall, Unreachable, Throw, ThrowRef):
                cur.term = ("stmt", s, None)
                cur = None
            else:  # pragma: no cover
                raise AssertionError(f"unknown statement {s!r}")
        return cur

    # -- emission ----------------------------------------------------------------------------
    def emit(self) -> set:
        fn, out = self.fn, self.fn.out
        entry = self.new()
        end = self.walk(self.stmts, entry)
        if end is not None:
            end.term = ("leave",)
        self.thread()
        outer = fn.frames[-1] if fn.frames else None
        frame = LoopFrame(_FlatLabel(), self.stmts[0] if len(self.stmts) == 1 else None)
        out.add("_st = 0")
        out.add("while True:")
        out.depth += 1
        fn.frames.append(frame)
        chains: dict = {}
        for bb in self.bbs:
            if bb.handlers:
                chains.setdefault(bb.handlers, []).append(bb.id)
        if chains:
            out.add("try:")
            out.depth += 1
            fn.trys += 1
        fn.case_tree("_st", len(self.bbs), lambda k: self.block(self.bbs[k]),
                     chain=DISPATCH_CHAIN)
        if chains:
            fn.trys -= 1
            out.depth -= 1
            self.handlers(chains)
        fn.frames.pop()
        out.depth -= 1
        return fn.after_loop(frame, outer)

    def handlers(self, chains: dict) -> None:
        """The except clause of the dispatch: by the block that was running, the
        TryTables around it take the exception in turn (innermost first)."""
        fn, out = self.fn, self.fn.out
        out.add("except _WE as _e:")
        out.depth += 1
        for k, (chain, ids) in enumerate(chains.items()):
            test = f"_st == {ids[0]}" if len(ids) == 1 else f"_st in {tuple(ids)!r}"
            out.add(f"{'if' if k == 0 else 'elif'} {test}:")
            out.depth += 1
            for s in chain:
                fn.catches(s, s.catches, "_e", final=False,
                           transfer=lambda label, s=s: self.transfer(s, label, (), tail=False))
            out.add("raise")
            out.depth -= 1
        out.add("raise")
        out.depth -= 1

    def thread(self) -> None:
        """Bypass the blocks that only jump on (the ends of nested constructs mostly are
        such): references go to where they lead, and they are dropped; the others are
        numbered anew in order, the entry staying 0."""
        bbs = self.bbs

        def forwards(bb) -> bool:
            return not bb.stmts and bb.term is not None and bb.term[0] == "goto"

        final: dict[int, _BB] = {}

        def resolve(bb: _BB) -> _BB:
            path = []
            while forwards(bb) and id(bb) not in final and len(path) <= len(bbs):
                path.append(bb)
                bb = bb.term[1]
            bb = final.get(id(bb), bb)
            for p in path:
                final[id(p)] = bb
            return bb

        for bb in bbs:
            term = bb.term
            if term is None:
                continue
            if term[0] == "goto":
                bb.term = ("goto", resolve(term[1]))
            elif term[0] == "if":
                bb.term = ("if", term[1], resolve(term[2]), resolve(term[3]))
            elif term[0] == "stmt" and term[2] is not None:
                bb.term = ("stmt", term[1], resolve(term[2]))
        self.targets = {k: resolve(bb) for k, bb in self.targets.items()}
        kept = [bb for k, bb in enumerate(bbs)
                if k == 0 or not forwards(bb) or resolve(bb) is bb]
        for k, bb in enumerate(kept):
            bb.id = k
        self.bbs = kept

    def block(self, bb: _BB) -> None:
        fn, out = self.fn, self.fn.out
        for s in bb.stmts:
            fn.stmt(s)
        term = bb.term
        if term is None:  # a block no path reaches (after a construct that never ends)
            out.add(f'raise _rt.trap("{UNREACHABLE}")')
            return
        kind = term[0]
        if kind == "goto":
            self.goto(term[1])
        elif kind == "leave":
            out.add("break")
        elif kind == "if":
            _, cond, then, else_ = term
            out.add(f"_st = {then.id} if {fn.x.cond(cond)} else {else_.id}")
        else:
            s, nxt = term[1], term[2]
            t = type(s)
            if t is Return:
                out.add(fn.return_text(s.values))
            elif t is TailCall:
                fn.tail_call(s)
            elif t is Unreachable:
                out.add(f'raise _rt.trap("{UNREACHABLE}")')
            elif t is Throw or t is ThrowRef:
                fn.stmt(s)
            elif t is Br:
                self.transfer(s, s.label, s.values)
            elif t is BrIf:
                out.add(f"if {fn.x.cond(s.cond)}:")
                out.depth += 1
                self.transfer(s, s.label, s.values, tail=False)
                out.depth -= 1
                self.goto(nxt)
            else:  # BrTable
                self.table(s)

    def goto(self, bb: _BB, back: bool = False, tail: bool = True) -> None:
        """Continue at ``bb``. At the ``tail`` of a block's code no ``continue`` is needed:
        the dispatch is all the loop's body, so control falls back to it."""
        out = self.fn.out
        out.add(f"_st = {bb.id}")
        if back and self.fn.metered:
            self.fn.fuel(out)
        if not tail:
            out.add("continue")

    def transfer(self, s, label, values, tail: bool = True) -> None:
        """A branch: inside this state machine a goto, outside it the usual exits."""
        fn = self.fn
        target = self.targets.get(label.id)
        if target is None:
            fn.branch(s, label, values, allow_fall=False)
            return
        fn.copy_values(label, values)
        self.goto(target, back=label.id in self.loop_heads, tail=tail)

    def table(self, s: BrTable) -> None:
        fn, out = self.fn, self.fn.out
        out.add(f"_i = {fn.x.expr(s.index)}")
        distinct, cases = table_cases(s)
        targets = [self.targets.get(lab.id) for lab in distinct]
        if (len(distinct) >= TABLE_LOOKUP_MIN and not s.values and all(targets)
                and not (fn.metered and any(lab.id in self.loop_heads for lab in distinct))):
            # Every target is a block of this machine: look its number up.
            bb = {id(lab): t.id for lab, t in zip(distinct, targets)}
            ids = tuple(bb[id(lab)] for lab in s.labels)
            out.add(f"_st = {ids!r}[_i] if _i < {len(ids)} else {bb[id(s.default)]}")
            return
        if len(distinct) > CHAIN:
            out.add(case_number(s, distinct, cases))
            fn.case_tree("_k", len(distinct),
                         lambda k: self.transfer(s, distinct[k], s.values))
            return
        first = True
        for lab in distinct:
            if lab is s.default:
                continue
            idx = cases[id(lab)]
            test = f"_i == {idx[0]}" if len(idx) == 1 else f"_i in {tuple(idx)!r}"
            out.add(f"{'if' if first else 'elif'} {test}:")
            first = False
            out.depth += 1
            self.transfer(s, lab, s.values)
            out.depth -= 1
        if first:
            self.transfer(s, s.default, s.values)
        else:
            out.add("else:")
            out.depth += 1
            self.transfer(s, s.default, s.values)
            out.depth -= 1
