"""The mutant catalogue of scripts/fuzz_power.py: semantic bugs to inject into one engine
(or the shared runtime), each with a *witness* module on which the bug shows, so a run can
first confirm the bug is live and then measure how fast the differential fuzzer finds it.

A mutant patches the current process by monkeypatching (an instruction's semantics in one
engine's numerics table or handler, its IR before an engine lowers it, or a bounds check in
the JIT's emitter); no file is changed. Apply at most one per process.

    from fayasm.testing.mutants import MUTANTS, witness
    m = MUTANTS["rem_s_sign"]
    m.apply()
    print(witness(m, ["interpreter", "python"]))   # the diff's headline
"""
from __future__ import annotations

from dataclasses import dataclass

M32 = 0xFFFF_FFFF


@dataclass
class Mutant:
    name: str
    engine: str  # where the bug is
    description: str
    apply: object  # () -> None, patches this process
    witness: str  # WAT
    call: tuple  # (export, [(type, value), ...])
    held_out: bool = False  # written after the generator was last tuned (see HELD_OUT)


MUTANTS: dict[str, Mutant] = {}


def mutant(name: str, engine: str, description: str, witness: str, call: tuple,
           held_out: bool = False):
    def register(fn):
        MUTANTS[name] = Mutant(name, engine, description, fn, witness, call, held_out)
        return fn
    return register


# -- patching helpers ----------------------------------------------------------------------

def interp_numeric(name: str, make):
    """The interpreter's implementation of ``name`` becomes ``make(original)``."""
    from fayasm.interpreter import code

    ops = dict(code.NUMERIC)
    ops[name] = make(ops[name])
    code.NUMERIC = ops


def interp_misc(name: str, handler):
    from fayasm.interpreter import misc

    misc.HANDLERS[name] = handler


def ir_rewrite(engine: str, expr=None, stmt=None):
    """Rewrite the IR the ``engine`` ("python" or "jit") lowers: ``expr(e)`` and
    ``stmt(s)`` return a replacement (or the same node), applied bottom-up."""
    import importlib

    from fayasm import ir

    mod = importlib.import_module({"python": "fayasm.translator.python.module",
                                   "jit": "fayasm.translator.llvm.module"}[engine])
    original = mod.build_function

    def fx(e):
        if isinstance(e, ir.Op):
            args = tuple(fx(a) for a in e.args)
            if args != e.args:
                e = ir.Op(e.op, args, e.imm, e.type)
        return expr(e) if expr else e

    def fbody(body):
        return [fs(s) for s in body]

    def fs(s):
        for attr in ("expr", "cond", "index"):
            if hasattr(s, attr) and isinstance(getattr(s, attr), ir.Expr):
                setattr(s, attr, fx(getattr(s, attr)))
        for attr in ("args", "values"):
            if hasattr(s, attr):
                setattr(s, attr, tuple(fx(a) if isinstance(a, ir.Expr) else a
                                       for a in getattr(s, attr)))
        for attr in ("body", "then", "else_"):
            if hasattr(s, attr):
                setattr(s, attr, fbody(getattr(s, attr)))
        return stmt(s) if stmt else s

    def build_function(*args, **kwargs):
        f = original(*args, **kwargs)
        f.body = fbody(f.body)
        return f
    mod.build_function = build_function


def op_named(e, name: str) -> bool:
    from fayasm import ir

    return isinstance(e, ir.Op) and e.op.name == name


def I(name: str, *args, imm=()):  # noqa: E743 - an IR Op, tersely
    from fayasm import ir
    from fayasm.isa import OPS

    op = OPS[name]
    return ir.Op(op, args, imm, args[0].type if name == "select" else None)


def C(t: str, v):
    from fayasm import ir
    from fayasm.runtime.types import ValType

    return ir.Const(ValType(t), v)


def _s32(x):
    x &= M32
    return x - (1 << 32) if x >> 31 else x


# -- the mutants ---------------------------------------------------------------------------

@mutant("rem_s_sign", "python", "i32.rem_s takes the divisor's sign, as Python's % does",
        '(module (func (export "f") (param i32 i32) (result i32) '
        '(i32.rem_s (local.get 0) (local.get 1))))', ("f", [("i32", -7), ("i32", 3)]))
