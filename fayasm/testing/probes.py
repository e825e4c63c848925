"""Probes: tiny exported functions that apply one instruction to their parameters, and the
plan calls that run each of them many times with telling arguments.

A generated program computes with whatever values its code happens to produce, and a
call stops at its first trap, so most instructions of a module run a few times with
unremarkable operands, if at all. Yet a call costs about a millisecond where compiling
a module costs a tenth of a second (the jit's LLVM build dominates a campaign). So each
module also carries probes: ``i32.rem_s`` of two parameters, a load at a parameter
address, a ``br_table`` on a parameter, a ``call_indirect`` through a parameter index,
``memory.copy`` of three parameters, a global set and read back... The plan calls every
probe with boundary values, NaNs of every kind, halves, random values of random widths,
and second operands related to the first (equal, negated, one apart), so an instruction
wrong for one operand in a thousand is seen within a few modules.

Probes take and return v128 values as two i64 halves (wasmtime's Python API cannot carry
v128), and pass every nondeterministic NaN through the canonicalizing helpers like the
rest of the generated code.
"""
from __future__ import annotations

import random

from fayasm.isa import OPS
from fayasm.runtime.types import ExternKind, FuncType, HeapType, ValType
from fayasm.runtime.values import Val
from fayasm.syntax import ACTIVE, Data, Export, Function, Instr, MemArg

from .body import canon_helper
from .choose import Chooser, RandomChooser, ReplayChooser
from .nan import NAN_OPS
from .shape import FUNCREF, NUMERIC, Shape, Sym, ops_for
from .values import CORE, LANE_SHAPES, LANE_TYPE, WIDTH, Args, conversion_edges

I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128
EXTERNREF = ValType.EXTERNREF

DATA_AT, DATA_LEN = 96, 96  # a segment of varied bytes that load probes read
_FAR = (0xFFFF_FFFF, 0xFFFF_FFFC, 0x8000_0000, 0x7FFF_FFFF, 0x1_0000, 0xFFFF)
_FAR64 = (1 << 32, 1 << 63, (1 << 64) - 1, (1 << 64) - 8, (1 << 64) - 0x10000)
_HUGE_OFFSETS = (1 << 32, 1 << 63, (1 << 64) - 1)
MAX_SWEEP = 64  # calls


def I(name: str, *imm) -> Instr:  # noqa: E743 - an instruction, tersely
    return Instr(OPS[name], imm)


# -- probes -------------------------------------------------------------------------------

class Probe:
    """One probe: its core signature (v128 allowed), body (on the core parameters), and
    how to draw one call's arguments (a list of bits or Vals, by core parameter)."""

    def __init__(self, name: str, params, results, body, args, calls: int, extra=()):
        self.name, self.params, self.results = name, tuple(params), tuple(results)
        self.body, self.args, self.calls = body, args, calls
        self.extra = tuple(extra)  # locals after the parameters


class _Callee:
    """A function a probe calls, whose index is known once the probes are laid out."""

    def __init__(self, k: int):
        self.k = k


