"""The validator: the spec suite's modules and assert_invalid cases (as binaries from wabt's
wast2json), the facts it records for later stages, and robustness on broken input."""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from fayasm import features
from fayasm.binary import decode
from fayasm.errors import CompileError, ValidationError
from fayasm.isa import OPS
from fayasm.runtime.types import (
    ExternKind,
    FuncType,
    GlobalType,
    Limits,
    MemoryType,
    TableType,
    ValType,
)
from fayasm.syntax import (
    ACTIVE,
    DECLARATIVE,
    Data,
    Elem,
    Export,
    Function,
    Global,
    Import,
    Instr,
    MemArg,
    Module,
)
from fayasm.validate import BlockInfo, validate

I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128
FUNCREF, EXTERNREF = ValType.FUNCREF, ValType.EXTERNREF

ROOT = Path(__file__).resolve().parents[1]
SPEC_ROOT = Path(os.environ.get("FAYASM_SPEC_DIR", ROOT / ".." / "shared" / "spec"))
SPEC_DIR = SPEC_ROOT / "2.0"
WAST2JSON = shutil.which("wast2json")
WAST_FILES = sorted(SPEC_DIR.glob("*.wast")) if SPEC_DIR.is_dir() else []

need_suite = pytest.mark.skipif(not WAST_FILES, reason=f"no spec suite in {SPEC_DIR}")
need_wabt = pytest.mark.skipif(WAST2JSON is None, reason="wabt's wast2json is not installed")

# Cases where wabt 1.0.32 writes a binary that does not say what the text says.
WABT_ARTIFACTS = {
    ("select.wast", 324): "wabt encodes `select (result)` as the untyped select opcode",
}


# -- turning a .wast file into binaries with wabt ------------------------------------------

