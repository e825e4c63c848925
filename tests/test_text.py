"""The text format: every spec script and text module parses, every malformed text fails
with the spec's message, wabt agrees on the binary, fuzzed text only ever raises
ParseError, and numeric literals round exactly."""
from __future__ import annotations

import collections
import copy
import dataclasses
import json
import shutil
import struct
import subprocess
import time
from fractions import Fraction

import pytest
from conftest import SPEC_2_0, require_spec, spec_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fayasm import features, isa
from fayasm.binary import decode, encode
from fayasm.binary.reader import Reader
from fayasm.errors import CompileError, ParseError
from fayasm.runtime.types import ExternKind, FuncType, ValType
from fayasm.runtime.values import Val
from fayasm.syntax import ACTIVE, DECLARATIVE, FUNC_INDICES, PASSIVE, Instr, MemArg
from fayasm.text import parse_module
from fayasm.text.lexer import EOF, KEYWORD, LPAR, tokenize
from fayasm.text.numbers import NumberError, parse_float, parse_int
from fayasm.wast.parse import parse_script
from fayasm.wast.script import (
    AssertInvalid,
    AssertMalformed,
    AssertReturn,
    AssertTrap,
    AssertUnlinkable,
    Invoke,
    ModuleDef,
    NanPattern,
    RefPattern,
    Register,
    V128Pattern,
)

FILES = spec_files()
_SCRIPTS: dict = {}
OPS = isa.OPS


def _ids(paths):
    return [p.stem for p in paths]


def script(path):
    if path not in _SCRIPTS:
        _SCRIPTS[path] = parse_script(path.read_text(encoding="utf-8"), source=path.name)
    return _SCRIPTS[path]


def module_defs(cmds):
    """Every module definition of a script, in text order (also those inside assertions)."""
    for c in cmds:
        if isinstance(c, ModuleDef):
            yield c
        elif isinstance(c, (AssertMalformed, AssertInvalid, AssertUnlinkable)):
            yield c.module
        elif isinstance(c, AssertTrap) and isinstance(c.action, ModuleDef):
            yield c.action


def text_modules(cmds):
    return [d for d in module_defs(cmds) if d.kind == "text"]


# -- 1. every script parses --------------------------------------------------------------

@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_parse_script(path):
    cmds = script(path)
    assert cmds


# -- 2. malformed text: the spec's message -----------------------------------------------

def malformed_outcomes(path):
    """(passed, failures) for the quoted modules of one script's assert_malformed."""
    passed, failures = 0, []
    for c in script(path):
        if not isinstance(c, AssertMalformed) or c.module.kind != "quote":
            continue
        try:
            with features.using(features.WASM2):  # the 2.0 suite: 2.0's 32-bit limits
                parse_module(c.module.data)
        except ParseError as e:
            if e.message.startswith(c.message):
                passed += 1
            else:
                failures.append(f"line {c.line}: got {e.message!r}, expected {c.message!r}")
            continue
        failures.append(f"line {c.line}: parsed, expected {c.message!r}")
    return passed, failures


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_malformed_text(path):
    _, failures = malformed_outcomes(path)
    assert not failures, "\n".join(failures)


def test_malformed_text_counts(capsys):
    """All text assert_malformed commands pass (1,091 in spec 2.0); none is text-only
    malformed in a way the binary decoder would have to catch instead."""
    require_spec()
    total = 0
    kinds = collections.Counter()
    for path in FILES:
        passed, failures = malformed_outcomes(path)
        assert not failures
        total += passed
        for c in script(path):
            if isinstance(c, AssertMalformed):
                kinds[c.module.kind] += 1
    with capsys.disabled():
        print(f"\n  text assert_malformed passed: {total}; by module kind: {dict(kinds)}")
    assert kinds["text"] == 0  # text modules in assert_malformed would parse at script time
    if SPEC_2_0 == FILES[0].parent:
        assert total == 1091


# -- 3. wabt as an oracle ----------------------------------------------------------------

WAST2JSON = shutil.which("wast2json")
WABT_STATS: collections.Counter = collections.Counter()  # summed over files, for the report
WAT2WASM = shutil.which("wat2wasm")