def _rem_s_sign():
    def expr(e):
        if op_named(e, "i32.rem_s"):
            a, b = e.args
            return I("i32.rem_s", I("i32.add", I("i32.rem_s", a, b), b), b)
        return e
    ir_rewrite("python", expr)


@mutant("fill_bounds_off_by_one", "interpreter",
        "memory.fill/copy/init trap when the range ends exactly at the end of memory",
        '(module (memory 1) (func (export "f") (memory.fill (i32.const 65532) (i32.const 1) '
        '(i32.const 4))))', ("f", []))
def _fill_bounds():
    from fayasm.interpreter import misc
    from fayasm.runtime.errors import MEM_OOB, Trap

    def checked(fn, view_of):
        def handler(ctx, s, a, b):
            n, d = s[-1], s[-3]
            if d + n >= len(view_of(ctx, a, b)):
                raise Trap(MEM_OOB)
            return fn(ctx, s, a, b)
        return handler
    interp_misc("memory.fill", checked(misc.memory_fill, lambda ctx, a, b: ctx.mems[a].view))
    interp_misc("memory.copy", checked(misc.memory_copy, lambda ctx, a, b: ctx.mems[a].view))
    interp_misc("memory.init", checked(misc.memory_init, lambda ctx, a, b: ctx.mems[b].view))


@mutant("load_bounds_off_by_one", "jit",
        "loads and stores trap when the access ends exactly at the end of memory (> for >=)",
        '(module (memory 1) (func (export "f") (result i32) (i32.load (i32.const 65532))))',
        ("f", []))
def _load_bounds():
    from fayasm.translator.llvm import memops
    from fayasm.translator.llvm import types as T

    original = memops.address

    def address(fe, addr, offset, size):
        # an extra check with a limit one byte short, then the original access
        a = fe.op(f"zext i32 {addr} to i64")
        limit = fe.op(f"sub i64 {fe.memsize()}, {offset + size + 1}")
        fe.trap_if(fe.op(f"icmp sgt i64 {a}, {limit}"), T.MEM_OOB)
        return original(fe, addr, offset, size)
    memops.address = address


@mutant("nan_bit_neg", "interpreter", "f32.neg quiets a signalling NaN (drops its signalling bit)",
        '(module (func (export "f") (result i32) '
        '(i32.reinterpret_f32 (f32.neg (f32.const nan:0x200000)))))', ("f", []))
def _nan_neg():
    from fayasm.runtime.values import f32_from_bits, f32_to_bits

    def make(orig):
        return lambda x: f32_from_bits(f32_to_bits(orig(x)) | 0x400000) if x != x else orig(x)
    interp_numeric("f32.neg", make)


@mutant("nan_bit_reinterpret", "jit", "f32.reinterpret_i32 quiets signalling NaNs",
        '(module (func (export "f") (param i32) (result i32) '
        '(i32.reinterpret_f32 (f32.reinterpret_i32 (local.get 0)))))',
        ("f", [("i32", 0x7FA00000)]))
def _nan_reinterpret():
    def expr(e):
        if op_named(e, "f32.reinterpret_i32"):
            x = e.args[0]
            snan = I("i32.and",
                     I("i32.eq", I("i32.and", x, C("i32", 0x7FC00000)), C("i32", 0x7F800000)),
                     I("i32.ne", I("i32.and", x, C("i32", 0x003FFFFF)), C("i32", 0)))
            return I("f32.reinterpret_i32",
                     I("select", I("i32.or", x, C("i32", 0x00400000)), x, snan))
        return e
    ir_rewrite("jit", expr)


@mutant("br_table_default", "jit", "br_table sends an out-of-range index to its first label, "
        "not to the default",
        '(module (func (export "f") (param i32) (result i32) (block (block '
        '(br_table 0 1 (local.get 0))) (return (i32.const 10))) (i32.const 20)))',
        ("f", [("i32", 5)]))
def _br_table_default():
    from fayasm import ir

    def stmt(s):
        if isinstance(s, ir.BrTable) and s.labels:
            s.default = s.labels[0]
        return s
    ir_rewrite("jit", stmt=stmt)


