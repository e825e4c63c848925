"""Building the IR of one function from its validated body.

The operand stack is simulated symbolically: an instruction's result is pushed as an
expression, and expressions are folded into the instructions that consume them. A
pending expression is *materialized* (assigned to its Slot) when folding it further would
change what it computes or the order of effects:
- before a variable is written, every pending expression reading it is materialized
  (``_clobber``);
- before an impure statement (one that may trap or has an effect), every pending impure
  expression is materialized, bottom of the stack first (``_flush_impure``), so traps and
  effects happen in wasm order;
- at every control-flow boundary the whole stack is materialized (``_flush``), so values
  crossing a label are always in their slots;
- an expression deeper than MAX_DEPTH is materialized, which bounds the nesting a
  lowering has to emit.
The bottom ``settled`` entries of the stack are known to be in their slots already, so
none of these steps rescans them: a stack that grows with nesting (a value left below
every block) still costs time linear in the body.
"""
from __future__ import annotations

from fayasm import isa
from fayasm.closing import deftypes
from fayasm.errors import TranslationError, describe
from fayasm.runtime.types import HeapType, ValType

from .nodes import (
    Block,
    Br,
    BrIf,
    BrTable,
    Call,
    CallIndirect,
    Const,
    Drop,
    Effect,
    Function,
    GlobalSet,
    If,
    Label,
    Local,
    Loop,
    Op,
    Return,
    Set,
    Slot,
    TailCall,
    Unreachable,
)

MAX_DEPTH = 24

_OPS = isa.OPS


def _key(var) -> tuple:
    return ("l", var.index) if type(var) is Local else ("s", var.height)


def _reads_key(e, key) -> bool:
    """Whether expression ``e`` reads the variable with ``key`` (slots compare by height:
    a lowering may give every type at one height the same variable)."""
    t = type(e)
    if t is Local:
        return key == ("l", e.index)
    if t is Slot:
        return key == ("s", e.height)
    if t is Op:
        return any(_reads_key(a, key) for a in e.args)
    return False


class _Frame:
    __slots__ = ("label", "node", "outer", "kind", "height", "params", "results", "end")

    def __init__(self, label, node, outer, kind, height, params, results, end):
        self.label, self.node, self.outer, self.kind = label, node, outer, kind
        self.height, self.params, self.results, self.end = height, params, results, end


