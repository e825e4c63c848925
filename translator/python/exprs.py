"""Lowering IR expressions to Python expressions.

i32/i64 values are unsigned ints, so wrapping arithmetic is an operator and a mask;
signed comparisons flip the sign bit; f64 arithmetic is Python's own; f32 arithmetic is
done in double precision and rounded once to single (exact for + - * / and sqrt). Helpers
from fayasm.runtime.numerics are called where operators are not exact (division by zero,
NaN rules of min/max, rounding modes, conversions, SIMD).
"""
from __future__ import annotations

from fayasm.ir import Const, Local, Op, Slot
from fayasm.runtime.types import ValType
from fayasm.runtime.values import f32_to_bits, f64_to_bits

M32, M64 = "0xFFFFFFFF", "0xFFFFFFFFFFFFFFFF"
S32, S64 = "0x80000000", "0x8000000000000000"

# Operators that are exact on raw values: operator -> template over {a} and {b}.
_INT_BIN = {"and": "({a} & {b})", "or": "({a} | {b})", "xor": "({a} ^ {b})"}
# A relop's relation (its operator without _s/_u) as a Python comparison; unsigned and float
# operands compare as they are, signed ones with the sign bit flipped.
_REL = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
# struct format letters of an integer access by its size: unsigned, signed.
_INT_FORMATS = {1: ("B", "b"), 2: ("H", "h"), 4: ("I", "i"), 8: ("Q", "q")}
_MASKS = {ValType.I32: M32, ValType.I64: M64}


def relation(op) -> str:
    """The Python comparison operator of a relop row."""
    return _REL[op.operator[:2]]


def int_load(op) -> tuple[str, str | None]:
    """An integer load row's struct format letter, and the mask a signed read needs."""
    unsigned, signed = _INT_FORMATS[op.access]
    return (signed, _MASKS[op.results[0]]) if op.signed else (unsigned, None)


def int_store(op) -> tuple[str, str | None]:
    """An integer store row's struct format letter, and the mask cutting the value to it."""
    width = 4 if op.shape == "i32" else 8
    return _INT_FORMATS[op.access][0], (None if op.access == width
                                        else hex((1 << 8 * op.access) - 1))


def is_int_access(op) -> bool:
    return op.cls in ("load", "store") and op.shape in ("i32", "i64")


def helper_name(op_name: str) -> str:
    """The module-level name a generated module binds a numerics helper to."""
    return "_n_" + op_name.replace(".", "_")


def mem_helper_name(op_name: str) -> str:
    """The module-level name for a load/store helper of fayasm.runtime.memops."""
    return "_m_" + op_name.replace(".", "_")


def is_simple(e) -> bool:
    """Cheap and pure: safe to evaluate more than once."""
    return type(e) in (Local, Slot) or (type(e) is Const and e.type is not ValType.V128)


