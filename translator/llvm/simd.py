"""Lowering SIMD (v128) instructions to LLVM vector operations.

A v128 travels as <2 x i64>; each operation bitcasts to its lane shape (free) and back.
Semantics that need care: shift counts are taken modulo the lane width; swizzle gives 0
for an index of 16 or more (pshufb with such lanes forced to 0x80, or a lane-by-lane
fallback off x86); narrowing saturates by clamping in the wide type first; float min/max
quiet NaNs as the scalar ones do; pmin/pmax are the plain compare-and-select the spec
defines; trunc_sat uses llvm.fpto[su]i.sat, which gives 0 for NaN like wasm.

Relaxed SIMD computes the deterministic profile's result, as the other engines do
(runtime/numerics/relaxed.py): relaxed_swizzle, relaxed_trunc, relaxed_laneselect,
relaxed_min/max and relaxed_q15mulr lower exactly like swizzle, trunc_sat, bitselect,
min/max and q15mulr_sat; relaxed_madd is fmul then fadd with the product laundered, so
no pass or backend can contract the two into an FMA (one rounding instead of two); the
dot products read b signed and add pairs with signed 16-bit saturation.
"""
from __future__ import annotations

from .exprs import fcmp_predicate, icmp_predicate, intrinsic, min_max
from .memops import splat

SHAPES = {"i8x16": (16, "i8"), "i16x8": (8, "i16"), "i32x4": (4, "i32"), "i64x2": (2, "i64"),
          "f32x4": (4, "float"), "f64x2": (2, "double")}
_SFX = {"i8": "i8", "i16": "i16", "i32": "i32", "i64": "i64", "float": "f32", "double": "f64"}
_IBIN = {"add": "add", "sub": "sub", "mul": "mul"}
_FBIN = {"add": "fadd", "sub": "fsub", "mul": "fmul", "div": "fdiv"}
_SAT = {"add_sat_s": "sadd.sat", "add_sat_u": "uadd.sat", "sub_sat_s": "ssub.sat",
        "sub_sat_u": "usub.sat", "min_s": "smin", "min_u": "umin", "max_s": "smax",
        "max_u": "umax"}
_FUN = {"ceil": "ceil", "floor": "floor", "trunc": "trunc", "nearest": "roundeven",
        "sqrt": "sqrt", "abs": "fabs"}
_V = "<2 x i64>"


def vt(n: int, lane: str) -> str:
    return f"<{n} x {lane}>"


def vsfx(n: int, lane: str) -> str:
    return f"v{n}{_SFX[lane]}"


def cast(fe, v: str, n: int, lane: str) -> str:
    if n == 2 and lane == "i64":
        return v
    return fe.op(f"bitcast {_V} {v} to {vt(n, lane)}")


def back(fe, v: str, n: int, lane: str) -> str:
    if n == 2 and lane == "i64":
        return v
    return fe.op(f"bitcast {vt(n, lane)} {v} to {_V}")


def _splat_const(n: int, lane: str, value) -> str:
    return "<" + ", ".join(f"{lane} {value}" for _ in range(n)) + ">"


def _mask(idx) -> str:
    """A typed shufflevector mask."""
    idx = list(idx)
    return f"<{len(idx)} x i32> <" + ", ".join(f"i32 {i}" for i in idx) + ">"


def _half(fe, v: str, n: int, lane: str, high: bool) -> str:
    """The low or high half of the lanes of ``v`` (already in shape n x lane)."""
    h = n // 2
    idx = range(h, n) if high else range(h)
    return fe.op(f"shufflevector {vt(n, lane)} {v}, {vt(n, lane)} poison, {_mask(idx)}")


def _widen(lane: str) -> str:
    return {"i8": "i16", "i16": "i32", "i32": "i64"}[lane]


def lower(fe, e, a: list[str]) -> str:
    name = e.op.name
    shape, _, op = name.partition(".")
    if shape == "v128":
        return _v128(fe, e, op, a)
    n, lane = SHAPES[shape]
    handler = _BY_OP.get(op)
    if handler is not None:
        return handler(fe, e, n, lane, op, a)
    if shape in ("f32x4", "f64x2"):
        return _float(fe, e, n, lane, op, a)
    return _int(fe, e, n, lane, op, a)