def strip_customs(data: bytes) -> bytes:
    out = bytearray(data[:8])
    r = Reader(data)
    r.pos = 8
    while not r.eof():
        start = r.pos
        sid = r.byte()
        size = r.length()
        end = r.pos + size
        if sid != 0:
            out += data[start:end]
        r.pos = end
    return bytes(out)


def wabt_normalized(m, wabt_bytes: bytes):
    """Our module with wabt's legitimate encoding choices applied, where they differ:

    - a block type written ``(type $t)`` is a type index in the spec; wabt writes the
      short form when ``$t`` has no parameters and at most one result;
    - ``select (result)`` (no types) is a typed select in the spec, which validation
      rejects ("invalid result arity"); wabt writes the untyped ``select``;
    - with no data segments wabt writes no DataCount section even when code uses
      ``data.drop``/``memory.init`` (its binary is then malformed; ours is invalid, which
      is what the spec tests expect);
    - wabt (a 2.0 encoder) writes a funcref segment of plain ``ref.func`` items as
      function indices, which 3.0 types ``(ref func)``."""
    m = copy.copy(m)
    types = m.types
    m.elems = [dataclasses.replace(e, type=FUNC_INDICES)
               if e.type is ValType.FUNCREF and all(len(x) == 1 and x[0].op is OPS["ref.func"]
                                                    for x in e.init) else e
               for e in m.elems]

    def fix(body):
        out = []
        for instr in body:
            op = instr.op
            if op.imms and op.imms[0] == "blocktype" and type(instr.imm[0]) is int \
                    and instr.imm[0] < len(types):
                ft = types[instr.imm[0]]
                if not ft.params and len(ft.results) <= 1:
                    instr = Instr(op, (ft.results[0] if ft.results else None,))
            elif op is OPS["select_t"] and instr.imm == ((),):
                instr = Instr(OPS["select"])
            out.append(instr)
        return out

    m.funcs = [copy.copy(f) for f in m.funcs]
    for f in m.funcs:
        f.body = fix(f.body)
    if m.data_count == 0 and not m.datas and b"\x0c\x01\x00" not in wabt_bytes:
        m.data_count = None
    return m


def compare_with_wabt(m, wabt_bytes: bytes, where: str, stats) -> None:
    ref = strip_customs(wabt_bytes)
    ours = wabt_normalized(m, ref)
    assert encode(ours) == ref, f"{where}: binary differs from wabt's"
    stats["identical"] += 1
    try:
        theirs = decode(ref)
    except CompileError:
        # Only the DataCount case above: wabt's binary does not decode.
        assert ours.data_count is None and m.data_count == 0, where
        stats["wabt binary malformed (no DataCount)"] += 1
        return
    assert theirs == ours, f"{where}: AST differs from wabt's"


def module_spans(text: str):
    """Source text of each text module of a script (top level or inside an assertion)."""
    toks = tokenize(text)
    kinds, values, offsets = toks.kinds, toks.values, toks.offsets
    from fayasm.text.base import BaseParser

    p = BaseParser(toks)
    out = []
    for i, k in enumerate(kinds):
        if k == LPAR and kinds[i + 1] == KEYWORD and values[i + 1] == "module":
            j = i + 2 + (kinds[i + 2] == 5)  # an optional $name
            if kinds[j] == KEYWORD and values[j] in ("binary", "quote"):
                continue
            end = p.skip_balanced(i)
            if kinds[end] != EOF:
                out.append(text[offsets[i]:offsets[end] + 1])
    return out