class ProbeGen:
    """Chooses a module's probes and builds them (see the module docstring)."""

    def __init__(self, c: Chooser, shape: Shape, module, fuel_per_call: int):
        self.c, self.shape, self.m = c, shape, module
        # Argument values are most of what probes draw. Through hypothesis, whose budget
        # of choices per example they would exhaust, they come from a seeded random
        # source instead (the probes themselves still shrink); other choosers record them.
        self.cheap = isinstance(c, (RandomChooser, ReplayChooser))
        self.ac = c if self.cheap else RandomChooser(random.Random(c.int(0, 2**32 - 1)))
        self.a = Args(self.ac)
        self.fuel_per_call = fuel_per_call
        self.by_result, self.void_ops = ops_for(shape)
        self.data_index: int | None = None
        self.callees: list = []  # (FuncType, body) of functions the probes call

    # -- what to probe ---------------------------------------------------------------------
    def choose(self) -> list[Probe]:
        c, shape = self.c, self.shape
        usable = [op for ops in self.by_result.values() for op in ops] + self.void_ops
        usable = [op for op in usable if op.name != "nop"]
        scalar = [op for op in usable if not op.vector]
        themed = [op for op in shape.theme if op in usable]
        picks = list(dict.fromkeys(themed))
        # Scalar rows are about two thirds of the picks, though 172 of the 408 rows: every
        # program uses them, while SIMD is one feature of many.
        for _ in range(c.int(20, 44) if self.cheap else c.int(0, 8)):
            op = c.pick(scalar if scalar and c.chance(40) else usable)
            if op not in picks:
                picks.append(op)
        # segment instructions come in pairs: a drop matters to the init after it
        names = {op.name for op in picks}
        for a, b in (("memory.init", "data.drop"), ("data.drop", "memory.init")):
            if a in names and b not in names:
                picks.append(OPS[b])
        self.twins: list[Probe] = []
        probes = [self.op_probe(op) for op in picks]
        probes += self.twins
        for op in picks[:len(themed)] + [c.pick(picks)
                                        for _ in range(c.int(2, 6) if self.cheap else c.int(0, 2))
                                        if picks]:
            p = self.sweep(op)
            if p:
                probes.append(p)
        if c.chance(35):
            probes.append(self.br_table_probe())
        if c.chance(25):
            probes.append(self.select_probe())
        if any(tt.elem is FUNCREF for tt in shape.tables) and c.chance(35):
            probes.append(self.call_indirect_probe())
        if c.chance(30):
            p = self.global_probe()
            if p:
                probes.append(p)
        if shape.tables and c.chance(30):
            probes.extend(self.table_probes())
        if c.chance(60):
            probes.extend(self.control_probes())
        if shape.gc is not None:
            probes.extend(self.gc_probes())
        return probes

    def gc_probes(self) -> list[Probe]:
        """GC (``GenConfig.gc``): packed fields read signed and unsigned, i31 values,
        array bounds, an overlapping array.copy, and a cast that fails for some
        arguments, all on boundary arguments."""
        c, g = self.c, self.shape.gc
        i31 = ValType.ref(False, HeapType.I31)
        anyref = ValType.ref(True, HeapType.ANY)
        probes = []
        for get in ("struct.get_s", "struct.get_u"):
            field = c.pick((1, 3))  # i8 or i16
            body = [I("local.get", 0), I("local.get", 0), I("i64.const", 0), I("local.get", 0),
                    I("f64.const", 0), I("struct.new", g.sub), I(get, g.sub, field)]
            probes.append(Probe(get, (I32,), (I32,), body, lambda: [self.value(I32)],
                                c.int(6, 14)))
        get = c.pick(("i31.get_s", "i31.get_u"))
        probes.append(Probe("ref.i31", (I32,), (I32,),
                            [I("local.get", 0), I("ref.i31"), I(get)],
                            lambda: [self.value(I32)], c.int(6, 14)))
        body = [I("local.get", 0), I("i32.const", 9), I("array.new", g.bytes),
                I("local.get", 1), I(c.pick(("array.get_s", "array.get_u")), g.bytes)]

        def bounds():
            ac = self.ac
            return [ac.pick((129, 255, 0x7F, 0x80, 0xFFFF_FFFF)),
                    ac.weighted([(4, ac.int(0, 10)), (1, ac.pick(_FAR))])]
        probes.append(Probe("array.get", (I32, I32), (I32,), body, bounds, c.int(6, 14)))
        body = [I("i32.const", k * 3 + 1) for k in range(8)]
        body += [I("array.new_fixed", g.words, 8), I("local.tee", 3), I("local.get", 0),
                 I("local.get", 3), I("local.get", 1), I("local.get", 2),
                 I("array.copy", g.words, g.words), I("local.get", 3), I("local.get", 0),
                 I("array.get", g.words)]

        def copies():
            ac = self.ac
            return [ac.int(0, 9), ac.int(0, 9), ac.weighted([(5, ac.int(0, 8)),
                                                             (1, ac.pick(_FAR))])]
        probes.append(Probe("array.copy", (I32, I32, I32), (I32,), body, copies,
                            c.int(6, 14), extra=(ValType.ref(True, g.words),)))
        body = [I("local.get", 0), I("if", anyref), I("struct.new_default", g.sub),
                I("else"), I("local.get", 0), I("ref.i31"), I("end"),
                I("ref.cast", ValType.ref(False, g.base)), I("struct.get", g.base, 0)]
        probes.append(Probe("ref.cast", (I32,), (I32,), body,
                            lambda: [self.ac.pick((0, 1, 2, 0xFFFF_FFFF))], c.int(4, 8)))
        probes.append(Probe("ref.test", (I32,), (I32,),
                            [I("local.get", 0), I("ref.i31"), I("ref.test", i31)],
                            lambda: [self.value(I32)], c.int(2, 4)))
        return probes

    def op_probe(self, op, fixed: dict | None = None, twin: bool = True) -> Probe:
        """A row of the instruction table applied to the parameters; operands in ``fixed``
        (index -> bits) are constants instead, since engines lower an operation on a
        constant by other paths (shifts by a constant, division by one, LLVM's folds)."""
        c, a = self.c, self.a
        fixed = fixed or {}
        name = op.name
        params = op.params
        imm = [self.immediate(kind, op) for kind in op.imms]
        free = [k for k in range(len(params)) if k not in fixed]
        body = [const(params[k], fixed[k]) if k in fixed else I("local.get", free.index(k))
                for k in range(len(params))]
        body.append(Instr(op, tuple(imm)))
        canon = canon_helper(op) if name in NAN_OPS else None
        if canon:
            body.append(I("call", Sym(canon)))
        hint = name.split(".")[0]
        memarg = imm[0] if "memarg" in op.imms else None
        width = (1 << op.align) if memarg is not None else 0
        wide = memarg is not None and self.shape.mems[memarg.mem].address is I64
        if wide:  # memory64: the address parameter is an i64
            params = (I64,) + params[1:]
            body[0] = const(I64, fixed[0]) if 0 in fixed else body[0]

        conversion = conversion_edges(name)

        def values():
            out = []
            for k, t in enumerate(params):
                if k == 0 and memarg is not None:
                    out.append(self.address(width, memarg.offset, memarg.mem))
                elif name in ("memory.fill", "memory.copy", "memory.init"):
                    out.append(self.bulk_arg(name, k, out))
                elif name == "memory.grow":
                    out.append(self.delta(self.shape.memory.limits))
                elif t is V128:
                    prev = out[-1] if out and params[k - 1] is V128 else None
                    out.append(a.v128(hint, prev))
                elif conversion and self.ac.chance(50):
                    out.append(self.ac.pick(conversion))
                else:
                    prev = out[-1] if out and params[k - 1] is t else None
                    out.append(a.scalar(t, prev))
                if k in fixed:
                    out[-1] = fixed[k]
            return out

        if params and twin and not fixed and not wide and c.chance(40):
            # and a twin with some operands constant (drawn like arguments)
            first = values()
            held = {k: first[k] for k in range(len(params)) if c.chance(60)}
            self.twins.append(self.op_probe(op, held or {0: first[0]}))

        def args():
            return [v for k, v in enumerate(values()) if k not in fixed]
        return Probe(name, [params[k] for k in free], op.results, body, args,
                     c.int(6, 16) if free else 1)

    def sweep(self, op) -> Probe | None:
        """The operation on every combination of some core values: the first four of the
        type's list (zeros and ones of both signs) and a few drawn from the rest, as many
        as keep the grid within MAX_SWEEP calls. v128 operands are vectors whose lanes run
        through the core values of the operation's lane shape at some relative shift."""
        import itertools

        params = op.params
        if not params or len(params) > 3 or any(k not in ("lane", "shuffle") for k in op.imms):
            return None
        per = {1: MAX_SWEEP, 2: 8, 3: 4}[len(params)]
        hint = op.name.split(".")[0]
        lists = []
        for t in params:
            if t is V128:
                width, kind = LANE_SHAPES.get(hint, (32, "i"))
                core = CORE[width] if width in (8, 16) else CORE[LANE_TYPE[width, kind]]
                lanes = 128 // width
                shifts = list(range(len(core)))
                picked = [shifts[self.ac.int(0, len(shifts) - 1)] for _ in range(per)]
                lists.append(list(dict.fromkeys(
                    sum((core[(k + s) % len(core)] & ((1 << width) - 1)) << (k * width)
                        for k in range(lanes)) for s in picked)))
            elif len(params) == 1 and conversion_edges(op.name):
                lists.append(list(dict.fromkeys(CORE[t] + conversion_edges(op.name))))
            else:
                core = CORE[t]
                rest = core[4:]
                extra = [rest[self.ac.int(0, len(rest) - 1)] for _ in range(max(per - 4, 0))]
                lists.append(list(dict.fromkeys(core[:min(per, 4)] + extra)))
        grid = list(itertools.product(*lists))[:MAX_SWEEP]
        base = self.op_probe(op, twin=False)
        it = iter(grid)
        return Probe(op.name, base.params, base.results, base.body, lambda: list(next(it)),
                     len(grid))

    def immediate(self, kind: str, op):
        c = self.c
        if kind == "memarg":
            offset = c.weighted([(6, 0), (3, c.int(1, 40)), (1, c.pick((0xFFFF, 0x10000,
                                                                          0xFFFF_FFFF)))])
            mem = self.memory(True)
            if mem and self.shape.mems[mem].address is I64 and c.chance(20):
                offset = c.pick(_HUGE_OFFSETS)  # address + offset may pass 2**64
            return MemArg(c.int(0, op.align), offset, mem)
        if kind == "lane":
            return c.int(0, op.lanes - 1)
        if kind == "shuffle":
            return tuple(c.int(0, 31) for _ in range(16))
        if kind in ("i32", "i64"):
            bits = self.a.scalar(ValType(kind))
            w = WIDTH[ValType(kind)]
            return bits - (1 << w) if bits >> (w - 1) else bits
        if kind in ("f32", "f64"):
            return self.a.scalar(ValType(kind))
        if kind == "v128":
            return self.a.v128(None)
        if kind == "mem":  # memory.size/grow/fill/copy/init: a 32-bit memory
            return self.memory(False)
        if kind == "data":  # one segment for all: memory.init after data.drop must trap
            if self.data_index is None:
                self.data_index = c.int(0, self.shape.ndatas - 1)
            return self.data_index
        if kind == "elem":
            return c.int(0, len(self.shape.elem_types) - 1)
        if kind == "table":
            return c.int(0, len(self.shape.tables) - 1)
        raise AssertionError(f"no immediate for {kind}")

    # -- operands with a role --------------------------------------------------------------
    def mem_size(self, mem: int = 0) -> int:
        if mem:
            return self.shape.mems[mem].limits.min * 65536
        assert self.shape.memory is not None  # asked for by memory instructions only
        return self.shape.memory.limits.min * 65536

    def memory(self, wide_ok: bool) -> int:
        """A memory index: mostly 0, another one when there are several (multi-memory), a
        64-bit one (memory64) only if ``wide_ok``."""
        mems = self.shape.mems
        choices = [k for k, mt in enumerate(mems) if k and (wide_ok or mt.address is I32)]
        if not choices or self.c.chance(60):
            return 0
        return self.c.pick(choices)

    def address(self, width: int, offset: int = 0, mem: int = 0) -> int:
        """Where the data is, or ending at (or one byte past, or before) the end of memory,
        or far away (for a 64-bit memory, past 2**32 and near 2**64 too)."""
        c = self.ac
        size = self.mem_size(mem)
        wide = mem and self.shape.mems[mem].address is I64
        mask = 0xFFFF_FFFF_FFFF_FFFF if wide else 0xFFFF_FFFF
        how = c.weighted([(6, "data"), (3, "end"), (1, "far"), (1, "any")])
        if how == "data":
            return c.int(0, DATA_AT + DATA_LEN)
        if how == "end":
            near = c.weighted([(3, 0), (2, 1), (2, -1), (1, c.int(-9, 9))])
            return (size - offset - width + near) & mask
        if how == "far":
            return c.pick(_FAR64 if wide and c.chance(50) else _FAR)
        return c.int(0, max(size - 1, 0))

    def length(self, size: int) -> int:
        c = self.ac
        how = c.weighted([(6, "small"), (2, "end"), (1, "far")])
        if how == "small":
            return c.int(0, 40)
        if how == "end":
            return max(size + c.int(-3, 1), 0)
        return c.pick(_FAR)

    def bulk_arg(self, name: str, k: int, prev: list) -> int:
        """memory.fill (dest, value, n), memory.copy (dest, src, n), memory.init (dest,
        offset in the segment, n): ranges that overlap, touch the end, or run past it."""
        c = self.ac
        size = self.mem_size()
        if k == 0:
            return self.address(1)
        if k == 1:
            if name == "memory.fill":
                return self.a.scalar(I32)
            if name == "memory.init":
                return c.weighted([(4, c.int(0, 4)), (1, c.int(5, 30)), (1, c.pick(_FAR))])
            if c.chance(50):  # overlapping the destination, either way round
                return (prev[0] + c.int(-8, 8)) & 0xFFFF_FFFF
            return self.address(1)
        if c.chance(30):  # up to the end of memory from the farther of the two
            start = max(prev[0], prev[1] if name == "memory.copy" else 0)
            return max(size - start + c.int(-1, 1), 0) & 0xFFFF_FFFF
        return self.length(size)

    def delta(self, limits, table: bool = False) -> int:
        """Pages or entries to grow by, never so many that success would be costly (a
        table may grow to millions of entries, and the diff compares it after each step)."""
        c = self.ac
        huge = (0xFFFF_FFFF, 0x8000_0000) if table else (0xFFFF_FFFF, 0x8000_0000, 0x1_0001)
        options = [(5, c.int(0, 2)), (2, c.pick(huge))]
        if limits.max is not None:
            options.append((3, limits.max - limits.min + c.int(0, 1)))
        return c.weighted(options)

    def index(self, n: int) -> int:
        c = self.ac
        how = c.weighted([(8, "in"), (2, "past"), (1, "far")])
        if how == "in":
            return c.int(0, max(n - 1, 0))
        if how == "past":
            return n + c.int(0, 2)
        return c.pick(_FAR)

    # -- control, select, calls, globals, tables -----------------------------------------
    def br_table_probe(self) -> Probe:
        """Nested blocks, each returning its own number; a br_table on the parameter."""
        c = self.c
        n = c.int(2, 6)
        targets = tuple(c.int(0, n - 1) for _ in range(c.int(0, 8)))
        default = c.int(0, n - 1)
        if targets and default == targets[0]:
            default = (default + 1) % n
        body = [I("block", None) for _ in range(n)]
        body += [I("local.get", 0), I("br_table", targets, default)]
        for k in range(n):
            body += [I("end"), I("i32.const", 100 + k), I("return")]
        body = body[:-1]  # the outermost block's number is the function's result

        def args():
            ac = self.ac
            return [ac.weighted([(6, ac.int(0, len(targets) + 2)),
                                 (1, ac.pick((0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 256)))])]
        return Probe("br_table", (I32,), (I32,), body, args, c.int(6, 14))

    def select_probe(self) -> Probe:
        c = self.c
        t = c.pick(NUMERIC if self.shape.simd else NUMERIC[:4])
        typed = c.chance(40)
        body = [I("local.get", 0), I("local.get", 1), I("local.get", 2),
                I("select_t", (t,)) if typed else I("select")]

        def args():
            x = self.a.v128(None) if t is V128 else self.a.scalar(t)
            y = self.a.v128(None, x) if t is V128 else self.a.scalar(t, x)
            return [x, y, self.ac.pick((0, 1, 2, 0xFFFF_FFFF, 0x8000_0000, 0x100))]
        return Probe("select", (t, t, I32), (t,), body, args, c.int(4, 8))

    def call_indirect_probe(self) -> Probe:
        """call_indirect through a parameter index, with a type some slots hold: the
        others must trap with the right reason."""
        c, shape = self.c, self.shape
        x = c.pick([k for k, tt in enumerate(shape.tables) if tt.elem is FUNCREF])
        slots = shape.slots.get(x, [])
        types = [ft for _, ft in slots] or [ce.type for ce in shape.callees if not ce.host]
        ft = c.pick(types)
        body = [I("i32.const", self.fuel_per_call), I("global.set", shape.fuel)]
        for t in ft.params:
            if t.is_ref:
                body.append(I("ref.null", t))
            else:
                body.append(const(t, self.a.v128(None) if t is V128 else self.a.scalar(t)))
        body += [I("local.get", 0), I("call_indirect", shape.type_index(ft), x)]
        size = shape.tables[x].limits.min

        def args():
            return [self.index(size)]
        return Probe("call_indirect", (I32,), ft.results, body, args, c.int(4, 10))

    def global_probe(self) -> Probe | None:
        """A global set from the parameter and read back (or only read, if immutable)."""
        c, shape = self.c, self.shape
        ks = [k for k, g in enumerate(shape.globals)
              if g.valtype in NUMERIC and k not in (shape.fuel, shape.checksum)
              and (shape.simd or g.valtype is not V128)]
        if not ks:
            return None
        k = c.pick(ks)
        t = shape.globals[k].valtype
        if shape.globals[k].mutable:
            body = [I("local.get", 0), I("global.set", k), I("global.get", k)]

            def args():
                return [self.a.v128(None) if t is V128 else self.a.scalar(t)]
            return Probe("global", (t,), (t,), body, args, c.int(3, 6))
        return Probe("global", (), (t,), [I("global.get", k)], lambda: [], 1)

    def value(self, t: ValType, near=None):
        return self.a.v128(None, near) if t is V128 else self.a.scalar(t, near)

    def control_probes(self) -> list[Probe]:
        """if/else and br_if carrying values, a counted loop, a block with parameters and
        several results, a call whose callee returns some of its parameters (argument
        passing and multi-value results in every order), a call of a host function."""
        c = self.c
        types = NUMERIC if self.shape.simd else NUMERIC[:4]
        out = []
        hosts = [ce for ce in self.shape.callees
                 if ce.host and all(t in NUMERIC for t in ce.type.params)]
        kinds = ("if", "br_if", "loop", "block", "call", "call") + (("host",) if hosts else ())
        for kind in dict.fromkeys(c.pick(kinds) for _ in range(c.int(1, 3))):
            t, u = c.pick(types), c.pick(types)
            if kind == "if":
                body = [I("local.get", 0), I("if", t), I("local.get", 1), I("else"),
                        I("local.get", 2), I("end")]
                out.append(Probe("if", (I32, t, t), (t,), body, lambda t=t: [
                    self.ac.pick((0, 1, 2, 0xFFFF_FFFF, 0x8000_0000)), self.value(t),
                    self.value(t)], c.int(3, 6)))
            elif kind == "br_if":
                fixed = self.value(t)
                body = [I("block", t), I("local.get", 0), I("local.get", 1), I("br_if", 0),
                        I("drop"), const(t, fixed), I("end")]
                out.append(Probe("br_if", (t, I32), (t,), body, lambda t=t: [
                    self.value(t), self.ac.pick((0, 1, 2, 0xFFFF_FFFF, 0x8000_0000))],
                    c.int(3, 6)))
            elif kind == "loop":
                body = [I("local.get", 0), I("i32.const", 63), I("i32.and"), I("local.set", 1),
                        I("i64.const", 0), I("local.set", 2), I("block", None), I("loop", None),
                        I("local.get", 1), I("i32.eqz"), I("br_if", 1),
                        I("local.get", 2), I("i64.const", 31), I("i64.mul"), I("local.get", 1),
                        I("i64.extend_i32_u"), I("i64.add"), I("local.set", 2),
                        I("local.get", 1), I("i32.const", 1), I("i32.sub"), I("local.set", 1),
                        I("br", 0), I("end"), I("end"), I("local.get", 2)]
                out.append(Probe("loop", (I32,), (I64,), body,
                                 lambda: [self.a.scalar(I32)], c.int(2, 4), extra=(I32, I64)))
            elif kind == "block":
                bt = self.shape.type_index(FuncType((t, u), (u, t)))
                body = [I("local.get", 0), I("local.get", 1), I("block", bt),
                        I("local.set", 3), I("local.set", 2), I("local.get", 3),
                        I("local.get", 2), I("end")]
                out.append(Probe("block", (t, u), (u, t), body, lambda t=t, u=u: [
                    self.value(t), self.value(u)], c.int(2, 4), extra=(t, u)))
            elif kind == "host":  # arguments into, results out of the host (and its log)
                ce = c.pick(hosts)
                ps = ce.type.params
                body = [I("local.get", k) for k in range(len(ps))] + [I("call", ce.index)]
                out.append(Probe(ce.name, ps, ce.type.results, body, lambda ps=ps: [
                    self.value(p) for p in ps], c.int(2, 5)))
            else:
                params = tuple(c.pick(types) for _ in range(c.int(1, 10)))
                picks = [c.int(0, len(params) - 1) for _ in range(c.int(1, 4))]
                results = tuple(params[k] for k in picks)
                self.callees.append((FuncType(params, results),
                                     [I("local.get", k) for k in picks]))
                body = [I("local.get", k) for k in range(len(params))]
                body.append(Instr(OPS["call"], (_Callee(len(self.callees) - 1),)))
                out.append(Probe("call", params, results, body, lambda ps=params: [
                    self.value(p) for p in ps], c.int(2, 4)))
        return out

    def table_probes(self) -> list[Probe]:
        c, shape = self.c, self.shape
        x = c.int(0, len(shape.tables) - 1)
        tt = shape.tables[x]
        et = tt.elem
        n = tt.limits.min
        if et is FUNCREF and shape.refs and c.chance(70):
            ref = I("ref.func", c.pick(shape.refs))
        else:
            ref = I("ref.null", et)
        out = []
        kinds = ["get", "set", "size", "grow", "fill", "copy"]
        inits = [e for e, t in enumerate(shape.elem_types) if t is et]
        if inits:
            kinds += ["init", "elem.drop"]
        chosen = list(dict.fromkeys(c.pick(kinds) for _ in range(c.int(1, 3))))
        if "init" in chosen or "elem.drop" in chosen:
            chosen = list(dict.fromkeys(chosen + ["init", "elem.drop"]))
            segment = c.pick(inits)
        for kind in chosen:
            if kind == "get":
                out.append(Probe("table.get", (I32,), (et,),
                                 [I("local.get", 0), I("table.get", x)],
                                 lambda: [self.index(n)], c.int(3, 8)))
            elif kind == "set":
                out.append(Probe("table.set", (I32,), (),
                                 [I("local.get", 0), ref, I("table.set", x)],
                                 lambda: [self.index(n)], c.int(3, 8)))
            elif kind == "size":
                out.append(Probe("table.size", (), (I32,), [I("table.size", x)],
                                 lambda: [], 1))
            elif kind == "grow":
                out.append(Probe("table.grow", (I32,), (I32,),
                                 [ref, I("local.get", 0), I("table.grow", x)],
                                 lambda: [self.delta(tt.limits, table=True)], c.int(2, 5)))
            elif kind == "fill":
                out.append(Probe("table.fill", (I32, I32), (),
                                 [I("local.get", 0), ref, I("local.get", 1), I("table.fill", x)],
                                 lambda: [self.index(n), self.ac.int(0, n + 1)], c.int(3, 6)))
            elif kind == "copy":
                y = c.pick([y for y, u in enumerate(shape.tables) if u.elem is et])
                out.append(Probe("table.copy", (I32, I32, I32), (),
                                 [I("local.get", 0), I("local.get", 1), I("local.get", 2),
                                  I("table.copy", x, y)],
                                 lambda: [self.index(n), self.index(n), self.ac.int(0, n + 1)],
                                 c.int(3, 6)))
            elif kind == "init":
                e = segment
                out.append(Probe("table.init", (I32, I32, I32), (),
                                 [I("local.get", 0), I("local.get", 1), I("local.get", 2),
                                  I("table.init", e, x)],
                                 lambda: [self.index(n), self.ac.int(0, 5), self.ac.int(0, 5)],
                                 c.int(3, 6)))
            else:
                out.append(Probe("elem.drop", (), (), [I("elem.drop", segment)],
                                 lambda: [], 1))
        return out

    # -- assembly ------------------------------------------------------------------------
    def data_segment(self) -> None:
        """Varied bytes where load probes look (every byte value, sign bits set and not)."""
        if self.shape.memory is None or self.shape.memory.limits.min == 0:
            return
        c = self.ac
        blob = bytes(c.int(0, 255) if c.chance(70) else c.pick((0, 0x80, 0xFF, 0x7F))
                     for _ in range(DATA_LEN))
        self.m.datas.append(Data(blob, ACTIVE, 0, [I("i32.const", DATA_AT)]))
        self.m.data_count = len(self.m.datas)

    def build(self, first_index: int, names: dict) -> tuple[list, list]:
        """Append the probes' functions to the module; returns (exports, plan calls)."""
        m = self.m
        probes = self.choose()
        if any(p.name.split(".")[-1].startswith(("load", "store")) for p in probes):
            self.data_segment()
        exports, calls = [], []
        after = first_index + len(probes)  # the callees' indices
        for k, p in enumerate(probes):
            ft, locals_, body = frame(p)
            body = [Instr(ins.op, (after + ins.imm[0].k,))
                    if ins.imm and isinstance(ins.imm[0], _Callee) else ins for ins in body]
            m.funcs.append(Function(self.shape.type_index(ft), locals_, body))
            name = f"probe{k}_{p.name}"  # the report then says what the call runs
            names[first_index + k] = name
            exports.append(Export(name, ExternKind.FUNC, first_index + k))
            for _ in range(p.calls):
                calls.append((name, outer_args(p.params, p.args())))
        for j, (ft, body) in enumerate(self.callees):
            m.funcs.append(Function(self.shape.type_index(ft), (), body))
            names[after + j] = f"callee{j}"
        return exports, calls


