"""Deep nesting (issue 22) and the limits text and binary share (issue 13).

No stage may recurse once per nesting level or take time growing faster than the body:
a function nested 100,000 deep validates, translates, compiles and runs on every engine,
and the printer prints it, in time linear in its size (checked against a body a quarter
the size; CPU time, so other load on the machine matters less). Compiling is never the
guest's business: a compiler that fails is a TranslationError naming the function, not
an Exhaustion. scripts/bench_nesting.py measures bigger depths.
"""
from __future__ import annotations

import time
import tracemalloc

import pytest

import fayasm
import fayasm.engines
from fayasm.binary import decode, encode
from fayasm.errors import TranslationError
from fayasm.runtime.limits import MAX_LOCALS, MAX_NESTING, MAX_TEXT_DEPTH
from fayasm.testing.nesting import SKIP, expected, nested_wat, stacked_wat
from fayasm.text import parse_module
from fayasm.text.lexer import STRING, tokenize
from fayasm.text.printer import print_module

DEPTH, CASES = 100_000, 10_000
ARGS = (0, 7, CASES - 1, CASES, -1, SKIP)
LINEAR = 8  # a body 4x the size may cost this much more (quadratic would be 16x)


def _cpu(fn):
    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


@pytest.fixture(autouse=True)
def no_cache(monkeypatch):
    """Every stage does its work (a cached translation or object would skip it)."""
    monkeypatch.setenv("FAYASM_CACHE", "0")


@pytest.fixture
def no_jit_worker(monkeypatch):
    """The jit's lazy tier alone (the O2 worker has tests of its own below)."""
    from fayasm.translator.llvm import tiering

    monkeypatch.setattr(tiering, "_WORKER", False)


def _run(engine: str, depth: int, cases: int) -> list:
    module = fayasm.Module(nested_wat(depth, cases))
    f = fayasm.instantiate(module, engine=engine).exports.f
    return [f(x) for x in (0, 7, cases - 1, cases, -1, SKIP)]