@pytest.mark.skipif(WAST2JSON is None or WAT2WASM is None, reason="wabt is not installed")
@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_wabt_oracle(path, tmp_path):
    """encode(parse_module(text)) equals wat2wasm's binary (custom sections removed), and
    decode(wabt's binary) equals our module. Scripts that wast2json cannot read (wabt
    1.0.32 fails on comments, if, table_*) are checked module by module with wat2wasm,
    as far as wat2wasm accepts them."""
    cmds = script(path)
    mods = text_modules(cmds)
    stats = collections.Counter()
    out = tmp_path / (path.stem + ".json")
    run = subprocess.run([WAST2JSON, "--enable-all", str(path), "-o", str(out)],
                         capture_output=True, cwd=tmp_path)
    if run.returncode == 0:
        commands = json.loads(out.read_text())["commands"]
        assert len(commands) == len(cmds)
        for cmd, jcmd in zip(cmds, commands):
            defs = list(module_defs([cmd]))
            if not defs or defs[0].kind != "text":
                continue
            wasm = (tmp_path / jcmd["filename"]).read_bytes()
            compare_with_wabt(defs[0].module, wasm, f"{path.name}:{cmd.line}", stats)
        assert stats["identical"] == len(mods)
        WABT_STATS.update(stats)
        return
    WABT_STATS["files read module by module"] += 1
    spans = module_spans(path.read_text(encoding="utf-8"))
    assert len(spans) == len(mods)
    for n, (span, d) in enumerate(zip(spans, mods)):
        wat = tmp_path / f"m{n}.wat"
        wat.write_text(span, encoding="utf-8")
        wasm = tmp_path / f"m{n}.wasm"
        r = subprocess.run([WAT2WASM, "--enable-all", "--no-check", str(wat), "-o", str(wasm)],
                           capture_output=True)
        if r.returncode != 0:
            stats["wabt rejects"] += 1
            continue
        assert parse_module(span) == d.module
        compare_with_wabt(d.module, wasm.read_bytes(), f"{path.name}:{d.line}", stats)
    WABT_STATS.update(stats)


def test_wabt_summary(capsys):
    """Prints what the oracle compared (when the per-file tests ran before it)."""
    if WABT_STATS:
        with capsys.disabled():
            print(f"\n  wabt oracle: {dict(WABT_STATS)}")


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_binary_round_trip(path):
    """Self-consistency for every text module: decode(encode(m)) == m."""
    for d in text_modules(script(path)):
        m = d.module
        assert decode(encode(m)) == m, f"{path.name}:{d.line}"


# -- 4. fuzzing: nothing but ParseError --------------------------------------------------

def _corpus():
    texts = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        texts.extend(s for s in module_spans(text) if len(s) < 3000)
        for c in script(path):
            if isinstance(c, AssertMalformed) and c.module.kind == "quote":
                texts.append(c.module.data)
    return texts[::7] or ["(module (func (result i32) (i32.const 1)))"]


CORPUS = _corpus() if FILES else ["(module (func (result i32) (i32.const 1)))"]
PIECES = ["(", ")", "(;", ";)", ";;", "\n", " ", '"', "\\", "$", "$x", "0", "-1", "0x", "1.5e3",
          "nan:0x1", "inf", "offset=", "align=3", "i32", "funcref", "(then", "(else", "end",
          "else", "block", "(block", "if", "(if", "loop", "br 0", "(type 0)", "(param i32)",
          "(result i32)", "(local $x i32)", "(mut i32)", "(item", "(offset", "\u00e9", "\ud800",
          "\x00", "\"\\u{41}\"", "\"\\ff\"", "(module", "(elem", "(data", "declare", "func",
          "(export \"a\")", "(import \"a\" \"b\")"] + [op.text for op in isa.ALL[::5]]


def _parse_or_parse_error(text: str) -> None:
    start = time.perf_counter()
    try:
        m = parse_module(text)
    except CompileError:
        pass
    else:
        encode(m)
    assert time.perf_counter() - start < 1.0


@settings(max_examples=400, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_modules(data):
    text = data.draw(st.sampled_from(CORPUS))
    for _ in range(data.draw(st.integers(1, 4))):
        n = len(text)
        a = data.draw(st.integers(0, n))
        b = data.draw(st.integers(a, min(n, a + 12)))
        how = data.draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        if how == "delete":
            text = text[:a] + text[b:]
        elif how == "duplicate":
            text = text[:b] + text[a:b] + text[b:]
        else:
            piece = data.draw(st.sampled_from(PIECES) | st.text(max_size=4))
            text = text[:a] + piece + text[b if how == "replace" else a:]
    _parse_or_parse_error(text)


@settings(max_examples=300, deadline=1000)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=40))
def test_fuzz_random_text(pieces):
    _parse_or_parse_error(" ".join(pieces))
    try:
        parse_script(" ".join(pieces))
    except CompileError:
        pass