def const(t: ValType, bits: int) -> Instr:
    w = WIDTH[t]
    if t in (I32, I64) and bits >> (w - 1):
        bits -= 1 << w
    return I(f"{t}.const", bits)


def frame(p: Probe):
    """(type, locals, body) of the exported function around a probe's core: v128
    parameters arrive and results leave as two i64 halves."""
    params = tuple(q for t in p.params for q in ((I64, I64) if t is V128 else (t,)))
    results = tuple(r for t in p.results for r in ((I64, I64) if t is V128 else (t,)))
    nparams = len(p.params) + len(p.extra)
    locals_ = list(p.params) + list(p.extra) + list(p.results)  # the core's, result temps
    body = []
    pos = 0
    for t in p.params:  # copy the outer parameters to the core's locals
        if t is V128:
            body += [I("local.get", pos), I("i64x2.splat"), I("local.get", pos + 1),
                     I("i64x2.replace_lane", 1)]
            pos += 2
        else:
            body.append(I("local.get", pos))
            pos += 1
    base = len(params)  # core parameter k lives in local base + k
    for k in reversed(range(len(p.params))):
        body.append(I("local.set", base + k))
    for ins in p.body:
        if ins.op.name in ("local.get", "local.set", "local.tee"):
            ins = Instr(ins.op, (base + ins.imm[0],))
        body.append(ins)
    if V128 in p.results:
        temps = base + nparams
        for j in reversed(range(len(p.results))):
            body.append(I("local.set", temps + j))
        for j, t in enumerate(p.results):
            if t is V128:
                for lane in (0, 1):
                    body += [I("local.get", temps + j), I("i64x2.extract_lane", lane)]
            else:
                body.append(I("local.get", temps + j))
    return FuncType(params, results), tuple(locals_), body


def outer_args(params, values) -> list[Val]:
    out = []
    for t, v in zip(params, values):
        if isinstance(v, Val):
            out.append(v)
        elif t is V128:
            out += [Val.from_bits(I64, v & (2**64 - 1)), Val.from_bits(I64, v >> 64)]
        else:
            out.append(Val.from_bits(t, v))
    return out


__all__ = ["Args", "Probe", "ProbeGen", "frame", "outer_args"]