# -- whole-vector operations ----------------------------------------------------------------------
def _v128(fe, e, op: str, a: list[str]) -> str:
    if op == "not":
        return fe.op(f"xor {_V} {a[0]}, <i64 -1, i64 -1>")
    if op in ("and", "or", "xor"):
        return fe.op(f"{op} {_V} {a[0]}, {a[1]}")
    if op == "andnot":
        nb = fe.op(f"xor {_V} {a[1]}, <i64 -1, i64 -1>")
        return fe.op(f"and {_V} {a[0]}, {nb}")
    if op == "bitselect":
        x = fe.op(f"and {_V} {a[0]}, {a[2]}")
        nc = fe.op(f"xor {_V} {a[2]}, <i64 -1, i64 -1>")
        y = fe.op(f"and {_V} {a[1]}, {nc}")
        return fe.op(f"or {_V} {x}, {y}")
    if op == "any_true":
        w = fe.op(f"bitcast {_V} {a[0]} to i128")
        c = fe.op(f"icmp ne i128 {w}, 0")
        return fe.op(f"zext i1 {c} to i32")
    raise NotImplementedError(f"v128.{op}")


# -- lanes ----------------------------------------------------------------------------------------
def _splat(fe, e, n, lane, op, a):
    v = a[0]
    if lane in ("i8", "i16"):
        v = fe.op(f"trunc i32 {v} to {lane}")
    return splat(fe, lane, n, v)


def _extract(fe, e, n, lane, op, a):
    v = cast(fe, a[0], n, lane)
    x = fe.op(f"extractelement {vt(n, lane)} {v}, i32 {e.imm[0]}")
    if op.endswith("_s"):
        return fe.op(f"sext {lane} {x} to i32")
    if op.endswith("_u"):
        return fe.op(f"zext {lane} {x} to i32")
    return x


def _replace(fe, e, n, lane, op, a):
    v = cast(fe, a[0], n, lane)
    x = a[1]
    if lane in ("i8", "i16"):
        x = fe.op(f"trunc i32 {x} to {lane}")
    r = fe.op(f"insertelement {vt(n, lane)} {v}, {lane} {x}, i32 {e.imm[0]}")
    return back(fe, r, n, lane)


def _shuffle(fe, e, n, lane, op, a):
    x, y = cast(fe, a[0], 16, "i8"), cast(fe, a[1], 16, "i8")
    r = fe.op(f"shufflevector <16 x i8> {x}, <16 x i8> {y}, {_mask(e.imm[0])}")
    return back(fe, r, 16, "i8")


def _swizzle(fe, e, n, lane, op, a):
    x, s = cast(fe, a[0], 16, "i8"), cast(fe, a[1], 16, "i8")
    if fe.mod.x86:
        small = fe.op(f"icmp ult <16 x i8> {s}, {_splat_const(16, 'i8', 16)}")
        idx = fe.op(f"select <16 x i1> {small}, <16 x i8> {s}, <16 x i8> "
                    f"{_splat_const(16, 'i8', -128)}")
        r = intrinsic(fe, "llvm.x86.ssse3.pshuf.b.128", "<16 x i8>",
                      [("<16 x i8>", x), ("<16 x i8>", idx)])
        return back(fe, r, 16, "i8")
    r = "zeroinitializer"
    for k in range(16):
        i = fe.op(f"extractelement <16 x i8> {s}, i32 {k}")
        ok = fe.op(f"icmp ult i8 {i}, 16")
        j = fe.op(f"select i1 {ok}, i8 {i}, i8 0")
        v = fe.op(f"extractelement <16 x i8> {x}, i8 {j}")
        v = fe.op(f"select i1 {ok}, i8 {v}, i8 0")
        r = fe.op(f"insertelement <16 x i8> {r}, i8 {v}, i32 {k}")
    return back(fe, r, 16, "i8")


