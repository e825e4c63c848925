"""Lowering scalar numeric instructions (i32, i64, f32, f64) and the small value
instructions (select, globals, references).

Exactness notes:
- shifts mask their count (LLVM shifts by >= width are poison), rotates use funnel
  shifts, clz/ctz ask for a defined result at zero;
- division checks zero and overflow explicitly (the hardware would kill the process),
  and rem_s of INT_MIN by -1 divides by 1 instead (x86 idiv faults on it);
- float min/max use llvm.minimum/maximum (wasm's -0 < +0 and NaN propagation) but
  quiet a NaN result by adding the operands (minimum returns a signalling NaN as is);
- float-to-int truncation checks NaN and range against exact double bounds;
- f32 stays float; promote/demote results are laundered so LLVM cannot fold
  demote(promote(x)) to x, which would let a signalling NaN through.
"""
from __future__ import annotations

from . import types as T
from .types import F32, F64, I32, I64, LL

_FCMP = {"eq": "oeq", "ne": "une", "lt": "olt", "gt": "ogt", "le": "ole", "ge": "oge"}
_IBIN = {"add": "add", "sub": "sub", "mul": "mul", "and": "and", "or": "or", "xor": "xor"}
_SHIFT = {"shl": "shl", "shr_s": "ashr", "shr_u": "lshr"}
_FBIN = {"add": "fadd", "sub": "fsub", "mul": "fmul", "div": "fdiv"}
_FUN = {"ceil": "ceil", "floor": "floor", "trunc": "trunc", "nearest": "roundeven",
        "sqrt": "sqrt", "abs": "fabs"}
_SUFFIX = {"i32": "i32", "i64": "i64", "f32": "f32", "f64": "f64"}

# Exclusive (lo, hi) bounds of x for which trunc(x) fits, as the numerics oracle has them;
# the signed i64 lower bound is inclusive (-2^63 is exact and fits).
_TRUNC_BOUNDS = {
    ("i32", "s"): (-2147483649.0, 2147483648.0, False),
    ("i32", "u"): (-1.0, 4294967296.0, False),
    ("i64", "s"): (-9223372036854775808.0, 9223372036854775808.0, True),
    ("i64", "u"): (-1.0, 18446744073709551616.0, False),
}


def intrinsic(fe, name: str, ret: str, args: list[tuple[str, str]]) -> str:
    """Call LLVM intrinsic ``name`` (declared on first use)."""
    fe.mod.declare(name, ret, [t for t, _ in args])
    return fe.op(f"call {ret} @{name}(" + ", ".join(f"{t} {v}" for t, v in args) + ")")


def _bool(fe, i1: str) -> str:
    return fe.op(f"zext i1 {i1} to i32")


# -- conditions (i1 results) ----------------------------------------------------------------------
def lower_cond(fe, e) -> str | None:
    """The i1 value of comparison ``e`` (evaluating its operands), or None if ``e`` is
    not a comparison."""
    if not is_compare(e.op):
        return None
    return compare(fe, e.op, [fe.expr(x) for x in e.args])


def is_compare(op) -> bool:
    """A scalar relop or testop, or ref.is_null: an i1 in LLVM, an i32 0/1 in wasm."""
    return op.is_test and op.shape in ("i32", "i64", "f32", "f64") or op.name == "ref.is_null"


def icmp_predicate(op) -> str:
    """LLVM's icmp predicate for an integer relop row (scalar or lanes)."""
    rel = op.operator[:2]
    return rel if op.signed is None else ("s" if op.signed else "u") + rel


def fcmp_predicate(op) -> str:
    """LLVM's fcmp predicate for a float relop row: ordered, but ne is true for NaN."""
    return _FCMP[op.operator]


def compare(fe, op, a: list[str]) -> str:
    """The i1 value of comparison row ``op`` on evaluated operands."""
    ty = op.shape
    if ty in ("i32", "i64"):
        if op.cls == "testop":  # eqz
            return fe.op(f"icmp eq {ty} {a[0]}, 0")
        return fe.op(f"icmp {icmp_predicate(op)} {ty} {a[0]}, {a[1]}")
    if ty in ("f32", "f64"):
        return fe.op(f"fcmp {fcmp_predicate(op)} {LL[op.params[0]]} {a[0]}, {a[1]}")
    return fe.op(f"icmp eq ptr {a[0]}, null")