def test_deep_nesting_is_not_recursion():
    depth = 20_000
    m = parse_module("(module (func " + "(block " * depth + ")" * depth + "))")
    assert len(m.funcs[0].body) == 2 * depth
    m = parse_module("(module (func " + "block " * depth + "end " * depth + "))")
    assert len(m.funcs[0].body) == 2 * depth
    m = parse_module("(module (func (result i32) " + "(i32.add " * depth + ")" * depth + "))")
    assert len(m.funcs[0].body) == depth
    with pytest.raises(ParseError):
        parse_module("(" * depth)
    with pytest.raises(ParseError):
        parse_script("(module (func " + "(block " * depth)


# -- 5. performance ----------------------------------------------------------------------

def test_parse_time_of_the_suite(capsys):
    """Parsing all of spec/2.0 takes seconds (about 5 s of CPU on a loaded 2-core box)."""
    require_spec()
    from fayasm.text import numbers

    numbers._CACHE.clear()
    texts = [p.read_text(encoding="utf-8") for p in FILES]
    start = time.process_time()
    commands = sum(len(parse_script(t)) for t in texts)
    elapsed = time.process_time() - start
    with capsys.disabled():
        print(f"\n  parsed {len(texts)} scripts, {commands} commands in {elapsed:.2f} s CPU")
    assert elapsed < 60


# -- numbers -----------------------------------------------------------------------------

def _f32(bits: int) -> Fraction:
    return Fraction(struct.unpack("<f", struct.pack("<I", bits))[0])


def _f64(bits: int) -> Fraction:
    return Fraction(struct.unpack("<d", struct.pack("<Q", bits))[0])


def reference_round(x: Fraction, width: int):
    """Round x >= 0 to the nearest float (ties to even) by search over bit patterns;
    None on overflow."""
    value = _f32 if width == 32 else _f64
    top = 0x7F7FFFFF if width == 32 else 0x7FEFFFFFFFFFFFFF
    biggest = value(top)
    if x >= biggest + (biggest - value(top - 1)) / 2:
        return None
    lo, hi = 0, top
    while lo < hi:  # the largest pattern whose value is <= x
        mid = (lo + hi + 1) // 2
        if value(mid) <= x:
            lo = mid
        else:
            hi = mid - 1
    if lo == top:
        return top
    below, above = x - value(lo), value(lo + 1) - x
    if below < above or (below == above and lo % 2 == 0):
        return lo
    return lo + 1


@settings(max_examples=600, deadline=None)
@given(st.integers(0, 10 ** 40), st.integers(-360, 330), st.sampled_from([32, 64]),
       st.booleans())
def test_decimal_floats_round_exactly(mant, exp, width, negative):
    text = f"{'-' if negative else ''}{mant}e{exp}"
    ref = reference_round(Fraction(mant) * Fraction(10) ** exp, width)
    if ref is None:
        with pytest.raises(NumberError):
            parse_float(text, width)
        return
    sign = (1 << (width - 1)) if negative else 0
    assert parse_float(text, width) == sign | ref


@settings(max_examples=600, deadline=None)
@given(st.integers(0, 1 << 70), st.integers(-1200, 1100), st.sampled_from([32, 64]))
def test_hex_floats_round_exactly(mant, exp, width):
    text = f"0x{mant:x}p{exp}"
    ref = reference_round(Fraction(mant) * Fraction(2) ** exp, width)
    if ref is None:
        with pytest.raises(NumberError):
            parse_float(text, width)
    else:
        assert parse_float(text, width) == ref


@settings(max_examples=300, deadline=None)
@given(st.integers(1, (1 << 24) - 1), st.integers(-149, 104), st.integers(1, 60),
       st.sampled_from([-1, 0, 1]))
def test_f32_midpoints_do_not_round_twice(odd, exp, extra, nudge):
    """Decimals at, just below and just above an f32 midpoint (where rounding through a
    double would round twice)."""
    mid = (Fraction(2 * odd + 1) / 2) * Fraction(2) ** exp
    x = mid + nudge * Fraction(1, 10 ** extra) * Fraction(2) ** exp
    if x <= 0:
        return
    # An exact decimal for x when nudge is 0; otherwise a long decimal close to x.
    digits = 1100
    scaled = x * 10 ** digits
    text = f"{scaled.numerator // scaled.denominator}e-{digits}"
    value = Fraction(int(text.split("e")[0])) / 10 ** digits
    ref = reference_round(value, 32)
    if ref is None:
        with pytest.raises(NumberError):
            parse_float(text, 32)
    else:
        assert parse_float(text, 32) == ref