@mutant("select_swap", "python", "select returns its second operand when the condition is true",
        '(module (func (export "f") (param i32) (result i32) '
        '(select (i32.const 1) (i32.const 2) (local.get 0))))', ("f", [("i32", 1)]))
def _select_swap():
    def expr(e):
        if op_named(e, "select") or op_named(e, "select_t"):
            a, b, c = e.args
            return type(e)(e.op, (b, a, c), e.imm, e.type)
        return e
    ir_rewrite("python", expr)


@mutant("grow_missed_failure", "interpreter",
        "memory.grow past the maximum returns the old size (as if it had grown) instead of -1",
        '(module (memory 1 2) (func (export "f") (result i32) (memory.grow (i32.const 5))))',
        ("f", []))
def _grow_failure():
    def handler(ctx, s, a, b):
        mem = ctx.mems[a]
        old = mem.pages
        r = mem.grow(s[-1])
        s[-1] = (old if r == -1 else r) & M32
    interp_misc("memory.grow", handler)


@mutant("shr_s_as_shr_u", "jit", "i64.shr_s shifts in zeros (lowered as a logical shift)",
        '(module (func (export "f") (param i64) (result i64) '
        '(i64.shr_s (local.get 0) (i64.const 4))))', ("f", [("i64", -256)]))
def _shr_s():
    def expr(e):
        if op_named(e, "i64.shr_s"):
            return I("i64.shr_u", *e.args)
        return e
    ir_rewrite("jit", expr)


@mutant("clz_zero", "python", "i32.clz of 0 is 31 instead of 32",
        '(module (func (export "f") (param i32) (result i32) (i32.clz (local.get 0))))',
        ("f", [("i32", 0)]))
def _clz_zero():
    def expr(e):
        if op_named(e, "i32.clz"):
            x = e.args[0]
            return I("select", C("i32", 31), I("i32.clz", x), I("i32.eqz", x))
        return e
    ir_rewrite("python", expr)


@mutant("trunc_sat_nan", "interpreter", "i32.trunc_sat_f32_s of NaN is -1 instead of 0",
        '(module (func (export "f") (result i32) (i32.trunc_sat_f32_s (f32.const nan))))',
        ("f", []))
def _trunc_sat_nan():
    interp_numeric("i32.trunc_sat_f32_s", lambda orig: lambda x: M32 if x != x else orig(x))


@mutant("add_sat_u_wraps", "jit", "i8x16.add_sat_u wraps around instead of saturating",
        '(module (func (export "f") (result i32) (i8x16.extract_lane_u 0 (i8x16.add_sat_u '
        '(v128.const i8x16 200 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0) '
        '(v128.const i8x16 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)))))', ("f", []))
def _add_sat():
    def expr(e):
        if op_named(e, "i8x16.add_sat_u"):
            return I("i8x16.add", *e.args)
        return e
    ir_rewrite("jit", expr)


@mutant("call_indirect_no_type_check", "interpreter",
        "call_indirect does not check the callee's type",
        '(module (type $t (func (result i32))) (table 1 funcref) (elem (i32.const 0) $g) '
        '(func $g (param i32) (result i32) (i32.const 7)) '
        '(func (export "f") (result i32) (call_indirect (type $t) (i32.const 0))))', ("f", []))
def _no_type_check():
    from fayasm.interpreter import code

    class AnyType:
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

        __hash__ = object.__hash__

    original = code.prepare

    def prepare(func, info, types):
        out = original(func, info, types)
        return [(k, AnyType(), b, c) if k == code.CALL_IND else (k, a, b, c)
                for k, a, b, c in out]
    code.prepare = prepare


@mutant("copy_overlap_forward", "interpreter",
        "memory.copy copies byte by byte from the start, wrong when the ranges overlap upward",
        '(module (memory 1) (data (i32.const 0) "abcd") (func (export "f") (result i32) '
        '(memory.copy (i32.const 1) (i32.const 0) (i32.const 3)) (i32.load (i32.const 0))))',
        ("f", []))