# -- integer lanes --------------------------------------------------------------------------------
def _int(fe, e, n, lane, op, a):
    t = vt(n, lane)
    if e.op.cls == "relop":
        x, y = cast(fe, a[0], n, lane), cast(fe, a[1], n, lane)
        c = fe.op(f"icmp {icmp_predicate(e.op)} {t} {x}, {y}")
        return back(fe, fe.op(f"sext {vt(n, 'i1')} {c} to {t}"), n, lane)
    if op in _IBIN:
        x, y = cast(fe, a[0], n, lane), cast(fe, a[1], n, lane)
        return back(fe, fe.op(f"{_IBIN[op]} {t} {x}, {y}"), n, lane)
    if op in _SAT:
        x, y = cast(fe, a[0], n, lane), cast(fe, a[1], n, lane)
        r = intrinsic(fe, f"llvm.{_SAT[op]}.{vsfx(n, lane)}", t, [(t, x), (t, y)])
        return back(fe, r, n, lane)
    if op in ("shl", "shr_s", "shr_u"):
        bits = int(lane[1:])
        x = cast(fe, a[0], n, lane)
        k = fe.op(f"and i32 {a[1]}, {bits - 1}")
        if lane != "i32":
            k = fe.op(f"{'zext' if bits > 32 else 'trunc'} i32 {k} to {lane}")
        ks = cast(fe, splat(fe, lane, n, k), n, lane)
        inst = {"shl": "shl", "shr_s": "ashr", "shr_u": "lshr"}[op]
        return back(fe, fe.op(f"{inst} {t} {x}, {ks}"), n, lane)
    if op == "abs":
        x = cast(fe, a[0], n, lane)
        r = intrinsic(fe, f"llvm.abs.{vsfx(n, lane)}", t, [(t, x), ("i1", "false")])
        return back(fe, r, n, lane)
    if op == "neg":
        x = cast(fe, a[0], n, lane)
        return back(fe, fe.op(f"sub {t} zeroinitializer, {x}"), n, lane)
    if op == "popcnt":
        x = cast(fe, a[0], n, lane)
        return back(fe, intrinsic(fe, f"llvm.ctpop.{vsfx(n, lane)}", t, [(t, x)]), n, lane)
    if op == "all_true":
        x = cast(fe, a[0], n, lane)
        c = fe.op(f"icmp ne {t} {x}, zeroinitializer")
        r = intrinsic(fe, f"llvm.vector.reduce.and.v{n}i1", "i1", [(vt(n, "i1"), c)])
        return fe.op(f"zext i1 {r} to i32")
    if op == "bitmask":
        x = cast(fe, a[0], n, lane)
        c = fe.op(f"icmp slt {t} {x}, zeroinitializer")
        b = fe.op(f"bitcast {vt(n, 'i1')} {c} to i{n}")
        return fe.op(f"zext i{n} {b} to i32") if n < 32 else b
    if op == "avgr_u":
        w = _widen(lane)
        x = fe.op(f"zext {t} {cast(fe, a[0], n, lane)} to {vt(n, w)}")
        y = fe.op(f"zext {t} {cast(fe, a[1], n, lane)} to {vt(n, w)}")
        s = fe.op(f"add {vt(n, w)} {x}, {y}")
        s = fe.op(f"add {vt(n, w)} {s}, {_splat_const(n, w, 1)}")
        s = fe.op(f"lshr {vt(n, w)} {s}, {_splat_const(n, w, 1)}")
        return back(fe, fe.op(f"trunc {vt(n, w)} {s} to {t}"), n, lane)
    if op == "q15mulr_sat_s":
        x = fe.op(f"sext <8 x i16> {cast(fe, a[0], 8, 'i16')} to <8 x i32>")
        y = fe.op(f"sext <8 x i16> {cast(fe, a[1], 8, 'i16')} to <8 x i32>")
        p = fe.op(f"mul <8 x i32> {x}, {y}")
        p = fe.op(f"add <8 x i32> {p}, {_splat_const(8, 'i32', 0x4000)}")
        p = fe.op(f"ashr <8 x i32> {p}, {_splat_const(8, 'i32', 15)}")
        p = intrinsic(fe, "llvm.smin.v8i32", "<8 x i32>",
                      [("<8 x i32>", p), ("<8 x i32>", _splat_const(8, "i32", 32767))])
        return back(fe, fe.op(f"trunc <8 x i32> {p} to <8 x i16>"), 8, "i16")
    if op == "dot_i16x8_s":
        x = fe.op(f"sext <8 x i16> {cast(fe, a[0], 8, 'i16')} to <8 x i32>")
        y = fe.op(f"sext <8 x i16> {cast(fe, a[1], 8, 'i16')} to <8 x i32>")
        p = fe.op(f"mul <8 x i32> {x}, {y}")
        ev = fe.op(f"shufflevector <8 x i32> {p}, <8 x i32> poison, {_mask([0, 2, 4, 6])}")
        od = fe.op(f"shufflevector <8 x i32> {p}, <8 x i32> poison, {_mask([1, 3, 5, 7])}")
        return back(fe, fe.op(f"add <4 x i32> {ev}, {od}"), 4, "i32")
    if op.startswith("narrow_"):
        return _narrow(fe, n, lane, op, a)
    if op.startswith("extend_"):
        # extend_low_i8x16_s: widen half of the source lanes into this shape
        _, half, src, sign = op.split("_")
        sn, sl = SHAPES[src]
        v = _half(fe, cast(fe, a[0], sn, sl), sn, sl, half == "high")
        r = fe.op(f"{'sext' if sign == 's' else 'zext'} {vt(n, sl)} {v} to {t}")
        return back(fe, r, n, lane)
    if op.startswith("extmul_"):
        _, half, src, sign = op.split("_")
        sn, sl = SHAPES[src]
        ext = "sext" if sign == "s" else "zext"
        x = fe.op(f"{ext} {vt(n, sl)} {_half(fe, cast(fe, a[0], sn, sl), sn, sl, half == 'high')}"
                  f" to {t}")
        y = fe.op(f"{ext} {vt(n, sl)} {_half(fe, cast(fe, a[1], sn, sl), sn, sl, half == 'high')}"
                  f" to {t}")
        return back(fe, fe.op(f"mul {t} {x}, {y}"), n, lane)
    if op.startswith("extadd_pairwise_"):
        src, sign = op.split("_")[2:]
        sn, sl = SHAPES[src]
        v = cast(fe, a[0], sn, sl)
        ev = fe.op(f"shufflevector {vt(sn, sl)} {v}, {vt(sn, sl)} poison, "
                   f"{_mask(range(0, sn, 2))}")
        od = fe.op(f"shufflevector {vt(sn, sl)} {v}, {vt(sn, sl)} poison, "
                   f"{_mask(range(1, sn, 2))}")
        ext = "sext" if sign == "s" else "zext"
        x = fe.op(f"{ext} {vt(n, sl)} {ev} to {t}")
        y = fe.op(f"{ext} {vt(n, sl)} {od} to {t}")
        return back(fe, fe.op(f"add {t} {x}, {y}"), n, lane)
    if op.startswith("trunc_sat_"):
        return _trunc_sat(fe, n, lane, op, a)
    raise NotImplementedError(f"{lane}x{n}.{op}")