def test_float_literals():
    cases = {
        ("0x1.fffffep127", 32): 0x7F7FFFFF,
        ("0x1.fffffefffffff8000000p127", 32): 0x7F7FFFFF,
        ("1.0000000596046447753906250000000001", 32): 0x3F800001,  # above a midpoint
        ("1.000000059604644775390625", 32): 0x3F800000,  # the midpoint: to even
        ("0x1p-149", 32): 1,
        ("0x1p-150", 32): 0,  # half the smallest subnormal: to even, zero
        ("0x1.000002p-150", 32): 1,
        ("-0", 32): 0x80000000,
        ("nan", 32): 0x7FC00000,
        ("-nan:0x1", 32): 0xFF800001,
        ("+inf", 64): 0x7FF0000000000000,
        ("nan:0xf_ffff_ffff_ffff", 64): 0x7FFFFFFFFFFFFFFF,
        ("1_000.5e-1_0", 64): struct.unpack("<Q", struct.pack("<d", 1000.5e-10))[0],
        ("0x1.fffffffffffff8p1023", 64): None,
        ("1e39", 32): None,
        ("nan:0x0", 32): None,
        ("nan:0x800000", 32): None,
    }
    for (text, width), expected in cases.items():
        if expected is None:
            with pytest.raises(NumberError):
                parse_float(text, width)
        else:
            assert parse_float(text, width) == expected, text


def test_integer_literals():
    assert parse_int("0xffffffff", 32) == -1
    assert parse_int("-0x80000000", 32) == -2 ** 31
    assert parse_int("+0x7fff_ffff", 32) == 2 ** 31 - 1
    assert parse_int("00012", 32) == 12
    assert parse_int("18446744073709551615", 64) == -1
    assert parse_int("0" * 5000 + "7", 32) == 7  # beyond int()'s digit limit
    for bad in ["+0x80000000", "-0x80000001", "0x100000000", "1.5", "inf", "0x", "1e3",
                "9" * 5000]:
        with pytest.raises(NumberError):
            parse_int(bad, 32)


# -- specific rules ----------------------------------------------------------------------

def test_implicit_types_follow_the_flat_instruction_order():
    m = parse_module("""(module
      (func (block (result i32 i64) (block (result f32 f32) (unreachable)) (unreachable)))
      (func (if (result i64 i64) (block (result f64 f64) (unreachable))
                (then (unreachable)) (else (unreachable))))
      (func (call_indirect (param i32 i32) (block (result i32 i32 i32) (unreachable))))
      (type (func (param i32)))
      (table 1 funcref))""")
    r = [FuncType((), ts) for ts in ([ValType.I32, ValType.I64], [ValType.F32, ValType.F32],
                                     [ValType.F64, ValType.F64], [ValType.I64, ValType.I64],
                                     [ValType.I32] * 3)]
    assert m.types == [FuncType([ValType.I32]), FuncType()] + r + [
        FuncType([ValType.I32, ValType.I32])]
    assert m.funcs[1].body[3] == Instr(OPS["if"], (5,))


def test_block_types_and_type_uses():
    m = parse_module("""(module (type $t (func (result i32)))
      (func (block (type $t) (i32.const 1)) drop
            (block (result i32) (i32.const 1)) drop
            (block (type $t) (result i32) (i32.const 1)) drop
            (loop (param i32) (result i32)) drop))""")
    body = m.funcs[0].body
    assert body[0].imm == (0,) and body[4].imm == (ValType.I32,) and body[8].imm == (0,)
    assert m.types[body[12].imm[0]] == FuncType([ValType.I32], [ValType.I32])
    with pytest.raises(ParseError, match="inline function type"):
        parse_module("(type $t (func)) (func (block (type $t) (result i32)))")