# -- integers -------------------------------------------------------------------------------------
def int_op(fe, e, ty: str, op: str, a: list[str]) -> str:
    width = 32 if ty == "i32" else 64
    if op in _IBIN:
        return fe.op(f"{_IBIN[op]} {ty} {a[0]}, {a[1]}")
    if op in _SHIFT:
        n = fe.op(f"and {ty} {a[1]}, {width - 1}")
        return fe.op(f"{_SHIFT[op]} {ty} {a[0]}, {n}")
    if op in ("rotl", "rotr"):
        fn = "fshl" if op == "rotl" else "fshr"
        return intrinsic(fe, f"llvm.{fn}.{ty}", ty, [(ty, a[0]), (ty, a[0]), (ty, a[1])])
    if op in ("clz", "ctz"):
        fn = "ctlz" if op == "clz" else "cttz"
        return intrinsic(fe, f"llvm.{fn}.{ty}", ty, [(ty, a[0]), ("i1", "false")])
    if op == "popcnt":
        return intrinsic(fe, f"llvm.ctpop.{ty}", ty, [(ty, a[0])])
    if op in ("div_s", "div_u", "rem_s", "rem_u"):
        return _divide(fe, ty, op, a[0], a[1])
    if op.startswith("extend") and op.endswith("_s") and "_i32" not in op:
        bits = int(op[6:-2])
        t = fe.op(f"trunc {ty} {a[0]} to i{bits}")
        return fe.op(f"sext i{bits} {t} to {ty}")
    return _bool(fe, compare(fe, e.op, a))


def _divide(fe, ty: str, op: str, a: str, b: str) -> str:
    zero = fe.op(f"icmp eq {ty} {b}, 0")
    fe.trap_if(zero, T.DIV_ZERO)
    if op == "div_s":
        smin = "-2147483648" if ty == "i32" else "-9223372036854775808"
        m1 = fe.op(f"icmp eq {ty} {b}, -1")
        mn = fe.op(f"icmp eq {ty} {a}, {smin}")
        ov = fe.op(f"and i1 {m1}, {mn}")
        fe.trap_if(ov, T.OVERFLOW)
        return fe.op(f"sdiv {ty} {a}, {b}")
    if op == "rem_s":
        m1 = fe.op(f"icmp eq {ty} {b}, -1")
        d = fe.op(f"select i1 {m1}, {ty} 1, {ty} {b}")
        return fe.op(f"srem {ty} {a}, {d}")
    return fe.op(f"{'udiv' if op == 'div_u' else 'urem'} {ty} {a}, {b}")


# -- floats ---------------------------------------------------------------------------------------
def float_op(fe, e, ty: str, op: str, a: list[str]) -> str:
    lt = "float" if ty == "f32" else "double"
    sfx = _SUFFIX[ty]
    if op in _FBIN:
        # Plain operands: LLVM folds x - 0.0 or x * 1.0 to x (letting a signalling NaN
        # through unquieted) only when it can evaluate an operand, and every float it
        # could evaluate comes from a laundered source (FunctionEmitter.launder).
        return fe.op(f"{_FBIN[op]} {lt} {a[0]}, {a[1]}")
    if op in _FUN:
        return intrinsic(fe, f"llvm.{_FUN[op]}.{sfx}", lt, [(lt, a[0])])
    if op == "neg":
        return fe.op(f"fneg {lt} {a[0]}")
    if op == "copysign":
        return intrinsic(fe, f"llvm.copysign.{sfx}", lt, [(lt, a[0]), (lt, a[1])])
    if op in ("min", "max"):  # the x + y that quiets a NaN stays, as above
        return min_max(fe, lt, sfx, op, a[0], a[1])
    return _bool(fe, compare(fe, e.op, a))


def min_max(fe, lt: str, sfx: str, op: str, x: str, y: str) -> str:
    """wasm min/max (also lane-wise, with a vector ``lt``): llvm.minimum/maximum, with a
    NaN result replaced by x + y, a quiet NaN carrying an operand's payload."""
    fn = "minimum" if op == "min" else "maximum"
    m = intrinsic(fe, f"llvm.{fn}.{sfx}", lt, [(lt, x), (lt, y)])
    uno = fe.op(f"fcmp uno {lt} {x}, {y}")
    q = fe.op(f"fadd {lt} {x}, {y}")
    return fe.op(f"select {_i1(lt, uno)}, {lt} {q}, {lt} {m}")


def _i1(lt: str, v: str) -> str:
    """The type-annotated condition operand of a select over ``lt`` values."""
    if lt.startswith("<"):
        n = lt[1:].split(" x ")[0]
        return f"<{n} x i1> {v}"
    return f"i1 {v}"