class ExprLowering:
    """Turns IR expressions into Python source. ``var`` names variables; ``helpers`` collects
    the numerics helpers used; ``mem`` is the name of memory 0's view."""

    def __init__(self, fn):
        self.fn = fn  # the FunctionEmitter: names of locals, slots, globals, functions
        self.helpers: set[str] = set()
        self.mem_helpers: set[str] = set()

    def helper(self, op_name: str) -> str:
        self.helpers.add(op_name)
        return helper_name(op_name)

    def mem_helper(self, op_name: str) -> str:
        self.mem_helpers.add(op_name)
        return mem_helper_name(op_name)

    def const(self, e: Const) -> str:
        t, v = e.type, e.value
        if t in (ValType.I32, ValType.I64, ValType.V128):
            return str(v) if v < 1 << 16 else hex(v)
        if v is None:
            return "None"
        if t is ValType.F32:
            bits = f32_to_bits(v)
            if v != v or bits in (0x80000000,):
                return f"_f32b({bits:#x})"
            return _float_literal(v)
        bits = f64_to_bits(v)
        if v != v:
            return f"_f64b({bits:#x})"
        return _float_literal(v)

    def cond(self, e) -> str:
        """``e`` (an i32) as a Python truth value, without materialising a 0/1."""
        if type(e) is Op:
            name = e.op.name
            t = e.op.shape
            if e.op.cls == "testop" and t in ("i32", "i64"):  # eqz
                return f"({self.expr(e.args[0])} == 0)"
            if e.op.cls == "relop" and t in ("i32", "i64", "f32", "f64"):
                if e.op.signed:
                    return self._signed_cmp(t, relation(e.op), e.args)
                return f"({self.expr(e.args[0])} {relation(e.op)} {self.expr(e.args[1])})"
            if name == "ref.is_null":
                return f"({self.expr(e.args[0])} is None)"
        return self.expr(e)

    def _signed_cmp(self, t: str, sym: str, args) -> str:
        s = S32 if t == "i32" else S64
        sv = 0x80000000 if t == "i32" else 0x8000000000000000
        a, b = args
        left = f"({self.expr(a)} ^ {s})"
        if type(b) is Const:
            right = hex(b.value ^ sv)
        else:
            right = f"({self.expr(b)} ^ {s})"
        return f"({left} {sym} {right})"

    def expr(self, e) -> str:
        t = type(e)
        if t is Local:
            return self.fn.local(e.index)
        if t is Slot:
            return self.fn.slot(e.height)
        if t is Const:
            return self.const(e)
        return self.op(e)

    def op(self, e: Op) -> str:
        name = e.op.name
        args = e.args
        ty, _, op = name.partition(".")
        x = self.expr
        if ty in ("i32", "i64") and not e.op.imms:
            m = M32 if ty == "i32" else M64
            width = 32 if ty == "i32" else 64
            if op in ("add", "sub", "mul"):
                # Arithmetic modulo 2^n commutes with these, so operands that are
                # themselves ring operations need no mask of their own: one at the top.
                return f"({self.ring(e)} & {m})"
            if op in _INT_BIN:
                return _INT_BIN[op].format(a=x(args[0]), b=x(args[1]), m=m)
            if op in ("div_u", "rem_u") and type(args[1]) is Const and args[1].value:
                sym = "//" if op == "div_u" else "%"
                return f"({x(args[0])} {sym} {args[1].value})"
            if e.op.is_test:
                return f"(1 if {self.cond(e)} else 0)"
            if op == "shl":
                return f"(({x(args[0])} << {self._shift(args[1], width)}) & {m})"
            if op == "shr_u":
                return f"({x(args[0])} >> {self._shift(args[1], width)})"
            if op == "shr_s":
                s = S32 if ty == "i32" else S64
                return (f"(((({x(args[0])} ^ {s}) - {s}) >> {self._shift(args[1], width)})"
                        f" & {m})")
            if op == "clz":
                return f"({width} - ({x(args[0])}).bit_length())"
            if op == "popcnt":
                return f"({x(args[0])}).bit_count()"
            if op in ("extend8_s", "extend16_s", "extend32_s"):
                bits = int(op[6:-2])  # extend8_s / extend16_s / extend32_s
                s = 1 << (bits - 1)
                return f"(((({x(args[0])} & {hex((1 << bits) - 1)}) ^ {s}) - {s}) & {m})"
            if name == "i32.wrap_i64":
                return f"({x(args[0])} & {M32})"
            if name == "i64.extend_i32_u":
                return x(args[0])
            if name == "i64.extend_i32_s":
                return f"((({x(args[0])} ^ {S32}) - {S32}) & {M64})"
            if op.startswith("load"):
                return self.load(e)
        elif ty in ("f32", "f64") and not e.op.imms:
            if e.op.is_test:
                return f"(1 if {self.cond(e)} else 0)"
            if op in ("add", "sub", "mul"):
                sym = {"add": "+", "sub": "-", "mul": "*"}[op]
                inner = f"({x(args[0])} {sym} {x(args[1])})"
                return inner if ty == "f64" else f"_f32r{inner}"
            if op == "neg":
                return f"(-{x(args[0])})"
            if op == "abs":
                return f"abs({x(args[0])})"
            if name == "f64.convert_i32_u":
                return f"float({x(args[0])})"
            if op == "load":
                return self.load(e)
        elif name == "select" or name == "select_t":
            return f"({x(args[0])} if {self.cond(args[2])} else {x(args[1])})"
        elif name == "global.get":
            return self.fn.global_get(e.imm[0])
        elif name == "memory.size":
            return f"{self.fn.memory(e.imm[0])}.pages"
        elif name == "ref.null":
            return "None"
        elif name == "ref.is_null":
            return f"(1 if {x(args[0])} is None else 0)"
        elif name == "ref.func":
            return f"_funcs[{e.imm[0]}]"
        elif name == "ref.as_non_null":
            return f"_rt.non_null({x(args[0])})"
        elif name == "table.get":
            return f"_rt.table_get({self.fn.table(e.imm[0])}, {x(args[0])})"
        elif name == "table.size":
            return f"len({self.fn.table(e.imm[0])}.elements)"
        elif name == "memory.grow":
            mask = M64 if self.fn.module.mem_is64(e.imm[0]) else M32
            return f"({self.fn.memory(e.imm[0])}.grow({x(args[0])}) & {mask})"
        elif name == "table.grow":
            mask = M64 if self.fn.module.table_is64(e.imm[0]) else M32
            return f"({self.fn.table(e.imm[0])}.grow({x(args[1])}, {x(args[0])}) & {mask})"
        if e.op.feature == "gc":
            return self.fn.module.gc.expr(e, x)
        if e.op.align is not None:  # float, v128 and lane loads
            return self.load(e)
        # Everything else through its exact helper: operands, then lane immediates.
        parts = [x(a) for a in args] + [repr(v) for v in e.imm]
        return f"{self.helper(name)}({', '.join(parts)})"

    def ring(self, e) -> str:
        """``e`` without its final mask, when it is an add, sub, mul or constant shl (the
        caller masks); any other expression as usual."""
        if type(e) is Op and not e.op.imms:
            ty, _, op = e.op.name.partition(".")
            if ty in ("i32", "i64") and len(e.args) == 2:
                a, b = e.args
                if op in ("add", "sub", "mul"):
                    sym = {"add": "+", "sub": "-", "mul": "*"}[op]
                    return f"({self.ring(a)} {sym} {self.ring(b)})"
                if op == "shl" and type(b) is Const:
                    return f"({self.ring(a)} << {b.value & (31 if ty == 'i32' else 63)})"
        return self.expr(e)

    def _shift(self, e, width: int) -> str:
        if type(e) is Const:
            return str(e.value & (width - 1))
        return f"({self.expr(e)} & {width - 1})"

    def address(self, e: Op) -> str:
        addr = self.expr(e.args[0])
        off = e.imm[0].offset
        return f"{addr} + {off}" if off else addr

    def load(self, e: Op) -> str:
        name = e.op.name
        mem = self.fn.mem_view(e.imm[0].mem)
        ea = self.address(e)
        if is_int_access(e.op):
            fmt, mask = int_load(e.op)
            if fmt == "B":
                return f"{mem}[{ea}]"
            read = f"_ld{fmt}({mem}, {ea})[0]"
            return f"({read} & {mask})" if mask else read
        if name == "f32.load":
            return f"_f32b(_ldI({mem}, {ea})[0])"
        if name == "f64.load":
            return f"_ldd({mem}, {ea})[0]"
        if name == "v128.load":
            return f"_rt.v128_load({mem}, {ea})"
        if name.endswith("_lane"):  # v128.loadN_lane: (address, vector), memarg, lane
            return (f"{self.mem_helper(name)}({mem}, {ea}, {self.expr(e.args[1])}, "
                    f"{e.imm[1]})")
        return f"{self.mem_helper(name)}({mem}, {ea})"


def _float_literal(v: float) -> str:
    if v == float("inf"):
        return "_INF"
    if v == float("-inf"):
        return "(-_INF)"
    r = repr(v)
    return f"({r})" if r.startswith("-") else r