def test_immediates_are_stored_like_the_decoder():
    m = parse_module("""(module (memory 1) (table $t 1 funcref) (table $u 1 funcref)
      (elem $e func) (data $d "")
      (func $f (param $p i32) (local $l v128)
        (i64.load offset=8 align=4 (i32.const 0)) drop
        (i32.load8_u (i32.const 0)) drop
        (f32.const -0x1p-1) drop (f64.const nan:0x8) drop
        (v128.const i16x8 -1 2 3 4 5 6 7 0x8000) drop
        (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 31 (local.get $l) (local.get $l)) drop
        (v128.load16_lane offset=2 7 (i32.const 0) (local.get $l)) drop
        (table.init $u $e (i32.const 0) (i32.const 0) (i32.const 0))
        (table.init $e (i32.const 0) (i32.const 0) (i32.const 0))
        (table.copy $u $t (i32.const 0) (i32.const 0) (i32.const 0))
        (memory.init $d (i32.const 0) (i32.const 0) (i32.const 0))
        (block $b (br_table 0 $b 0 (local.get $p)))
        (select (result i32) (i32.const 1) (i32.const 2) (i32.const 3)) drop
        (ref.null extern) drop (call_indirect $u (type 0) (i32.const 0) (i32.const 0))
        memory.size drop))""")
    body = m.funcs[0].body
    imms = [i.imm for i in body if i.op.name != "drop"]
    assert imms[1] == (MemArg(2, 8),)
    assert imms[2] == (0,) and imms[3] == (MemArg(0, 0),)
    assert imms[4] == (0xBF000000,) and imms[5] == (0x7FF0000000000008,)
    assert imms[6] == (0x8000_0007_0006_0005_0004_0003_0002_FFFF,)
    assert imms[9][0] == tuple(range(15)) + (31,)
    assert imms[12] == (MemArg(1, 2), 7)
    by_name = {i.op.name: i.imm for i in body}
    assert [i.imm for i in body if i.op.name == "table.init"] == [(0, 1), (0, 0)]
    assert by_name["table.copy"] == (1, 0)
    assert by_name["memory.init"] == (0, 0)
    assert by_name["br_table"] == ((0, 0), 0)
    assert by_name["select_t"] == ((ValType.I32,),)
    assert by_name["ref.null"] == (ValType.EXTERNREF,)
    assert by_name["call_indirect"] == (0, 1)
    assert by_name["memory.size"] == (0,)
    assert m.data_count == 1  # memory.init needs a data count section
    assert m.names.funcs == {0: "f"} and m.names.locals == {0: {0: "p", 1: "l"}}


def test_module_fields_and_abbreviations():
    m = parse_module("""(module $m
      (import "a" "f" (func $imp (param i32)))
      (func $g (export "g") (export "g2") (import "a" "g") (result i32))
      (func $h (export "h") (call $imp (i32.const 0)))
      (table $t (export "t") funcref (elem $h $h))
      (memory (export "m") (data "hello" "!"))
      (global $c (mut i64) (i64.const -1))
      (elem (i32.const 1) $h)
      (elem declare func $h)
      (elem externref (ref.null extern))
      (data (memory 0) (offset (i32.const 8)) "x")
      (start $h))""")
    assert [i.name for i in m.imports] == ["f", "g"]
    assert [(e.name, e.kind, e.index) for e in m.exports] == [
        ("g", ExternKind.FUNC, 1), ("g2", ExternKind.FUNC, 1), ("h", ExternKind.FUNC, 2),
        ("t", ExternKind.TABLE, 0), ("m", ExternKind.MEMORY, 0)]
    assert m.tables[0].limits.min == m.tables[0].limits.max == 2
    assert [e.mode for e in m.elems] == [ACTIVE, ACTIVE, DECLARATIVE, PASSIVE]
    assert m.mems[0].limits.min == 1 and m.datas[0].init == b"hello!"
    assert m.datas[1].offset == [Instr(OPS["i32.const"], (8,))]
    assert m.start == 2 and m.data_count is None
    assert m.names.module == "m" and m.names.funcs == {0: "imp", 1: "g", 2: "h"}