def _narrow(fe, n, lane, op, a):
    # narrow_i16x8_s: two source vectors of wide lanes, concatenated, clamped, truncated
    src = op.split("_")[1]
    sn, sl = SHAPES[src]
    x, y = cast(fe, a[0], sn, sl), cast(fe, a[1], sn, sl)
    both = fe.op(f"shufflevector {vt(sn, sl)} {x}, {vt(sn, sl)} {y}, {_mask(range(2 * sn))}")
    wt = vt(n, sl)
    bits = int(lane[1:])
    if op.endswith("_s"):
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        lo, hi = 0, (1 << bits) - 1
    c = intrinsic(fe, f"llvm.smax.{vsfx(n, sl)}", wt, [(wt, both), (wt, _splat_const(n, sl, lo))])
    c = intrinsic(fe, f"llvm.smin.{vsfx(n, sl)}", wt, [(wt, c), (wt, _splat_const(n, sl, hi))])
    return back(fe, fe.op(f"trunc {wt} {c} to {vt(n, lane)}"), n, lane)


def _trunc_sat(fe, n, lane, op, a):
    # i32x4.trunc_sat_f32x4_s / i32x4.trunc_sat_f64x2_s_zero
    parts = op.split("_")
    src, sign = parts[2], parts[3]
    sn, sl = SHAPES[src]
    x = cast(fe, a[0], sn, sl)
    fn = f"llvm.fpto{'s' if sign == 's' else 'u'}i.sat.v{sn}i32.{vsfx(sn, sl)}"
    r = intrinsic(fe, fn, vt(sn, "i32"), [(vt(sn, sl), x)])
    if sn == 2:  # _zero: two results, two zero lanes
        r = fe.op(f"shufflevector <2 x i32> {r}, <2 x i32> zeroinitializer, "
                  f"{_mask([0, 1, 2, 3])}")
    return back(fe, r, 4, "i32")


