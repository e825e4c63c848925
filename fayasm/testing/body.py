"""Type-directed generation of function bodies: every body validates by construction.

``FunctionGen.produce(types)`` emits instructions that leave exactly ``types`` on the
stack; expressions are built from the rows of the instruction table whose result is the
type wanted (operands generated recursively), from the special instructions (locals,
globals, calls, blocks, branches, selects, tables, references), and from leaves
(constants, local.get, global.get). Statements (stores, sets, calls, loops, bulk memory,
table operations, conditional branches) are interleaved anywhere, since they leave the
stack as they found it. Unconditional branches, returns, br_table and unreachable end a
block's body: code after them would be dead.

Termination: every function starts, and every loop iteration starts, with a *guard* that
traps (``unreachable``) once the module's fuel global reaches zero and otherwise
decrements it; exported wrappers reset it. So programs run loops, recurse and call
indirectly, yet always stop, the same way on every engine.

Determinism: the result of every instruction whose NaN bits the spec leaves open passes
through a helper that canonicalizes quiet NaNs (``generate`` defines the helpers).
"""
from __future__ import annotations

from fayasm import isa
from fayasm.isa import OPS
from fayasm.runtime.types import FuncType, ValType
from fayasm.syntax import Instr, MemArg

from .choose import Chooser
from .funcrefs import FuncRefGen
from .gcgen import GcGen
from .operands import Operands
from .shape import FUNCREF, NUMERIC, VALTYPES, Shape, Sym, ops_for

I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128
EXTERNREF = ValType.EXTERNREF

MAX_DEPTH = 5  # expression nesting
MAX_NEST = 4  # block nesting
DEEP_DEPTH, DEEP_NEST = 32, 28  # in modules that nest deeply (Shape.deep_nesting)

# Float operations the spec makes bit-exact, NaNs included (rows without the ``nan`` flag):
# neg, abs, copysign, and the reinterprets to a float.
EXACT_FLOAT_OPS = frozenset(
    op.name for op in isa.ALL
    if op.shape in ("f32", "f64") and not op.nan and not op.special
    and (op.cls in ("unop", "binop") and op.params[0] == op.results[0]
         or op.cls == "cvtop" and op.operator.startswith("reinterpret")))


def is_test(op) -> bool:
    """Whether an i32-result row is a test (its result is 0 or 1)."""
    return op.is_test or op.name == "ref.is_null"


class Label:
    __slots__ = ("kind", "types", "counter")

    def __init__(self, kind: str, types: tuple, counter: int | None = None):
        self.kind, self.types, self.counter = kind, tuple(types), counter