@pytest.mark.parametrize("text, message, line, column", [
    ("(module\n  (func (i32.const 1x)))", "unknown operator", 2, 20),
    ("(func (local $x i32) (local $x i32))", "duplicate local", 1, 29),
    ("(func $f) (func $f)", "duplicate func", 1, 17),
    ("(func block $a end $b)", "mismatching label", 1, 20),
    ("(func br $nope)", "unknown label", 1, 10),
    ("(func) (import \"a\" \"b\" (func))", "import after function", 1, 8),
    ("(memory 0x1_0000_0000_0000_0000)", "i64 constant out of range", 1, 9),
    ("(func (export \"\\80\"))", "malformed UTF-8 encoding", 1, 15),
    ("(func (v128.const i32x4 1 2))", "wrong number of lane literals", 1, 25),
    ("(start 0) (start 0)", "multiple start sections", 1, 11),
    ("(func", "unexpected token", 1, 6),
    ("(data \"abc", "unclosed string literal", 1, 7),
    ("(memory 1) (func (i32.load align=4 offset=8 (i32.const 0)))", "unexpected token", 1, 36),
    ("(; (; ;)", "unclosed comment", 1, 1),
])
def test_errors_have_positions(text, message, line, column):
    with pytest.raises(ParseError) as info:
        parse_module(text, source="t.wat")
    e = info.value
    assert e.message.startswith(message)
    assert (e.line, e.column) == (line, column)
    assert str(e).startswith(f"t.wat:{line}:{column}: ")


def test_strings_and_comments():
    m = parse_module('(module (; a (; nested ;) comment ;) ;; line\n'
                     '(memory 1) (data (i32.const 0) "\\t\\n\\r\\"\\\'\\\\\\u{1F600}\\00\\ff"))')
    assert m.datas[0].init == b"\t\n\r\"'\\\xf0\x9f\x98\x80\x00\xff"
    with pytest.raises(ParseError, match="unknown operator"):
        parse_module('(data $l"a")')  # a string must be separated from other tokens


def test_script_commands():
    cmds = parse_script("""
      (module $M (func (export "f") (param f32) (result f32) (local.get 0)))
      (module binary "\\00asm" "\\01\\00\\00\\00")
      (module quote "(func" ")")
      (register "m" $M)
      (assert_return (invoke $M "f" (f32.const -nan:0x1)) (f32.const nan:arithmetic))
      (assert_return (invoke "g" (v128.const i32x4 1 2 3 4))
                     (v128.const f32x4 nan:canonical 1 -0 inf))
      (assert_return (invoke "h" (ref.null func) (ref.extern 7)) (ref.func) (ref.extern)
                     (ref.extern 7) (i64.const -1))
      (assert_trap (module (func $t unreachable) (start $t)) "unreachable")
      (assert_malformed (module quote "(func") "unexpected token")
      (assert_exhaustion (invoke "loop") "call stack exhausted")
      (get "glob")
    """)
    kinds = [type(c).__name__ for c in cmds]
    assert kinds == ["ModuleDef", "ModuleDef", "ModuleDef", "Register", "AssertReturn",
                     "AssertReturn", "AssertReturn", "AssertTrap", "AssertMalformed",
                     "AssertExhaustion", "Get"]
    assert cmds[0].name == "$M" and cmds[0].kind == "text" and cmds[0].line == 2
    assert cmds[1].data == b"\0asm\x01\0\0\0" and cmds[2].data == "(func)"
    assert isinstance(cmds[3], Register) and cmds[3].module == "$M"
    ret = cmds[4]
    assert isinstance(ret.action, Invoke) and ret.action.module == "$M"
    assert ret.action.args == [Val.from_bits("f32", 0xFF800001)]
    assert ret.results == [NanPattern(ValType.F32, "arithmetic")]
    v = cmds[5].results[0]
    assert isinstance(v, V128Pattern) and v.shape == "f32x4"
    assert v.lanes == [NanPattern(ValType.F32, "canonical"), 0x3F800000, 0x80000000, 0x7F800000]
    assert cmds[5].action.args == [Val.v128(0x00000004_00000003_00000002_00000001)]
    h = cmds[6]
    assert h.action.args == [Val.funcref(None), Val.externref(7)]
    assert h.results == [RefPattern(ValType.FUNCREF), RefPattern(ValType.EXTERNREF),
                         Val.externref(7), Val.from_bits("i64", (1 << 64) - 1)]
    assert isinstance(cmds[7].action, ModuleDef) and cmds[7].message == "unreachable"
    assert isinstance(cmds[4], AssertReturn)


def test_bare_fields_and_single_module():
    assert parse_module("") == parse_module("(module)")
    assert parse_module("(func) (memory 1)") == parse_module("(module (func) (memory 1))")
    with pytest.raises(ParseError):
        parse_module("(module) (module)")
    [only] = parse_script("(func) (memory 1)")
    assert only.kind == "text" and len(only.module.funcs) == 1