def _top_level_forms(text: str):
    """Yield (line, source) of each top-level s-expression of a .wast script."""
    i, n, line = 0, len(text), 1
    depth, start, start_line = 0, 0, 0
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == ";" and text.startswith(";;", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c == "(" and text.startswith("(;", i):
            nest, i = 1, i + 2
            while i < n and nest:
                if text.startswith("(;", i):
                    nest, i = nest + 1, i + 2
                elif text.startswith(";)", i):
                    nest, i = nest - 1, i + 2
                else:
                    line += text[i] == "\n"
                    i += 1
            continue
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                line += text[i] == "\n"
                i += 1
        elif c == "(":
            if depth == 0:
                start, start_line = i, line
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                yield start_line, text[start:i + 1]
        i += 1


def _wast2json(source: Path, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([WAST2JSON, "--enable-all", str(source), "-o", str(out / "x.json")],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return None
    return json.loads((out / "x.json").read_text())["commands"]


def _add_data_count(data: bytes) -> bytes:
    """Insert an empty data count section before the code section: wabt leaves it out when
    there are no data segments, which makes data.drop/memory.init malformed, not invalid."""
    pos = 8
    while pos < len(data):
        sid = data[pos]
        size, shift, j = 0, 0, pos + 1
        while True:
            b = data[j]
            size |= (b & 0x7F) << shift
            shift += 7
            j += 1
            if not b & 0x80:
                break
        if sid == 10:
            return data[:pos] + b"\x0c\x01\x00" + data[pos:]
        pos = j + size
    return data


_CONVERTED: dict[Path, tuple] = {}


def spec_cases(wast: Path, tmp: Path):
    """([(kind, line, binary, expected message)], [(line, reason) skipped]) for one file:
    every ``module`` and ``assert_invalid``. Files wabt cannot read whole are converted one
    command at a time, and only the commands it cannot read are skipped."""
    if wast in _CONVERTED:
        return _CONVERTED[wast]
    out = tmp / wast.stem
    cases, skipped = [], []

    def take(commands, where: Path, line_of=lambda line: line):
        for cmd in commands:
            if cmd["type"] in ("module", "assert_invalid"):
                line = line_of(cmd["line"])
                reason = WABT_ARTIFACTS.get((wast.name, line))
                if reason:
                    skipped.append((line, reason))
                    continue
                binary = (where / cmd["filename"]).read_bytes()
                cases.append((cmd["type"], line, binary, cmd.get("text")))

    commands = _wast2json(wast, out)
    if commands is not None:
        take(commands, out)
    else:
        text = wast.read_text()
        for k, (line, form) in enumerate(_top_level_forms(text)):
            head = re.match(r"\((\w+)", form)
            if not head or head.group(1) not in ("module", "assert_invalid"):
                continue
            piece = out / f"form{k}"
            piece.mkdir(parents=True, exist_ok=True)
            src = piece / "form.wast"
            src.write_text(form)
            one = _wast2json(src, piece)
            if one is None:
                skipped.append((line, f"wabt {head.group(1)} parse failure"))
            else:
                take(one, piece, lambda _, line=line: line)
    _CONVERTED[wast] = (cases, skipped)
    return cases, skipped


@pytest.fixture(scope="session")
def wabt_out(tmp_path_factory):
    return tmp_path_factory.mktemp("wast2json")


def _check_case(kind, binary, expected):
    """None if the case passes, else a description of the failure."""
    try:
        module = decode(binary)
    except CompileError as e:
        if "data count section required" in str(e):
            module = decode(_add_data_count(binary))
        else:
            return f"decode error {e}"
    try:
        validate(module)
    except ValidationError as e:
        if kind == "module":
            return f"valid module rejected: {e}"
        if not e.message.startswith(expected):
            return f"expected {expected!r}, got {e.message!r}"
        return None
    if kind == "assert_invalid":
        return f"invalid module accepted (expected {expected!r})"
    return None


@need_suite
@need_wabt
@pytest.mark.parametrize("wast", WAST_FILES, ids=[w.stem for w in WAST_FILES])
def test_spec_file(wast, wabt_out):
    cases, skipped = spec_cases(wast, wabt_out)
    failures = []
    for kind, line, binary, expected in cases:
        with features.using(features.WASM2):  # the 2.0 suite: one memory at most
            problem = _check_case(kind, binary, expected)
        if problem:
            failures.append(f"{wast.name}:{line}: {kind}: {problem}")
    assert not failures, "\n".join(failures)
    if skipped and not cases:
        pytest.skip(f"wabt could not convert {len(skipped)} commands")


@need_suite
@need_wabt
def test_spec_counts(wabt_out):
    """Every assert_invalid of the suite is either checked or skipped for a stated reason."""
    total_invalid = checked_invalid = checked_modules = 0
    skipped = []
    for wast in WAST_FILES:
        total_invalid += sum(1 for _, form in _top_level_forms(wast.read_text())
                             if form.startswith("(assert_invalid"))
        cases, skips = spec_cases(wast, wabt_out)
        checked_invalid += sum(1 for c in cases if c[0] == "assert_invalid")
        checked_modules += sum(1 for c in cases if c[0] == "module")
        skipped += [(wast.name, line, reason) for line, reason in skips]
    skipped_invalid = [s for s in skipped if "module parse" not in s[2]]
    print(f"\nspec 2.0: {checked_modules} modules and {checked_invalid} of {total_invalid}"
          f" assert_invalid checked; {len(skipped)} commands skipped:")
    for s in skipped:
        print("  %s:%d: %s" % s)
    assert checked_invalid + len(skipped_invalid) >= total_invalid
    assert checked_invalid >= 2100


@need_suite
def test_spec_via_text_parser():
    """The same commands parsed by fayasm's own text parser, which reads every file."""
    parse = pytest.importorskip("fayasm.wast.parse")
    failures, checked = [], {"module": 0, "assert_invalid": 0}
    with features.using(features.WASM2):  # the 2.0 suite
        _spec_via_text_parser(parse, failures, checked)
    print(f"\nspec 2.0 via the text parser: {checked}")
    assert not failures, "\n".join(failures)
    assert checked["assert_invalid"] >= 2146


def _spec_via_text_parser(parse, failures: list, checked: dict) -> None:
    from fayasm.wast.script import AssertInvalid, ModuleDef

    for wast in WAST_FILES:
        for cmd in parse.parse_script(wast.read_text(), str(wast)):
            md = cmd.module if isinstance(cmd, AssertInvalid) else cmd
            if not isinstance(md, ModuleDef) or md.kind == "quote":
                continue
            kind = "assert_invalid" if isinstance(cmd, AssertInvalid) else "module"
            if md.kind == "text":
                try:
                    validate(md.module)
                    problem = None if kind == "module" else "invalid module accepted"
                except ValidationError as e:
                    problem = (f"valid module rejected: {e}" if kind == "module" else
                               None if e.message.startswith(cmd.message) else
                               f"expected {cmd.message!r}, got {e.message!r}")
            else:
                problem = _check_case(kind, md.data, getattr(cmd, "message", None))
            checked[kind] += 1
            if problem:
                failures.append(f"{wast.name}:{cmd.line}: {kind}: {problem}")


# -- what validation records ---------------------------------------------------------------

def I(name, *imm):  # noqa: E743 - an instruction, tersely
    return Instr(OPS[name], tuple(imm))


def module_of(*body, params=(), results=(), locals_=(), types=(), **fields):
    """A module with one function (type 0) and optional extra types (1, 2, ...)."""
    m = Module(types=[FuncType(params, results), *types],
               funcs=[Function(0, tuple(locals_), list(body))], **fields)
    return m


def info_of(*body, **kw):
    return validate(module_of(*body, **kw)).code[0]


def invalid(module) -> ValidationError:
    with pytest.raises(ValidationError) as e:
        validate(module)
    return e.value


def test_heights_and_types_straight_line():
    f = info_of(I("i32.const", 1), I("i32.const", 2), I("i32.add"), I("drop"))
    assert list(f.heights) == [0, 1, 2, 1, 0]
    assert f.heights.typecode == "i"
    assert list(f.dead) == [0] * 5
    assert f.types == {3: I32}
    assert f.max_height == 2
    assert f.blocks == {}
    assert f.locals == ()


def test_locals_include_params():
    f = info_of(I("local.get", 1), I("local.get", 2), I("f64.add"), I("drop"),
                params=(I32,), locals_=(F64, F64), results=())
    assert f.locals == (I32, F64, F64)
    assert list(f.heights) == [0, 1, 2, 1, 0]


def test_dead_code_after_branch():
    f = info_of(I("block", None), I("br", 0), I("i32.const", 1), I("drop"), I("end"), I("nop"))
    assert list(f.dead) == [0, 0, 1, 1, 1, 0, 0]
    assert f.types == {3: I32}
    assert f.blocks == {0: BlockInfo("block", (), (), 0, None, 4)}
    assert list(f.heights) == [0, 0, 0, 1, 0, 0, 0]


def test_dead_code_bottom_types():
    f = info_of(I("unreachable"), I("drop"), I("i32.const", 0), I("select"), I("drop"))
    assert list(f.dead) == [0, 1, 1, 1, 1, 1]
    assert f.types == {1: None, 3: None, 4: None}


def test_blocks_opened_in_dead_code_are_dead():
    f = info_of(I("return"), I("block", None), I("i32.const", 1), I("drop"), I("end"),
                I("loop", None), I("end"))
    assert list(f.dead) == [0, 1, 1, 1, 1, 1, 1, 1]
    assert f.blocks[1] == BlockInfo("block", (), (), 0, None, 4)
    assert f.blocks[5] == BlockInfo("loop", (), (), 0, None, 6)


def test_function_end_is_dead_after_return():
    f = info_of(I("i32.const", 7), I("return"), results=(I32,))
    assert list(f.dead) == [0, 0, 1]
    assert list(f.heights) == [0, 1, 0]


def test_if_else_dead_branches():
    # if (result i32) [then: unreachable] else [i32.const 2] end
    f = info_of(I("i32.const", 1), I("if", I32), I("unreachable"), I("else"),
                I("i32.const", 2), I("end"), results=(I32,))
    assert f.blocks[1] == BlockInfo("if", (), (I32,), 0, 3, 5)
    # The else is dead (the then branch does not fall through); the else branch is live.
    assert list(f.dead) == [0, 0, 0, 1, 0, 0, 0]
    assert list(f.heights) == [0, 1, 0, 0, 0, 1, 1]


def test_select_types():
    f = info_of(I("i64.const", 1), I("i64.const", 2), I("i32.const", 0), I("select"),
                I("drop"))
    assert f.types == {3: I64, 4: I64}
    f = info_of(I("unreachable"), I("f64.const", 0), I("i32.const", 0), I("select"),
                I("drop"))
    assert f.types[3] is F64 and f.types[4] is F64
    f = info_of(I("ref.null", EXTERNREF), I("ref.null", EXTERNREF), I("i32.const", 0),
                I("select_t", (EXTERNREF,)), I("ref.is_null"), I("drop"))
    assert f.types == {4: EXTERNREF, 5: I32}


def test_untyped_select_rejects_references():
    m = module_of(I("ref.null", FUNCREF), I("ref.null", FUNCREF), I("i32.const", 0),
                  I("select"), I("drop"))
    assert invalid(m).message.startswith("type mismatch")
    m = module_of(I("unreachable"), I("ref.null", FUNCREF), I("i32.const", 0), I("select"),
                  I("drop"))
    assert invalid(m).message.startswith("type mismatch")


def test_multi_value_blocks():
    # type 1: [i32] -> [i32 i64]
    ft = FuncType((I32,), (I32, I64))
    f = info_of(I("f32.const", 0), I("i32.const", 1), I("block", 1), I("i64.const", 2),
                I("end"), I("drop"), I("drop"), I("drop"), types=(ft,))
    assert f.blocks[2] == BlockInfo("block", (I32,), (I32, I64), 1, None, 4)
    assert list(f.heights) == [0, 1, 2, 2, 3, 3, 2, 1, 0]
    assert f.max_height == 3


def test_loop_label_carries_params():
    ft = FuncType((I32,), ())
    f = info_of(I("i32.const", 1), I("loop", 1), I("i32.const", 0), I("br_if", 0), I("drop"),
                I("end"), types=(ft,))
    assert f.blocks[1].kind == "loop" and f.blocks[1].label_types == (I32,)
    m = module_of(I("i32.const", 1), I("loop", 1), I("br", 0), I("end"), types=(ft,))
    validate(m)
    m = module_of(I("i32.const", 1), I("block", 1), I("drop"), I("br", 0), I("end"),
                  types=(ft,))
    validate(m)  # a block's label carries its results, here none


def test_br_table_meets_bottom():
    # Targets of different types but the same arity are fine on a polymorphic stack.
    body = [I("block", F64), I("block", F32), I("unreachable"), I("i32.const", 1),
            I("br_table", (0, 1, 1), 1), I("end"), I("drop"), I("f64.const", 0), I("end"),
            I("drop")]
    validate(module_of(*body))
    body[2] = I("f32.const", 0)
    assert invalid(module_of(*body)).message.startswith("type mismatch")


def test_error_location_and_names():
    m = Module(types=[FuncType(), FuncType((), (I32,))],
               imports=[Import("env", "f", ExternKind.FUNC, 0)],
               funcs=[Function(0, (), [I("nop")]),
                      Function(1, (), [I("nop"), I("i64.const", 1), I("nop")])],
               exports=[Export("answer", ExternKind.FUNC, 2)])
    e = invalid(m)
    assert e.message.startswith("type mismatch")
    assert (e.func, e.instr, e.func_name, e.op) == (2, 3, "answer", "end")
    assert "in function answer at instruction 3" in str(e)
    m.funcs[1].body[1] = I("local.get", 2)
    e = invalid(m)
    assert (e.message, e.func, e.instr, e.op) == ("unknown local 2", 2, 1, "local.get")
    m.names.funcs[2] = "$named"
    assert invalid(m).func_name == "$named"


@pytest.mark.parametrize("body, message", [
    ([I("global.get", 0), I("drop")], "unknown global 0"),
    ([I("call", 7)], "unknown function 7"),
    ([I("i32.const", 0), I("i32.load", MemArg(2, 0)), I("drop")], "unknown memory 0"),
    ([I("i32.const", 0), I("table.get", 0), I("drop")], "unknown table 0"),
    ([I("block", 9), I("end")], "unknown type"),
    ([I("br", 1)], "unknown label"),
    ([I("data.drop", 1)], "unknown data segment 1"),
    ([I("elem.drop", 4)], "unknown elem segment 4"),
    ([I("ref.func", 0), I("drop")], "undeclared function reference"),
    ([I("i32.const", 0), I("i32.const", 0), I("i32.const", 0), I("select_t", ()),
      I("drop")], "invalid result arity"),
    ([I("v128.const", 0), I("i8x16.extract_lane_s", 16), I("drop")], "invalid lane index"),
    ([I("v128.const", 0), I("v128.const", 0), I("i8x16.shuffle", (0,) * 15 + (32,)),
      I("drop")], "invalid lane index"),
    ([I("i32.add")], "type mismatch"),
    ([I("i32.const", 0)], "type mismatch"),
    ([I("i64.const", 0), I("if", None), I("end")], "type mismatch"),
    ([I("i32.const", 0), I("if", I32), I("i32.const", 1), I("end"), I("drop")],
     "type mismatch"),
])
def test_code_messages(body, message):
    e = invalid(module_of(*body))
    assert e.message.startswith(message), e.message
    assert e.func == 0 and e.instr is not None


def test_memory_immediates():
    mem = dict(mems=[MemoryType(Limits(1))])
    validate(module_of(I("i32.const", 0), I("i64.load", MemArg(3, 8)), I("drop"), **mem))
    e = invalid(module_of(I("i32.const", 0), I("i64.load32_u", MemArg(3, 0)), I("drop"), **mem))
    assert e.message == "alignment must not be larger than natural"
    e = invalid(module_of(I("global.get", 0), I("global.set", 0),
                          globals=[Global(GlobalType(I32), [I("i32.const", 0)])]))
    assert e.message == "immutable global"  # 3.0's words (2.0: "global is immutable")
    # memory.init checks the memory before the data segment, as the reference does
    e = invalid(module_of(I("i32.const", 0), I("i32.const", 0), I("i32.const", 0),
                          I("memory.init", 1, 0)))
    assert e.message == "unknown memory 0"


def test_module_level_messages():
    def msg(**fields):
        return invalid(Module(**fields)).message

    assert msg(mems=[MemoryType(Limits(65537))]).startswith(
        "memory size must be at most 65536 pages (4GiB)")
    assert msg(mems=[MemoryType(Limits(2, 1))]) == "size minimum must not be greater than maximum"
    with features.using(features.WASM2):
        assert msg(mems=[MemoryType(Limits(1)), MemoryType(Limits(1))]).startswith(
            "multiple memories")
    validate(Module(mems=[MemoryType(Limits(1)), MemoryType(Limits(1))]))  # 3.0: multi-memory
    assert msg(tables=[TableType(FUNCREF, Limits(3, 2))]).startswith("size minimum")
    assert msg(types=[FuncType((I32,))], funcs=[Function(0, (), [I("unreachable")])],
               start=0).startswith("start function")
    assert msg(start=0) == "unknown function 0"
    assert msg(types=[FuncType()], funcs=[Function(0)],
               exports=[Export("a", ExternKind.FUNC, 0), Export("a", ExternKind.FUNC, 0)]
               ).startswith("duplicate export name")
    assert msg(exports=[Export("m", ExternKind.MEMORY, 0)]) == "unknown memory 0"
    # Constant expressions: only imported, immutable globals in 2.0; in 3.0 also the
    # defined globals before it.
    g = GlobalType(I32)
    reads_defined = [Global(g, [I("i32.const", 0)]), Global(g, [I("global.get", 0)])]
    with features.using(features.WASM2):
        assert msg(globals=reads_defined) == "unknown global 0"
    validate(module_of(globals=reads_defined))
    assert msg(imports=[Import("m", "g", ExternKind.GLOBAL, GlobalType(I32, True))],
               globals=[Global(g, [I("global.get", 0)])]) == "constant expression required"
    assert msg(globals=[Global(g, [I("i32.const", 0), I("i32.const", 0), I("i32.div_s")])]
               ) == "constant expression required"
    assert msg(globals=[Global(g, [I("i64.const", 0)])]).startswith("type mismatch")
    assert msg(globals=[Global(g, [])]).startswith("type mismatch")
    assert msg(mems=[MemoryType(Limits(1))],
               datas=[Data(b"", ACTIVE, 1, [I("i32.const", 0)])]) == "unknown memory 1"
    assert msg(elems=[Elem(FUNCREF, [], ACTIVE, 0, [I("i32.const", 0)])]) == "unknown table 0"
    assert msg(tables=[TableType(EXTERNREF, Limits(1))],
               elems=[Elem(FUNCREF, [], ACTIVE, 0, [I("i32.const", 0)])]
               ).startswith("type mismatch")
    assert msg(imports=[Import("m", "f", ExternKind.FUNC, 3)]) == "unknown type 3"


def test_declared_function_references():
    ft = FuncType()
    body = [I("ref.func", 1), I("drop")]
    base = dict(types=[ft], funcs=[Function(0, (), body), Function(0)])
    assert invalid(Module(**base)).message.startswith("undeclared function reference")
    for extra in (dict(exports=[Export("g", ExternKind.FUNC, 1)]),
                  dict(elems=[Elem(FUNCREF, [[I("ref.func", 1)]], DECLARATIVE)]),
                  dict(globals=[Global(GlobalType(FUNCREF), [I("ref.func", 1)])])):
        info = validate(Module(**base, **extra))
        assert 1 in info.refs


def test_module_info_context():
    m = Module(types=[FuncType((I32,), (I32,)), FuncType()],
               imports=[Import("m", "f", ExternKind.FUNC, 1),
                        Import("m", "g", ExternKind.GLOBAL, GlobalType(F32)),
                        Import("m", "t", ExternKind.TABLE, TableType(FUNCREF, Limits(1)))],
               funcs=[Function(0, (I64,), [I("local.get", 0)])],
               mems=[MemoryType(Limits(1, 2))],
               globals=[Global(GlobalType(F32, True), [I("global.get", 0)])],
               elems=[Elem(FUNCREF, [[I("ref.func", 0)]], ACTIVE, 0, [I("i32.const", 0)])],
               datas=[Data(b"x")], data_count=1)
    info = validate(m)
    assert info.funcs == [FuncType(), FuncType((I32,), (I32,))]
    assert info.func_type_indices == [1, 0]
    assert [t.elem for t in info.tables] == [FUNCREF]
    assert info.mems == [MemoryType(Limits(1, 2))]
    assert info.globals == [GlobalType(F32), GlobalType(F32, True)]
    assert info.elems == [FUNCREF] and info.datas == 1 and info.data_count == 1
    assert info.refs == frozenset({0})
    assert (info.num_imported_funcs, info.num_imported_globals, info.num_imported_tables,
            info.num_imported_mems) == (1, 1, 1, 0)
    f = info.func_info(1)
    assert f is info.code[0] and f.index == 1
    assert f.type == FuncType((I32,), (I32,)) and f.locals == (I32, I64)


def test_decoded_binary():
    # (func (param i32) (result i32) local.get 0 if (result i32) i32.const 1 else
    #  i32.const 2 end)
    code = bytes([0x20, 0, 0x04, 0x7F, 0x41, 1, 0x05, 0x41, 2, 0x0B, 0x0B])
    body = bytes([0]) + code
    wasm = (b"\0asm\1\0\0\0" + bytes([1, 6, 1, 0x60, 1, 0x7F, 1, 0x7F]) + bytes([3, 2, 1, 0])
            + bytes([10, len(body) + 2, 1, len(body)]) + body)
    f = validate(decode(wasm)).code[0]
    assert f.blocks == {1: BlockInfo("if", (), (I32,), 0, 3, 5)}
    assert list(f.heights) == [0, 1, 0, 1, 0, 1, 1]
    assert list(f.dead) == [0] * 7


# -- robustness: broken input raises CompileError, quickly --------------------------------

def _seed_binaries(limit=400):
    out = []
    for path in sorted((ROOT / "tests").glob("**/*.wasm"))[:limit]:
        out.append(path.read_bytes())
    return out


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    binaries = []
    if WAST2JSON and WAST_FILES:
        tmp = tmp_path_factory.mktemp("seeds")
        for wast in WAST_FILES:
            if wast.stem in ("binary", "binary-leb128", "custom", "utf8-custom-section-id",
                             "utf8-import-field", "utf8-import-module"):
                continue
            cases, _ = spec_cases(wast, tmp)
            binaries += [b for kind, _, b, _ in cases if kind == "module" and len(b) < 4000]
    if not binaries:  # no suite: a small module of our own
        binaries = [bytes.fromhex("0061736d01000000010701600279"
                                  "7f017f030201000a09010700200020016a0b")]
    random.Random(1).shuffle(binaries)
    return binaries


def _must_only_raise_compile_errors(data: bytes) -> None:
    start = time.perf_counter()
    try:
        validate(decode(data))
    except CompileError:
        pass
    assert time.perf_counter() - start < 1.0


def test_fuzz_random_and_mutated_binaries(seeds):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=600, deadline=1000, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(seeds) - 1),
           st.lists(st.tuples(st.sampled_from("flip set insert delete"), st.integers(8, 1 << 16),
                              st.integers(0, 255)), min_size=1, max_size=4),
           st.binary(max_size=64))
    def run(which, edits, noise):
        data = bytearray(seeds[which])
        for kind, pos, value in edits:
            pos = 8 + pos % max(1, len(data) - 8)
            if kind == "flip" and pos < len(data):
                data[pos] ^= 1 << (value & 7)
            elif kind == "set" and pos < len(data):
                data[pos] = value
            elif kind == "insert":
                data[pos:pos] = bytes([value])
            elif kind == "delete":
                del data[pos:pos + 1 + value % 3]
        _must_only_raise_compile_errors(bytes(data))
        _must_only_raise_compile_errors(b"\0asm\1\0\0\0" + noise)

    run()


def test_fuzz_mutated_instructions(seeds):
    """Mutations of decoded bodies (swapped, dropped, retargeted instructions) reach the
    validator's deeper paths; it must answer with ValidationError or accept."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    ops = [op for op in OPS.values() if not op.imms or op.imms in (
        ("label",), ("local",), ("global",), ("func",), ("table",), ("blocktype",))]
    decoded = []
    for b in seeds[:300]:
        try:
            m = decode(b)
        except CompileError:
            continue
        if any(f.body for f in m.funcs):
            decoded.append(b)

    @settings(max_examples=600, deadline=1000, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, max(0, len(decoded) - 1)),
           st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, len(ops) - 1),
                              st.integers(0, 4)), min_size=1, max_size=5))
    def run(which, edits):
        if not decoded:
            return
        m = decode(decoded[which])
        funcs = [f for f in m.funcs if f.body]
        for pos, k, small in edits:
            f = funcs[pos % len(funcs)]
            j = pos % len(f.body)
            op = ops[k]
            imm = () if not op.imms else (
                (None if small == 0 else I32 if small == 1 else small - 2,)
                if op.imms == ("blocktype",) else (small,))
            f.body.insert(j, Instr(op, imm)) if pos & 1 else f.body.__setitem__(j, Instr(op, imm))
        start = time.perf_counter()
        try:
            validate(m)
        except ValidationError:
            pass
        assert time.perf_counter() - start < 1.0

    run()


# -- typed function references ----------------------------------------------------------
def _wat_invalid(text: str, message: str) -> None:
    import fayasm

    with pytest.raises(ValidationError, match=re.escape(message)):
        fayasm.Module(text)


def _wat_valid(text: str):
    import fayasm

    return fayasm.Module(text)


_T = "(type $t (func (result i32))) (func $f (type $t) (i32.const 1)) (elem declare func $f)"


def test_a_non_nullable_local_read_before_it_is_set_is_invalid():
    _wat_invalid(f"(module {_T} (func (local (ref $t)) (drop (local.get 0))))",
                 "uninitialized local")


def test_a_non_nullable_local_set_in_a_block_is_unset_after_it():
    _wat_invalid(f"(module {_T} (func (local (ref $t))"
                 " (block (local.set 0 (ref.func $f))) (drop (local.get 0))))",
                 "uninitialized local")
    # ... and the then-branch's set does not reach the else-branch
    _wat_invalid(f"(module {_T} (func (param i32) (local (ref $t))"
                 " (if (local.get 0) (then (local.set 1 (ref.func $f)))"
                 " (else (drop (local.get 1))))))", "uninitialized local")


def test_a_non_nullable_local_set_before_a_block_is_set_inside_and_after():
    _wat_valid(f"(module {_T} (func (result i32) (local (ref $t))"
               " (local.set 0 (ref.func $f)) (block (drop (local.get 0)))"
               " (call_ref $t (local.get 0))))")
    # a nullable local and a non-nullable parameter need no set
    _wat_valid(f"(module {_T} (func (param (ref $t)) (local (ref null $t))"
               " (drop (local.get 0)) (drop (local.get 1))))")


def test_typed_reference_subtyping_in_the_validator():
    # (ref $t) where funcref is expected, and ref.func's type is (ref $t)
    _wat_valid(f"(module {_T} (func (result funcref) (ref.func $f)))")
    _wat_invalid(f"(module {_T} (func (param funcref) (result (ref $t)) (local.get 0)))",
                 "type mismatch")
    _wat_invalid(f"(module {_T} (func (param (ref null $t)) (result (ref $t)) (local.get 0)))",
                 "type mismatch")
    _wat_valid(f"(module {_T} (func (param (ref null $t)) (result (ref $t))"
               " (ref.as_non_null (local.get 0))))")


def test_call_ref_takes_a_reference_of_its_type():
    _wat_invalid(f"(module {_T} (func (param funcref) (result i32) (call_ref $t (local.get 0))))",
                 "type mismatch")
    _wat_invalid(f"(module {_T} (func (result i32) (call_ref 9 (ref.func $f))))",
                 "unknown type 9")


def test_br_on_non_null_needs_a_label_ending_in_a_reference():
    _wat_invalid(f"(module {_T} (func (param (ref null $t))"
                 " (block $l (br_on_non_null $l (local.get 0)))))", "type mismatch")
    _wat_valid(f"(module {_T} (func (param (ref null $t)) (result funcref)"
               " (block $l (result funcref) (br_on_non_null $l (local.get 0)) (ref.null func))))")


def test_a_table_of_non_nullable_references_needs_an_initializer():
    _wat_invalid(f"(module {_T} (table 1 (ref $t)))", "type mismatch")
    _wat_invalid(f"(module {_T} (table 1 (ref $t) (ref.null $t)))", "type mismatch")
    _wat_valid(f"(module {_T} (table 1 (ref $t) (ref.func $f)))")


def test_untyped_select_takes_no_typed_references():
    _wat_invalid(f"(module {_T} (func (result funcref)"
                 " (select (ref.func $f) (ref.func $f) (i32.const 1))))", "type mismatch")


def test_regression_unreachable_ref_as_non_null_pushes_a_reference_not_any_type():
    # (ref bot), not the bottom value type: it is no i32 (wasmtime agrees)
    _wat_invalid("(module (func (result i32) unreachable ref.as_non_null))", "type mismatch")
    _wat_invalid("(module (func (result i32) (block (result i32) unreachable br_on_null 0"
                 " i32.add)))", "type mismatch")
    _wat_valid("(module (type $t (func)) (func (result (ref $t)) unreachable ref.as_non_null))")
    _wat_valid("(module (func (result externref) unreachable ref.as_non_null))")


def test_regression_ref_null_always_pushes_a_nullable_reference():
    """A module built by hand may give ref.null a non-null type; what it pushes is still
    (ref null ht), as the binary format (which stores only the heap type) says."""
    from fayasm.runtime.types import HeapType

    nonnull = ValType.ref(False, HeapType.FUNC)
    m = Module(types=[FuncType((), (nonnull,))],
               funcs=[Function(0, (), [Instr(OPS["ref.null"], (nonnull,))])])
    with pytest.raises(ValidationError, match="type mismatch"):
        validate(m)


# -- 3.0 constant expressions read defined globals -----------------------------------------
DEFINED_GLOBAL_IN_CONSTANTS = [
    "(module (global i32 (i32.const 0)) (global i32 (global.get 0)))",
    "(module (memory 1) (global i32 (i32.const 0)) (data (global.get 0) \"a\"))",
    "(module (table 1 funcref) (global i32 (i32.const 0)) (elem (global.get 0) func))",
]


@pytest.mark.parametrize("wat", DEFINED_GLOBAL_IN_CONSTANTS)
def test_regression_constants_read_defined_globals_in_3_0_not_in_2_0(wat):
    import fayasm

    fayasm.Module(wat)  # 3.0: valid
    with features.using(features.WASM2), pytest.raises(fayasm.ValidationError,
                                                       match="unknown global"):
        fayasm.Module(wat)


def test_a_global_initializer_reads_only_the_globals_before_it():
    import fayasm

    with pytest.raises(fayasm.ValidationError, match="unknown global 1"):
        fayasm.Module("(module (global i32 (global.get 1)) (global i32 (i32.const 0)))")
    with pytest.raises(fayasm.ValidationError, match="constant expression required"):
        fayasm.Module("(module (global (mut i32) (i32.const 0)) (global i32 (global.get 0)))")


def test_immutable_global_set_has_each_versions_wording():
    import fayasm

    wat = "(module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1))))"
    with pytest.raises(fayasm.ValidationError, match=r"^immutable global"):
        fayasm.Module(wat)
    with features.using(features.WASM2), pytest.raises(fayasm.ValidationError,
                                                       match=r"^global is immutable"):
        fayasm.Module(wat)