# -- float lanes ----------------------------------------------------------------------------------
def _opaque(fe, v: str, n: int, lane: str) -> str:
    """An operand of float lane arithmetic, cast and laundered: integer lane operations
    LLVM can evaluate (i32x4.splat of 0, of a NaN's bits...) would otherwise become
    constant float lanes, and LLVM folds x - 0 to x and x + sNaN to that sNaN, unquieted,
    where wasm must quiet a signalling NaN. The empty asm costs no instruction."""
    return fe.launder(vt(n, lane), cast(fe, v, n, lane))


def _float(fe, e, n, lane, op, a):
    t = vt(n, lane)
    if e.op.cls == "relop":
        x, y = cast(fe, a[0], n, lane), cast(fe, a[1], n, lane)
        c = fe.op(f"fcmp {fcmp_predicate(e.op)} {t} {x}, {y}")
        it = "i32" if lane == "float" else "i64"
        return back(fe, fe.op(f"sext {vt(n, 'i1')} {c} to {vt(n, it)}"), n, it)
    if op in _FBIN:
        x, y = _opaque(fe, a[0], n, lane), _opaque(fe, a[1], n, lane)
        return back(fe, fe.op(f"{_FBIN[op]} {t} {x}, {y}"), n, lane)
    if op in _FUN:
        x = _opaque(fe, a[0], n, lane)
        return back(fe, intrinsic(fe, f"llvm.{_FUN[op]}.{vsfx(n, lane)}", t, [(t, x)]), n, lane)
    if op == "neg":
        x = cast(fe, a[0], n, lane)
        return back(fe, fe.op(f"fneg {t} {x}"), n, lane)
    if op in ("min", "max"):
        x, y = _opaque(fe, a[0], n, lane), _opaque(fe, a[1], n, lane)
        return back(fe, min_max(fe, t, vsfx(n, lane), op, x, y), n, lane)
    if op in ("pmin", "pmax"):
        x, y = cast(fe, a[0], n, lane), cast(fe, a[1], n, lane)
        # pmin: b < a ? b : a;  pmax: a < b ? b : a
        c = fe.op(f"fcmp olt {t} {y}, {x}") if op == "pmin" else fe.op(f"fcmp olt {t} {x}, {y}")
        return back(fe, fe.op(f"select {vt(n, 'i1')} {c}, {t} {y}, {t} {x}"), n, lane)
    if op in ("convert_i32x4_s", "convert_i32x4_u"):
        x = cast(fe, a[0], 4, "i32")
        inst = "sitofp" if op.endswith("_s") else "uitofp"
        # laundered like a scalar conversion (exprs.convert): a known 0.0 or 1.0 folds
        r = fe.launder("<4 x float>", fe.op(f"{inst} <4 x i32> {x} to <4 x float>"))
        return back(fe, r, 4, "float")
    if op in ("convert_low_i32x4_s", "convert_low_i32x4_u"):
        x = _half(fe, cast(fe, a[0], 4, "i32"), 4, "i32", False)
        inst = "sitofp" if op.endswith("_s") else "uitofp"
        r = fe.launder("<2 x double>", fe.op(f"{inst} <2 x i32> {x} to <2 x double>"))
        return back(fe, r, 2, "double")
    if op == "demote_f64x2_zero":
        x = cast(fe, a[0], 2, "double")
        d = fe.op(f"fptrunc <2 x double> {x} to <2 x float>")
        r = fe.op(f"shufflevector <2 x float> {d}, <2 x float> zeroinitializer, "
                  f"{_mask([0, 1, 2, 3])}")
        # Laundered as a whole 128-bit vector: the "x" constraint takes no <2 x float>.
        return back(fe, fe.launder("<4 x float>", r), 4, "float")
    if op == "promote_low_f32x4":
        x = _half(fe, cast(fe, a[0], 4, "float"), 4, "float", False)
        p = fe.launder("<2 x double>", fe.op(f"fpext <2 x float> {x} to <2 x double>"))
        return back(fe, p, 2, "double")
    raise NotImplementedError(f"{lane}x{n}.{op}")