def test_parse_module_binary_and_quote_forms():
    assert parse_module('(module $m binary "\\00asm" "\\01\\00\\00\\00")') == parse_module("")
    assert parse_module('(module quote "(func" ")")') == parse_module("(func)")
    with pytest.raises(ParseError):
        parse_module('(module quote "(func")')
    with pytest.raises(ParseError, match="magic header not detected"):
        parse_module('(module binary "\\00abc\\01\\00\\00\\00")')


def test_line_comment_ends_at_carriage_return():
    """Regression (spec comments.wast:105): a ;; comment ends at a lone CR too."""
    from fayasm.text import parse_module

    m = parse_module('(func (result i32) (i32.const 1) ;; comment\r (return (i32.const 2)))')
    assert [i.op.name for i in m.funcs[0].body] == ["i32.const", "i32.const", "return"]


def test_lane_index_that_is_no_u8_has_each_versions_wording():
    """3.0 says "i8 constant out of range" where 2.0 said "malformed lane index"."""
    import fayasm
    from fayasm import features

    wat = "(module (func (result i32) (i32x4.extract_lane 256 (v128.const i32x4 0 0 0 0))))"
    with pytest.raises(fayasm.ParseError, match="i8 constant out of range"):
        fayasm.Module(wat)
    with features.using(features.WASM2), pytest.raises(fayasm.ParseError,
                                                       match="malformed lane index"):
        fayasm.Module(wat)


def test_quoted_identifiers_name_what_plain_ones_do():
    """3.0's $"..." identifiers: $"fh" is $fh; escapes count; empty or non-UTF-8 ones are
    malformed with the spec's words (they were an unknown operator)."""
    import fayasm

    m = fayasm.Module('(module (func $fh (result i32) (i32.const 7)) '
                      '(func (export "f") (result i32) (call $"f\\68")) (func $"a b"))')
    assert fayasm.instantiate(m, engine="interpreter").exports.f() == 7
    for bad, message in [('$""', "empty identifier"), ("$", "empty identifier"),
                         ('$"\\ef"', "malformed UTF-8"), ('$"l"0', "unknown operator")]:
        with pytest.raises(fayasm.ParseError, match=message):
            fayasm.Module(f"(module (func {bad}))")


def test_elem_segment_of_function_indices_is_ref_func():
    """elem.wast line 87: a segment of function indices (text `func x*` or a bare index
    list, binary flags 0-3) has type (ref func) in 3.0, so it fits a table of (ref func);
    expressions keep the type written (funcref for binary flag 4). Encoding and printing
    keep the distinction."""
    import fayasm
    from fayasm.text.printer import print_module

    m = parse_module("""(module (func $f) (table $t 10 (ref func) (ref.func $f))
      (elem (i32.const 3) $f) (elem func $f) (elem declare func $f)
      (elem (table $t) (i32.const 0) func $f) (elem funcref (ref.func $f))
      (table funcref (elem $f)))""")
    types = [e.type for e in m.elems]
    assert types == [FUNC_INDICES] * 4 + [ValType.FUNCREF] * 2  # inline: the table's
    for again in (decode(encode(m)), parse_module(print_module(m))):
        assert [e.type for e in again.elems] == types
    assert encode(m) == encode(decode(encode(m)))
    fayasm.Module(encode(m))  # the (ref func) segments fit the (ref func) table
    with pytest.raises(fayasm.ValidationError, match="type mismatch"):
        fayasm.Module("(module (func $f) (table 1 (ref func) (ref.func $f))"
                      " (elem (i32.const 0) funcref (ref.func $f)))")
    flag4 = (b"\0asm\1\0\0\0\1\4\1\x60\0\0\3\2\1\0\4\4\1\x70\0\1"
             b"\x09\x09\1\4\x41\0\x0b\1\xd2\0\x0b\x0a\4\1\2\0\x0b")
    assert decode(flag4).elems[0].type is ValType.FUNCREF
    flag0 = (b"\0asm\1\0\0\0\1\4\1\x60\0\0\3\2\1\0\4\4\1\x70\0\1"
             b"\x09\x07\1\0\x41\0\x0b\1\0\x0a\4\1\2\0\x0b")
    assert decode(flag0).elems[0].type is FUNC_INDICES
    assert encode(decode(flag4)) == flag4 and encode(decode(flag0)) == flag0