def _copy_forward():
    from fayasm.interpreter import misc

    def handler(ctx, s, a, b):
        n, src, d = s[-1], s[-2], s[-3]
        view = ctx.mems[a].view
        if src + n > len(view) or d + n > len(view):
            return misc.memory_copy(ctx, s, a, b)  # traps as it should
        del s[-3:]
        for i in range(n):
            view[d + i] = view[src + i]
    interp_misc("memory.copy", handler)


@mutant("extend_s_as_u", "python", "i64.extend_i32_s zero-extends",
        '(module (func (export "f") (param i32) (result i64) '
        '(i64.extend_i32_s (local.get 0))))', ("f", [("i32", -1)]))
def _extend():
    def expr(e):
        if op_named(e, "i64.extend_i32_s"):
            return I("i64.extend_i32_u", *e.args)
        return e
    ir_rewrite("python", expr)


@mutant("min_signed_zero", "interpreter", "f64.min of -0 and +0 returns its first operand",
        '(module (func (export "f") (result i64) '
        '(i64.reinterpret_f64 (f64.min (f64.const 0) (f64.const -0)))))', ("f", []))
def _min_zero():
    interp_numeric("f64.min", lambda orig: lambda a, b: a if a == b == 0 else orig(a, b))


@mutant("data_drop_noop", "interpreter", "data.drop does nothing (memory.init still works)",
        '(module (memory 1) (data $d "xyz") (func (export "f") (result i32) (data.drop $d) '
        '(memory.init $d (i32.const 0) (i32.const 0) (i32.const 1)) (i32.load8_u (i32.const 0))))',
        ("f", []))
def _data_drop():
    interp_misc("data.drop", lambda ctx, s, a, b: None)


@mutant("table_grow_new_size", "interpreter", "table.grow returns the new size, not the old",
        '(module (table 1 funcref) (func (export "f") (result i32) '
        '(table.grow (ref.null func) (i32.const 2))))', ("f", []))
def _table_grow():
    def handler(ctx, s, a, b):
        n = s.pop()
        r = ctx.tables[a].grow(n, s[-1])
        s[-1] = (r + n if r != -1 else r) & M32
    interp_misc("table.grow", handler)


@mutant("extract_lane_s_as_u", "python", "i16x8.extract_lane_s does not sign-extend",
        '(module (func (export "f") (result i32) (i16x8.extract_lane_s 0 '
        '(v128.const i16x8 -2 0 0 0 0 0 0 0))))', ("f", []))
def _extract():
    def expr(e):
        if op_named(e, "i16x8.extract_lane_s"):
            return I("i16x8.extract_lane_u", *e.args, imm=e.imm)
        return e
    ir_rewrite("python", expr)


@mutant("global_i64_wrapped", "python", "global.set of an i64 keeps only the low 32 bits",
        '(module (global $g (mut i64) (i64.const 0)) (func (export "f") (result i64) '
        '(global.set $g (i64.const -5)) (global.get $g)))', ("f", []))
def _global_i64():
    from fayasm import ir
    from fayasm.runtime.types import ValType

    def stmt(s):
        if isinstance(s, ir.GlobalSet) and s.expr.type is ValType.I64:
            s.expr = I("i64.extend_i32_u", I("i32.wrap_i64", s.expr))
        return s
    ir_rewrite("python", stmt=stmt)


@mutant("nearest_half_away", "interpreter", "f32.nearest rounds halves away from zero",
        '(module (func (export "f") (result f32) (f32.nearest (f32.const 2.5))))', ("f", []))
def _nearest():
    import math

    def make(orig):
        def nearest(x):
            if x != x or x in (math.inf, -math.inf) or x == 0:
                return orig(x)
            r = math.floor(abs(x) + 0.5)
            return math.copysign(float(r), x)
        return nearest
    interp_numeric("f32.nearest", make)


@mutant("dot_shared_runtime", "runtime (interpreter and python)",
        "i32x4.dot_i16x8_s adds only the even products: a bug in the numerics every "
        "Python-level engine shares, so only the JIT and wasmtime can disagree",
        '(module (func (export "f") (result i32) (i32x4.extract_lane 0 (i32x4.dot_i16x8_s '
        '(v128.const i16x8 1 2 0 0 0 0 0 0) (v128.const i16x8 3 4 0 0 0 0 0 0)))))', ("f", []))