# -- every engine --------------------------------------------------------------------------
def test_function_nested_100000_deep_compiles_in_linear_time(engine, no_jit_worker):
    """Blocks, ifs and loops 90,000 deep around a br_table switch of 10,000 cases: it
    validates, compiles (translates) and runs, and 4x the body costs well under 16x."""
    small, t_small = _cpu(lambda: _run(engine, DEPTH // 4, CASES // 4))
    assert small == [expected(CASES // 4, x) for x in (0, 7, CASES // 4 - 1, CASES // 4, -1, SKIP)]
    big, t_big = _cpu(lambda: _run(engine, DEPTH, CASES))
    assert big == [expected(CASES, x) for x in ARGS]
    assert t_big < LINEAR * max(t_small, 0.05), (t_small, t_big)


@pytest.mark.parametrize("ir_engine", ["python", "jit"])
def test_operand_stack_growing_with_nesting_is_linear(ir_engine, no_jit_worker):
    """A value left below every block: the IR builder rescanned the whole stack at each
    block (10,000 levels took 15 s); the engines built on the IR now take linear time."""
    if ir_engine not in fayasm.engines.available():
        pytest.skip(f"{ir_engine} is not available")

    def run(depth):
        module = fayasm.Module(stacked_wat(depth))
        f, t = _cpu(lambda: fayasm.instantiate(module, engine=ir_engine).exports.f)
        return f(5), t

    (small, t_small), _ = _cpu(lambda: run(2_000))
    (big, t_big), _ = _cpu(lambda: run(8_000))
    assert (small, big) == (2_005, 8_005)
    assert t_big < LINEAR * max(t_small, 0.2), (t_small, t_big)


@pytest.mark.parametrize("tier", ["whole", "lazy"])
def test_compile_recursion_error_is_not_exhaustion(engine, tier, monkeypatch, no_jit_worker):
    """A compiler out of Python stack used to surface as the guest's Exhaustion ("call
    stack exhausted"); now it is a TranslationError naming the function. On the jit,
    both for a module compiled whole and for one compiled a function at a time, on the
    function's first call (``lazy``)."""
    import fayasm.interpreter.code as interp_code
    from fayasm.ir import build

    if tier == "lazy":
        if engine != "jit":
            pytest.skip("only the jit compiles on first call")
        from fayasm.translator.llvm import tiering

        monkeypatch.setattr(tiering, "TIER_UP_SIZE", 0)
    real_build, real_prepare = build._Builder.build, interp_code.prepare

    def build_overflows(self):
        if self.index == 1:
            raise RecursionError("maximum recursion depth exceeded")
        return real_build(self)

    def prepare_overflows(func, info, types, *rest):
        if info.index == 1:
            raise RecursionError("maximum recursion depth exceeded")
        return real_prepare(func, info, types, *rest)

    monkeypatch.setattr(build._Builder, "build", build_overflows)
    monkeypatch.setattr(interp_code, "prepare", prepare_overflows)
    module = fayasm.Module('(module (func $first) (func $yy_reduce (export "f")))')
    with pytest.raises(TranslationError) as info:
        fayasm.instantiate(module, engine=engine).exports.f()
    e = info.value
    assert not isinstance(e, fayasm.Exhaustion) and isinstance(e, fayasm.CompileError)
    assert e.func == 1 and "yy_reduce" in str(e) and "RecursionError" in str(e)


def test_guest_recursion_is_still_exhaustion(engine):
    wat = '(module (func $r (export "r") (param i32) (call $r (local.get 0))))'
    with pytest.raises(fayasm.Exhaustion):
        fayasm.instantiate(fayasm.Module(wat), engine=engine).exports.r(0)


# -- the jit's tiers ------------------------------------------------------------------------
def test_deep_switch_compiles_on_jit_without_recursion_error(no_jit_worker):
    """The lazy tier lowered a parser's yy_reduce (a switch of many cases) by recursion
    and reported the RecursionError as the guest's stack exhaustion."""
    f = fayasm.instantiate(fayasm.Module(nested_wat(CASES + 40, CASES)), engine="jit").exports.f
    assert [f(x) for x in ARGS] == [expected(CASES, x) for x in ARGS]


def test_jit_o2_build_of_deep_function_replaces_the_lazy_code(tmp_path, monkeypatch):
    """The background O2 build died the same way (RecursionError in control._block), so
    the lazy code stayed forever; now it builds (the deep function apart, unoptimised)
    and is swapped in."""
    from fayasm.translator.llvm import tiering

    monkeypatch.setenv("FAYASM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("FAYASM_CACHE")
    module = fayasm.Module(nested_wat(12_000, CASES))
    inst = fayasm.instantiate(module, engine="jit")
    f = inst.exports.f
    assert f(3) == expected(CASES, 3)
    assert tiering.wait_for_workers(300)
    code = inst.engine_state.code
    assert not code.lazy and code.opt == tiering.OPT_LEVEL
    assert [f(x) for x in ARGS] == [expected(CASES, x) for x in ARGS]
    # The bundle is cached: a new module object loads it without compiling.
    again = fayasm.instantiate(fayasm.Module(module.binary), engine="jit")
    assert not again.engine_state.code.lazy and again.exports.f(CASES) == -1


def test_jit_whole_module_build_names_the_failing_function(monkeypatch):
    """LLVM refusing the code of a small module (compiled whole at once) names the
    function its message names."""
    from fayasm.translator.llvm import jit

    def refuse(text, *args, **kw):
        raise fayasm.Error("jit: the generated LLVM IR is invalid: bad thing in @f1")

    monkeypatch.setattr(jit, "build_object", refuse)
    module = fayasm.Module('(module (func $a) (func $broken (export "f")))')
    with pytest.raises(TranslationError) as info:
        fayasm.instantiate(module, engine="jit")
    assert info.value.func == 1 and "broken" in str(info.value)


# -- the python engine's br_table ---------------------------------------------------------------
def _table_with_values(k: int) -> str:
    """A br_table over k + 1 targets each carrying a value: f(x) is x + 1000 for x < k."""
    parts = ['(module (func (export "f") (param i32) (result i32)\n']
    parts.append("block (result i32)\n" * (k + 1))
    parts.append("local.get 0 local.get 0 br_table " + " ".join(map(str, range(k + 1))) + "\n")
    for i in range(k):
        parts.append(f"end i32.const 1000 i32.add br {k - 1 - i}\n")
    parts.append("end))\n")
    return "".join(parts)


@pytest.mark.parametrize("k", [50, 3_000])
def test_br_table_with_values_and_many_targets(k):
    """One elif per target made CPython's compiler recurse once per target (from about
    3,000 it fails): many targets dispatch through a shallow tree of if chains."""
    module = fayasm.Module(_table_with_values(k))
    ref = fayasm.instantiate(module, engine="interpreter").exports.f
    got = fayasm.instantiate(module, engine="python").exports.f
    for x in (0, 1, k // 2, k - 1, k, k + 5):
        assert got(x) == ref(x) == (x + 1000 if x < k else x)
    longest, chains = 0, {}  # the longest elif chain in the source (per indentation)
    for line in fayasm.translate(module).splitlines():
        code = line.lstrip()
        indent = len(line) - len(code)
        if code.startswith("if "):
            chains[indent] = 0
        elif code.startswith("elif "):
            chains[indent] = chains.get(indent, 0) + 1
            longest = max(longest, chains[indent])
    assert longest < 16


# -- the printer and the text parser -------------------------------------------------------------
def test_printer_output_is_linear_in_nesting():
    """Indentation grew with depth, so the text was quadratic (4,000 levels: 48 MB)."""
    m = fayasm.Module(nested_wat(4_000, 100)).syntax
    text = print_module(m)
    assert len(text) < 120 * len(m.funcs[0].body)
    m = fayasm.Module(nested_wat(DEPTH, CASES)).syntax
    text, _t = _cpu(lambda: print_module(m))
    assert len(text) < 120 * len(m.funcs[0].body) + 10 * CASES
    again = parse_module(text)
    assert again.funcs[0].body == m.funcs[0].body


def test_text_parser_nests_100000_deep_in_linear_time():
    def parse(depth, folded):
        return len(parse_module(nested_wat(depth, depth // 10, folded)).funcs[0].body)

    for folded in (False, True):
        _, t_small = _cpu(lambda: parse(DEPTH // 4, folded))  # noqa: B023 - called here
        big, t_big = _cpu(lambda: parse(DEPTH, folded))  # noqa: B023
        assert big > 3 * DEPTH
        assert t_big < LINEAR * max(t_small, 0.05), (folded, t_small, t_big)


def test_wat_locals_limit_matches_binary():
    """100,000 locals parsed from WAT, but the decoder refused the binary of it: the limit
    is now one number (runtime.limits) that text, binary and validator all apply."""
    def wat(n):
        return f'(module (func (export "f") (local {"i32 " * n})))'

    ok = fayasm.Module(wat(MAX_LOCALS))
    assert fayasm.Module(ok.binary).syntax.funcs[0].locals == ok.syntax.funcs[0].locals
    with pytest.raises(fayasm.ParseError, match="too many locals"):
        fayasm.Module(wat(MAX_LOCALS + 1))
    syntax = ok.syntax
    syntax.funcs[0].locals = syntax.funcs[0].locals + (fayasm.ValType.I32,)
    with pytest.raises(fayasm.DecodeError, match="too many locals"):
        decode(encode(syntax))
    with pytest.raises(fayasm.ValidationError, match="too many locals"):
        fayasm.Module.from_syntax(syntax)


def test_nesting_limit_matches_binary():
    """MAX_NESTING blocks open at once are accepted from text and binary; one more is a
    CompileError saying so, from the parser, the decoder and the validator alike."""
    ok = fayasm.Module("(module (func" + " block" * MAX_NESTING + " end" * MAX_NESTING + "))")
    assert len(fayasm.Module(ok.binary).syntax.funcs[0].body) == 2 * MAX_NESTING
    n = MAX_NESTING + 1
    with pytest.raises(fayasm.ParseError, match="nesting too deep"):
        fayasm.Module("(module (func" + " block" * n + " end" * n + "))")
    with pytest.raises(fayasm.ParseError, match="nesting too deep"):
        fayasm.Module("(module (func" + " (block" * n + ")" * n + "))")
    syntax = ok.syntax
    block, end = syntax.funcs[0].body[0], syntax.funcs[0].body[-1]
    syntax.funcs[0].body = [block] * n + [end] * n
    with pytest.raises(fayasm.DecodeError, match="nesting too deep"):
        decode(encode(syntax))
    with pytest.raises(fayasm.ValidationError, match="nesting too deep"):
        fayasm.Module.from_syntax(syntax)


@pytest.mark.parametrize("form", ["folded", "plain", "operands"])
def test_text_nested_a_million_deep_is_refused_quickly(form):
    """1,000,000 nested ifs ran over 60 s: past the limit the parser stops with a
    CompileError naming it (for parentheses, the lexer stops reading there). It takes
    about 3 s of CPU on an idle machine; the bound leaves room for a loaded one (10 s was
    seen with seven test runs on two cores), and is still far below the old cost."""
    n = 1_000_000
    if form == "folded":
        text = "(module (func (param i32)" + " (if (local.get 0) (then" * n + ")) " * n + "))"
    elif form == "plain":
        text = "(module (func (param i32)" + " local.get 0 if" * n + " end" * n + "))"
    else:
        text = "(module (func (result i32)" + " (i32.eqz" * n + " (i32.const 0)" + ")" * n + "))"
    t = time.thread_time()
    with pytest.raises(fayasm.ParseError, match="nesting too deep") as info:
        fayasm.Module(text)
    assert time.thread_time() - t < 30
    limit = MAX_TEXT_DEPTH if form == "operands" else MAX_NESTING
    assert f"more than {limit} " in str(info.value)


@pytest.mark.parametrize("kind", ["string", "escapes", "commas", "bad string", "number",
                                  "comments"])
def test_lexer_long_string_is_linear(kind):
    """The token regex repeated an alternation per character: about 300 bytes of memory
    per byte of a string literal or of an unbroken bad token (10 MB: 3 GB and 15 s)."""
    n = 1_000_000
    text = {
        "string": '(data "' + "a" * n + '")',
        "escapes": '(data "' + "\\00" * (n // 3) + '")',
        "commas": "," * n,
        "bad string": '"' + "a" * n,
        "number": "(i32.const " + "1_2" * (n // 3) + ")",
        "comments": ";; x\n" * (n // 5) + "(module)",
    }[kind]
    tracemalloc.start()
    try:
        toks, t = _cpu(lambda: tokenize(text))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * len(text) + (1 << 20), peak
    assert t < 2
    if kind == "string":
        assert toks.kinds[2] == STRING and len(toks.values[2]) == n