class _Builder:
    def __init__(self, module, info, index: int):
        nimp = info.num_imported_funcs
        self.module = module
        self.info = info
        self.fi = info.code[index - nimp]
        self.func = module.funcs[index - nimp]
        self.index = index
        self.locals = self.fi.locals
        self.stack: list = []
        self.settled = 0  # stack[:settled] are all Slots at their own heights
        self.out: list = []
        self.ctl: list[_Frame] = []
        self.next_label = 1

    # -- the symbolic stack -------------------------------------------------------
    def _materialize(self, k: int) -> None:
        e = self.stack[k]
        if type(e) is Slot and e.height == k:
            return
        slot = Slot(k, e.type)
        self._clobber(slot, k)
        self.out.append(Set(slot, e))
        self.stack[k] = slot

    def _clobber(self, var, below: int | None = None) -> None:
        """Materialize pending expressions (below height ``below``) that read ``var``.
        A settled slot reads only itself, and ``var`` is never one of them."""
        key = _key(var)
        n = len(self.stack) if below is None else below
        for j in range(self.settled, n):
            if _reads_key(self.stack[j], key):
                self._materialize(j)

    def _flush(self, keep: int = 0) -> None:
        n = len(self.stack) - keep
        for k in range(self.settled, n):
            self._materialize(k)
        if n > self.settled:
            self.settled = n

    def _flush_impure(self) -> None:
        for k in range(self.settled, len(self.stack)):
            if not self.stack[k].pure:
                self._materialize(k)

    def _push(self, e) -> None:
        self.stack.append(e)
        if e.depth > MAX_DEPTH:
            self._materialize(len(self.stack) - 1)

    def _pop(self, n: int) -> tuple:
        if n == 0:
            return ()
        args = tuple(self.stack[-n:])
        del self.stack[-n:]
        if self.settled > len(self.stack):
            self.settled = len(self.stack)
        return args

    def _emit(self, stmt, impure: bool) -> None:
        if impure:
            self._flush_impure()
        self.out.append(stmt)

    def _label(self, kind: str, height: int, types) -> Label:
        lab = Label(self.next_label, kind, height, types)
        self.next_label += 1
        return lab

    def _results_to_slots(self, height: int, types) -> None:
        self.stack[height:] = [Slot(height + k, t) for k, t in enumerate(types)]
        self.settled = len(self.stack) if self.settled >= height else self.settled

    # -- the walk ------------------------------------------------------------------
    def build(self) -> Function:
        fi = self.fi
        ftype = fi.type
        fn_label = Label(0, "function", 0, ftype.results)
        body = self.func.body
        blocks = fi.blocks
        dead = fi.dead
        i = 0
        n = len(body)
        while i < n:
            ins = body[i]
            name = ins.op.name
            if dead[i] and name not in ("else", "end"):
                # Unreachable code: skip it, whole constructs at a time.
                i = blocks[i].end_index + 1 if i in blocks else i + 1
                continue
            self.instr(i, ins, fn_label)
            i += 1
        if not dead[n]:
            self.out.append(Return(self._pop(len(ftype.results))))
        return Function(self.index, "", ftype, tuple(self.locals), fn_label, self.out,
                        self.next_label)

    def target(self, depth: int, fn_label: Label) -> Label:
        return fn_label if depth == len(self.ctl) else self.ctl[-1 - depth].label

    def instr(self, i: int, ins, fn_label: Label) -> None:
        self._at = i
        op = ins.op
        name = op.name
        imm = ins.imm
        stack = self.stack
        if name == "local.get":
            self._push(Local(imm[0], self.locals[imm[0]]))
        elif name in ("local.set", "local.tee"):
            (e,) = self._pop(1)
            var = Local(imm[0], self.locals[imm[0]])
            self._clobber(var)
            self._emit(Set(var, e), not e.pure)
            if name == "local.tee":
                self._push(var)
        elif op.cls == "const":
            self._push(Const(op.results[0], isa.const_value(op, imm[0])))
        elif name == "global.get":
            gt = self.info.globals[imm[0]]
            self._push(Op(op, (), imm, gt.valtype, pure=not gt.mutable))
        elif name == "global.set":
            (e,) = self._pop(1)
            self._emit(GlobalSet(imm[0], e), True)
        elif name in ("block", "loop", "if"):
            self.open(i, name, imm)
        elif name == "else":
            self.else_(i)
        elif name == "end":
            self.end(i)
        elif name == "br":
            lab = self.target(imm[0], fn_label)
            values = self._pop(len(lab.types))
            self._flush_impure()
            self.out.append(Return(values) if lab is fn_label else Br(lab, values))
        elif name == "br_if":
            lab = self.target(imm[0], fn_label)
            (cond,) = self._pop(1)
            self._flush()
            values = tuple(stack[len(stack) - len(lab.types):]) if lab.types else ()
            self.out.append(BrIf(lab, cond, values))
        elif name == "br_table":
            labels = tuple(self.target(d, fn_label) for d in imm[0])
            default = self.target(imm[1], fn_label)
            (index,) = self._pop(1)
            self._flush()
            arity = len(default.types)
            values = tuple(stack[len(stack) - arity:]) if arity else ()
            self.out.append(BrTable(index, labels, default, values))
        elif name == "return":
            values = self._pop(len(fn_label.types))
            self._flush_impure()
            self.out.append(Return(values))
        elif name == "unreachable":
            self._emit(Unreachable(), True)
        elif name == "nop":
            pass
        elif name == "drop":
            (e,) = self._pop(1)
            if not e.pure:
                self._emit(Drop(e), True)
        elif name in ("select", "select_t"):
            # The lowering may evaluate only the chosen operand (a conditional
            # expression), so both value operands are made pure first.
            top = len(stack)
            if not (stack[top - 3].pure and stack[top - 2].pure):
                for k in range(self.settled, top - 1):
                    if not stack[k].pure:
                        self._materialize(k)
            a, b, c = self._pop(3)
            self._push(Op(op, (a, b, c), imm, a.type))
        elif name in ("call", "call_indirect", "call_ref"):
            self.call(name, imm)
        elif op.tail:
            self.tail_call(op, imm)
        elif name == "br_on_null" or name == "br_on_non_null":
            self.br_on_null(i, name, imm, fn_label)
        elif name == "br_on_cast" or name == "br_on_cast_fail":
            self.br_on_cast(name, imm, fn_label)
        elif op.feature == "gc":
            arity, result = gc_shape(self.module, op, imm)
            args = self._pop(arity)
            if name == "any.convert_extern" or name == "extern.convert_any":
                result = ValType.ref(bool(args[0].type.nullable) if args[0].type else True,
                                     result)
            if result is None:
                self._emit(Effect(op, args, imm), True)
            else:
                self._push(Op(op, args, imm, result))
        elif op.writes and op.operator == "grow":  # a value and an effect
            args = self._pop(len(op.params) if not op.special else 2)
            self._flush_impure()
            t = self._address(op, imm[0])
            slot = Slot(len(stack), t)
            self._clobber(slot)
            self.out.append(Set(slot, Op(op, args, imm, t, pure=False)))
            stack.append(slot)
        else:
            self.plain(op, imm)

    def plain(self, op, imm) -> None:
        """An instruction typed by its table row (or one of the special table/ref ones)."""
        name = op.name
        if op.special:
            arity, result = _SPECIAL_SHAPES[name]
            if name == "ref.null":
                result = imm[0]
            elif name == "ref.as_non_null":
                result = ValType.ref(False, self.fi.types[self._at].heap)
            elif name in ("table.get",):
                result = self.info.tables[imm[0]].elem
        else:
            arity = len(op.params)
            result = op.results[0] if op.results else None
            if name == "memory.size" or name == "table.size":
                result = self._address(op, imm[0])
        args = self._pop(arity)
        if result is None:
            self._emit(Effect(op, args, imm), True)
        else:
            self._push(Op(op, args, imm, result))

    def br_on_null(self, i: int, name: str, imm, fn_label: Label) -> None:
        """br_on_null / br_on_non_null as a BrIf on the reference, kept in its slot."""
        lab = self.target(imm[0], fn_label)
        t = self.fi.types[i]  # the operand's type, (ref null ht)
        nonnull = ValType.ref(False, t.heap)
        self._flush()
        stack = self.stack
        h = len(stack) - 1
        ref = stack[h]  # a Slot now
        test = Op(_OPS["ref.is_null"], (ref,), (), ValType.I32)
        if name == "br_on_null":
            n = len(lab.types)
            values = tuple(stack[h - n:h]) if n else ()
            self.out.append(BrIf(lab, test, values))
            stack[h] = Slot(h, nonnull)
        else:
            n = len(lab.types)
            stack[h] = Slot(h, nonnull)
            values = tuple(stack[h + 1 - n:])
            self.out.append(BrIf(lab, Op(_OPS["i32.eqz"], (test,), (), ValType.I32), values))
            self._pop(1)
    def br_on_cast(self, name: str, imm, fn_label: Label) -> None:
        """br_on_cast / br_on_cast_fail as a BrIf on a ref.test of the reference, kept in
        its slot; what falls through has the type left (rt1 minus rt2, or rt2)."""
        x, rt1, rt2 = imm
        lab = self.target(x, fn_label)
        self._flush()
        stack = self.stack
        h = len(stack) - 1
        ref = stack[h]
        test = Op(_OPS["ref.test_null" if rt2.nullable else "ref.test"], (ref,), (rt2,),
                  ValType.I32)
        rest = ValType.ref(bool(rt1.nullable) and not rt2.nullable, rt1.heap)
        if name == "br_on_cast":
            stack[h] = Slot(h, rt2)
            values = tuple(stack[h + 1 - len(lab.types):])
            self.out.append(BrIf(lab, test, values))
            stack[h] = Slot(h, rest)
        else:
            stack[h] = Slot(h, rest)
            values = tuple(stack[h + 1 - len(lab.types):])
            self.out.append(BrIf(lab, Op(_OPS["i32.eqz"], (test,), (), ValType.I32), values))
            stack[h] = Slot(h, rt2)

    def _address(self, op, index: int):
        """The address type of the memory or table ``index`` a memory/table row names
        (I64 for memory64): the type of memory.size/grow and table.size/grow."""
        spaces = self.info.mems if op.cls == "memory" else self.info.tables
        return spaces[index].address

    def call(self, name: str, imm) -> None:
        if name == "call":
            ftype = self.info.funcs[imm[0]]
            args = self._pop(len(ftype.params))
            index = None
        elif name == "call_ref":
            ftype = self.info.types[imm[0]]
            (index,) = self._pop(1)
            args = self._pop(len(ftype.params))
        else:
            ftype = self.info.types[imm[0]]
            (index,) = self._pop(1)
            args = self._pop(len(ftype.params))
        self._flush_impure()
        h = len(self.stack)
        results = tuple(Slot(h + k, t) for k, t in enumerate(ftype.results))
        for slot in results:
            self._clobber(slot, h)
        if name == "call":
            self.out.append(Call(imm[0], args, results))
        elif name == "call_ref":
            self.out.append(CallIndirect(imm[0], None, args, index, results))
        else:
            self.out.append(CallIndirect(imm[0], imm[1], args, index, results))
        self.stack.extend(results)

    def tail_call(self, op, imm) -> None:
        """A row with the ``tail`` fact; its immediates say how the callee is named: a
        function index, a type and a table (the index on the stack), or a type alone
        (the reference on the stack)."""
        if op.imms[0] == "func":
            args = self._pop(len(self.info.funcs[imm[0]].params))
            self._flush_impure()
            self.out.append(TailCall(imm[0], None, None, args, None))
            return
        (callee,) = self._pop(1)
        args = self._pop(len(self.info.types[imm[0]].params))
        self._flush_impure()
        table = imm[1] if len(op.imms) > 1 else None
        self.out.append(TailCall(None, imm[0], table, args, callee))

    # -- structured control --------------------------------------------------------
    def open(self, i: int, name: str, imm) -> None:
        b = self.fi.blocks[i]
        cond = None
        if name == "if":
            (cond,) = self._pop(1)
        self._flush()
        if name == "loop":
            label = self._label("loop", b.height, b.params)
            node = Loop(label, [])
            body = node.body
        else:
            label = self._label(name, b.height, b.results)
            node = Block(label, []) if name == "block" else If(label, cond, [], [])
            body = node.body if name == "block" else node.then
        self.out.append(node)
        self.ctl.append(_Frame(label, node, self.out, name, b.height, b.params, b.results,
                               b.end_index))
        self.out = body

    def else_(self, i: int) -> None:
        frame = self.ctl[-1]
        if not self.fi.dead[i]:
            self._flush()
        self._results_to_slots(frame.height, frame.params)
        self.out = frame.node.else_
        frame.kind = "else"

    def end(self, i: int) -> None:
        frame = self.ctl.pop()
        if not self.fi.dead[i]:
            self._flush()
        self._results_to_slots(frame.height, frame.results)
        self.out = frame.outer