def _dot_shared():
    from fayasm.runtime.numerics import OPS

    def dot(a, b):
        out = 0
        for lane in range(4):
            x = (a >> (32 * lane)) & 0xFFFF
            y = (b >> (32 * lane)) & 0xFFFF
            x -= (x & 0x8000) << 1
            y -= (y & 0x8000) << 1
            out |= ((x * y) & M32) << (32 * lane)
        return out
    OPS["i32x4.dot_i16x8_s"] = dot


@mutant("load16_s_unsigned", "interpreter", "i32.load16_s zero-extends",
        '(module (memory 1) (data (i32.const 0) "\\ff\\ff") (func (export "f") (result i32) '
        '(i32.load16_s (i32.const 0))))', ("f", []))
def _load16():
    from fayasm.interpreter import code

    code._INT_LOADS["i32.load16_s"] = ("<H", None)


@mutant("bitselect_swapped", "python", "v128.bitselect takes its first two operands swapped",
        '(module (func (export "f") (result i32) (i32x4.extract_lane 0 (v128.bitselect '
        '(v128.const i32x4 1 1 1 1) (v128.const i32x4 2 2 2 2) (v128.const i32x4 -1 0 0 0)))))',
        ("f", []))
def _bitselect():
    def expr(e):
        if op_named(e, "v128.bitselect"):
            a, b, c = e.args
            return I("v128.bitselect", b, a, c)
        return e
    ir_rewrite("python", expr)


@mutant("demote_truncates", "jit", "f32.demote_f64 rounds toward zero instead of to nearest",
        '(module (func (export "f") (result i32) (i32.reinterpret_f32 (f32.demote_f64 '
        '(f64.const 0x1.fffffffp+0)))))', ("f", []))
def _demote():
    # toward zero: demote(x) - one ulp toward zero when rounding went away from zero
    def expr(e):
        if op_named(e, "f32.demote_f64"):
            x = e.args[0]
            d = I("f32.demote_f64", x)
            away = I("f64.gt", I("f64.abs", I("f64.promote_f32", d)), I("f64.abs", x))
            bits = I("i32.reinterpret_f32", d)
            down = I("f32.reinterpret_i32", I("i32.sub", bits, C("i32", 1)))
            return I("select", down, d, away)
        return e
    ir_rewrite("jit", expr)


# -- held out ------------------------------------------------------------------------------
# Written after the generator's last tuning against the mutants above, and not used to
# tune it since: how the harness does on bugs it was not shaped around.

@mutant("rotl_as_rotr", "jit", "i32.rotl rotates right",
        '(module (func (export "f") (param i32 i32) (result i32) '
        '(i32.rotl (local.get 0) (local.get 1))))', ("f", [("i32", 1), ("i32", 1)]),
        held_out=True)
def _rotl():
    def expr(e):
        if op_named(e, "i32.rotl"):
            return I("i32.rotr", *e.args)
        return e
    ir_rewrite("jit", expr)


@mutant("call_args_swapped", "python", "a call passes its 2nd and 3rd arguments swapped when "
        "they have the same type",
        '(module (func $g (param i32 i32 i32) (result i32) (local.get 1)) '
        '(func (export "f") (result i32) (call $g (i32.const 1) (i32.const 2) (i32.const 3))))',
        ("f", []), held_out=True)
def _call_args():
    from fayasm import ir

    def stmt(s):
        if isinstance(s, ir.Call) and len(s.args) >= 3 and s.args[1].type is s.args[2].type:
            a = list(s.args)
            a[1], a[2] = a[2], a[1]
            s.args = tuple(a)
        return s
    ir_rewrite("python", stmt=stmt)


@mutant("load32_s_unsigned", "python", "i64.load32_s zero-extends",
        '(module (memory 1) (data (i32.const 0) "\\ff\\ff\\ff\\ff") (func (export "f") '
        '(result i64) (i64.load32_s (i32.const 0))))', ("f", []), held_out=True)
def _load32():
    def expr(e):
        if op_named(e, "i64.load32_s"):
            return I("i64.load32_u", *e.args, imm=e.imm)
        return e
    ir_rewrite("python", expr)


