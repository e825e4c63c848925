"""The state-machine lowering: a subtree of statements as one ``while True:`` that
dispatches on ``_st`` over its basic blocks.

It needs one Python loop and a few levels of indentation however deep the wasm nesting,
so it is what a loop or if too deep for CPython's limits becomes. It is slower than the
structured lowering (a dispatch per basic block), and it is also available for whole
functions, which tests use to check it against the spec suite.
"""
from __future__ import annotations

from fayasm.ir import Block, Br, BrIf, BrTable, If, Loop, Return, Unreachable

_SIMPLE = ("Set", "Effect", "Drop", "GlobalSet", "Call", "CallIndirect")


class _BB:
    __slots__ = ("id", "stmts", "term")

    def __init__(self, id):
        self.id = id
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

    def new(self) -> _BB:
        bb = _BB(len(self.bbs))
        self.bbs.append(bb)
        return bb

    # -- the control-flow graph ---------------------------------------------------------
    def walk(self, stmts: list, cur: _BB | None) -> _BB | None:
        for s in stmts:
            if cur is None:
                break
            t = type(s)
            if t.__name__ in _SIMPLE:
                cur.stmts.append(s)
            elif t is Block:
                after = self.new()
                self.targets[s.label.id] = after
                end = self.walk(s.body, cur)
                if end is not None:
                    end.term = ("goto", after)
                cur = after
            elif t is Loop:
                head = self.new()
                cur.term = ("goto", head)
                self.targets[s.label.id] = head
                self.loop_heads.add(s.label.id)
                cur = self.walk(s.body, head)
            elif t is If:
                then, else_, after = self.new(), self.new(), self.new()
                self.targets[s.label.id] = after
                cur.term = ("if", s.cond, then, else_)
                for body, start in ((s.then, then), (s.else_, else_)):
                    end = self.walk(body, start)
                    if end is not None:
                        end.term = ("goto", after)
                cur = after
            elif t is BrIf:
                nxt = self.new()
                cur.term = ("stmt", s, nxt)
                cur = nxt
            elif t in (Br, BrTable, Return, Unreachable):
                cur.term = ("stmt", s, None)
                cur = None
            else:  # pragma: no cover
                raise AssertionError(f"unknown statement {s!r}")
        return cur

    # -- emission ----------------------------------------------------------------------------
    def emit(self) -> set:
        from .function import _LoopFrame

        fn, out = self.fn, self.fn.out
        entry = self.new()
        end = self.walk(self.stmts, entry)
        if end is not None:
            end.term = ("leave",)
        outer = fn.frames[-1] if fn.frames else None
        frame = _LoopFrame(_FlatLabel(), self.stmts[0] if len(self.stmts) == 1 else None)
        out.add("_st = 0")
        out.add("while True:")
        out.depth += 1
        fn.frames.append(frame)
        self.dispatch(0, len(self.bbs))
        fn.frames.pop()
        out.depth -= 1
        return fn.after_loop(frame, outer)

    def dispatch(self, lo: int, hi: int) -> None:
        out = self.fn.out
        if hi - lo == 1:
            self.block(self.bbs[lo])
            return
        mid = (lo + hi) // 2
        out.add(f"if _st < {mid}:")
        out.depth += 1
        self.dispatch(lo, mid)
        out.depth -= 1
        out.add("else:")
        out.depth += 1
        self.dispatch(mid, hi)
        out.depth -= 1

    def block(self, bb: _BB) -> None:
        fn, out = self.fn, self.fn.out
        for s in bb.stmts:
            fn.stmt(s)
        term = bb.term
        if term is None:  # a block no path reaches (after a construct that never ends)
            out.add('raise _rt.trap("unreachable")')
            return
        kind = term[0]
        if kind == "goto":
            self.goto(term[1])
        elif kind == "leave":
            out.add("break")
        elif kind == "if":
            _, cond, then, else_ = term
            out.add(f"_st = {then.id} if {fn.x.cond(cond)} else {else_.id}")
            out.add("continue")
        else:
            s, nxt = term[1], term[2]
            t = type(s)
            if t is Return:
                out.add(fn.return_text(s.values))
            elif t is Unreachable:
                out.add('raise _rt.trap("unreachable")')
            elif t is Br:
                self.transfer(s, s.label, s.values)
            elif t is BrIf:
                out.add(f"if {fn.x.cond(s.cond)}:")
                out.depth += 1
                self.transfer(s, s.label, s.values)
                out.depth -= 1
                self.goto(nxt)
            else:  # BrTable
                self.table(s)

    def goto(self, bb: _BB, back: bool = False) -> None:
        out = self.fn.out
        out.add(f"_st = {bb.id}")
        if back and self.fn.metered:
            self.fn.fuel(out)
        out.add("continue")

    def transfer(self, s, label, values) -> None:
        """A branch: inside this state machine a goto, outside it the usual exits."""
        fn = self.fn
        target = self.targets.get(label.id)
        if target is None:
            fn.branch(s, label, values, allow_fall=False)
            return
        fn.copy_values(label, values)
        self.goto(target, back=label.id in self.loop_heads)

    def table(self, s: BrTable) -> None:
        fn, out = self.fn, self.fn.out
        labels = list(s.labels)
        out.add(f"_i = {fn.x.expr(s.index)}")
        distinct = []
        for lab in labels + [s.default]:
            if lab not in distinct:
                distinct.append(lab)
        first = True
        for lab in distinct:
            if lab is s.default:
                continue
            idx = [i for i, other in enumerate(labels) if other is lab]
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