# Arity and result type of the `special` instructions that plain() handles
# (a None result means the instruction is an Effect).
_SPECIAL_SHAPES = {
    "table.get": (1, None), "table.set": (2, None), "table.fill": (3, None),
    "table.copy": (3, None), "table.init": (3, None),
    "ref.null": (0, None), "ref.is_null": (1, ValType.I32), "ref.func": (0, ValType.FUNCREF),
    "ref.as_non_null": (1, None),
}


def gc_shape(module, op, imm) -> tuple:
    """(operands, result type or None for an effect) of a GC instruction; the result of
    the two conversions is the abstract heap type (its nullability is the operand's)."""
    name = op.name
    if name in _GC_SHAPES:
        return _GC_SHAPES[name]
    if name.startswith("ref.test"):
        return 1, ValType.I32
    if name.startswith("ref.cast"):
        return 1, imm[0]
    d = deftypes(module)[imm[0]]
    made = ValType.ref(False, d)
    if name.startswith("struct."):
        fields = d.expand().fields
        if name == "struct.new":
            return len(fields), made
        if name == "struct.new_default":
            return 0, made
        if name == "struct.set":
            return 2, None
        return 1, fields[imm[1]].unpacked
    f = d.expand().field
    return {"array.new": (2, made), "array.new_default": (1, made),
            "array.new_fixed": (imm[1] if len(imm) > 1 else 0, made),
            "array.new_data": (2, made), "array.new_elem": (2, made),
            "array.get": (2, f.unpacked), "array.get_s": (2, f.unpacked),
            "array.get_u": (2, f.unpacked), "array.set": (3, None), "array.fill": (4, None),
            "array.copy": (5, None), "array.init_data": (4, None),
            "array.init_elem": (4, None)}[name]


_GC_SHAPES = {
    "array.len": (1, ValType.I32), "ref.i31": (1, ValType.ref(False, HeapType.I31)),
    "i31.get_s": (1, ValType.I32), "i31.get_u": (1, ValType.I32), "ref.eq": (2, ValType.I32),
    "any.convert_extern": (1, HeapType.ANY), "extern.convert_any": (1, HeapType.EXTERN),
}


def build_function(module, info, index: int, name: str | None = None) -> Function:
    """The IR of defined function ``index`` (in the function index space) of a validated
    module (``module`` is the syntax, ``info`` its ModuleInfo)."""
    try:
        f = _Builder(module, info, index).build()
    except (RecursionError, MemoryError) as e:
        raise TranslationError("IR builder", describe(e), index,
                               name or module.func_name(index)) from None
    f.name = name or module.func_name(index)
    return f