@mutant("trunc_u_range", "interpreter", "i32.trunc_f64_u traps from 4294967295.0 on (one "
        "below the true limit)",
        '(module (func (export "f") (result i32) (i32.trunc_f64_u (f64.const 4294967295.5))))',
        ("f", []), held_out=True)
def _trunc_range():
    def make(orig):
        def trunc(x):
            if x >= 4294967295.0:
                return orig(float("inf"))  # raises the spec's trap
            return orig(x)
        return trunc
    interp_numeric("i32.trunc_f64_u", make)


@mutant("nearest_neg_half", "python", "f64.nearest of -0.5 is +0 (the sign of a zero result "
        "lost)",
        '(module (func (export "f") (result i64) (i64.reinterpret_f64 (f64.nearest '
        '(f64.const -0.5)))))', ("f", []), held_out=True)
def _nearest_neg():
    def expr(e):
        if op_named(e, "f64.nearest"):
            x = e.args[0]
            return I("select", C("f64", 0.0), e, I("f64.eq", x, C("f64", -0.5)))
        return e
    ir_rewrite("python", expr)


@mutant("shr_s_lane_count", "jit", "i16x8.shr_s masks its count with 31, not 15 (a count of "
        "16-31 fills with the sign)",
        '(module (func (export "f") (result i32) (i16x8.extract_lane_s 0 (i16x8.shr_s '
        '(v128.const i16x8 256 0 0 0 0 0 0 0) (i32.const 17)))))', ("f", []), held_out=True)
def _shr_lane():
    def expr(e):
        if op_named(e, "i16x8.shr_s"):
            v, n = e.args
            return I("select", I("i16x8.shr_s", v, C("i32", 15)), e,
                     I("i32.ge_u", I("i32.and", n, C("i32", 31)), C("i32", 16)))
        return e
    ir_rewrite("jit", expr)


@mutant("popcnt64_low", "interpreter", "i64.popcnt counts only the low 32 bits",
        '(module (func (export "f") (result i64) (i64.popcnt (i64.const -1))))', ("f", []),
        held_out=True)
def _popcnt():
    interp_numeric("i64.popcnt", lambda orig: lambda x: orig(x & M32))


@mutant("copysign_nan_sign", "jit", "f32.copysign ignores the sign of a NaN sign operand",
        '(module (func (export "f") (result i32) (i32.reinterpret_f32 (f32.copysign '
        '(f32.const 1) (f32.const -nan)))))', ("f", []), held_out=True)
def _copysign():
    def expr(e):
        if op_named(e, "f32.copysign"):
            a, b = e.args
            return I("select", I("f32.abs", a), e, I("f32.ne", b, b))
        return e
    ir_rewrite("jit", expr)


@mutant("eqz64_low", "jit", "i64.eqz tests only the low 32 bits",
        '(module (func (export "f") (result i32) (i64.eqz (i64.const 0x100000000))))',
        ("f", []), held_out=True)
def _eqz():
    def expr(e):
        if op_named(e, "i64.eqz"):
            return I("i32.eqz", I("i32.wrap_i64", e.args[0]))
        return e
    ir_rewrite("jit", expr)


@mutant("extend8_s_from_bit_15", "interpreter", "i32.extend8_s sign-extends from bit 15",
        '(module (func (export "f") (result i32) (i32.extend8_s (i32.const 0x80))))', ("f", []),
        held_out=True)
def _extend8():
    interp_numeric("i32.extend8_s", lambda orig: lambda x: (
        (x & 0xFFFF) - ((x & 0x8000) << 1)) & M32)


def witness(m: Mutant, engines) -> str:
    """Run the mutant's witness module: the diff's headline, or why it shows nothing."""
    import fayasm
    from fayasm.testing.diff import diff

    module = fayasm.Module(m.witness)
    name, args = m.call
    plan = [(name, [fayasm.Val(t, v & ((1 << int(t[1:])) - 1)) for t, v in args])]
    r = diff(module, plan, engines=engines, wasmtime=True, metered=False)
    return r.difference.headline() if r.difference else "no difference"


__all__ = ["Mutant", "MUTANTS", "mutant", "witness"]