# -- conversions ----------------------------------------------------------------------------------
def convert(fe, e, name: str, a: list[str]) -> str:
    x = a[0]
    if name == "i32.wrap_i64":
        return fe.op(f"trunc i64 {x} to i32")
    if name == "i64.extend_i32_s":
        return fe.op(f"sext i32 {x} to i64")
    if name == "i64.extend_i32_u":
        return fe.op(f"zext i32 {x} to i64")
    if name in _REINTERPRET:
        src, dst = _REINTERPRET[name]
        v = fe.op(f"bitcast {src} {x} to {dst}")
        # An integer LLVM can compute becomes a known float here (0.0, 1.0...) that would
        # fold x*1.0 or x-0.0 to x and let a signalling NaN through: launder it.
        return fe.launder(dst, v) if dst in ("float", "double") else v
    if name == "f32.demote_f64":
        return fe.launder("float", fe.op(f"fptrunc double {x} to float"))
    if name == "f64.promote_f32":
        return fe.launder("double", fe.op(f"fpext float {x} to double"))
    dst, _, rest = name.partition(".")
    kind, _, src_sign = rest.partition("_")  # trunc / trunc_sat / convert
    if kind == "convert":
        src, sign = src_sign.split("_")  # i32_s
        inst = "sitofp" if sign == "s" else "uitofp"
        ft = LL[F32 if dst == "f32" else F64]
        return fe.launder(ft, fe.op(f"{inst} {src} {x} to {ft}"))  # as for reinterpret
    # trunc_f32_s, trunc_sat_f64_u
    parts = rest.split("_")
    sat = parts[1] == "sat"
    src, sign = parts[-2], parts[-1]
    lt = "float" if src == "f32" else "double"
    if sat:
        fn = f"llvm.fpto{'s' if sign == 's' else 'u'}i.sat.{dst}.{src}"
        return intrinsic(fe, fn, dst, [(lt, x)])
    nan = fe.op(f"fcmp uno {lt} {x}, {x}")
    fe.trap_if(nan, T.CONVERSION)
    d = x if src == "f64" else fe.op(f"fpext float {x} to double")
    lo, hi, lo_inclusive = _TRUNC_BOUNDS[(dst, sign)]
    below = fe.op(f"fcmp {'olt' if lo_inclusive else 'ole'} double {d}, "
                  f"{T.double_literal(lo)}")
    above = fe.op(f"fcmp oge double {d}, {T.double_literal(hi)}")
    bad = fe.op(f"or i1 {below}, {above}")
    fe.trap_if(bad, T.OVERFLOW)
    return fe.op(f"{'fptosi' if sign == 's' else 'fptoui'} {lt} {x} to {dst}")


_REINTERPRET = {"i32.reinterpret_f32": ("float", "i32"), "i64.reinterpret_f64": ("double", "i64"),
                "f32.reinterpret_i32": ("i32", "float"), "f64.reinterpret_i64": ("i64", "double")}


# -- the rest -------------------------------------------------------------------------------------
def select(fe, e, a: list[str]) -> str:
    """wasm select. Marked !unpredictable: a producer that emitted a select (not a
    branch) meant it, and this keeps LLVM's x86 pass from turning the cmov back into a
    branch in loops (a sort's comparisons mispredict half the time)."""
    c = fe.op(f"icmp ne i32 {a[2]}, 0")
    lt = LL[e.type]
    return fe.op(f"select i1 {c}, {lt} {a[0]}, {lt} {a[1]}, !unpredictable !6")


def global_get(fe, e) -> str:
    index = e.imm[0]
    gt = fe.mod.info.globals[index]
    cell = fe.ctx_word(fe.layout.globals + index)
    extra = "" if gt.mutable else ", !invariant.load !6"
    return fe.op(f"load {LL[gt.valtype]}, ptr {cell}, align 8, !tbaa !2{extra}")


def ref_func(fe, e) -> str:
    return fe.ctx_word(fe.layout.funcs + e.imm[0])


def ref_is_null(fe, e, a: list[str]) -> str:
    c = fe.op(f"icmp eq ptr {a[0]}, null")
    return _bool(fe, c)


def ref_as_non_null(fe, e, a: list[str]) -> str:
    fe.trap_if(fe.op(f"icmp eq ptr {a[0]}, null"), T.NULL_REF)
    return a[0]


def scalar(fe, e, a: list[str]) -> str:
    """Numeric scalar instruction ``e`` on evaluated args ``a``."""
    name = e.op.name
    ty, _, op = name.partition(".")
    if e.op.cls == "cvtop":
        return convert(fe, e, name, a)
    if ty in ("i32", "i64"):
        return int_op(fe, e, ty, op, a)
    return float_op(fe, e, ty, op, a)


__all__ = ["scalar", "lower_cond", "select", "global_get", "ref_func", "ref_is_null",
           "intrinsic", "min_max", "I32", "I64"]