# -- relaxed SIMD (the deterministic profile) -----------------------------------------------------
def _relaxed_madd(fe, e, n, lane, op, a):
    t = vt(n, lane)
    x, y, z = (_opaque(fe, v, n, lane) for v in a)
    if op == "relaxed_nmadd":
        x = fe.op(f"fneg {t} {x}")
    # Two roundings, never fused: the laundered product is opaque to contraction.
    p = fe.launder(t, fe.op(f"fmul {t} {x}, {y}"))
    return back(fe, fe.op(f"fadd {t} {p}, {z}"), n, lane)


def _relaxed_laneselect(fe, e, n, lane, op, a):
    return _v128(fe, e, "bitselect", a)


def _relaxed_minmax(fe, e, n, lane, op, a):
    return _float(fe, e, n, lane, op[len("relaxed_"):], a)


def _relaxed_q15mulr(fe, e, n, lane, op, a):
    return _int(fe, e, n, lane, "q15mulr_sat_s", a)


def _relaxed_trunc(fe, e, n, lane, op, a):
    return _trunc_sat(fe, n, lane, op, a)


def _dot_i8x16_i7x16(fe, a: list[str]) -> str:
    """<8 x i16>: a's and b's bytes, both signed, multiplied; adjacent pairs added with
    signed saturation."""
    x = fe.op(f"sext <16 x i8> {cast(fe, a[0], 16, 'i8')} to <16 x i16>")
    y = fe.op(f"sext <16 x i8> {cast(fe, a[1], 16, 'i8')} to <16 x i16>")
    p = fe.op(f"mul <16 x i16> {x}, {y}")
    ev = fe.op(f"shufflevector <16 x i16> {p}, <16 x i16> poison, {_mask(range(0, 16, 2))}")
    od = fe.op(f"shufflevector <16 x i16> {p}, <16 x i16> poison, {_mask(range(1, 16, 2))}")
    return intrinsic(fe, "llvm.sadd.sat.v8i16", "<8 x i16>",
                     [("<8 x i16>", ev), ("<8 x i16>", od)])


def _relaxed_dot(fe, e, n, lane, op, a):
    s = _dot_i8x16_i7x16(fe, a)
    if op == "relaxed_dot_i8x16_i7x16_s":
        return back(fe, s, 8, "i16")
    w = fe.op(f"sext <8 x i16> {s} to <8 x i32>")
    ev = fe.op(f"shufflevector <8 x i32> {w}, <8 x i32> poison, {_mask([0, 2, 4, 6])}")
    od = fe.op(f"shufflevector <8 x i32> {w}, <8 x i32> poison, {_mask([1, 3, 5, 7])}")
    r = fe.op(f"add <4 x i32> {ev}, {od}")
    return back(fe, fe.op(f"add <4 x i32> {r}, {cast(fe, a[2], 4, 'i32')}"), 4, "i32")


_BY_OP = {"splat": _splat, "extract_lane": _extract, "extract_lane_s": _extract,
          "extract_lane_u": _extract, "replace_lane": _replace, "shuffle": _shuffle,
          "swizzle": _swizzle, "relaxed_swizzle": _swizzle,
          "relaxed_madd": _relaxed_madd, "relaxed_nmadd": _relaxed_madd,
          "relaxed_laneselect": _relaxed_laneselect,
          "relaxed_min": _relaxed_minmax, "relaxed_max": _relaxed_minmax,
          "relaxed_q15mulr_s": _relaxed_q15mulr,
          "relaxed_trunc_f32x4_s": _relaxed_trunc, "relaxed_trunc_f32x4_u": _relaxed_trunc,
          "relaxed_trunc_f64x2_s_zero": _relaxed_trunc,
          "relaxed_trunc_f64x2_u_zero": _relaxed_trunc,
          "relaxed_dot_i8x16_i7x16_s": _relaxed_dot, "relaxed_dot_i8x16_i7x16_add_s": _relaxed_dot}

__all__ = ["lower", "SHAPES"]