class FunctionGen(Operands, FuncRefGen, GcGen):
    """Generates one function body for ``shape``. ``budget`` bounds its size (instructions
    generated outside the guards, roughly)."""

    def __init__(self, c: Chooser, shape: Shape, ftype: FuncType, budget: int,
                 self_index=None):
        self.c = c
        self.shape = shape
        self.ftype = ftype
        self.budget = budget
        self.self_index = self_index
        self.locals: list[ValType] = list(ftype.params)
        self.counters: list[int] = []  # loop counter locals by loop nesting depth
        self.temps: list[int] = []
        self.loops = 0  # loops enclosing the code being generated
        self.labels: list[Label] = []
        self.out: list[Instr] = []
        self.nest = 0
        self.mem_choice = 0  # the memory of the access whose memarg is being chosen
        self.by_result, self.void_ops = ops_for(shape)
        # Half the i32 rows are tests (comparisons, eqz, any_true...) whose results are
        # 0 or 1: drawn uniformly they would make most i32 operands booleans.
        self.i32_values = [op for op in self.by_result[I32] if not is_test(op)]
        self.usable = [op for ops in self.by_result.values() for op in ops] + self.void_ops
        usable = set(self.usable)
        self.theme = [op for op in shape.theme if op in usable]
        self.theme_by_result = {t: [op for op in self.theme if op.results == (t,)]
                                for t in self.by_result}
        self.mutable_globals = [k for k, g in enumerate(shape.globals)
                                if g.mutable and k not in (shape.fuel, shape.checksum)]
        deep = shape.deep_nesting
        self.max_depth, self.max_nest = (DEEP_DEPTH, DEEP_NEST) if deep else (MAX_DEPTH, MAX_NEST)

    # -- output --------------------------------------------------------------------------
    def emit(self, name: str, *imm) -> None:
        self.out.append(Instr(OPS[name], tuple(imm)))
        self.budget -= 1

    def emit_op(self, op, imm) -> None:
        self.out.append(Instr(op, tuple(imm)))
        self.budget -= 1

    @property
    def declared_locals(self) -> tuple:
        return tuple(self.locals[len(self.ftype.params):])

    def new_local(self, t: ValType) -> int:
        self.locals.append(t)
        return len(self.locals) - 1

    def writable(self, t: ValType) -> list[int]:
        return [k for k, lt in enumerate(self.locals)
                if lt is t and k not in self.counters and k not in self.temps]

    # -- the whole function --------------------------------------------------------------
    def generate(self, extra_locals: int) -> list[Instr]:
        for _ in range(extra_locals):
            self.new_local(self.c.pick(VALTYPES))
        self.labels.append(Label("func", self.ftype.results))
        self.guard()
        for _ in range(40):  # the top level spends the budget on statements
            if self.budget <= 0 or not self.c.chance(95):
                break
            self.statement(1)
        if self.shape.checksum is not None and self.c.chance(85):
            self.epilogue()
        self.body((), self.ftype.results, 0)
        return self.out

    def epilogue(self) -> None:
        """Fold every local into the checksum global (exported), so a wrong value that
        only reached a local still shows in the final state."""
        g = self.shape.checksum
        budget = self.budget
        for k, t in enumerate(list(self.locals)):
            if t is V128 and not self.shape.simd:
                continue
            self.emit("global.get", g)
            self.emit("i64.const", 7)
            self.emit("i64.rotl")
            self.emit("local.get", k)
            if t is I32:
                self.emit("i64.extend_i32_u")
            elif t is F32:
                self.emit("i32.reinterpret_f32")
                self.emit("i64.extend_i32_u")
            elif t is F64:
                self.emit("i64.reinterpret_f64")
            elif t is V128:
                self.emit("i64x2.extract_lane", 0)
                self.emit("local.get", k)
                self.emit("i64x2.extract_lane", 1)
                self.emit("i64.xor")
            elif t.is_ref:
                self.emit("ref.is_null")
                self.emit("i64.extend_i32_u")
            self.emit("i64.xor")
            self.emit("global.set", g)
        self.budget = budget  # bookkeeping, not the program's size

    def guard(self) -> None:
        """Trap when the fuel global is zero, else decrement it."""
        g = self.shape.fuel
        self.emit("global.get", g)
        self.emit("i32.eqz")
        self.emit("if", None)
        self.emit("unreachable")
        self.emit("end")
        self.emit("global.get", g)
        self.emit("i32.const", 1)
        self.emit("i32.sub")
        self.emit("global.set", g)
        self.budget += 9  # guards are not the program's size

    # -- sequences -----------------------------------------------------------------------
    def produce(self, types, depth: int) -> None:
        """Leave ``types`` on the stack, with statements interleaved."""
        types = tuple(types)
        i = 0
        while i < len(types):
            if self.budget > 0 and self.c.chance(12):
                self.statement(depth + 1)
            if len(types) - i >= 2 and self.budget > 0 and self.c.chance(25):
                k = self.multi(types[i:], depth)
                if k:
                    i += k
                    continue
            self.expr(types[i], depth)
            i += 1

    def multi(self, types, depth: int) -> int:
        """Produce a prefix of ``types`` (two or more) with one call or block; its length,
        or 0 if nothing fits."""
        fits = [(c, len(c.type.results)) for c in self.shape.callees
                if len(c.type.results) >= 2
                and tuple(types[:len(c.type.results)]) == c.type.results]
        if fits and self.c.chance(60):
            callee, n = self.c.pick(fits)
            self.call(callee, depth)
            return n
        n = self.c.int(2, min(len(types), 4))
        self.block_expr(tuple(types[:n]), depth)
        return n

    def body(self, have, results, depth: int) -> None:
        """The inside of a block whose stack starts with ``have`` and must end with
        ``results``; may end with a branch instead."""
        have, results = tuple(have), tuple(results)
        keep = 0
        if have and results[:len(have)] == have and self.c.chance(60):
            keep = len(have)
        else:
            for t in reversed(have):
                self.consume(t)
        for _ in range(6):  # a continue flag before each, so shrinking can delete any
            if self.budget <= 0 or not self.c.chance(70):
                break
            self.statement(depth + 1)
        ending = self.c.weighted([(85, "fall"), (5, "br"), (4, "br_table"), (3, "return"),
                                  (1 if self.shape.risky else 0, "unreachable")]) \
            if self.budget > 0 else "fall"
        if ending == "fall" or not self.diverge(ending, depth):
            self.produce(results[keep:], depth)

    def consume(self, t: ValType) -> None:
        """Pop one value of type ``t`` usefully: into a local, a global or memory (where
        the final state shows it), or drop it."""
        locs = self.writable(t)
        globs = [k for k in self.mutable_globals if self.shape.globals[k].valtype is t]
        store = t in NUMERIC and self.shape.memory is not None
        how = self.c.weighted([(1, "drop"), (4 if locs else 0, "local"),
                               (2 if globs else 0, "global"), (3 if store else 0, "store")])
        if how == "local":
            self.emit("local.set", self.c.pick(locs))
        elif how == "global":
            self.emit("global.set", self.c.pick(globs))
        elif how == "store":
            tmp = self.temp(t)
            self.emit("local.set", tmp)
            self.i32(self.c.int(0, 240) & ~7)
            self.emit("local.get", tmp)
            self.emit(f"{t}.store", MemArg(0, 0))
        else:
            self.emit("drop")

    def temp(self, t: ValType) -> int:
        """A local of type ``t`` reserved for moving values (never a loop counter)."""
        for k in self.temps:
            if self.locals[k] is t:
                return k
        k = self.new_local(t)
        self.temps.append(k)
        return k

    def diverge(self, how: str, depth: int) -> bool:
        """End the current sequence with a branch, return, br_table or trap."""
        if how == "unreachable":
            self.emit("unreachable")
            return True
        if how == "return":
            self.produce(self.ftype.results, depth + 1)
            self.emit("return")
            return True
        forward = [k for k, lab in enumerate(self.labels) if lab.kind != "loop"]
        target = self.c.pick(forward)
        rel = len(self.labels) - 1 - target
        types = self.labels[target].types
        if how == "br":
            self.produce(types, depth + 1)
            self.emit("br", rel)
            return True
        same = [len(self.labels) - 1 - k for k, lab in enumerate(self.labels)
                if lab.types == types and (lab.kind != "loop" or self.c.chance(10))]
        targets = tuple(self.c.pick(same) for _ in range(self.c.int(0, 8)))
        if targets and rel == targets[0] and len(set(same)) > 1 and self.c.chance(80):
            # A default unlike the first target, so that taking one for the other shows.
            rel = self.c.pick([r for r in same if r != targets[0]])
        self.produce(types, depth + 1)
        self.index_expr(len(targets) + 1, depth)
        self.emit("br_table", targets, rel)
        return True

    # -- expressions ---------------------------------------------------------------------
    def expr(self, t: ValType, depth: int) -> None:
        """Emit code that pushes one value of type ``t``."""
        if self.budget <= 0 or depth >= self.max_depth:
            return self.leaf(t)
        ops = self.by_result[t]
        callees = [c for c in self.shape.callees if c.type.results == (t,)]
        labels = [k for k, lab in enumerate(self.labels)
                  if lab.types == (t,) and lab.kind != "loop"]
        nested = self.nest < self.max_nest
        refable = self.refable((t,)) if nested else []
        kind = self.c.weighted([
            (20, "leaf"), (55 if ops else 0, "op"), (5 if self.writable(t) else 0, "tee"),
            (4, "select"), (6 if nested else 0, "block"), (6 if callees else 0, "call"),
            (3 if self._indirect_ok() else 0, "call_indirect"),
            (2 if labels else 0, "br_if"), (6 if t.is_ref or t is I32 else 0, "special"),
            (3 if refable else 0, "call_ref"),
            (16 if t is I32 and self.shape.gc is not None else 0, "gc"),
        ])
        if kind == "leaf":
            self.leaf(t)
        elif kind == "op":
            themed = self.theme_by_result[t]
            if themed and self.c.chance(60):
                ops = themed
            elif t is I32 and self.i32_values and self.c.chance(70):
                ops = self.i32_values
            self.table_op(self.c.pick(ops), depth)
        elif kind == "tee":
            self.expr(t, depth + 1)
            self.emit("local.tee", self.c.pick(self.writable(t)))
        elif kind == "select":
            self.expr(t, depth + 1)
            self.expr(t, depth + 1)
            self.expr(I32, depth + 1)
            if t.is_ref or self.c.chance(30):
                self.emit("select_t", (t,))
            else:
                self.emit("select")
        elif kind == "block":
            self.block_expr((t,), depth)
        elif kind == "call":
            self.call(self.c.pick(callees), depth)
        elif kind == "call_indirect":
            self.call_indirect((t,), depth)
        elif kind == "call_ref":
            self.call_ref(self.c.pick(refable), depth)
        elif kind == "gc":
            self.gc_i32(depth)
        elif kind == "br_if":
            k = self.c.pick(labels)
            self.expr(t, depth + 1)
            self.cond(depth + 1)
            self.emit("br_if", len(self.labels) - 1 - k)
        else:
            self.special_expr(t, depth)

    def leaf(self, t: ValType) -> None:
        locs = [k for k, lt in enumerate(self.locals) if lt is t]
        globs = [k for k, g in enumerate(self.shape.globals) if g.valtype is t]
        kind = self.c.weighted([(6, "const"), (5 if locs else 0, "local"),
                                (2 if globs else 0, "global")])
        if kind == "local":
            self.emit("local.get", self.c.pick(locs))
        elif kind == "global":
            self.emit("global.get", self.c.pick(globs))
        else:
            self.const(t)

    def const(self, t: ValType) -> None:
        if t.is_ref:
            if t is FUNCREF and self.shape.refs and self.c.chance(50):
                self.emit("ref.func", self.c.pick(self.shape.refs))
            else:
                self.emit("ref.null", t)
            return
        bits = self.c.bits(t)
        if t is I32:
            bits = bits - (1 << 32) if bits >> 31 else bits
        elif t is I64:
            bits = bits - (1 << 64) if bits >> 63 else bits
        self.emit(f"{t}.const", bits)

    def special_expr(self, t: ValType, depth: int) -> None:
        """References and the table instructions typed by hand."""
        tables = [k for k, tt in enumerate(self.shape.tables) if not t.is_ref or tt.elem is t]
        if t.is_ref:
            how = self.c.weighted([(3, "const"), (3 if tables else 0, "table.get"),
                                   (1 if t is EXTERNREF and self._host("h_ext") else 0, "h_ext")])
            if how == "table.get":
                x = self.c.pick(tables)
                self.table_index(x, depth)
                self.emit("table.get", x)
            elif how == "h_ext":
                self.call(self._host("h_ext"), depth)
            else:
                self.const(t)
            return
        how = self.c.weighted([(3, "is_null"), (2 if tables else 0, "table.grow"),
                               (1 if self._host("h_extid") else 0, "h_extid")])
        if how == "table.grow":
            x = self.c.pick(tables)
            self.expr(self.shape.tables[x].elem, depth + 1)
            self.grow_delta(self.shape.tables[x].limits, depth, table=True)
            self.emit("table.grow", x)
        elif how == "h_extid":
            self.call(self._host("h_extid"), depth)
        else:
            self.expr(self.c.pick((FUNCREF, EXTERNREF)), depth + 1)
            self.emit("ref.is_null")

    def _host(self, name: str):
        for c in self.shape.callees:
            if c.host and c.name == name:
                return c
        return None

    # -- instructions from the table -----------------------------------------------------
    def table_op(self, op, depth: int) -> None:
        """An ordinary row: operands for its parameters, immediates for its kinds."""
        name = op.name
        ps = op.params
        mem = 0
        if "memarg" in op.imms:
            mem = self.memory(True)
            self.address(1 << op.align, depth)
            if mem and self.shape.mems[mem].address is not ValType.I32:
                self.widen_address()
            for p in ps[1:]:
                self.expr(p, depth + 1)
        elif name == "memory.grow":
            assert self.shape.memory is not None  # offered only with a memory
            self.grow_delta(self.shape.memory.limits, depth)
        elif name in ("memory.fill", "memory.copy", "memory.init"):
            self.bulk_operands(name, depth)
        elif name[:3] in ("i32", "i64") and name[4:7] in ("div", "rem"):
            self.expr(ps[0], depth + 1)
            self.divisor(ps[1], depth)
        elif ".trunc_f" in name:
            self.float_operand(ps[0], depth)
        elif name in EXACT_FLOAT_OPS:
            for p in ps:
                self.nan_operand(p, depth)
        else:
            for p in ps:
                if p in NUMERIC and self.c.chance(25):
                    # A boundary constant straight in: most edge cases of an operation
                    # are edge values of its operands (clz of 0, shifts by 32, ...).
                    self.const(p)
                else:
                    self.expr(p, depth + 1)
        self.mem_choice = mem  # operands above may have made accesses of their own
        self.emit_op(op, [self.immediate(kind, op) for kind in op.imms])
        canon = canon_helper(op)
        if canon:
            self.emit("call", Sym(canon))
        if (len(op.results) == 1 and op.results[0] in NUMERIC
                and self.shape.checksum is not None
                and self.c.chance(35 if op in self.theme else 10)):
            self.emit("call", Sym(f"observe_{op.results[0]}"))

    def immediate(self, kind: str, op):
        c = self.c
        if kind == "memarg":
            k = self.mem_choice
            wide = bool(k) and self.shape.mems[k].address is not ValType.I32
            return MemArg(c.int(0, op.align), self.offset(wide), k)
        if kind == "lane":
            return c.int(0, op.lanes - 1)
        if kind == "shuffle":
            return self.shuffle()
        if kind in ("i32", "i64"):
            bits = c.bits(ValType(kind))
            w = 32 if kind == "i32" else 64
            return bits - (1 << w) if bits >> (w - 1) else bits
        if kind in ("f32", "f64", "v128"):
            return c.bits(ValType(kind))
        if kind == "mem":  # memory.size/grow/fill/copy/init: a 32-bit memory (i32 operands)
            return self.memory(False)
        if kind == "data":
            return c.int(0, self.shape.ndatas - 1)
        if kind == "elem":
            return c.int(0, len(self.shape.elem_types) - 1)
        if kind == "table":
            return c.int(0, len(self.shape.tables) - 1)
        raise AssertionError(f"no immediate generator for {kind}")

    # -- calls ---------------------------------------------------------------------------
    def call(self, callee, depth: int) -> None:
        self.produce(callee.type.params, depth + 1)
        self.emit("call", callee.index)

    def _indirect_ok(self) -> bool:
        return any(tt.elem is FUNCREF for tt in self.shape.tables)

    def call_indirect(self, results, depth: int, op: str = "call_indirect") -> None:
        """call_indirect (or ``op``, return_call_indirect) through a funcref table: mostly
        a slot whose function has the type called with, sometimes a mismatch, a null or an
        index out of range."""
        tables = [k for k, tt in enumerate(self.shape.tables) if tt.elem is FUNCREF]
        x = self.c.pick(tables)
        slots = [(s, ft) for s, ft in self.shape.slots.get(x, []) if ft.results == tuple(results)]
        sure = 75 if self.shape.risky else 95
        if slots and self.c.chance(sure):
            slot, ft = self.c.pick(slots)
        else:
            slot = None
            params = tuple(self.c.pick(NUMERIC) for _ in range(self.c.int(0, 2)))
            ft = FuncType(params, tuple(results))
        self.produce(ft.params, depth + 1)
        if slot is not None and self.c.chance(sure - 5):
            self.emit("i32.const", slot)
        else:
            self.table_index(x, depth)
        self.emit(op, self.shape.type_index(ft), x)

    # -- blocks and loops ----------------------------------------------------------------
    def block_type(self, params, results):
        if not params and len(results) == 0:
            return None
        if not params and len(results) == 1 and self.c.chance(80):
            return results[0]
        return self.shape.type_index(FuncType(params, results))

    def block_params(self) -> tuple:
        if self.c.chance(20):
            return tuple(self.c.pick(VALTYPES) for _ in range(self.c.int(1, 2)))
        return ()

    def block_expr(self, results, depth: int) -> None:
        """A block, if or loop that leaves ``results``."""
        kind = self.c.weighted([(4, "block"), (4, "if"), (2, "loop")])
        params = self.block_params()
        if kind == "loop":
            return self.loop(params, results, depth)
        self.produce(params, depth + 1)
        if kind == "if":
            self.cond(depth + 1)
        self.emit(kind, self.block_type(params, results))
        self.enter(Label(kind, results))
        self.body(params, results, depth + 1)
        if kind == "if" and (params != tuple(results) or self.c.chance(60)):
            self.emit("else")
            self.body(params, results, depth + 1)
        self.leave()
        self.emit("end")

    def enter_label(self, kind: str, types: tuple) -> None:
        self.enter(Label(kind, types))

    def enter(self, label: Label) -> None:
        self.labels.append(label)
        self.nest += 1

    def leave(self) -> None:
        self.labels.pop()
        self.nest -= 1

    def loop(self, params, results, depth: int) -> None:
        """A counted loop: a counter local set before it, decremented by the back edge,
        which is taken while it stays positive (at least one iteration, at most the count);
        sometimes a free loop, whose back edge has an arbitrary condition."""
        params, results = tuple(params), tuple(results)
        level = self.loops
        while len(self.counters) <= level:
            self.counters.append(self.new_local(I32))
        counter = self.counters[level]
        counted = not self.c.chance(8)
        if counted:
            if self.c.chance(80):
                self.emit("i32.const", self.c.int(1, 12))
            else:
                self.expr(I32, depth + 1)
                self.emit("i32.const", 15)
                self.emit("i32.and")
            self.emit("local.set", counter)
        self.produce(params, depth + 1)
        self.emit("loop", self.block_type(params, results))
        self.enter(Label("loop", params, counter if counted else None))
        self.loops += 1
        self.guard()
        self.body(params, params, depth + 1)
        if counted:
            self.back_edge_cond(counter)
        else:
            self.cond(depth + 1)
        self.emit("br_if", 0)
        self.body(params, results, depth + 1)
        self.loops -= 1
        self.leave()
        self.emit("end")

    def back_edge_cond(self, counter: int) -> None:
        self.emit("local.get", counter)
        self.emit("i32.const", 1)
        self.emit("i32.sub")
        self.emit("local.tee", counter)
        self.emit("i32.const", 0)
        self.emit("i32.gt_s")
        self.budget += 6

    def continue_edge(self, depth: int) -> bool:
        """A ``br_if`` back to an enclosing counted loop, decrementing its counter."""
        loops = [k for k, lab in enumerate(self.labels)
                 if lab.kind == "loop" and lab.counter is not None]
        if not loops:
            return False
        k = self.c.pick(loops)
        label = self.labels[k]
        self.produce(label.types, depth + 1)
        self.back_edge_cond(label.counter)
        self.emit("br_if", len(self.labels) - 1 - k)
        for t in reversed(label.types):
            self.consume(t)
        return True

    # -- statements ----------------------------------------------------------------------
    def statement(self, depth: int) -> None:
        """Emit code that leaves the stack as it was."""
        c = self.c
        shape = self.shape
        nested = self.nest < self.max_nest and depth < self.max_depth
        stores = [op for op in self.void_ops if op.name != "nop"]
        kind = c.weighted([
            (2, "nop"), (40, "compute"), (10, "local.set"),
            (6 if self.mutable_globals else 0, "global.set"),
            (16 if stores else 0, "void_op"), (4, "drop"), (8 if shape.callees else 0, "call"),
            (3 if self._indirect_ok() else 0, "call_indirect"), (10 if nested else 0, "loop"),
            (8 if nested else 0, "block"), (5, "br_if"), (3 if self.loops else 0, "continue"),
            (2, "return_if"), (5 if shape.tables else 0, "table"),
            (3 if self._tail_callees() or self._indirect_ok() else 0, "tail_call"),
            (3 if nested and self.refable(self.ftype.results) else 0, "tail_ref"),
        ])
        if kind == "nop":
            self.emit("nop")
        elif kind == "local.set":
            t = c.pick(VALTYPES)
            locs = self.writable(t)
            if not locs:
                locs = [self.new_local(t)]
            self.expr(t, depth)
            self.emit(c.pick(("local.set", "local.set", "local.tee")), c.pick(locs))
            if self.out[-1].op.name == "local.tee":
                self.emit("drop")
        elif kind == "global.set":
            g = c.pick(self.mutable_globals)
            self.expr(shape.globals[g].valtype, depth)
            self.emit("global.set", g)
        elif kind == "void_op":
            self.table_op(c.pick(stores), depth)
        elif kind == "compute":  # any row of the table, its result kept somewhere
            op = c.pick(self.theme if self.theme and c.chance(50) else self.usable)
            self.table_op(op, depth)
            for t in op.results:
                self.consume(t)
        elif kind == "drop":
            self.expr(c.pick(VALTYPES), depth)
            self.emit("drop")
        elif kind == "call":
            callee = c.pick(shape.callees)
            self.call(callee, depth)
            for t in reversed(callee.type.results):
                self.consume(t)
        elif kind == "call_indirect":
            results = tuple(c.pick(NUMERIC) for _ in range(c.int(0, 2)))
            self.call_indirect(results, depth)
            for t in reversed(results):
                self.consume(t)
        elif kind == "loop":
            params = self.block_params()
            self.loop(params, (), depth)
        elif kind == "block":
            self.block_stmt(depth)
        elif kind == "br_if":
            self.br_if_stmt(depth)
        elif kind == "continue":
            self.continue_edge(depth)
        elif kind == "tail_ref":  # return_call_ref, under a condition
            self.cond(depth)
            self.emit("if", None)
            self.enter(Label("if", ()))
            self.call_ref(c.pick(self.refable(self.ftype.results)), depth + 1, tail=True)
            self.leave()
            self.emit("end")
        elif kind == "return_if":
            self.cond(depth)
            self.emit("if", None)
            self.enter(Label("if", ()))
            self.produce(self.ftype.results, depth + 1)
            self.emit("return")
            self.leave()
            self.emit("end")
        elif kind == "tail_call":
            self.tail_call(depth)
        else:
            self.table_stmt(depth)

    def _tail_callees(self) -> list:
        return [ce for ce in self.shape.callees if ce.type.results == self.ftype.results]

    def tail_call(self, depth: int) -> None:
        """A return_call (to a function or import with this function's results) or a
        return_call_indirect, under an if so that the code after it stays live."""
        self.cond(depth)
        self.emit("if", None)
        self.enter(Label("if", ()))
        callees = self._tail_callees()
        if callees and (not self._indirect_ok() or self.c.chance(70)):
            callee = self.c.pick(callees)
            self.produce(callee.type.params, depth + 1)
            self.emit("return_call", callee.index)
        else:
            self.call_indirect(self.ftype.results, depth, op="return_call_indirect")
        self.leave()
        self.emit("end")

    def block_stmt(self, depth: int) -> None:
        results = tuple(self.c.pick(VALTYPES) for _ in range(self.c.int(0, 2))) \
            if self.c.chance(30) else ()
        self.block_expr(results, depth)
        for t in reversed(results):
            self.consume(t)

    def br_if_stmt(self, depth: int) -> None:
        k = self.c.pick([k for k, lab in enumerate(self.labels) if lab.kind != "loop"])
        types = self.labels[k].types
        self.produce(types, depth + 1)
        self.cond(depth + 1)
        self.emit("br_if", len(self.labels) - 1 - k)
        for t in reversed(types):
            self.consume(t)

    def table_stmt(self, depth: int) -> None:
        """table.set, table.fill, table.copy, table.init, elem.drop, or a dropped grow."""
        c = self.c
        tables = self.shape.tables
        x = c.int(0, len(tables) - 1)
        et = tables[x].elem
        inits = [e for e, t in enumerate(self.shape.elem_types) if t is et]
        copies = [y for y, tt in enumerate(tables) if tt.elem is et]
        how = c.weighted([(4, "set"), (2, "fill"), (2, "copy"), (3 if inits else 0, "init"),
                          (1 if self.shape.elem_types else 0, "elem.drop"), (1, "grow")])
        if how == "set":
            self.table_index(x, depth)
            self.expr(et, depth + 1)
            self.emit("table.set", x)
        elif how == "fill":
            self.table_index(x, depth)
            self.expr(et, depth + 1)
            self.table_length(depth)
            self.emit("table.fill", x)
        elif how == "copy":
            y = c.pick(copies)
            self.table_index(x, depth)
            self.table_index(y, depth)
            self.table_length(depth)
            self.emit("table.copy", x, y)
        elif how == "init":
            e = c.pick(inits)
            self.table_index(x, depth)
            self.emit("i32.const", c.int(0, 3))
            self.table_length(depth)
            self.emit("table.init", e, x)
        elif how == "elem.drop":
            self.emit("elem.drop", c.int(0, len(self.shape.elem_types) - 1))
        else:
            self.expr(et, depth + 1)
            self.grow_delta(tables[x].limits, depth, table=True)
            self.emit("table.grow", x)
            self.emit("drop")


def canon_helper(op) -> str | None:
    """The NaN-canonicalizing helper that must follow ``op``, if any."""
    from .nan import NAN_OPS

    if op.name not in NAN_OPS:
        return None
    shape = op.name.split(".")[0]
    if shape in ("f32", "f64"):
        return f"canon_{shape}"
    return f"canon_{shape}"  # f32x4 or f64x2


__all__ = ["FunctionGen", "Label", "canon_helper", "MAX_DEPTH"]
